// The cloud-run processor against real storage, with faults and interleavings
// made to happen: a status write lost after the dispatch was made, and a
// late rejection racing a claim; and the machine a run is for.
import { describe, expect, it } from 'vitest';
import { createRunServices, createServices } from '../../lib/services';
import { PendingWork } from '../../lib/storage/pendingWork';
import { RunQueues } from '../../lib/storage/runQueues';
import type { CloudRunProcessor, CloudRunRequest } from '../../lib/services/cloudRunProcessor';
import { ConnectionStore } from '../../lib/storage/connections';
import { FlowStore, INLINE_DEFINITION_LIMIT, type FlowChange, type StoredFlow } from '../../lib/storage/flows';
import { MachineStore } from '../../lib/storage/machines';
import { newId } from '../../lib/services/ids';
import { runId, type Run } from '../../lib/domain/runs';
import { InterruptedStore } from '../support/interrupted';
import { testServiceSettings, testStorage, unique } from '../support/stack';

const storage = testStorage();
const services = createServices(storage, testServiceSettings());
const connectionStore = new ConnectionStore(storage);
const machines = new MachineStore(storage);

/** A FlowStore whose next write of a run to `status` fails as if storage dropped the connection. */
class FaultyStore extends FlowStore {
  constructor(private failOn: Run['status'] | undefined) {
    super(storage);
  }
  override async commit(tenantId: string, flowId: string, changes: FlowChange[]): Promise<string[]> {
    if (changes.some((c) => c.kind === 'putRun' && c.run.status === this.failOn)) {
      this.failOn = undefined;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    return super.commit(tenantId, flowId, changes);
  }
}

function processor(store: FlowStore): CloudRunProcessor {
  return createRunServices({
    store,
    connectionStore,
    connections: services.connections,
    machineStore: machines,
    queues: new RunQueues(storage),
    notes: new PendingWork(storage, 'runs'),
    tokens: services.runTokens,
    maxDequeueCount: 5,
  }).cloudRuns;
}

/**
 * A flow with one embedded reference, and a Queued cloud run of it for a
 * machine of its initiator's (no request sent anywhere).
 */
async function queuedRun(
  schemaVersion: 1 | 2 = 2,
  definitionJson = '{"actions":[{"type":"connector","connectionReference":"db","operation":"ExecuteQuery"}]}',
  initiatedBy = 'olivia',
  machine: 'exists' | 'deleted' = 'exists',
): Promise<{ request: CloudRunRequest; uuid: string; machineId: string; initiatedBy: string }> {
  const caller = { tenantId: unique('tenant'), principalId: 'olivia' };
  const flow = (await services.flows.create(caller, { name: 'Nightly', schemaVersion, definitionJson })).value;
  if (initiatedBy !== 'olivia') await services.permissions.share(caller, flow.id, initiatedBy, 'coOwner');
  const connection = (
    await services.connections.create(caller, { connectorId: 'shared_sql', displayName: 'DB', apiKey: 'k' }, 'http://x')
  ).value;
  await services.references.put(caller, flow.id, 'db', { connectorId: 'shared_sql', connectionId: connection.id });
  await services.references.setEmbedded(caller, flow.id, 'db', true);
  const initiator = { tenantId: caller.tenantId, principalId: initiatedBy };
  const machineId = (await services.machines.create(initiator, 'Agent')).id;
  if (machine === 'deleted') await services.machines.delete(initiator, machineId);
  const uuid = newId();
  const run: Run = {
    tenantId: caller.tenantId,
    flowId: flow.id,
    id: runId(flow.id, uuid),
    mode: 'cloud',
    status: 'Queued',
    initiatedBy,
    connections: {},
    createdAt: new Date().toISOString(),
    machineId,
  };
  await new FlowStore(storage).commit(caller.tenantId, flow.id, [{ kind: 'putRun', run, over: undefined }]);
  const result = {
    request: { runId: run.id, tenantId: caller.tenantId, flowId: flow.id },
    uuid,
    machineId,
    initiatedBy,
  };
  made.push(result);
  return result;
}

/** How many dispatch rows point at the run (0 or 1: a row is keyed by its run). */
async function dispatchesFor(id: string): Promise<number> {
  for (const { request, machineId, initiatedBy } of made) {
    if (request.runId !== id) continue;
    const dispatched = { tenantId: request.tenantId, flowId: request.flowId, id, initiatedBy, machineId };
    return (await machines.holdsDispatch(dispatched)) ? 1 : 0;
  }
  throw new Error(`no run ${id} was made here`);
}
const made: Array<Awaited<ReturnType<typeof queuedRun>>> = [];

async function statusOf(request: CloudRunRequest, uuid: string): Promise<string | undefined> {
  return (await new FlowStore(storage).getRun(request.tenantId, request.flowId, uuid))?.status;
}

describe('the cloud-run processor', () => {
  it('finishes a run whose Dispatched write was lost after the dispatch went out, without a second dispatch', async () => {
    const { request, uuid } = await queuedRun();
    await expect(processor(new FaultyStore('Dispatched')).process(request)).rejects.toThrow(/socket/);
    expect(await statusOf(request, uuid)).toBe('Dispatching');
    expect(await dispatchesFor(request.runId)).toBe(1);

    // The next delivery comes at once (well within the claim's lease) and sees the dispatch on the queue.
    expect(await processor(new FlowStore(storage)).process(request)).toBe('dispatched');
    expect(await statusOf(request, uuid)).toBe('Dispatched');
    expect(await dispatchesFor(request.runId)).toBe(1);
  });

  it('never marks Failed a run whose dispatch is out', async () => {
    const { request, uuid } = await queuedRun();
    await expect(processor(new FaultyStore('Dispatched')).process(request)).rejects.toThrow(/socket/);
    await processor(new FlowStore(storage)).failedAttempt(request, 5, 'kept failing');
    expect(await statusOf(request, uuid)).toBe('Dispatched');
  });

  it('marks a run Failed only on the last attempt at its request, saying how often it failed', async () => {
    const { request, uuid } = await queuedRun();
    expect(await processor(new FlowStore(storage)).failedAttempt(request, 4, 'kept failing')).toBe(false);
    expect(await statusOf(request, uuid)).toBe('Queued');
    expect(await processor(new FlowStore(storage)).failedAttempt(request, 5, 'kept failing')).toBe(true);
    const run = await new FlowStore(storage).getRun(request.tenantId, request.flowId, uuid);
    expect(run).toMatchObject({
      status: 'Failed',
      errors: [{ code: 'ProcessingFailed', detail: expect.stringContaining('failed 5 times (kept failing)') }],
    });
  });

  it('does not let a late rejection overwrite a run another delivery has claimed', async () => {
    const { request, uuid } = await queuedRun(1);
    // Delivery B reads the v1 flow and decides to reject; before it writes, the flow is
    // upgraded and delivery A claims the run and sends its dispatch (its record write is lost).
    const b = processor(
      new InterruptedStore(storage, async () => {
        await services.flows.upgradeSchema({ tenantId: request.tenantId, principalId: 'olivia' }, request.flowId);
        await processor(new FaultyStore('Dispatched'))
          .process(request)
          .catch(() => undefined);
      }),
    );
    await b.process(request);
    expect(await statusOf(request, uuid)).toBe('Dispatching');
    expect(await processor(new FlowStore(storage)).process(request)).toBe('dispatched');
    expect(await statusOf(request, uuid)).toBe('Dispatched');
    expect(await dispatchesFor(request.runId)).toBe(1);
  });

  it('handles requests out of order and again: each run once, each dispatched once', async () => {
    const first = await queuedRun();
    const second = await queuedRun();
    const p = processor(new FlowStore(storage));
    expect(await p.process(second.request)).toBe('dispatched');
    expect(await p.process(first.request)).toBe('dispatched');
    expect(await p.process(second.request)).toBe('alreadyDispatched');
    expect(await p.process(first.request)).toBe('alreadyDispatched');
    for (const { request, uuid } of [first, second]) {
      expect(await statusOf(request, uuid)).toBe('Dispatched');
      expect(await dispatchesFor(request.runId)).toBe(1);
    }
  });

  it('reads the flow again when its definition is replaced while the processor reads it', async () => {
    const definition = (filler: string) =>
      JSON.stringify({
        actions: [
          { type: 'connector', connectionReference: 'db', operation: 'ExecuteQuery' },
          { type: 'note', text: filler.repeat(INLINE_DEFINITION_LIMIT) },
        ],
      });
    const { request } = await queuedRun(2, definition('x'));
    const olivia = { tenantId: request.tenantId, principalId: 'olivia' };
    // The old blob is gone by the time the processor fetches it.
    let replaced = false;
    class ReplacedWhileRead extends FlowStore {
      override async definitionOf(flow: StoredFlow): Promise<string> {
        if (!replaced) {
          replaced = true;
          await services.flows.update(olivia, request.flowId, { definitionJson: definition('y') });
        }
        return super.definitionOf(flow);
      }
    }
    expect(await processor(new ReplacedWhileRead(storage)).process(request)).toBe('dispatched');
    expect(replaced).toBe(true);
  });

  it.each([
    ['removed from the flow', undefined],
    ['now only a user', 'user'],
  ] as const)('rejects a run whose co-owner who asked for it is %s, the flow otherwise ready', async (_why, role) => {
    const { request, uuid } = await queuedRun(2, undefined, 'carol');
    const olivia = { tenantId: request.tenantId, principalId: 'olivia' };
    if (role) await services.permissions.share(olivia, request.flowId, 'carol', role);
    else await services.permissions.unshare(olivia, request.flowId, 'carol');

    expect(await processor(new FlowStore(storage)).process(request)).toBe('rejected');
    const run = await new FlowStore(storage).getRun(request.tenantId, request.flowId, uuid);
    expect(run).toMatchObject({ status: 'Rejected', connections: {} });
    expect(run!.errors).toEqual([{ code: 'InitiatorNotAuthorized', detail: expect.stringMatching(/co-owner/) }]);
    expect(await dispatchesFor(request.runId)).toBe(0);
  });

  it('dispatches a run a co-owner asked for while they still are one', async () => {
    const { request, uuid } = await queuedRun(2, undefined, 'carol');
    expect(await processor(new FlowStore(storage)).process(request)).toBe('dispatched');
    expect(await statusOf(request, uuid)).toBe('Dispatched');
  });

  it('rejects a run whose machine was deleted since it was asked for, with that reason alone', async () => {
    const { request, uuid } = await queuedRun(2, undefined, 'olivia', 'deleted');
    expect(await processor(new FlowStore(storage)).process(request)).toBe('rejected');
    const run = await new FlowStore(storage).getRun(request.tenantId, request.flowId, uuid);
    expect(run!.errors).toEqual([{ code: 'MachineNotFound', detail: expect.stringMatching(/machine/) }]);
    expect(await dispatchesFor(request.runId)).toBe(0);
  });

  it('dispatches to the machine the run was asked for, and no other', async () => {
    const { request, machineId } = await queuedRun();
    const olivia = { tenantId: request.tenantId, principalId: 'olivia' };
    const other = (await services.machines.create(olivia, 'Other')).id;
    expect(await processor(new FlowStore(storage)).process(request)).toBe('dispatched');
    const to = async (id: string) => (await machines.withDispatches(request.tenantId, 'olivia', id, 10)).dispatches;
    expect((await to(machineId)).map((d) => d.runId)).toEqual([request.runId]);
    expect(await to(other)).toEqual([]);
  });
});
