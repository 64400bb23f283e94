// Reading a flow's partition: the flow row with the permissions, references
// and run asked for, in one query.
import { odata } from '@azure/data-tables';
import type { Storage } from './clients';
import {
  SUMMARY_COLUMNS,
  toStoredFlow,
  toStoredPermission,
  toStoredReference,
  type FlowRow,
  type PermissionRow,
  type ReferenceRow,
  type StoredFlow,
  type StoredPermission,
  type StoredReference,
} from './flowRows';
import { RUN_SUMMARY_COLUMNS, toStoredRun, type RunRow, type StoredRun } from './runRows';
import {
  FLOW_ROW_KEY,
  flowPartitionKey,
  PENDING_UNEMBED_RANGE,
  permissionRowKey,
  REFERENCE_RANGE,
  referenceRowKey,
  RUN_RANGE,
  runRowKey,
} from './keys';
import {
  toStoredPendingUnembedding,
  type PendingUnembeddingRow,
  type StoredPendingUnembedding,
} from './pendingUnembeddings';

/** The flow row and the permissions and references asked for, as read in one query. */
export interface FlowSnapshot {
  flow: StoredFlow | undefined;
  permissions: Map<string, StoredPermission>;
  references: Map<string, StoredReference>;
  /**
   * Removed permissions and references among those asked for: their rows stay
   * as tombstones (a transaction can delete only unconditionally, so removal
   * is a conditional replace), and a put over one must pass its ETag.
   */
  removedPermissions: Map<string, string>;
  removedReferences: Map<string, string>;
  /**
   * Whenever references are read: what role changes left to unembed, which
   * decides whether a reference is lent now (asLent in lib/domain/references.ts).
   */
  pendingUnembeddings: StoredPendingUnembedding[];
  /** The run asked for (`run`), if it exists. */
  run?: StoredRun;
}

/** What to read beside the flow row and the permissions asked for. */
export interface SnapshotOptions {
  /** Leave an inline definition out, for lists. */
  summary?: boolean;
  references?: readonly string[];
  allReferences?: boolean;
  /**
   * One run, by the run's own part of its id (its uuid), read in the same
   * query. With `summary`, without its inputs (RUN_SUMMARY_COLUMNS).
   */
  run?: string;
}

/** The row a put replaces: a live one, a tombstone, or none. */
export type RowVersion = { etag: string } | undefined;

export function permissionSlot(snapshot: FlowSnapshot, principalId: string): RowVersion {
  const live = snapshot.permissions.get(principalId);
  const removed = snapshot.removedPermissions.get(principalId);
  return live ?? (removed ? { etag: removed } : undefined);
}

export function referenceSlot(snapshot: FlowSnapshot, logicalName: string): RowVersion {
  const live = snapshot.references.get(logicalName);
  const removed = snapshot.removedReferences.get(logicalName);
  return live ?? (removed ? { etag: removed } : undefined);
}

// The same on every read: written once.
const ALL_REFERENCES = `(${odata`RowKey ge ${REFERENCE_RANGE.from} and RowKey lt ${REFERENCE_RANGE.to}`})`;
const ALL_PENDING_UNEMBEDDINGS = `(${odata`RowKey ge ${PENDING_UNEMBED_RANGE.from} and RowKey lt ${PENDING_UNEMBED_RANGE.to}`})`;

/**
 * Reads the flow row, the permission rows of `principalIds` and the
 * reference rows of `references` (or all of them) in one query, with the
 * pending unembeddings whenever references are read.
 */
export async function readSnapshot(
  storage: Storage,
  tenantId: string,
  flowId: string,
  principalIds: readonly string[],
  options: SnapshotOptions,
): Promise<FlowSnapshot> {
  await storage.ensureReady();
  const partitionKey = flowPartitionKey(tenantId, flowId);
  const rowKeys = [
    FLOW_ROW_KEY,
    ...new Set(principalIds.map(permissionRowKey)),
    ...new Set((options.references ?? []).map(referenceRowKey)),
    ...(options.run !== undefined ? [runRowKey(options.run)] : []),
  ];
  const rowFilters = rowKeys.map((rowKey) => odata`RowKey eq ${rowKey}`);
  // Every reference too, in the same query: one round trip for a flow and all it binds.
  if (options.allReferences) rowFilters.push(ALL_REFERENCES);
  // Whoever reads a reference learns whether it is still lent, in the same query.
  if (options.allReferences || (options.references ?? []).length > 0) rowFilters.push(ALL_PENDING_UNEMBEDDINGS);
  const filter = `${odata`PartitionKey eq ${partitionKey}`} and (${rowFilters.join(' or ')})`;
  const select = options.run !== undefined ? [...SUMMARY_COLUMNS, ...RUN_SUMMARY_COLUMNS] : SUMMARY_COLUMNS;
  const rows = storage.flows.listEntities<FlowRow & PermissionRow & ReferenceRow & PendingUnembeddingRow & RunRow>({
    queryOptions: { filter, ...(options.summary ? { select: [...new Set(select)] } : {}) },
  });
  const snapshot = emptySnapshot();
  for await (const row of rows) {
    if (row.rowKey === FLOW_ROW_KEY) snapshot.flow = toStoredFlow(row);
    else if (row.rowKey?.startsWith(RUN_RANGE.from)) snapshot.run = toStoredRun(row, tenantId, flowId);
    else if (row.rowKey?.startsWith(PENDING_UNEMBED_RANGE.from)) {
      snapshot.pendingUnembeddings.push(toStoredPendingUnembedding(row));
    } else if (row.rowKey?.startsWith(REFERENCE_RANGE.from)) {
      if (row.removed) snapshot.removedReferences.set(row.logicalName, row.etag);
      else snapshot.references.set(row.logicalName, toStoredReference(row));
    } else {
      const permission = toStoredPermission(row);
      if (permission) snapshot.permissions.set(permission.principalId, permission);
      else if (row.principalId) snapshot.removedPermissions.set(row.principalId, row.etag);
    }
  }
  // A flow row naming another tenant or flow than its key was asked for: two
  // ids came to share the key, and nothing in the partition is this flow's.
  const { flow } = snapshot;
  if (flow && (flow.tenantId !== tenantId || flow.id !== flowId)) return emptySnapshot();
  return snapshot;
}

function emptySnapshot(): FlowSnapshot {
  return {
    flow: undefined,
    permissions: new Map(),
    references: new Map(),
    removedPermissions: new Map(),
    removedReferences: new Map(),
    pendingUnembeddings: [],
  };
}
