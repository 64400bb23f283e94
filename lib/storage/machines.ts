// Machines in Table storage: one partition per owner, so "my machines" is one
// query. Beside each machine's row, in the same partition, a row per run
// dispatched to it and not yet leased, keyed to sort oldest first right after
// the machine's own row (lib/storage/keys.ts): a lease checks the machine's
// key and finds its oldest dispatched runs in one query, scanning nothing
// else. A dispatch row only points at a run; the run's row, in its flow's
// partition, is the truth (a lease claims it there, by its ETag).
import { odata, type TableEntity, type TableEntityResult } from '@azure/data-tables';
import type { Machine } from '../domain/machines';
import { parseRunId } from '../domain/runs';
import type { Storage } from './clients';
import { rethrowConflict, storageStatusOf } from './errors';
import { dispatchRange, dispatchRowKey, MACHINE_RANGE, machineRowKey, principalPartitionKey } from './keys';
import { queryPage, type Page, type PageRequest } from './pages';

type MachineRow = {
  kind: 'machine';
  tenantId: string;
  ownerId: string;
  machineId: string;
  name: string;
  createdAt: string;
  /** SHA-256 of the key's secret (lib/auth/machineKeys.ts); never the key. */
  keyHash: string;
  keyIssuedAt: string;
};

type DispatchRow = {
  kind: 'dispatch';
  tenantId: string;
  ownerId: string;
  machineId: string;
  flowId: string;
  runId: string;
  dispatchedAt: string;
};

export interface StoredMachine extends Machine {
  keyHash: string;
  etag: string;
}

/** A run dispatched to a machine and not yet leased (as far as this row knows). */
export interface Dispatch {
  tenantId: string;
  ownerId: string;
  machineId: string;
  flowId: string;
  runId: string;
  etag: string;
}

/** The run a dispatch row is made for: a cloud run for the machine of its initiator. */
export interface DispatchedRun {
  tenantId: string;
  flowId: string;
  id: string;
  initiatedBy: string;
  machineId: string;
}

function toMachine(row: TableEntityResult<MachineRow>): StoredMachine {
  return {
    tenantId: row.tenantId,
    ownerId: row.ownerId,
    id: row.machineId,
    name: row.name,
    createdAt: row.createdAt,
    keyHash: row.keyHash,
    etag: row.etag,
  };
}

/** A row is the machine's asked for by what it says, not only by its key (ids that came to share a key do not share rows). */
function isMachineRow(row: Partial<MachineRow>, tenantId: string, ownerId: string, machineId?: string): boolean {
  return (
    row.kind === 'machine' &&
    row.tenantId === tenantId &&
    row.ownerId === ownerId &&
    (machineId === undefined || row.machineId === machineId)
  );
}

export class MachineStore {
  constructor(private readonly storage: Storage) {}

  async create(machine: Machine, keyHash: string): Promise<StoredMachine> {
    await this.storage.ensureReady();
    const row: TableEntity<MachineRow> = {
      partitionKey: principalPartitionKey(machine.tenantId, machine.ownerId),
      rowKey: machineRowKey(machine.id),
      kind: 'machine',
      tenantId: machine.tenantId,
      ownerId: machine.ownerId,
      machineId: machine.id,
      name: machine.name,
      createdAt: machine.createdAt,
      keyHash,
      keyIssuedAt: machine.createdAt,
    };
    const { etag } = await this.storage.machines.createEntity(row);
    return { ...machine, keyHash, etag: etag ?? '' };
  }

  /** The owner's machine, or undefined: someone else's is never found. */
  async get(tenantId: string, ownerId: string, machineId: string): Promise<StoredMachine | undefined> {
    await this.storage.ensureReady();
    try {
      const row = await this.storage.machines.getEntity<MachineRow>(
        principalPartitionKey(tenantId, ownerId),
        machineRowKey(machineId),
      );
      return isMachineRow(row, tenantId, ownerId, machineId) ? toMachine(row) : undefined;
    } catch (error) {
      if (storageStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** One page of the owner's machines, oldest first (ids are UUIDv7). */
  async list(tenantId: string, ownerId: string, request: PageRequest): Promise<Page<StoredMachine>> {
    await this.storage.ensureReady();
    const partitionKey = principalPartitionKey(tenantId, ownerId);
    const filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${MACHINE_RANGE.from} and RowKey lt ${MACHINE_RANGE.to} and kind eq ${'machine'}`;
    const page = await queryPage<MachineRow>(this.storage.machines, filter, request);
    return {
      items: page.items.filter((row) => isMachineRow(row, tenantId, ownerId)).map(toMachine),
      continuationToken: page.continuationToken,
    };
  }

  /** Replaces the machine's key hash if the row is as read: ConcurrencyConflict otherwise. */
  async replaceKey(machine: StoredMachine, keyHash: string, at: string): Promise<StoredMachine> {
    try {
      const { etag } = await this.storage.machines.updateEntity(
        {
          partitionKey: principalPartitionKey(machine.tenantId, machine.ownerId),
          rowKey: machineRowKey(machine.id),
          keyHash,
          keyIssuedAt: at,
        },
        'Merge',
        { etag: machine.etag },
      );
      return { ...machine, keyHash, etag: etag ?? '' };
    } catch (error) {
      rethrowConflict(error);
    }
  }

  /** Deletes the machine's row; gone already is fine. */
  async delete(machine: StoredMachine): Promise<void> {
    try {
      await this.storage.machines.deleteEntity(
        principalPartitionKey(machine.tenantId, machine.ownerId),
        machineRowKey(machine.id),
      );
    } catch (error) {
      if (storageStatusOf(error) !== 404) throw error;
    }
  }

  /**
   * The machine and up to `max` of its dispatched runs, oldest first, in one
   * query. The machine is undefined when it does not exist.
   */
  async withDispatches(
    tenantId: string,
    ownerId: string,
    machineId: string,
    max: number,
  ): Promise<{ machine: StoredMachine | undefined; dispatches: Dispatch[] }> {
    await this.storage.ensureReady();
    const partitionKey = principalPartitionKey(tenantId, ownerId);
    const { from, to } = dispatchRange(machineId);
    const filter =
      `${odata`PartitionKey eq ${partitionKey}`} and ` +
      `(${odata`RowKey eq ${machineRowKey(machineId)}`} or (${odata`RowKey ge ${from} and RowKey lt ${to}`}))`;
    const page = await queryPage<MachineRow | DispatchRow>(this.storage.machines, filter, { top: max + 1 });
    let machine: StoredMachine | undefined;
    const dispatches: Dispatch[] = [];
    for (const row of page.items) {
      if (row.kind === 'machine') {
        if (isMachineRow(row, tenantId, ownerId, machineId)) machine = toMachine(row as TableEntityResult<MachineRow>);
      } else if (row.kind === 'dispatch' && row.tenantId === tenantId && row.machineId === machineId) {
        const { flowId, runId } = row as TableEntityResult<DispatchRow>;
        dispatches.push({ tenantId, ownerId, machineId, flowId, runId, etag: row.etag });
      }
    }
    return { machine, dispatches };
  }

  /** Points the machine at the run. Idempotent: a row already there is the same dispatch. */
  async dispatch(run: DispatchedRun, at: string): Promise<void> {
    await this.storage.ensureReady();
    const row: TableEntity<DispatchRow> = {
      partitionKey: principalPartitionKey(run.tenantId, run.initiatedBy),
      rowKey: dispatchRowKey(run.machineId, parseRunId(run.id)!.uuid),
      kind: 'dispatch',
      tenantId: run.tenantId,
      ownerId: run.initiatedBy,
      machineId: run.machineId,
      flowId: run.flowId,
      runId: run.id,
      dispatchedAt: at,
    };
    try {
      await this.storage.machines.createEntity(row);
    } catch (error) {
      if (storageStatusOf(error) !== 409) throw error;
    }
  }

  /** Whether the run's dispatch row was written: how a delivery that stopped halfway tells. */
  async holdsDispatch(run: DispatchedRun): Promise<boolean> {
    await this.storage.ensureReady();
    try {
      await this.storage.machines.getEntity(
        principalPartitionKey(run.tenantId, run.initiatedBy),
        dispatchRowKey(run.machineId, parseRunId(run.id)!.uuid),
        { queryOptions: { select: ['RowKey'] } },
      );
      return true;
    } catch (error) {
      if (storageStatusOf(error) === 404) return false;
      throw error;
    }
  }

  /** Removes a dispatch row with nothing left behind it; gone or changed already is fine. */
  async forget(dispatch: Dispatch): Promise<void> {
    try {
      await this.storage.machines.deleteEntity(
        principalPartitionKey(dispatch.tenantId, dispatch.ownerId),
        dispatchRowKey(dispatch.machineId, parseRunId(dispatch.runId)!.uuid),
        { etag: dispatch.etag },
      );
    } catch (error) {
      const status = storageStatusOf(error);
      if (status !== 404 && status !== 412) throw error;
    }
  }
}
