// Storage taken away in the middle of a share, an embed and a run: the caller
// gets 503 StorageUnavailable, and once storage is back the flow is as it was
// before or as it would be after, never half (partition, index, audit). Runs
// against an Azurite of its own, kept on disk so a restart keeps the data.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../lib/domain/caller';
import { problemFor } from '../../lib/http/problem';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';
import { createRunServices, createServices, type Services } from '../../lib/services';
import { PermissionService } from '../../lib/services/permissions';
import { Unembeddings } from '../../lib/services/unembeddings';
import { ReferenceService } from '../../lib/services/references';
import type { CloudRunRequest } from '../../lib/services/cloudRunProcessor';
import { RunQueues } from '../../lib/storage/runQueues';
import { createStorage, type Storage } from '../../lib/storage/clients';
import { ConnectionStore } from '../../lib/storage/connections';
import { FlowStore, type FlowChange } from '../../lib/storage/flows';
import { PendingWork } from '../../lib/storage/pendingWork';
import { MachineStore } from '../../lib/storage/machines';
import { PrincipalIndex } from '../../lib/storage/principalIndex';
import { decodeMessage } from '../../lib/storage/queues';
import { DEFAULT_NAMES } from '../../lib/config';
import { testServiceSettings, unique } from '../support/stack';

const location = mkdtempSync(join(tmpdir(), 'flowshare-faults-'));
let azurite: RunningAzurite;
let storage: Storage;
let services: Services;

beforeAll(async () => {
  azurite = await startAzurite({ location, ports: { blob: 0, queue: 0, table: 0 } });
  storage = createStorage({ kind: 'connectionString', connectionString: azurite.connectionString }, DEFAULT_NAMES);
  services = createServices(storage, testServiceSettings());
  await storage.ensureReady();
}, 60_000);

afterAll(async () => {
  await azurite?.stop();
  rmSync(location, { recursive: true, force: true });
});

/**
 * Stops storage: every request after this is refused, as in an outage. (A
 * graceful stop: Azurite saves its tables lazily, and a SIGKILL would lose
 * rows it had acknowledged, which real storage never does.)
 */
async function takeStorageAway(): Promise<void> {
  await azurite.stop();
}

async function bringStorageBack(): Promise<void> {
  azurite = await startAzurite({ location, ports: azurite.ports });
}

/** A FlowStore that takes storage away just before its next commit. */
class CutBeforeCommit extends FlowStore {
  private armed = true;
  override async commit(tenantId: string, flowId: string, changes: FlowChange[]): Promise<string[]> {
    if (this.armed) {
      this.armed = false;
      await takeStorageAway();
    }
    return super.commit(tenantId, flowId, changes);
  }
}

/** A flow whose definition uses reference `db`, bound to its owner's SQL connection. */
async function flowWithReference(): Promise<{ owner: Caller; flowId: string }> {
  const owner = { tenantId: unique('tenant'), principalId: 'owner' };
  const definitionJson = '{"actions":[{"type":"connector","connectionReference":"db","operation":"ExecuteQuery"}]}';
  const flowId = (await services.flows.create(owner, { name: 'F', definitionJson })).value.id;
  const connection = { connectorId: 'shared_sql', displayName: 'DB', apiKey: 'k' };
  const db = (await services.connections.create(owner, connection, 'http://x')).value;
  await services.references.put(owner, flowId, 'db', { connectorId: 'shared_sql', connectionId: db.id });
  return { owner, flowId };
}

function statusOf(error: unknown): number | undefined {
  return problemFor(error, new InvocationContext({ logHandler: () => undefined })).status;
}

async function auditActions(caller: Caller, flowId: string): Promise<string[]> {
  return (await services.flows.audit(caller, flowId, { top: 100 })).items.map((e) => e.action);
}

/** This storage, but sending to `queue` takes storage away and fails as an outage does. */
function cutOnSend(queue: 'cloudRunRequests'): Storage {
  const sendMessage = async () => {
    await takeStorageAway();
    throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  };
  return { ...storage, [queue]: { sendMessage } } as unknown as Storage;
}

/** Runs whose queues are `over`'s (by default the real storage), with a clock `offsetMs` ahead. */
function runServices(over: Storage = storage, offsetMs = 0, store: FlowStore = new FlowStore(storage)) {
  return createRunServices({
    store,
    connectionStore: new ConnectionStore(storage),
    connections: services.connections,
    machineStore: new MachineStore(storage),
    queues: new RunQueues(over),
    notes: new PendingWork(storage, 'runs'),
    tokens: services.runTokens,
    maxDequeueCount: 5,
    now: () => new Date(Date.now() + offsetMs),
  });
}

describe('when storage goes away mid-operation', () => {
  it('a share answers 503 and, once storage is back, nobody was shared with', async () => {
    const owner = { tenantId: unique('tenant'), principalId: 'owner' };
    const flowId = (await services.flows.create(owner, { name: 'F' })).value.id;
    const cutStore = new CutBeforeCommit(storage);
    const cut = new PermissionService(
      cutStore,
      new PrincipalIndex(storage),
      new Unembeddings(cutStore, new PendingWork(storage, 'unembed')),
    );
    const error = await cut.share(owner, flowId, 'bob', 'coOwner').catch((e: unknown) => e);
    expect(statusOf(error)).toBe(503);
    await bringStorageBack();

    const bob = { tenantId: owner.tenantId, principalId: 'bob' };
    expect((await services.permissions.list(owner, flowId, { top: 10 })).items.map((p) => p.principalId)).toEqual([
      'owner',
    ]);
    expect((await services.flows.list(bob, { top: 10 })).items).toEqual([]); // an index entry, if any, lists nothing
    expect(await auditActions(owner, flowId)).toEqual([]);
    // And sharing again just works.
    expect((await services.permissions.share(owner, flowId, 'bob', 'coOwner')).created).toBe(true);
  }, 60_000);

  it('an embed answers 503 and, once storage is back, the reference is as it was', async () => {
    const { owner, flowId } = await flowWithReference();
    const cut = new ReferenceService(new CutBeforeCommit(storage), new ConnectionStore(storage));
    const error = await cut.setEmbedded(owner, flowId, 'db', true).catch((e: unknown) => e);
    expect(statusOf(error)).toBe(503);
    await bringStorageBack();

    expect((await services.references.list(owner, flowId))[0]).toMatchObject({ embedded: false });
    expect(await auditActions(owner, flowId)).toEqual(['referenceAdded']);
  }, 60_000);

  it('a run answers 503 and, once storage is back, there is no run and no lease', async () => {
    const { owner, flowId } = await flowWithReference();
    const cut = runServices(storage, 0, new CutBeforeCommit(storage)).runs;
    const error = await cut.startAttended(owner, flowId, {}).catch((e: unknown) => e);
    expect(statusOf(error)).toBe(503);
    await bringStorageBack();

    expect((await services.runs.history(owner, flowId, { top: 10 })).items).toEqual([]);
    expect(await auditActions(owner, flowId)).toEqual(['referenceAdded']);
  }, 60_000);

  it('a cloud run whose request storage lost is asked for again by the repair sweep, once', async () => {
    const { owner, flowId } = await flowWithReference();
    const machineId = (await services.machines.create(owner, 'M')).id;
    // Storage goes away as the request is put on the queue: the run stays
    // Queued, since marking it Failed fails too.
    const cut = runServices(cutOnSend('cloudRunRequests')).runs;
    const error = await cut.requestCloudRun(owner, flowId, { machineId }).catch((e: unknown) => e);
    expect(statusOf(error)).toBe(503);
    await bringStorageBack();

    const [queued] = (await services.runs.history(owner, flowId, { top: 10 })).items;
    expect(queued).toMatchObject({ mode: 'cloud', status: 'Queued' });
    const requests = async () =>
      (await storage.cloudRunRequests.peekMessages({ numberOfMessages: 32 })).peekedMessageItems
        .map((m) => decodeMessage(m.messageText) as CloudRunRequest)
        .filter((r) => r.runId === queued!.id);
    // Swept now: it may just be waiting its turn; nothing is sent. Reading it never sends.
    await runServices().runRepairs.sweep();
    expect(await services.runs.get(owner, queued!.id)).toMatchObject({ status: 'Queued' });
    expect(await requests()).toEqual([]);

    // Swept two minutes on, by two sweeps that both read the run before
    // either writes: the conditional write lets one of them send.
    let arrived = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => (bothRead = resolve));
    class ReadTogether extends FlowStore {
      override async activeRuns(...args: Parameters<FlowStore['activeRuns']>) {
        const runs = await super.activeRuns(...args);
        if (runs.some((r) => r.id === queued!.id) && ++arrived === 2) bothRead();
        if (runs.some((r) => r.id === queued!.id)) await barrier;
        return runs;
      }
    }
    const sweeper = () => runServices(storage, 121_000, new ReadTogether(storage)).runRepairs;
    await Promise.all([sweeper().sweep(), sweeper().sweep()]);
    expect(await services.runs.get(owner, queued!.id)).toMatchObject({ status: 'Queued' });
    // And again at once: asked a moment ago, so not again.
    await runServices(storage, 121_000).runRepairs.sweep();
    const [request, ...more] = await requests();
    expect(more).toEqual([]);
    expect(request).toEqual({ runId: queued!.id, tenantId: owner.tenantId, flowId });

    // The processor decides it as any other (its reference is not embedded, so: Rejected).
    expect(await services.cloudRuns.process(request!)).toBe('rejected');
    expect(await services.runs.get(owner, queued!.id)).toMatchObject({
      status: 'Rejected',
      errors: [expect.objectContaining({ code: 'ConnectionReferenceNotEmbedded', logicalName: 'db' })],
    });
  }, 60_000);

  it('a cloud run nobody processed within its window is Failed by the sweep, and not asked for again', async () => {
    const { owner, flowId } = await flowWithReference();
    const machineId = (await services.machines.create(owner, 'M')).id;
    const cut = runServices(cutOnSend('cloudRunRequests')).runs;
    await cut.requestCloudRun(owner, flowId, { machineId }).catch(() => undefined);
    await bringStorageBack();
    const [queued] = (await services.runs.history(owner, flowId, { top: 10 })).items;

    await runServices(storage, 16 * 60_000).runRepairs.sweep();
    expect(await services.runs.get(owner, queued!.id)).toMatchObject({
      status: 'Failed',
      errors: [expect.objectContaining({ code: 'ProcessingFailed' })],
    });
    const { peekedMessageItems } = await storage.cloudRunRequests.peekMessages({ numberOfMessages: 32 });
    expect(peekedMessageItems.map((m) => (decodeMessage(m.messageText) as CloudRunRequest).runId)).not.toContain(
      queued!.id,
    );
  }, 60_000);
});
