// Runs as their executors live them, over HTTP: a machine leasing its runs
// (long polling, racing), heartbeats, completion, cancelling before and
// during a run, a lease that lapses; and every kind of caller on each route:
// the run's token and nothing else, a person's token, a machine key, another
// run's token, a finished run's token.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { flowPartitionKey, runRowKey } from '../../lib/storage/keys';
import {
  complete,
  heartbeat,
  lease,
  leaseNext,
  registerMachine,
  succeeded,
  type TestMachine,
} from '../support/machines';
import { call, expectProblem, testStorage, unique, type Body } from '../support/stack';
import { cast, person, sharedFlow, type Cast, type Person } from './people';

const storage = testStorage();

/** The tenant a person's token names. */
function tenantOf(who: Person): string {
  return (JSON.parse(Buffer.from(who.token.split('.')[1]!, 'base64url').toString('utf8')) as { tid: string }).tid;
}

/** A flow ready for cloud runs: schema v2, its reference `db` embedded and bound to the owner's SQL connection. */
async function readyFlow(): Promise<{ people: Cast; flowId: string }> {
  const people = await cast();
  const flowId = await sharedFlow(people, {
    name: 'Nightly',
    schemaVersion: 2,
    definition: { actions: [{ type: 'connector', connectionReference: 'db', operation: 'ExecuteQuery' }] },
  });
  const db = await call('POST', '/connections', {
    token: people.owner.token,
    body: { connectorId: 'shared_sql', displayName: 'DB', apiKey: `secret-${unique('key')}` },
  });
  await call('PUT', `/flows/${flowId}/connection-references/db`, {
    token: people.owner.token,
    body: { connectorId: 'shared_sql', connectionId: db.body.id },
  });
  const embedded = await call('PATCH', `/flows/${flowId}/connection-references/db`, {
    token: people.owner.token,
    body: { embedded: true },
  });
  expect(embedded.status).toBe(200);
  return { people, flowId };
}

/** Asks for a cloud run on `machine` and waits until the processor has dispatched it. */
async function dispatchedRun(who: Person, flowId: string, machine: TestMachine): Promise<string> {
  const requested = await call('POST', `/flows/${flowId}/cloud-runs`, {
    token: who.token,
    body: { machineId: machine.id },
  });
  expect(requested.status, requested.text).toBe(202);
  for (let i = 0; i < 150; i++) {
    const run = await call('GET', `/runs/${requested.body.id}`, { token: who.token });
    // Running already: a machine waiting for it leased it at once.
    if (run.body.status === 'Dispatched' || run.body.status === 'Running') return requested.body.id;
    expect(run.body.status).toBe('Queued');
    await sleep(100);
  }
  throw new Error('the run was not dispatched');
}

/** Dates a run's lease back, as if its executor had stopped long ago (the host's clock cannot be moved). */
async function lapse(who: Person, runId: string): Promise<void> {
  const [flowId, uuid] = runId.split('.') as [string, string];
  await storage.flows.updateEntity(
    {
      partitionKey: flowPartitionKey(tenantOf(who), flowId),
      rowKey: runRowKey(uuid),
      leaseExpiresAt: new Date(Date.now() - 1_000).toISOString(),
    },
    'Merge',
  );
}

describe('a lease', () => {
  it("waits for the machine's run and answers as soon as it is dispatched", async () => {
    const { people, flowId } = await readyFlow();
    const machine = await registerMachine(people.owner);
    const started = Date.now();
    const waiting = lease(machine, 25);
    await sleep(300);
    const runId = await dispatchedRun(people.owner, flowId, machine);
    const leased = await waiting;
    expect(leased.status, leased.text).toBe(200);
    expect(leased.body.run).toMatchObject({ id: runId, status: 'Running', machineId: machine.id });
    expect(leased.headers.get('location')).toBe(`/api/runs/${runId}`);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await call('GET', `/runs/${runId}`, { token: people.owner.token })).body).toMatchObject({
      status: 'Running',
      startedAt: expect.any(String),
      leaseExpiresAt: leased.body.leaseExpiresAt,
    });
  });

  it('answers 204 when nothing arrived within the wait, and at once without one', async () => {
    const machine = await registerMachine(await person('olivia'));
    let started = Date.now();
    expect((await lease(machine)).status).toBe(204);
    expect(Date.now() - started).toBeLessThan(2_000);
    started = Date.now();
    const waited = await lease(machine, 1);
    expect(waited.status).toBe(204);
    expect(waited.text).toBe('');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('gives each run to one call, however many race for it, oldest first', async () => {
    const { people, flowId } = await readyFlow();
    const machine = await registerMachine(people.owner);
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await dispatchedRun(people.owner, flowId, machine));
    const answers = await Promise.all(Array.from({ length: 10 }, () => lease(machine)));
    const leased = answers.filter((a) => a.status === 200).map((a) => a.body.run.id as string);
    expect(answers.filter((a) => a.status === 204)).toHaveLength(7);
    expect([...leased].sort()).toEqual([...runs].sort());
    // A single caller gets them oldest first.
    const again = await registerMachine(people.owner, 'Second');
    const ordered = [];
    for (let i = 0; i < 2; i++) ordered.push(await dispatchedRun(people.owner, flowId, again));
    expect((await lease(again)).body.run.id).toBe(ordered[0]);
    expect((await lease(again)).body.run.id).toBe(ordered[1]);
    expect((await lease(again)).status).toBe(204);
  });

  it("never gives a machine another machine's run", async () => {
    const { people, flowId } = await readyFlow();
    const mine = await registerMachine(people.owner);
    const others = [await registerMachine(people.owner, 'Other'), await registerMachine(people.coOwner)];
    const runId = await dispatchedRun(people.owner, flowId, mine);
    for (const other of others) expect((await lease(other)).status).toBe(204);
    expect((await lease(mine)).body.run.id).toBe(runId);
  });
});

describe("a run's token", () => {
  it('keeps the lease alive, ends the run with its results, and then stops working', async () => {
    const { people, flowId } = await readyFlow();
    const machine = await registerMachine(people.owner);
    const runId = await dispatchedRun(people.owner, flowId, machine);
    const leased = await leaseNext(machine);
    const beat = await heartbeat(runId, leased.token);
    expect(beat.status).toBe(200);
    expect(beat.body).toEqual({ cancelRequested: false, leaseExpiresAt: expect.any(String) });
    expect(Date.parse(beat.body.leaseExpiresAt)).toBeGreaterThanOrEqual(Date.parse(leased.leaseExpiresAt));

    const report = {
      status: 'Failed',
      outputs: { processed: 2 },
      actions: [
        succeeded('Query'),
        {
          name: 'Send',
          status: 'Failed',
          startedAt: new Date().toISOString(),
          durationMs: 3,
          error: { code: 'ConnectorCallFailed', detail: 'the provider said no' },
        },
        { name: 'Archive', status: 'Skipped', startedAt: new Date().toISOString(), durationMs: 0 },
      ],
    };
    // The outputs are kept as sent: a `__proto__` member is an ordinary one (sent as text: a JS literal would drop it).
    const text = JSON.stringify(report).replace('{"processed":2}', '{"processed":2,"__proto__":{"kept":true}}');
    const completed = await complete(runId, leased.token, text);
    expect(completed.status, completed.text).toBe(200);
    expect(completed.body).toMatchObject({ id: runId, status: 'Failed' });
    const ended = await call('GET', `/runs/${runId}`, { token: people.owner.token });
    expect(ended.status).toBe(200);
    expect(ended.text).toContain('"__proto__":{"kept":true}');
    expect(ended.body).toMatchObject({
      status: 'Failed',
      actions: report.actions,
      completedAt: expect.any(String),
    });
    expect(ended.body).not.toHaveProperty('leaseExpiresAt');

    // A finished run's token: refused on every route, saying how the run ended.
    for (const answer of [await heartbeat(runId, leased.token), await complete(runId, leased.token, report)]) {
      expectProblem(answer, 409, 'RunEnded');
      expect(answer.body.runStatus).toBe('Failed');
    }
    const audit = await call('GET', `/flows/${flowId}/audit`, { token: people.owner.token });
    expect(audit.body.value[0]).toMatchObject({ action: 'runCompleted', subjectId: runId });
  });

  it('is the only credential its routes take, and only for its own run', async () => {
    const { people, flowId } = await readyFlow();
    const machine = await registerMachine(people.owner);
    const runId = await dispatchedRun(people.owner, flowId, machine);
    const otherRun = await dispatchedRun(people.owner, flowId, machine);
    const leased = await leaseNext(machine);
    const other = await leaseNext(machine);
    expect(other.run.id).toBe(otherRun);
    const report = { status: 'Succeeded', actions: [] };
    // The attended run of someone else, with its own token.
    await call('POST', '/connections', {
      token: people.user.token,
      body: { connectorId: 'shared_sql', displayName: 'Mine', apiKey: `secret-${unique('key')}` },
    });
    const attended = await call('POST', `/flows/${flowId}/runs`, { token: people.user.token });
    expect(attended.status, attended.text).toBe(201);
    for (const token of [
      undefined,
      people.owner.token,
      machine.key,
      other.token,
      attended.body.token,
      `${leased.token.slice(0, -4)}AAAA`,
      'fsr_v1.nokey.AAAA.AAAA.AAAA',
    ]) {
      expectProblem(await heartbeat(runId, token!), 401, 'Unauthenticated');
      expectProblem(await complete(runId, token!, report), 401, 'Unauthenticated');
    }
    // And a run's token is not a person's token.
    for (const [method, path] of [
      ['GET', `/runs/${runId}`],
      ['POST', `/runs/${runId}/cancel`],
      ['GET', `/flows/${flowId}`],
    ] as const) {
      expectProblem(await call(method, path, { token: leased.token }), 401, 'Unauthenticated');
    }
    // Nothing above touched the run.
    expect((await heartbeat(runId, leased.token)).status).toBe(200);
  });

  it('stops working once the lease lapsed: the run is TimedOut, and never leased again', async () => {
    const { people, flowId } = await readyFlow();
    const machine = await registerMachine(people.owner);
    const runId = await dispatchedRun(people.owner, flowId, machine);
    const leased = await leaseNext(machine);
    await lapse(people.owner, runId);
    const refused = await heartbeat(runId, leased.token);
    expectProblem(refused, 409, 'RunEnded');
    expect(refused.body.runStatus).toBe('TimedOut');
    const ended = await call('GET', `/runs/${runId}`, { token: people.owner.token });
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({
      status: 'TimedOut',
      errors: [{ code: 'LeaseExpired', detail: expect.any(String) }],
    });
    expectProblem(await complete(runId, leased.token, { status: 'Succeeded', actions: [] }), 409, 'RunEnded');
    expect((await lease(machine)).status).toBe(204);
    const audit = await call('GET', `/flows/${flowId}/audit`, { token: people.owner.token });
    expect(audit.body.value[0]).toMatchObject({ action: 'runTimedOut', subjectId: runId });
  });

  it('of an attended run works for its console, and shows its results to its initiator only among users', async () => {
    const { people, flowId } = await readyFlow();
    await call('POST', '/connections', {
      token: people.user.token,
      body: { connectorId: 'shared_sql', displayName: 'Mine', apiKey: `secret-${unique('key')}` },
    });
    const attended = await call('POST', `/flows/${flowId}/runs`, { token: people.user.token });
    const runId = attended.body.run.id;
    expect((await heartbeat(runId, attended.body.token)).status).toBe(200);
    const done = await complete(runId, attended.body.token, {
      status: 'Succeeded',
      outputs: { sent: 1 },
      actions: [succeeded()],
    });
    expect(done.body).toMatchObject({ status: 'Succeeded', outputs: { sent: 1 } });
    const anotherUser = await person('uma');
    await call('PUT', `/flows/${flowId}/permissions/${anotherUser.id}`, {
      token: people.owner.token,
      body: { role: 'user' },
    });
    for (const who of [people.user, people.owner, people.coOwner]) {
      expect((await call('GET', `/runs/${runId}`, { token: who.token })).body).toMatchObject({ outputs: { sent: 1 } });
    }
    const seen = await call('GET', `/runs/${runId}`, { token: anotherUser.token });
    expect(seen.body.status).toBe('Succeeded');
    expect(seen.body).not.toHaveProperty('outputs');
    expect(seen.body).not.toHaveProperty('actions');
  });

  it('answers a bad report with 400, and results past their limit with 413', async () => {
    const { people, flowId } = await readyFlow();
    const attended = await call('POST', `/flows/${flowId}/runs`, { token: people.owner.token });
    const { token } = attended.body;
    const runId = attended.body.run.id;
    const action = succeeded();
    for (const [body, field] of [
      [{ actions: [] }, 'status'],
      [{ status: 'Done', actions: [] }, 'status'],
      [{ status: 'Cancelled', actions: [] }, 'status'],
      [{ status: 'Succeeded' }, 'actions'],
      [{ status: 'Succeeded', actions: {} }, 'actions'],
      [{ status: 'Succeeded', actions: [], outputs: [1] }, 'outputs'],
      [{ status: 'Succeeded', actions: [], extra: 1 }, 'extra'],
      [{ status: 'Succeeded', actions: [{ ...action, name: '' }] }, 'actions[0].name'],
      [{ status: 'Succeeded', actions: [{ ...action, status: 'Maybe' }] }, 'actions[0].status'],
      [{ status: 'Succeeded', actions: [{ ...action, startedAt: 'yesterday' }] }, 'actions[0].startedAt'],
      [{ status: 'Succeeded', actions: [{ ...action, durationMs: -1 }] }, 'actions[0].durationMs'],
      [{ status: 'Succeeded', actions: [{ ...action, error: { code: 'x' } }] }, 'actions[0].error.detail'],
    ] as const) {
      const refused = await complete(runId, token, body);
      expectProblem(refused, 400, 'ValidationFailed');
      expect(refused.body.errors.map((e: Body) => e.field)).toEqual([field]);
    }
    expectProblem(await complete(runId, token, '{"status":'), 400, 'ValidationFailed');
    const tooMuch = await complete(runId, token, {
      status: 'Succeeded',
      outputs: { text: 'x'.repeat(200 * 1024) },
      actions: [{ ...action, error: { code: 'Big', detail: 'y'.repeat(4_000) } }].concat(
        Array.from({ length: 20 }, () => ({ ...action, error: { code: 'Big', detail: 'y'.repeat(4_000) } })),
      ),
    });
    expectProblem(tooMuch, 413, 'PayloadTooLarge');
    // Nothing was refused for good: the run goes on, and ends with results just within the limit.
    const within = await complete(runId, token, {
      status: 'Succeeded',
      outputs: { text: 'x'.repeat(250 * 1024) },
      actions: [action],
    });
    expect(within.status, within.text).toBe(200);
    const read = await call('GET', `/runs/${runId}`, { token: people.owner.token });
    expect(read.body.outputs.text).toHaveLength(250 * 1024);
  });
});

describe('cancelling a run', () => {
  it('before it is leased: Cancelled at once, and its machine never gets it', async () => {
    const { people, flowId } = await readyFlow();
    const machine = await registerMachine(people.owner);
    const runId = await dispatchedRun(people.owner, flowId, machine);
    const cancelled = await call('POST', `/runs/${runId}/cancel`, { token: people.coOwner.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'Cancelled', completedAt: expect.any(String) });
    expect((await lease(machine)).status).toBe(204);
    // Again: nothing changes.
    expect((await call('POST', `/runs/${runId}/cancel`, { token: people.owner.token })).body.status).toBe('Cancelled');
    const audit = await call('GET', `/flows/${flowId}/audit`, { token: people.owner.token });
    expect(audit.body.value.filter((e: Body) => e.action === 'runCancelled')).toEqual([
      expect.objectContaining({ subjectId: runId, actorId: people.coOwner.id }),
    ]);
  });

  it('while it runs: its executor is told at its next heartbeat, and it ends Cancelled', async () => {
    const { people, flowId } = await readyFlow();
    const machine = await registerMachine(people.owner);
    const runId = await dispatchedRun(people.owner, flowId, machine);
    const leased = await leaseNext(machine);
    const asked = await call('POST', `/runs/${runId}/cancel`, { token: people.owner.token });
    expect(asked.status).toBe(202);
    expect(asked.headers.get('retry-after')).toBe('2');
    expect(asked.body).toMatchObject({ status: 'Running', cancelRequested: true });
    expect((await heartbeat(runId, leased.token)).body.cancelRequested).toBe(true);
    const done = await complete(runId, leased.token, { status: 'Succeeded', outputs: { partial: true }, actions: [] });
    expect(done.body).toMatchObject({ status: 'Cancelled', outputs: { partial: true } });
    const audit = await call('GET', `/flows/${flowId}/audit`, { token: people.owner.token });
    expect(audit.body.value[0]).toMatchObject({ action: 'runCancelled', actorId: people.owner.id });
  });

  it('is up to its initiator, the owner and co-owners', async () => {
    const { people, flowId } = await readyFlow();
    await call('POST', '/connections', {
      token: people.user.token,
      body: { connectorId: 'shared_sql', displayName: 'Mine', apiKey: `secret-${unique('key')}` },
    });
    const mine = (await call('POST', `/flows/${flowId}/runs`, { token: people.user.token })).body.run.id;
    const owners = (await call('POST', `/flows/${flowId}/runs`, { token: people.owner.token })).body;
    const machine = await registerMachine(people.owner);
    const cancel = (runId: string, token?: string) => call('POST', `/runs/${runId}/cancel`, { token });
    // A user may cancel their own run, not someone else's; a stranger learns nothing.
    expectProblem(await cancel(owners.run.id, people.user.token), 403, 'Forbidden');
    for (const who of [people.stranger, people.otherTenant]) {
      expectProblem(await cancel(owners.run.id, who.token), 404, 'NotFound');
      expectProblem(await cancel(mine, who.token), 404, 'NotFound');
    }
    for (const token of [undefined, machine.key, owners.token]) {
      expectProblem(await cancel(owners.run.id, token), 401, 'Unauthenticated');
    }
    expect((await cancel(mine, people.user.token)).status).toBe(202);
    expect((await cancel(owners.run.id, people.coOwner.token)).status).toBe(202);
    // Completed after a cancel was asked, it is Cancelled; asked again, nothing changes.
    await complete(owners.run.id, owners.token, { status: 'Succeeded', actions: [] });
    const again = await cancel(owners.run.id, people.owner.token);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('Cancelled');
    // A run that ended otherwise cannot be cancelled.
    const done = (await call('POST', `/flows/${flowId}/runs`, { token: people.owner.token })).body;
    await complete(done.run.id, done.token, { status: 'Succeeded', actions: [] });
    expectProblem(await cancel(done.run.id, people.owner.token), 409, 'RunEnded');
    expectProblem(await cancel(`${flowId}.no-such-run`, people.owner.token), 404, 'NotFound');
    expectProblem(await cancel('a%2Fb', people.owner.token), 400, 'ValidationFailed');
  });
});
