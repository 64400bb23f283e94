// The timer sweeps against a real Azurite: every run's flow is noted before
// the run is recorded and forgotten once nothing there can need repair, and
// consent states and sessions past their time are deleted, while reading
// never writes (the repairs and deletions are the sweeps' alone).
import { odata } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { newSessionId } from '../../lib/auth/session';
import { createRunServices, createServices } from '../../lib/services';
import { ExpiredStates } from '../../lib/services/expiredStates';
import { ConnectionStore } from '../../lib/storage/connections';
import { FlowStore } from '../../lib/storage/flows';
import { flowPartitionKey, runRowKey } from '../../lib/storage/keys';
import { OAuthStateStore } from '../../lib/storage/oauthStates';
import { PendingWork } from '../../lib/storage/pendingWork';
import { RunQueues } from '../../lib/storage/runQueues';
import { SessionStore } from '../../lib/storage/sessions';
import { testServiceSettings, testStorage, unique } from '../support/stack';

const storage = testStorage();
const services = createServices(storage, testServiceSettings());

function runsAt(offsetMs: number) {
  return createRunServices({
    store: new FlowStore(storage),
    connectionStore: new ConnectionStore(storage),
    connections: services.connections,
    queues: new RunQueues(storage),
    notes: new PendingWork(storage, 'runs'),
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
    const run = await services.runs.startAttended(owner, flowId, {});
    expect(run.status).toBe('Dispatched');
    const noted = await noteOf(owner.tenantId, flowId);
    expect(noted).toBeDefined();

    // Nothing is Queued, but the note is fresh: a run may be being recorded under it.
    await runsAt(0).runRepairs.sweep();
    expect(await noteOf(owner.tenantId, flowId)).toBeDefined();
    // Five minutes on it is forgotten, and a new run notes the flow again.
    await runsAt(5 * 60_000 + 1_000).runRepairs.sweep();
    expect(await noteOf(owner.tenantId, flowId)).toBeUndefined();
    await runsAt(6 * 60_000).runs.startAttended(owner, flowId, {});
    expect(await noteOf(owner.tenantId, flowId)).toBeDefined();
  });

  it('keeps the note while a run there is still Queued', async () => {
    const owner = { tenantId: unique('tenant'), principalId: 'owner' };
    const flowId = (await services.flows.create(owner, { name: 'F' })).value.id;
    // A cloud run still waiting for the processor (its request went to the real queue).
    await services.runs.requestCloudRun(owner, flowId);
    await runsAt(6 * 60_000).runRepairs.sweep();
    expect(await noteOf(owner.tenantId, flowId)).toBeDefined();
  });

  it('leaves runs as they are when they are only read', async () => {
    const owner = { tenantId: unique('tenant'), principalId: 'owner' };
    const flowId = (await services.flows.create(owner, { name: 'F' })).value.id;
    const requested = await services.runs.requestCloudRun(owner, flowId);
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
