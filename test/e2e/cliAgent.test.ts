// `flowshare agent`, an unattended machine, against the local stack
// (docs/cli.md, An unattended machine): it executes a cloud run requested
// over HTTP and its outputs reach GET /api/runs/{id}; it honours a
// cancellation; SIGTERM finishes or fails the run in hand and reports it;
// killed mid-run, the run ends TimedOut and is never executed again; started
// while the service is down, it picks up work once the service is up.
import { writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createServices } from '../../lib/services';
import { flowPartitionKey, runRowKey } from '../../lib/storage/keys';
import { DEV_TENANT_ID } from '../../dev/issuer';
import { expectNoConnectionSecret, filesUnder, startCli, tempHome, type CliProcess } from '../support/cli';
import { registerMachine } from '../support/machines';
import { issueSqlKey, sqlRows } from '../support/providers';
import { call, stack, testServiceSettings, testStorage, unique, type Body } from '../support/stack';
import { cast, sharedFlow, type Person } from './people';

const storage = testStorage();
const agents: CliProcess[] = [];

afterAll(async () => {
  // An agent a failed test left running is stopped, not abandoned.
  for (const agent of agents) if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
});

/**
 * A flow ready for cloud runs on the owner's machine: it marks `first`, waits
 * the `pause` input's seconds, marks `second`, and outputs its `tag` input.
 */
async function cloudFlow() {
  const people = await cast();
  const flowId = await sharedFlow(people, {
    name: unique('Nightly'),
    schemaVersion: 2,
    definition: {
      inputs: { pause: { type: 'integer', default: 0 }, tag: { type: 'string', default: 'none' } },
      actions: [
        {
          name: 'First',
          type: 'connector',
          connectionReference: 'db',
          operation: 'ExecuteQuery',
          parameters: { query: "INSERT INTO marks (step, tag) VALUES ('first', '@{inputs.tag}')" },
        },
        { name: 'Pause', type: 'wait', seconds: '@{inputs.pause}' },
        {
          name: 'Second',
          type: 'connector',
          connectionReference: 'db',
          operation: 'ExecuteQuery',
          parameters: { query: "INSERT INTO marks (step, tag) VALUES ('second', '@{inputs.tag}')" },
        },
        { name: 'Tag', type: 'output', output: 'tag', value: '@{inputs.tag}' },
        { name: 'Marks', type: 'output', output: 'marks', value: '@{actions.Second.body}' },
      ],
    },
  });
  const key = await issueSqlKey();
  const db = await call('POST', '/connections', {
    token: people.owner.token,
    body: { connectorId: 'shared_sql', displayName: 'Nightly DB', apiKey: key },
  });
  await call('PUT', `/flows/${flowId}/connection-references/db`, {
    token: people.owner.token,
    body: { connectorId: 'shared_sql', connectionId: db.body.id },
  });
  await call('PATCH', `/flows/${flowId}/connection-references/db`, {
    token: people.owner.token,
    body: { embedded: true },
  });
  const machine = await registerMachine(people.owner);
  const home = tempHome();
  const keyFile = join(home, 'machine.key');
  writeFileSync(keyFile, `${machine.key}\n`, { mode: 0o600 });
  return { people, flowId, key, machine, home, keyFile };
}

function agent(home: string, keyFile: string, more: string[] = [], env: Record<string, string> = {}): CliProcess {
  const started = startCli(['agent', '--machine-key-file', keyFile, '--wait-seconds', '2', ...more], { home, env });
  agents.push(started);
  return started;
}

async function requestRun(who: Person, flowId: string, machineId: string, inputs: unknown): Promise<string> {
  const requested = await call('POST', `/flows/${flowId}/cloud-runs`, {
    token: who.token,
    body: { machineId, inputs },
  });
  expect(requested.status, requested.text).toBe(202);
  return requested.body.id;
}

async function runOf(who: Person, runId: string): Promise<Body> {
  return (await call('GET', `/runs/${runId}`, { token: who.token })).body;
}

async function ended(who: Person, runId: string, seconds = 30): Promise<Body> {
  await expect
    .poll(async () => (await call('GET', `/runs/${runId}`, { token: who.token })).status, {
      timeout: seconds * 1000,
      interval: 200,
    })
    .toBe(200);
  return runOf(who, runId);
}

describe('flowshare agent', () => {
  it('executes a cloud run requested over HTTP, and its outputs reach GET /api/runs/{id}', async () => {
    const { people, flowId, key, machine, home, keyFile } = await cloudFlow();
    const running = agent(home, keyFile, ['--concurrency', '2']);
    await running.waitFor(/Agent for .*: 2 run\(s\) at a time/);
    const runId = await requestRun(people.owner, flowId, machine.id, { tag: 'nightly' });
    const run = await ended(people.owner, runId);
    expect(run).toMatchObject({
      status: 'Succeeded',
      mode: 'cloud',
      machineId: machine.id,
      outputs: { tag: 'nightly', marks: { rowsAffected: 1 } },
    });
    expect(run.actions.map((a: Body) => `${a.name} ${a.status}`)).toEqual([
      'First Succeeded',
      'Pause Succeeded',
      'Second Succeeded',
      'Tag Succeeded',
      'Marks Succeeded',
    ]);
    expect(await sqlRows(key, 'marks')).toEqual([
      { step: 'first', tag: 'nightly' },
      { step: 'second', tag: 'nightly' },
    ]);
    await running.waitFor(new RegExp(`Run ${runId.replace('.', '\\.')} Succeeded`));
    running.child.kill('SIGTERM');
    expect((await running.ended).code).toBe(0);
    expect(running.stdout).toContain('Agent stopped.');
    await expectNoConnectionSecret([
      { where: "the agent's log", text: running.stdout + running.stderr },
      ...filesUnder(home).map((f) => ({ where: f.path, text: f.text })),
    ]);
  });

  it('honours a cancellation at its next heartbeat', async () => {
    const { people, flowId, key, machine, home, keyFile } = await cloudFlow();
    const running = agent(home, keyFile, ['--heartbeat-seconds', '1']);
    const runId = await requestRun(people.owner, flowId, machine.id, { pause: 60 });
    await running.waitFor(/Succeeded +First/);
    const cancel = await call('POST', `/runs/${runId}/cancel`, { token: people.owner.token });
    expect(cancel.status).toBe(202);
    const run = await ended(people.owner, runId, 15);
    expect(run.status).toBe('Cancelled');
    expect(run.actions.map((a: Body) => `${a.name} ${a.status}`)).toEqual([
      'First Succeeded',
      'Pause Cancelled',
      'Second Skipped',
      'Tag Skipped',
      'Marks Skipped',
    ]);
    expect(await sqlRows(key, 'marks')).toEqual([{ step: 'first', tag: 'none' }]);
    running.child.kill('SIGTERM');
    expect((await running.ended).code).toBe(0);
  });

  it('stops cleanly at SIGTERM: it finishes the run in hand, or fails it once its grace is over, and reports it', async () => {
    const { people, flowId, machine, home, keyFile } = await cloudFlow();
    const patient = agent(home, keyFile);
    const finished = await requestRun(people.owner, flowId, machine.id, { pause: 2 });
    await patient.waitFor(/Succeeded +First/);
    patient.child.kill('SIGTERM');
    expect((await patient.ended).code).toBe(0);
    expect(patient.stdout).toMatch(/SIGTERM: no new runs/);
    expect((await runOf(people.owner, finished)).status).toBe('Succeeded');

    const hurried = agent(home, keyFile, ['--grace-seconds', '1']);
    const failed = await requestRun(people.owner, flowId, machine.id, { pause: 60 });
    await hurried.waitFor(/Succeeded +First/);
    hurried.child.kill('SIGTERM');
    expect((await hurried.ended).code).toBe(0);
    const run = await runOf(people.owner, failed);
    expect(run.status).toBe('Failed');
    expect(run.actions[1]).toMatchObject({ name: 'Pause', status: 'Cancelled' });
  });

  it('killed mid-run leaves the run TimedOut, and it is never executed again', async () => {
    const { people, flowId, key, machine, home, keyFile } = await cloudFlow();
    const killed = agent(home, keyFile);
    const runId = await requestRun(people.owner, flowId, machine.id, { pause: 60, tag: 'killed' });
    await killed.waitFor(/Succeeded +First/);
    killed.child.kill('SIGKILL');
    await killed.ended;
    // Its lease lapses (dated back: the host's clock cannot be moved), and the run-repair sweep finds it.
    const [, uuid] = runId.split('.') as [string, string];
    await storage.flows.updateEntity(
      {
        partitionKey: flowPartitionKey(DEV_TENANT_ID, flowId),
        rowKey: runRowKey(uuid),
        leaseExpiresAt: new Date(Date.now() - 1_000).toISOString(),
      },
      'Merge',
    );
    await createServices(storage, testServiceSettings()).runRepairs.sweep();
    expect(await runOf(people.owner, runId)).toMatchObject({
      status: 'TimedOut',
      errors: [expect.objectContaining({ code: 'LeaseExpired' })],
    });

    // Another agent of the same machine never gets it.
    const next = agent(home, keyFile);
    await next.waitFor(/Agent for/);
    await sleep(3_000);
    next.child.kill('SIGTERM');
    await next.ended;
    expect(next.stdout).not.toContain('leased');
    expect(await sqlRows(key, 'marks')).toEqual([{ step: 'first', tag: 'killed' }]);
    expect((await runOf(people.owner, runId)).status).toBe('TimedOut');
  });

  it('started while the service is down, picks up work once it is up', async () => {
    const { people, flowId, key, machine, home, keyFile } = await cloudFlow();
    const proxy = await closedProxy(new URL(stack().apiUrl));
    try {
      const waiting = agent(home, keyFile, [], { FLOWSHARE_API: `http://127.0.0.1:${proxy.port}/api` });
      await waiting.waitFor(/Leasing failed \(the service cannot be reached\); trying again in/);
      const runId = await requestRun(people.owner, flowId, machine.id, { tag: 'late' });
      // The processor dispatches it (how soon depends on the queue poller and the machine's load); nobody leases it.
      let status = (await runOf(people.owner, runId)).status;
      for (const deadline = Date.now() + 20_000; status === 'Queued' && Date.now() < deadline; await sleep(200)) {
        status = (await runOf(people.owner, runId)).status;
      }
      expect(status).toBe('Dispatched');
      await proxy.open();
      const run = await ended(people.owner, runId, 45);
      expect(run).toMatchObject({ status: 'Succeeded', outputs: { tag: 'late' } });
      expect(await sqlRows(key, 'marks')).toEqual([
        { step: 'first', tag: 'late' },
        { step: 'second', tag: 'late' },
      ]);
      await waiting.waitFor(/The service answers again/);
      waiting.child.kill('SIGTERM');
      expect((await waiting.ended).code).toBe(0);
    } finally {
      await proxy.close();
    }
  }, 90_000);

  it("keeps trying to report a run's end while the service cannot be reached", async () => {
    const { people, machine, home, keyFile } = await cloudFlow();
    const created = await call('POST', '/flows', {
      token: people.owner.token,
      body: {
        name: unique('Waits'),
        definition: {
          actions: [
            { name: 'Pause', type: 'wait', seconds: 2 },
            { type: 'output', output: 'done', value: true },
          ],
        },
      },
    });
    const proxy = await closedProxy(new URL(stack().apiUrl));
    try {
      await proxy.open();
      const reporting = agent(home, keyFile, [], { FLOWSHARE_API: `http://127.0.0.1:${proxy.port}/api` });
      const runId = await requestRun(people.owner, created.body.id, machine.id, {});
      await reporting.waitFor(/leased/);
      await proxy.close();
      await reporting.waitFor(/Reporting the run's end failed \(.*\); trying again in/, 30);
      expect((await runOf(people.owner, runId)).status).toBe('Running');
      await proxy.open();
      const run = await ended(people.owner, runId, 30);
      expect(run).toMatchObject({ status: 'Succeeded', outputs: { done: true } });
      reporting.child.kill('SIGTERM');
      expect((await reporting.ended).code).toBe(0);
    } finally {
      await proxy.close();
    }
  }, 90_000);
});

/** A port that refuses connections until open() makes it forward to the service. */
async function closedProxy(target: URL): Promise<{ port: number; open(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(upstream);
    socket.pipe(upstream).pipe(socket);
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  // A free port, found by listening once; nothing listens on it until open().
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const found = (probe.address() as { port: number }).port;
      probe.close(() => resolve(found));
    });
  });
  return {
    port,
    open: () => new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve)),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  };
}
