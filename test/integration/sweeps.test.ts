// The timer sweeps against a real Azurite: every run's flow is noted before
// the run is recorded and forgotten once nothing there can need repair, runs
// whose lease lapsed (or that no machine leased) end TimedOut, and consent
// states and sessions past their time are deleted, while reading never writes
// (the repairs and deletions are the sweeps' alone).
import { odata } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { parseMachineKey } from '../../lib/auth/machineKeys';
import { newSessionId } from '../../lib/auth/session';
import { createRunServices, createServices } from '../../lib/services';
import { ExpiredStates } from '../../lib/services/expiredStates';
import { ConnectionStore } from '../../lib/storage/connections';
import { FlowStore } from '../../lib/storage/flows';
import { flowPartitionKey, runRowKey } from '../../lib/storage/keys';
import { MachineStore } from '../../lib/storage/machines';
import { OAuthStateStore } from '../../lib/storage/oauthStates';
import { PendingWork } from '../../lib/storage/pendingWork';
import { RunQueues } from '../../lib/storage/runQueues';
import { SessionStore } from '../../lib/storage/sessions';
import { DEFAULT_NAMES } from '../../lib/config';
import { createStorage } from '../../lib/storage/clients';
import { stack, testServiceSettings, unique } from '../support/stack';

// A pendingWork table of this file's own: its sweeps, whose clocks run hours
// ahead, see only the flows this file noted, never another file's runs.
const storage = createStorage(
  { kind: 'connectionString', connectionString: stack().storageConnectionString },
  { ...DEFAULT_NAMES, pendingWorkTable: `sweepsTest${Date.now().toString(36)}` },
);
const services = createServices(storage, testServiceSettings());

function runsAt(offsetMs: number) {
  return createRunServices({
    store: new FlowStore(storage),
    connectionStore: new ConnectionStore(storage),
    connections: services.connections,
    machineStore: new MachineStore(storage),
    queues: new RunQueues(storage),
    notes: new PendingWork(storage, 'runs'),
    tokens: services.runTokens,
    maxDequeueCount: 5,
    now: () => new Date(Date.now() + offsetMs),
  });
}

async function noteOf(tenantId: string, flowId: string) {
  return (await new PendingWork(storage, 'runs').list()).find((n) => n.tenantId === tenantId && n.flowId === flowId);
}

describe('the run-repair sweep', () => {
  it("finds every run's flow noted, and forgets the note once no run there can need repair", async () => {
    const owner = { tenantId: unique('tenant'), principalId: 'owner' };
    const flowId = (await services.flows.create(owner, { name: 'F' })).value.id;
    const { run } = await services.runs.startAttended(owner, flowId, {});
    expect(run.status).toBe('Running');
    const noted = await noteOf(owner.tenantId, flowId);
    expect(noted).toBeDefined();

    // The run has not ended, and the note is fresh: nothing is forgotten.
    await runsAt(0).runRepairs.sweep();
    expect(await noteOf(owner.tenantId, flowId)).toBeDefined();
    // Five minutes on, its lease long lapsed: the run ends TimedOut, and the note is kept while it was Running.
    await runsAt(5 * 60_000 + 1_000).runRepairs.sweep();
    expect(await services.runs.get(owner, run.id)).toMatchObject({ status: 'TimedOut' });
    expect(await noteOf(owner.tenantId, flowId)).toBeDefined();
    // Then, with nothing left that has not ended, it is forgotten, and a new run notes the flow again.
    await runsAt(5 * 60_000 + 1_000).runRepairs.sweep();
    expect(await noteOf(owner.tenantId, flowId)).toBeUndefined();
    await runsAt(6 * 60_000).runs.startAttended(owner, flowId, {});
    expect(await noteOf(owner.tenantId, flowId)).toBeDefined();
  });

  it('keeps the note while a run there is still Queued', async () => {
    const owner = { tenantId: unique('tenant'), principalId: 'owner' };
    const flowId = (await services.flows.create(owner, { name: 'F' })).value.id;
    // A cloud run still waiting for the processor (its request went to the real queue).
    await services.runs.requestCloudRun(owner, flowId, { machineId: (await services.machines.create(owner, 'M')).id });
    await runsAt(6 * 60_000).runRepairs.sweep();
    expect(await noteOf(owner.tenantId, flowId)).toBeDefined();
  });

  it('leaves runs as they are when they are only read', async () => {
    const owner = { tenantId: unique('tenant'), principalId: 'owner' };
    const flowId = (await services.flows.create(owner, { name: 'F' })).value.id;
    const requested = await services.runs.requestCloudRun(owner, flowId, {
      machineId: (await services.machines.create(owner, 'M')).id,
    });
    const before = await storage.flows
      .getEntity(flowPartitionKey(owner.tenantId, flowId), runRowKey(requested.id.split('.')[1]!))
      .catch(() => undefined);
    // Read long after it is stale, by a service whose clock is far ahead.
    const later = runsAt(60 * 60_000).runs;
    await later.get(owner, requested.id);
    await later.history(owner, flowId, { top: 10 });
    const after = await storage.flows
      .getEntity(flowPartitionKey(owner.tenantId, flowId), runRowKey(requested.id.split('.')[1]!))
      .catch(() => undefined);
    expect(after?.etag).toBe(before?.etag);
  });
});

describe('runs that lost their lease', () => {
  const leaseMs = 60_000;

  it('end TimedOut once the lease lapsed, audited, and nothing leases them again', async () => {
    const owner = { tenantId: unique('tenant'), principalId: 'owner' };
    const flowId = (await services.flows.create(owner, { name: 'F' })).value.id;
    const lease = await services.runs.startAttended(owner, flowId, {});
    // Within the lease nothing happens; a heartbeat keeps it alive.
    await runsAt(leaseMs - 1_000).runRepairs.sweep();
    expect(await services.runs.get(owner, lease.run.id)).toMatchObject({ status: 'Running' });
    const beat = await runsAt(leaseMs - 1_000).runLeases.heartbeat(lease.token, lease.run.id);
    await runsAt(leaseMs + 1_000).runRepairs.sweep();
    expect(await services.runs.get(owner, lease.run.id)).toMatchObject({ status: 'Running' });
    // Past the renewed lease, the sweep ends it.
    const lapsed = Date.parse(beat.leaseExpiresAt) - Date.now() + 1;
    await runsAt(lapsed).runRepairs.sweep();
    const ended = await services.runs.get(owner, lease.run.id);
    expect(ended).toMatchObject({
      status: 'TimedOut',
      errors: [{ code: 'LeaseExpired', detail: expect.any(String) }],
      completedAt: expect.any(String),
    });
    const audit = (await services.flows.audit(owner, flowId, { top: 10 })).items;
    expect(audit[0]).toMatchObject({
      action: 'runTimedOut',
      subjectId: lease.run.id,
      details: { reason: 'LeaseExpired' },
    });
    // Its token no longer works: the run ended, and says how.
    await expect(services.runLeases.heartbeat(lease.token, lease.run.id)).rejects.toMatchObject({
      code: 'RunEnded',
      extensions: { runStatus: 'TimedOut' },
    });
  });

  it('end Cancelled when a cancel was asked before the lease lapsed', async () => {
    const owner = { tenantId: unique('tenant'), principalId: 'owner' };
    const flowId = (await services.flows.create(owner, { name: 'F' })).value.id;
    const lease = await services.runs.startAttended(owner, flowId, {});
    expect(await services.runs.cancel(owner, lease.run.id)).toMatchObject({ status: 'Running', cancelRequested: true });
    await runsAt(leaseMs + 1_000).runRepairs.sweep();
    expect(await services.runs.get(owner, lease.run.id)).toMatchObject({ status: 'Cancelled' });
    const audit = (await services.flows.audit(owner, flowId, { top: 10 })).items;
    expect(audit[0]).toMatchObject({ action: 'runCancelled', actorId: 'owner' });
  });

  it('a call with the token finds a lapsed lease first, and records it', async () => {
    const owner = { tenantId: unique('tenant'), principalId: 'owner' };
    const flowId = (await services.flows.create(owner, { name: 'F' })).value.id;
    const lease = await services.runs.startAttended(owner, flowId, {});
    const report = { status: 'Succeeded' as const, actions: [] };
    await expect(runsAt(leaseMs).runLeases.complete(lease.token, lease.run.id, report)).rejects.toMatchObject({
      code: 'RunEnded',
      extensions: { runStatus: 'TimedOut' },
    });
    expect(await services.runs.get(owner, lease.run.id)).toMatchObject({ status: 'TimedOut' });
  });

  it('end a dispatched run no machine leased within its window TimedOut, and its machine never gets it', async () => {
    const owner = { tenantId: unique('tenant'), principalId: 'owner' };
    const flowId = (await services.flows.create(owner, { name: 'F', schemaVersion: 2 })).value.id;
    const machine = await services.machines.create(owner, 'Away');
    const run = await services.runs.requestCloudRun(owner, flowId, { machineId: machine.id });
    expect(await services.cloudRuns.process({ runId: run.id, tenantId: owner.tenantId, flowId })).toBe('dispatched');
    await runsAt(59 * 60_000).runRepairs.sweep();
    expect(await services.runs.get(owner, run.id)).toMatchObject({ status: 'Dispatched' });
    await runsAt(61 * 60_000).runRepairs.sweep();
    expect(await services.runs.get(owner, run.id)).toMatchObject({
      status: 'TimedOut',
      errors: [{ code: 'NotLeased', detail: expect.any(String) }],
    });
    const key = parseMachineKey(machine.key)!;
    expect(await services.runLeases.lease(key, 0)).toBeUndefined();
  });
});

describe('the expired-state sweep', () => {
  it('deletes consent states and sessions past their time, and keeps the rest', async () => {
    const states = new OAuthStateStore(storage);
    const sessions = new SessionStore(storage);
    const now = new Date();
    const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
    const owner = unique('owner');
    const consent = (expiresAt: string) => ({
      tenantId: 't',
      ownerId: owner,
      connectionId: 'c',
      connectorId: 'shared_office365',
      redirectUri: 'http://x',
      sealedVerifier: 'v1.x',
      sessionHash: 'h',
      expiresAt,
    });
    const [oldState, liveState] = [unique('state'), unique('state')];
    await states.put(oldState, consent(at(-1_000)));
    await states.put(liveState, consent(at(60_000)));
    const session = (expiresAt: string) => ({
      hash: newSessionId().hash,
      caller: { tenantId: 't', principalId: owner },
      name: owner,
      csrfToken: 'x',
      createdAt: now.toISOString(),
      expiresAt,
    });
    const [oldSession, liveSession] = [session(at(-1_000)), session(at(60_000))];
    await sessions.create(oldSession);
    await sessions.create(liveSession);

    const swept = await new ExpiredStates(states, sessions, () => now).sweep();
    expect(swept.states).toBeGreaterThanOrEqual(1);
    expect(swept.sessions).toBeGreaterThanOrEqual(1);
    const left = async (table: typeof storage.oauthStates) => {
      const keys: string[] = [];
      for await (const row of table.listEntities({ queryOptions: { filter: odata`PartitionKey ne ${''}` } })) {
        keys.push(row.rowKey!);
      }
      return keys;
    };
    const stateKeys = await left(storage.oauthStates);
    expect(stateKeys).not.toContain(oldState);
    expect(stateKeys).toContain(liveState);
    const sessionKeys = await left(storage.sessions);
    expect(sessionKeys).not.toContain(oldSession.hash);
    expect(sessionKeys).toContain(liveSession.hash);
  });
});
