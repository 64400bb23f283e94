// Flows with work left after a change committed: references a role change
// could not unembed in its own transaction. A flow is noted here before that
// change commits, so a process that stops right after the commit always
// leaves the sweep (functions/sweep.ts) something to find, without it
// scanning every flow. A note with nothing behind it is only forgotten.
import { odata, type TableEntity } from '@azure/data-tables';
import type { Storage } from './clients';
import { storageStatusOf } from './errors';
import { flowPartitionKey } from './keys';

type PendingWorkRow = {
  tenantId: string;
  flowId: string;
  notedAt: string;
};

/**
 * One partition per kind of work: references a role change left to unembed,
 * and runs that may be left behind (a run's flow is noted before the run is
 * recorded, and the run-repair sweep looks at its runs still Queued).
 */
export type PendingWorkKind = 'unembed' | 'runs';

export interface NotedFlow {
  tenantId: string;
  flowId: string;
  notedAt: string;
  etag: string;
}

export class PendingWork {
  constructor(
    private readonly storage: Storage,
    private readonly kind: PendingWorkKind,
  ) {}

  /** Notes (again) that the flow may have work of this kind. */
  async note(tenantId: string, flowId: string, at: string): Promise<void> {
    await this.storage.ensureReady();
    const row: TableEntity<PendingWorkRow> = {
      partitionKey: this.kind,
      rowKey: flowPartitionKey(tenantId, flowId),
      tenantId,
      flowId,
      notedAt: at,
    };
    await this.storage.pendingWork.upsertEntity(row, 'Replace');
  }

  /** Every noted flow. */
  async list(): Promise<NotedFlow[]> {
    await this.storage.ensureReady();
    const rows = this.storage.pendingWork.listEntities<PendingWorkRow>({
      queryOptions: { filter: odata`PartitionKey eq ${this.kind}` },
    });
    const noted: NotedFlow[] = [];
    for await (const row of rows) {
      noted.push({ tenantId: row.tenantId, flowId: row.flowId, notedAt: row.notedAt, etag: row.etag });
    }
    return noted;
  }

  /** Forgets a note unless it was written again since it was listed. */
  async forget(noted: NotedFlow): Promise<void> {
    try {
      await this.storage.pendingWork.deleteEntity(this.kind, flowPartitionKey(noted.tenantId, noted.flowId), {
        etag: noted.etag,
      });
    } catch (error) {
      // Gone already, or noted again meanwhile: then a later sweep looks again.
      if (storageStatusOf(error) !== 404 && storageStatusOf(error) !== 412) throw error;
    }
  }
}
