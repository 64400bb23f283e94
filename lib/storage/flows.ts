// The flow aggregate in Table storage: one partition per flow holding the flow
// row, a row per permission and the audit trail, so that a change and its audit
// entry are one entity-group transaction. Definitions too large for a Table
// property live in Blob storage, written before the row that points to them.
import { randomBytes, randomUUID } from 'node:crypto';
import { odata, type TableEntity, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import type { AuditEntry, Flow, Permission, SchemaVersion } from '../domain/flows';
import type { ConnectionReference, PendingUnembedding } from '../domain/references';
import { byName, parseRunId, type Run } from '../domain/runs';
import { isRole } from '../domain/roles';
import { chunked, unchunked } from './chunks';
import type { Storage } from './clients';
import { ConcurrencyConflict, rethrowConflict, storageStatusOf, wasRefused, withDeadline } from './errors';
import {
  AUDIT_RANGE,
  auditRowKey,
  definitionBlobName,
  FLOW_ROW_KEY,
  flowPartitionKey,
  PENDING_UNEMBED_RANGE,
  pendingUnembedRowKey,
  PERMISSION_RANGE,
  permissionRowKey,
  rangeFilter,
  REFERENCE_RANGE,
  referenceRowKey,
  RUN_RANGE,
  runRowKey,
} from './keys';
import { queryPage, type Page, type PageRequest } from './pages';
import {
  PENDING_UNEMBEDDING_COLUMNS,
  pendingUnembeddingRowOf,
  toStoredPendingUnembedding,
  type PendingUnembeddingRow,
  type StoredPendingUnembedding,
} from './pendingUnembeddings';

/**
 * A Table string property holds 64 KiB, that is 32 Ki UTF-16 code units;
 * longer definitions go to Blob storage.
 */
export const INLINE_DEFINITION_LIMIT = 30_000;

// Row shapes are type aliases, not interfaces: the SDK wants them assignable to Record<string, unknown>.
type FlowRow = {
  tenantId: string;
  flowId: string;
  name: string;
  schemaVersion: number;
  ownerId: string;
  createdAt: string;
  modifiedAt: string;
  /** The definition JSON, when it fits in the row. */
  definition?: string;
  /** The blob holding the definition JSON, when it does not. */
  definitionBlob?: string;
};

type PermissionRow = {
  principalId: string;
  /** A role, or REMOVED_ROLE for a tombstone. */
  role: string;
  grantedBy: string;
  grantedAt: string;
};

type ReferenceRow = {
  logicalName: string;
  /** A tombstone: the reference was removed. */
  removed?: boolean;
  connectorId: string;
  referenceOwnerId: string;
  connectionId: string;
  embedded: boolean;
  createdAt: string;
  modifiedAt: string;
};

type RunRow = {
  runId: string;
  mode: string;
  status: string;
  initiatedBy: string;
  /** JSON: logical name to the connection that served it. */
  connections: string;
  /** JSON: why it was rejected or failed. */
  errors?: string;
  createdAt: string;
  completedAt?: string;
  claimedAt?: string;
  requestedAgainAt?: string;
};

type AuditRow = {
  action: string;
  actorId: string;
  at: string;
  subjectId?: string;
  details?: string;
};

export interface StoredFlow extends Flow {
  /** The storage ETag of the flow row. */
  etag: string;
  inlineDefinition?: string;
  definitionBlob?: string;
}

export interface StoredPermission extends Permission {
  etag: string;
}

export interface StoredReference extends ConnectionReference {
  etag: string;
}

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

export interface StoredRun extends Run {
  etag: string;
}

/** An entity-group transaction holds at most 100 operations. */
export const MAX_CHANGES_PER_COMMIT = 100;

export interface FlowChanges {
  name?: string;
  schemaVersion?: SchemaVersion;
  definitionJson?: string;
  modifiedAt: string;
}

/** The role of a removed permission's tombstone; never a real role. */
const REMOVED_ROLE = 'removed';

/** Every column of the partition's rows but the inline definition (once each). */
const SUMMARY_COLUMNS = [
  ...new Set([
    'RowKey',
    'tenantId',
    'flowId',
    'name',
    'schemaVersion',
    'ownerId',
    'createdAt',
    'modifiedAt',
    'definitionBlob',
    'principalId',
    'role',
    'grantedBy',
    'grantedAt',
    'logicalName',
    'connectorId',
    'referenceOwnerId',
    'connectionId',
    'embedded',
    'removed',
    ...PENDING_UNEMBEDDING_COLUMNS,
  ]),
];

export class FlowStore {
  constructor(private readonly storage: Storage) {}

  /**
   * Reads the flow row, the permission rows of `principalIds` and the
   * reference rows of `references` (or all of them) in one query, with the
   * pending unembeddings whenever references are read. `summary` leaves an
   * inline definition out, for lists.
   */
  async read(
    tenantId: string,
    flowId: string,
    principalIds: readonly string[],
    options: { summary?: boolean; references?: readonly string[]; allReferences?: boolean } = {},
  ): Promise<FlowSnapshot> {
    await this.storage.ensureReady();
    const partitionKey = flowPartitionKey(tenantId, flowId);
    const rowKeys = [
      FLOW_ROW_KEY,
      ...new Set(principalIds.map(permissionRowKey)),
      ...new Set((options.references ?? []).map(referenceRowKey)),
    ];
    const rowFilters = rowKeys.map((rowKey) => odata`RowKey eq ${rowKey}`);
    // Every reference too, in the same query: one round trip for a flow and all it binds.
    if (options.allReferences) {
      rowFilters.push(`(${odata`RowKey ge ${REFERENCE_RANGE.from} and RowKey lt ${REFERENCE_RANGE.to}`})`);
    }
    // Whoever reads a reference learns whether it is still lent, in the same query.
    if (options.allReferences || (options.references ?? []).length > 0) {
      const { from, to } = PENDING_UNEMBED_RANGE;
      rowFilters.push(`(${odata`RowKey ge ${from} and RowKey lt ${to}`})`);
    }
    const filter = `${odata`PartitionKey eq ${partitionKey}`} and (${rowFilters.join(' or ')})`;
    const rows = this.storage.flows.listEntities<FlowRow & PermissionRow & ReferenceRow & PendingUnembeddingRow>({
      queryOptions: { filter, ...(options.summary ? { select: SUMMARY_COLUMNS } : {}) },
    });
    const snapshot = emptySnapshot();
    for await (const row of rows) {
      if (row.rowKey === FLOW_ROW_KEY) snapshot.flow = toStoredFlow(row);
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

  /** Every reference of a flow (or those one person owns), in logical-name order. */
  async listReferences(tenantId: string, flowId: string, ownerId?: string): Promise<StoredReference[]> {
    await this.storage.ensureReady();
    const partitionKey = flowPartitionKey(tenantId, flowId);
    let filter = rangeFilter(partitionKey, REFERENCE_RANGE);
    if (ownerId !== undefined) filter += ` and ${odata`referenceOwnerId eq ${ownerId}`}`;
    const references: StoredReference[] = [];
    for await (const row of this.storage.flows.listEntities<ReferenceRow>({ queryOptions: { filter } })) {
      if (!row.removed) references.push(toStoredReference(row));
    }
    return references;
  }

  /** A run of the flow, by the run's own part of its id. */
  async getRun(tenantId: string, flowId: string, runUuid: string): Promise<StoredRun | undefined> {
    await this.storage.ensureReady();
    try {
      const row = await this.storage.flows.getEntity<RunRow>(flowPartitionKey(tenantId, flowId), runRowKey(runUuid));
      return toStoredRun(row, tenantId, flowId);
    } catch (error) {
      if (storageStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** One page of the flow's runs, newest first. */
  async listRuns(tenantId: string, flowId: string, request: PageRequest): Promise<Page<StoredRun>> {
    await this.storage.ensureReady();
    const partitionKey = flowPartitionKey(tenantId, flowId);
    const filter = rangeFilter(partitionKey, RUN_RANGE);
    const page = await queryPage<RunRow>(this.storage.flows, filter, request);
    return {
      items: page.items.map((row) => toStoredRun(row, tenantId, flowId)),
      continuationToken: page.continuationToken,
    };
  }

  /** One page of the audit trail, newest first. */
  async listAudit(tenantId: string, flowId: string, request: PageRequest): Promise<Page<AuditEntry & { id: string }>> {
    await this.storage.ensureReady();
    const partitionKey = flowPartitionKey(tenantId, flowId);
    const filter = rangeFilter(partitionKey, AUDIT_RANGE);
    const page = await queryPage<AuditRow>(this.storage.flows, filter, request);
    return { items: page.items.map(toAuditEntry), continuationToken: page.continuationToken };
  }

  /**
   * Applies the changes as one entity-group transaction: all of them or none.
   * Each put passes the ETag it was read with (`current`), so a change made
   * since is a ConcurrencyConflict. Answers the new ETag of each change's row.
   */
  async commit(tenantId: string, flowId: string, changes: FlowChange[]): Promise<string[]> {
    if (changes.length > MAX_CHANGES_PER_COMMIT) {
      throw new Error(`a transaction holds at most ${MAX_CHANGES_PER_COMMIT} changes, not ${changes.length}`);
    }
    const partitionKey = flowPartitionKey(tenantId, flowId);
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
    const actions = changes.map((change): TransactionAction => {
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
    let response;
    try {
      response = await this.storage.flows.submitTransaction(actions);
    } catch (error) {
      rethrowConflict(error);
    }
    // Sub-responses come in request order.
    return changes.map((_, i) => response.subResponses[i]?.etag ?? '');
  }

  /** Removes a pending unembedding with nothing left to do, if it still has its ETag. */
  async deletePendingUnembedding(tenantId: string, flowId: string, current: StoredPendingUnembedding): Promise<void> {
    const rowKey = pendingUnembedRowKey(current.principalId, current.id);
    try {
      await this.storage.flows.deleteEntity(flowPartitionKey(tenantId, flowId), rowKey, { etag: current.etag });
    } catch (error) {
      if (storageStatusOf(error) !== 404) rethrowConflict(error);
    }
  }

  /**
   * The definition JSON of a flow, from its row or its blob. A blob that is
   * gone was replaced since the row was read: ConcurrencyConflict.
   */
  async definitionOf(flow: StoredFlow): Promise<string> {
    if (flow.definitionBlob) {
      try {
        // One GET (downloadToBuffer would ask for the size first).
        const blob = this.storage.definitions.getBlockBlobClient(flow.definitionBlob);
        return await withDeadline(this.storage.blobQueueTimeoutMs, async (abortSignal) => {
          const response = await blob.download(0, undefined, { abortSignal });
          const chunks: Buffer[] = [];
          for await (const chunk of response.readableStreamBody!) chunks.push(Buffer.from(chunk as Buffer));
          return Buffer.concat(chunks).toString('utf8');
        });
      } catch (error) {
        rethrowConflict(error);
      }
    }
    return flow.inlineDefinition ?? '{"actions":[]}';
  }

  /** Creates the flow, its owner's permission and, if large, its definition blob. */
  async create(flow: Flow, definitionJson: string): Promise<StoredFlow> {
    await this.storage.ensureReady();
    const partitionKey = flowPartitionKey(flow.tenantId, flow.id);
    const placed = await this.placeDefinition(flow.tenantId, flow.id, definitionJson);
    const row: TableEntity<FlowRow> = { partitionKey, rowKey: FLOW_ROW_KEY, ...flowRow(flow), ...placed };
    const owner: TableEntity<PermissionRow> = {
      partitionKey,
      rowKey: permissionRowKey(flow.ownerId),
      principalId: flow.ownerId,
      role: 'owner',
      grantedBy: flow.ownerId,
      grantedAt: flow.createdAt,
    };
    try {
      const etag = await this.transact(
        [
          ['create', row],
          ['create', owner],
        ],
        0,
      );
      return { ...flow, etag, inlineDefinition: placed.definition, definitionBlob: placed.definitionBlob };
    } catch (error) {
      if (wasRefused(error)) await this.discardIfUnreferenced(partitionKey, placed.definitionBlob);
      throw error;
    }
  }

  /**
   * Replaces the flow row if it still has `etag`, with an audit entry in the
   * same transaction when given. Throws ConcurrencyConflict when it does not.
   */
  async update(flow: StoredFlow, changes: FlowChanges, etag: string, audit?: AuditEntry): Promise<StoredFlow> {
    const partitionKey = flowPartitionKey(flow.tenantId, flow.id);
    const placed =
      changes.definitionJson === undefined
        ? { definition: flow.inlineDefinition, definitionBlob: flow.definitionBlob }
        : await this.placeDefinition(flow.tenantId, flow.id, changes.definitionJson);
    const next: Flow = {
      ...flow,
      name: changes.name ?? flow.name,
      schemaVersion: changes.schemaVersion ?? flow.schemaVersion,
      modifiedAt: changes.modifiedAt,
    };
    const row: TableEntity<FlowRow> = { partitionKey, rowKey: FLOW_ROW_KEY, ...flowRow(next), ...definedOnly(placed) };
    const actions: TransactionAction[] = [['update', row, 'Replace', { etag }]];
    if (audit) actions.push(['create', auditRow(partitionKey, audit)]);
    let newEtag: string;
    try {
      newEtag = await this.transact(actions, 0);
    } catch (error) {
      if (placed.definitionBlob !== flow.definitionBlob && wasRefused(error))
        await this.discardIfUnreferenced(partitionKey, placed.definitionBlob);
      throw error;
    }
    // A reader that read the old row may still fetch this blob; it reads again (FlowService.get).
    if (flow.definitionBlob && placed.definitionBlob !== flow.definitionBlob)
      await this.discardBlob(flow.definitionBlob);
    return { ...next, etag: newEtag, inlineDefinition: placed.definition, definitionBlob: placed.definitionBlob };
  }

  /**
   * Deletes the flow row if it still has `etag`. From then on the flow does not
   * exist for anyone; `purge` removes what is left of it.
   */
  async delete(flow: StoredFlow, etag: string): Promise<void> {
    try {
      await this.storage.flows.deleteEntity(flowPartitionKey(flow.tenantId, flow.id), FLOW_ROW_KEY, { etag });
    } catch (error) {
      rethrowConflict(error);
    }
  }

  /**
   * Removes every row left in a deleted flow's partition and its definition
   * blob. Answers the principals that held a permission, for the index.
   */
  async purge(flow: StoredFlow): Promise<string[]> {
    const partitionKey = flowPartitionKey(flow.tenantId, flow.id);
    const rows = this.storage.flows.listEntities<Partial<PermissionRow>>({
      queryOptions: { filter: odata`PartitionKey eq ${partitionKey}`, select: ['RowKey', 'principalId'] },
    });
    const principals: string[] = [];
    let batch: TransactionAction[] = [];
    for await (const row of rows) {
      if (row.principalId) principals.push(row.principalId);
      if (row.rowKey !== undefined) batch.push(['delete', { partitionKey, rowKey: row.rowKey }]);
      if (batch.length === 100) {
        await this.storage.flows.submitTransaction(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.storage.flows.submitTransaction(batch);
    await this.discardBlob(flow.definitionBlob);
    return principals;
  }

  async listPermissions(tenantId: string, flowId: string, request: PageRequest): Promise<Page<Permission>> {
    await this.storage.ensureReady();
    const partitionKey = flowPartitionKey(tenantId, flowId);
    const filter = rangeFilter(partitionKey, PERMISSION_RANGE);
    const page = await queryPage<PermissionRow>(this.storage.flows, filter, request);
    return {
      items: page.items.map(toStoredPermission).filter((p): p is StoredPermission => p !== undefined),
      continuationToken: page.continuationToken,
    };
  }

  /**
   * Submits one entity-group transaction; answers the ETag that the action at
   * `etagOf` (its position) produced. Sub-responses come in request order.
   */
  /** Submits the flow row's transaction (protected: tests make its answer arrive late). */
  protected async transact(actions: TransactionAction[], etagOf?: number): Promise<string> {
    let response;
    try {
      response = await this.storage.flows.submitTransaction(actions);
    } catch (error) {
      rethrowConflict(error);
    }
    if (etagOf === undefined) return '';
    const etag = response.subResponses[etagOf]?.etag;
    if (!etag) throw new Error(`the transaction answered no ETag for its action ${etagOf}`);
    return etag;
  }

  /**
   * After a write storage refused: removes the blob written for it, unless the
   * row points to it after all. Only after a refusal: a write whose answer was
   * lost (a timeout, a dropped connection) may still land after this looks,
   * and would then point to a blob that is gone; a stray blob is only wasted space.
   */
  private async discardIfUnreferenced(partitionKey: string, name: string | undefined): Promise<void> {
    if (!name) return;
    try {
      const row = await this.storage.flows.getEntity<FlowRow>(partitionKey, FLOW_ROW_KEY, {
        queryOptions: { select: ['definitionBlob'] },
      });
      if (row.definitionBlob === name) return;
    } catch (error) {
      if (storageStatusOf(error) !== 404) return; // unsure: a stray blob is only wasted space
    }
    await this.discardBlob(name);
  }

  private async placeDefinition(
    tenantId: string,
    flowId: string,
    definitionJson: string,
  ): Promise<{ definition?: string; definitionBlob?: string }> {
    if (definitionJson.length <= INLINE_DEFINITION_LIMIT) return { definition: definitionJson };
    const name = definitionBlobName(tenantId, flowId, randomUUID());
    const bytes = Buffer.from(definitionJson, 'utf8');
    await this.storage.ensureReady();
    const blob = this.storage.definitions.getBlockBlobClient(name);
    await withDeadline(this.storage.blobQueueTimeoutMs, (abortSignal) =>
      blob.uploadData(bytes, { blobHTTPHeaders: { blobContentType: 'application/json; charset=utf-8' }, abortSignal }),
    );
    return { definitionBlob: name };
  }

  /** Best effort: a blob nobody points to is only wasted space. */
  private async discardBlob(name: string | undefined): Promise<void> {
    if (!name) return;
    const blob = this.storage.definitions.getBlockBlobClient(name);
    await withDeadline(this.storage.blobQueueTimeoutMs, (abortSignal) => blob.deleteIfExists({ abortSignal })).catch(
      () => undefined,
    );
  }
}

export { ConcurrencyConflict };

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

function flowRow(flow: Flow): FlowRow {
  return {
    tenantId: flow.tenantId,
    flowId: flow.id,
    name: flow.name,
    schemaVersion: flow.schemaVersion,
    ownerId: flow.ownerId,
    createdAt: flow.createdAt,
    modifiedAt: flow.modifiedAt,
  };
}

function permissionRowOf(permission: Permission): PermissionRow {
  return {
    principalId: permission.principalId,
    role: permission.role,
    grantedBy: permission.grantedBy,
    grantedAt: permission.grantedAt,
  };
}

function referenceRowOf(reference: ConnectionReference): ReferenceRow {
  return {
    logicalName: reference.logicalName,
    connectorId: reference.connectorId,
    referenceOwnerId: reference.ownerId,
    connectionId: reference.connectionId,
    embedded: reference.embedded,
    createdAt: reference.createdAt,
    modifiedAt: reference.modifiedAt,
  };
}

function toStoredReference(row: TableEntityResult<ReferenceRow>): StoredReference {
  return {
    logicalName: row.logicalName,
    connectorId: row.connectorId,
    ownerId: row.referenceOwnerId,
    connectionId: row.connectionId,
    embedded: row.embedded === true,
    createdAt: row.createdAt,
    modifiedAt: row.modifiedAt,
    etag: row.etag,
  };
}

function runUuidOf(run: Run): string {
  return parseRunId(run.id)!.uuid;
}

function runRowOf(run: Run): RunRow {
  return {
    runId: run.id,
    mode: run.mode,
    status: run.status,
    initiatedBy: run.initiatedBy,
    ...(chunked('connections', JSON.stringify(run.connections)) as { connections: string }),
    ...(run.errors ? chunked('errors', JSON.stringify(run.errors)) : {}),
    createdAt: run.createdAt,
    ...(run.completedAt ? { completedAt: run.completedAt } : {}),
    ...(run.claimedAt ? { claimedAt: run.claimedAt } : {}),
    ...(run.requestedAgainAt ? { requestedAgainAt: run.requestedAgainAt } : {}),
  };
}

function toStoredRun(row: TableEntityResult<RunRow>, tenantId: string, flowId: string): StoredRun {
  return {
    tenantId,
    flowId,
    id: row.runId,
    mode: row.mode as Run['mode'],
    status: row.status as Run['status'],
    initiatedBy: row.initiatedBy,
    connections: byName(Object.entries(JSON.parse(unchunked(row, 'connections') ?? '{}') as Run['connections'])),
    ...(row.errors ? { errors: JSON.parse(unchunked(row, 'errors')!) as Run['errors'] } : {}),
    createdAt: row.createdAt,
    ...(row.completedAt ? { completedAt: row.completedAt } : {}),
    ...(row.claimedAt ? { claimedAt: row.claimedAt } : {}),
    ...(row.requestedAgainAt ? { requestedAgainAt: row.requestedAgainAt } : {}),
    etag: row.etag,
  };
}

function toAuditEntry(row: TableEntityResult<AuditRow>): AuditEntry & { id: string } {
  let details: AuditEntry['details'];
  try {
    details = row.details ? (JSON.parse(row.details) as AuditEntry['details']) : undefined;
  } catch {
    details = undefined;
  }
  return {
    // The key's unique tail: the rest of the key is storage's business.
    id: (row.rowKey ?? '').split('|').pop() ?? '',
    action: row.action as AuditEntry['action'],
    actorId: row.actorId,
    at: row.at,
    ...(row.subjectId === undefined ? {} : { subjectId: row.subjectId }),
    ...(details === undefined ? {} : { details }),
  };
}

function auditRow(partitionKey: string, entry: AuditEntry): TableEntity<AuditRow> {
  return {
    partitionKey,
    rowKey: auditRowKey(new Date(entry.at), randomBytes(6).toString('hex')),
    action: entry.action,
    actorId: entry.actorId,
    at: entry.at,
    ...(entry.subjectId === undefined ? {} : { subjectId: entry.subjectId }),
    ...(entry.details === undefined ? {} : { details: JSON.stringify(entry.details) }),
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function toStoredFlow(row: TableEntityResult<FlowRow>): StoredFlow {
  return {
    tenantId: row.tenantId,
    id: row.flowId,
    name: row.name,
    schemaVersion: row.schemaVersion === 1 ? 1 : 2,
    ownerId: row.ownerId,
    createdAt: row.createdAt,
    modifiedAt: row.modifiedAt,
    etag: row.etag,
    inlineDefinition: row.definition,
    definitionBlob: row.definitionBlob || undefined,
  };
}

function toStoredPermission(row: TableEntityResult<Partial<PermissionRow>>): StoredPermission | undefined {
  if (!row.principalId || !isRole(row.role)) return undefined;
  return {
    principalId: row.principalId,
    role: row.role,
    grantedBy: row.grantedBy ?? '',
    grantedAt: row.grantedAt ?? '',
    etag: row.etag,
  };
}
