// The entity-group transaction a change to a flow's partition becomes: one
// Table action per change, in order, each over the ETag it was read with.
import type { TransactionAction } from '@azure/data-tables';
import type { AuditEntry, Permission } from '../domain/flows';
import type { ConnectionReference, PendingUnembedding } from '../domain/references';
import type { Run } from '../domain/runs';
import {
  auditRow,
  permissionRowOf,
  referenceRowOf,
  REMOVED_ROLE,
  type PermissionRow,
  type StoredPermission,
  type StoredReference,
} from './flowRows';
import { runRowOf, runUuidOf } from './runRows';
import type { RowVersion } from './flowSnapshot';
import { pendingUnembedRowKey, permissionRowKey, referenceRowKey, runRowKey } from './keys';
import { pendingUnembeddingRowOf } from './pendingUnembeddings';

/**
 * One change to a flow's partition; `commit` applies several as one
 * transaction. Every change to an existing row carries the ETag it was read
 * with; a `check` changes nothing but fails the transaction if its row changed.
 */
export type FlowChange =
  | { kind: 'putPermission'; permission: Permission; over: RowVersion }
  | { kind: 'removePermission'; current: StoredPermission }
  | { kind: 'checkPermission'; current: StoredPermission }
  | { kind: 'putReference'; reference: ConnectionReference; over: RowVersion }
  | { kind: 'removeReference'; current: StoredReference }
  | { kind: 'checkReference'; current: StoredReference }
  | { kind: 'putPendingUnembedding'; pending: PendingUnembedding; over: RowVersion }
  | { kind: 'putRun'; run: Run; over: RowVersion }
  | { kind: 'audit'; entry: AuditEntry };

/** An entity-group transaction holds at most 100 operations. */
export const MAX_CHANGES_PER_COMMIT = 100;

/** The transaction's actions, one per change and in the same order. */
export function transactionOf(partitionKey: string, changes: FlowChange[]): TransactionAction[] {
  const at = new Date().toISOString();
  const put = <T extends object>(rowKey: string, row: T, over: RowVersion): TransactionAction =>
    over
      ? ['update', { partitionKey, rowKey, ...row }, 'Replace', { etag: over.etag }]
      : ['create', { partitionKey, rowKey, ...row }];
  const check = (rowKey: string, etag: string): TransactionAction => [
    'update',
    { partitionKey, rowKey },
    'Merge',
    { etag },
  ];
  return changes.map((change): TransactionAction => {
    switch (change.kind) {
      case 'putPermission':
        return put(permissionRowKey(change.permission.principalId), permissionRowOf(change.permission), change.over);
      case 'removePermission': {
        const tombstone: PermissionRow = {
          principalId: change.current.principalId,
          role: REMOVED_ROLE,
          grantedBy: '',
          grantedAt: at,
        };
        return put(permissionRowKey(change.current.principalId), tombstone, change.current);
      }
      case 'checkPermission':
        return check(permissionRowKey(change.current.principalId), change.current.etag);
      case 'putReference':
        return put(referenceRowKey(change.reference.logicalName), referenceRowOf(change.reference), change.over);
      case 'removeReference':
        return put(
          referenceRowKey(change.current.logicalName),
          { logicalName: change.current.logicalName, removed: true },
          change.current,
        );
      case 'checkReference':
        return check(referenceRowKey(change.current.logicalName), change.current.etag);
      case 'putPendingUnembedding':
        return put(
          pendingUnembedRowKey(change.pending.principalId, change.pending.id),
          pendingUnembeddingRowOf(change.pending),
          change.over,
        );
      case 'putRun':
        return put(runRowKey(runUuidOf(change.run)), runRowOf(change.run), change.over);
      case 'audit':
        return ['create', auditRow(partitionKey, change.entry)];
    }
  });
}
