// A change to one flow, said in the domain's words and committed at once: one
// entity-group transaction, all of it or none. Each write names the version
// of the row it replaces (read with the snapshot), and each "still" guard
// fails the commit if its row changed since it was read, so a decision made
// on what was read holds when it lands, or is made again (ConcurrencyConflict).
import type { AuditEntry, Permission } from '../domain/flows';
import type { ConnectionReference, PendingUnembedding } from '../domain/references';
import type { Run } from '../domain/runs';
import type { StoredPermission, StoredReference } from './flowRows';
import type { RowVersion } from './flowSnapshot';
import { MAX_CHANGES_PER_COMMIT, type FlowChange } from './flowTransaction';

/** A row the change writes; its new version is known once the change commits. */
export interface Written {
  /** The row's new storage ETag. */
  readonly version: string;
}

class WrittenRow implements Written {
  etag: string | undefined;
  get version(): string {
    if (this.etag === undefined) throw new Error('a written row has a version only once its change commits');
    return this.etag;
  }
}

export class UnitOfWork {
  private readonly changes: FlowChange[] = [];
  private readonly written = new Map<number, WrittenRow>();
  private committed = false;

  constructor(private readonly apply: (changes: FlowChange[]) => Promise<string[]>) {}

  /** How many more changes fit in this one (a transaction holds 100). */
  get room(): number {
    return MAX_CHANGES_PER_COMMIT - this.changes.length;
  }

  /** Grants a role, or changes it, over the person's row as read (live, removed, or none). */
  grant(permission: Permission, over: RowVersion): Written {
    return this.write({ kind: 'putPermission', permission, over });
  }

  /** Removes a permission as read; its row stays as a tombstone. */
  revoke(permission: StoredPermission): void {
    this.add({ kind: 'removePermission', current: permission });
  }

  /** The person still holds this permission, exactly as read, when the change lands. */
  stillHolds(permission: StoredPermission): void {
    this.add({ kind: 'checkPermission', current: permission });
  }

  /** Adds, rebinds, embeds or unembeds a reference, over its row as read (live, removed, or none). */
  bind(reference: ConnectionReference, over: RowVersion): Written {
    return this.write({ kind: 'putReference', reference, over });
  }

  /** Removes a reference as read; its row stays as a tombstone. */
  unbind(reference: StoredReference): void {
    this.add({ kind: 'removeReference', current: reference });
  }

  /** The reference is still exactly as read when the change lands. */
  stillBound(reference: StoredReference): void {
    this.add({ kind: 'checkReference', current: reference });
  }

  /** Names references a role change left to unembed (a new row, or one read, rewritten). */
  leaveToUnembed(pending: PendingUnembedding, over?: RowVersion): Written {
    return this.write({ kind: 'putPendingUnembedding', pending, over });
  }

  /** Records a new run, or a run's new state over the run as read. */
  recordRun(run: Run, over: RowVersion): Written {
    return this.write({ kind: 'putRun', run, over });
  }

  audit(entry: AuditEntry): void {
    this.add({ kind: 'audit', entry });
  }

  /** Applies every change above, in order, as one transaction. */
  async commit(): Promise<void> {
    if (this.committed) throw new Error('a change commits once');
    this.committed = true;
    const etags = await this.apply(this.changes);
    for (const [i, row] of this.written) row.etag = etags[i];
  }

  private write(change: FlowChange): Written {
    const row = new WrittenRow();
    this.written.set(this.changes.length, row);
    this.add(change);
    return row;
  }

  private add(change: FlowChange): void {
    if (this.committed) throw new Error('a change that committed takes no more');
    this.changes.push(change);
  }
}
