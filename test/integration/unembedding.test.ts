// A co-owner with more embedded references than one transaction can unembed
// is removed, and the process stops right after the role change commits: the
// rest must count as not embedded everywhere they would be used (the prompt,
// attended runs, readiness, the processor), even once the person is a
// co-owner again, until the sweep finishes unembedding them.
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_NAMES } from '../../lib/config';
import type { Caller } from '../../lib/domain/caller';
import { runId, type Run } from '../../lib/domain/runs';
import { createServices } from '../../lib/services';
import { newId } from '../../lib/services/ids';
import { PermissionService } from '../../lib/services/permissions';
import { NOTE_GRACE_MS, Unembeddings } from '../../lib/services/unembeddings';
import { createStorage } from '../../lib/storage/clients';
import { FlowStore, type FlowChange } from '../../lib/storage/flows';
import { PendingWork } from '../../lib/storage/pendingWork';
import { PrincipalIndex } from '../../lib/storage/principalIndex';
import { stack, testServiceSettings, unique } from '../support/stack';

// A pending-work table of this file's own: the stack's timer sweeps its own
// table every minute, and must not finish this file's work behind its back.
const storage = createStorage(
  { kind: 'connectionString', connectionString: stack().storageConnectionString },
  { ...DEFAULT_NAMES, pendingWorkTable: `pendingTest${Date.now().toString(36)}` },
);
const services = createServices(storage, testServiceSettings());
const store = new FlowStore(storage);
const work = new PendingWork(storage, 'unembed');

afterAll(async () => {
  await storage.pendingWork.deleteTable();
});

/** A FlowStore that commits once, then fails every commit as a process that stopped would. */
class StopsAfterFirstCommit extends FlowStore {
  private commits = 0;
  override async commit(tenantId: string, flowId: string, changes: FlowChange[]): Promise<string[]> {
    if (this.commits++ > 0) throw new Error('the process stopped');
    return super.commit(tenantId, flowId, changes);
  }
}

const names = Array.from({ length: 60 }, (_, i) => `r${String(i).padStart(2, '0')}`);

/** A v2 flow of Olivia's whose 60 references are all Bob's, embedded; Dave is a co-owner too. */
async function flowLentByBob(): Promise<{ olivia: Caller; bob: Caller; dave: Caller; flowId: string }> {
  const tenantId = unique('tenant');
  const [olivia, bob, dave] = ['olivia', 'bob', 'dave'].map((principalId) => ({ tenantId, principalId }));
  const definitionJson = JSON.stringify({
    actions: names.map((connectionReference) => ({
      type: 'connector',
      connectionReference,
      operation: 'ExecuteQuery',
    })),
  });
  const flowId = (await services.flows.create(olivia!, { name: 'Lent', definitionJson })).value.id;
  await services.permissions.share(olivia!, flowId, 'bob', 'coOwner');
  await services.permissions.share(olivia!, flowId, 'dave', 'coOwner');
  const db = (
    await services.connections.create(bob!, { connectorId: 'shared_sql', displayName: 'DB', apiKey: 'k' }, 'http://x')
  ).value;
  const at = new Date().toISOString();
  const rows = names.map((logicalName): FlowChange => ({
    kind: 'putReference',
    reference: {
      logicalName,
      connectorId: 'shared_sql',
      ownerId: 'bob',
      connectionId: db.id,
      embedded: true,
      createdAt: at,
      modifiedAt: at,
    },
    over: undefined,
  }));
  await store.commit(tenantId, flowId, rows);
  return { olivia: olivia!, bob: bob!, dave: dave!, flowId };
}

/** A Queued cloud run Olivia asked for (its request is not sent anywhere). */
async function queuedRun(olivia: Caller, flowId: string) {
  const run: Run = {
    tenantId: olivia.tenantId,
    flowId,
    id: runId(flowId, newId()),
    mode: 'cloud',
    status: 'Queued',
    initiatedBy: olivia.principalId,
    connections: {},
    createdAt: new Date().toISOString(),
    machineId: (await services.machines.create(olivia, 'Agent')).id,
  };
  await store.commit(olivia.tenantId, flowId, [{ kind: 'putRun', run, over: undefined }]);
  return { runId: run.id, tenantId: olivia.tenantId, flowId };
}

async function stillEmbedded(olivia: Caller, flowId: string): Promise<string[]> {
  return (await store.listReferences(olivia.tenantId, flowId)).filter((r) => r.embedded).map((r) => r.logicalName);
}

/** Everywhere an embedding is used, nothing of Bob's counts as embedded. */
async function expectNothingLent(olivia: Caller, dave: Caller, flowId: string): Promise<void> {
  const prompt = await services.runs.prompt(dave, flowId);
  expect(prompt).toHaveLength(60);
  for (const entry of prompt) {
    expect(entry).toMatchObject({ embedded: false, candidates: [], defaultConnectionId: null });
  }
  const refused = await services.runs.startAttended(dave, flowId, {}).catch((e: unknown) => e);
  expect(refused).toMatchObject({ code: 'ConnectionRequired' });
  expect((refused as { extensions: { missing: unknown[] } }).extensions.missing).toHaveLength(60);

  const readiness = await services.runs.readiness(olivia, flowId);
  expect(readiness.ready).toBe(false);
  expect(readiness.errors.map((e) => [e.code, e.logicalName])).toEqual(
    names.map((name) => ['ConnectionReferenceNotEmbedded', name]),
  );

  const request = await queuedRun(olivia, flowId);
  expect(await services.cloudRuns.process(request)).toBe('rejected');
  const run = await services.runs.get(olivia, request.runId);
  expect(run.errors?.map((e) => e.code)).toEqual(names.map(() => 'ConnectionReferenceNotEmbedded'));

  const views = await services.references.list(olivia, flowId);
  expect(views.filter((v) => v.embedded)).toEqual([]);
}

describe('a co-owner removed with more embedded references than one transaction holds', () => {
  it('lends the flow none of them, even when the rest were not unembedded and they are shared again', async () => {
    const { olivia, dave, flowId } = await flowLentByBob();
    await stopAfterRoleChange(() => stopped().unshare(olivia, flowId, 'bob'));
    // The role change unembedded what fit beside it; the process stopped before the rest.
    expect(await stillEmbedded(olivia, flowId)).toEqual(names.slice(48));

    await expectNothingLent(olivia, dave, flowId);
    // Shared again, Bob does not lend them again by that.
    await services.permissions.share(olivia, flowId, 'bob', 'coOwner');
    await expectNothingLent(olivia, dave, flowId);

    // The sweep finishes it, audited as the role change would have.
    expect(await services.unembeddings.sweep()).toMatchObject({ unembedded: 12, failed: [] });
    expect(await stillEmbedded(olivia, flowId)).toEqual([]);
    expect(await pendingRows(olivia, flowId)).toEqual([]);
    expect(await unembeddedInAudit(olivia, flowId)).toEqual(names.map((name) => [name, 'olivia', 'ownerRemoved']));
    await expectNothingLent(olivia, dave, flowId);

    // Again: nothing more to do. The flow's note goes once it is old enough.
    expect(await noted(flowId)).toBe(true);
    expect(await services.unembeddings.sweep()).toMatchObject({ unembedded: 0, failed: [] });
    expect(await noted(flowId)).toBe(true);
    expect(await later().sweep()).toMatchObject({ failed: [] });
    expect(await noted(flowId)).toBe(false);
    expect(await unembeddedInAudit(olivia, flowId)).toHaveLength(60);
  });

  it('lends one again that its owner, a co-owner again, embeds again, and the sweep leaves that one', async () => {
    const { olivia, bob, dave, flowId } = await flowLentByBob();
    await stopAfterRoleChange(() => stopped().share(olivia, flowId, 'bob', 'user'));
    await services.permissions.share(olivia, flowId, 'bob', 'coOwner');
    await services.references.setEmbedded(bob, flowId, 'r55', true);

    const prompt = await services.runs.prompt(dave, flowId);
    expect(prompt.filter((entry) => entry.embedded).map((entry) => entry.logicalName)).toEqual(['r55']);
    expect(await services.unembeddings.sweep()).toMatchObject({ unembedded: 11, failed: [] });
    expect(await stillEmbedded(olivia, flowId)).toEqual(['r55']);
    expect((await unembeddedInAudit(olivia, flowId)).map(([name]) => name)).toEqual(
      names.filter((name) => name !== 'r55'),
    );
  });

  it('unembeds each reference once when two sweeps run at once', async () => {
    const { olivia, flowId } = await flowLentByBob();
    await stopAfterRoleChange(() => stopped().unshare(olivia, flowId, 'bob'));
    // Both read the flow before either writes: the ETags decide who unembeds what.
    let arrived = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => (bothRead = resolve));
    class ReadTogether extends FlowStore {
      override async read(...args: Parameters<FlowStore['read']>) {
        const snapshot = await super.read(...args);
        if (++arrived === 2) bothRead();
        await barrier;
        return snapshot;
      }
    }
    const sweeper = () => new Unembeddings(new ReadTogether(storage), work);
    const [a, b] = await Promise.all([
      sweeper().finish(olivia.tenantId, flowId),
      sweeper().finish(olivia.tenantId, flowId),
    ]);
    expect(a + b).toBe(12);
    expect(await stillEmbedded(olivia, flowId)).toEqual([]);
    expect(await pendingRows(olivia, flowId)).toEqual([]);
    expect((await unembeddedInAudit(olivia, flowId)).map(([name]) => name)).toEqual(names);
  });

  it('is swept by a timer the local host runs', () => {
    expect(stack().functions).toContain('pendingWorkSweep');
  });

  it('unembeds them all at once when nothing stops it', async () => {
    const { olivia, dave, flowId } = await flowLentByBob();
    await services.permissions.unshare(olivia, flowId, 'bob');
    expect(await stillEmbedded(olivia, flowId)).toEqual([]);
    expect(await pendingRows(olivia, flowId)).toEqual([]);
    expect(await unembeddedInAudit(olivia, flowId)).toHaveLength(60);
    await expectNothingLent(olivia, dave, flowId);
  });
});

/** A sharing service whose process stops right after its first commit. */
function stopped(): PermissionService {
  const store = new StopsAfterFirstCommit(storage);
  return new PermissionService(store, new PrincipalIndex(storage), new Unembeddings(store, work));
}

/** Runs a role change whose process stops after it commits (the caller may or may not hear back). */
async function stopAfterRoleChange(change: () => Promise<unknown>): Promise<void> {
  await change().catch(() => undefined);
}

/** The sweep, as it runs well after the notes it finds were written. */
function later(): Unembeddings {
  return new Unembeddings(store, work, () => new Date(Date.now() + NOTE_GRACE_MS + 60_000));
}

async function pendingRows(olivia: Caller, flowId: string) {
  return (await store.read(olivia.tenantId, flowId, [], { allReferences: true })).pendingUnembeddings;
}

async function noted(flowId: string): Promise<boolean> {
  return (await work.list()).some((n) => n.flowId === flowId);
}

/** Each reference's unembedding in the audit trail: which, by whom, why; in name order. */
async function unembeddedInAudit(olivia: Caller, flowId: string): Promise<Array<[string, string, unknown]>> {
  const { items } = await services.flows.audit(olivia, flowId, { top: 100 });
  return items
    .filter((e) => e.action === 'unembedded')
    .map((e): [string, string, unknown] => [e.subjectId!, e.actorId, e.details?.reason])
    .sort(([a], [b]) => a.localeCompare(b));
}
