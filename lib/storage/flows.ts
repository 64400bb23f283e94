// The flow aggregate in Table storage: one partition per flow holding the flow
// row, a row per permission, reference and run, and the audit trail, so that a
// change and its audit entry are one entity-group transaction. Definitions too
// large for a Table property live in Blob storage (definitions.ts), written
// before the row that points to them. The rows are in flowRows.ts, the
// partition read in flowSnapshot.ts, the transaction in flowTransaction.ts.
import { odata, type TableEntity, type TransactionAction } from '@azure/data-tables';
import type { AuditEntry, Flow, Permission, SchemaVersion } from '../domain/flows';
import type { Storage } from './clients';
import { DefinitionBlobs } from './definitions';
import { ConcurrencyConflict, rethrowConflict, storageStatusOf, wasRefused } from './errors';
import { FlowLists } from './flowLists';
import {
  auditRow,
  definedOnly,
  flowRow,
  type FlowRow,
  type PermissionRow,
  type StoredFlow,
  type StoredReference,
} from './flowRows';
import type { StoredRun } from './runRows';
import { readSnapshot, type FlowSnapshot, type SnapshotOptions } from './flowSnapshot';
import { MAX_CHANGES_PER_COMMIT, transactionOf, type FlowChange } from './flowTransaction';
import { FLOW_ROW_KEY, flowPartitionKey, pendingUnembedRowKey, permissionRowKey } from './keys';
import type { Page, PageRequest } from './pages';
import type { StoredPendingUnembedding } from './pendingUnembeddings';
import { UnitOfWork } from './unitOfWork';

export { INLINE_DEFINITION_LIMIT } from './definitions';
export type { StoredFlow, StoredPermission, StoredReference } from './flowRows';
export type { StoredRun } from './runRows';
export {
  permissionSlot,
  referenceSlot,
  type FlowSnapshot,
  type RowVersion,
  type SnapshotOptions,
} from './flowSnapshot';
export { MAX_CHANGES_PER_COMMIT, type FlowChange } from './flowTransaction';
export { ConcurrencyConflict };
export type { UnitOfWork, Written } from './unitOfWork';

export interface FlowChanges {
  name?: string;
  schemaVersion?: SchemaVersion;
  definitionJson?: string;
  modifiedAt: string;
}

export class FlowStore {
  private readonly definitions: DefinitionBlobs;
  private readonly lists: FlowLists;

  constructor(private readonly storage: Storage) {
    this.definitions = new DefinitionBlobs(storage);
    this.lists = new FlowLists(storage);
  }

  /**
   * Reads the flow row, the permission rows of `principalIds`, the
   * reference rows of `references` (or all of them) and the run `run` in one
   * query, with the pending unembeddings whenever references are read.
   * `summary` leaves an inline definition out (and a run's inputs and results).
   */
  read(
    tenantId: string,
    flowId: string,
    principalIds: readonly string[],
    options: SnapshotOptions = {},
  ): Promise<FlowSnapshot> {
    return readSnapshot(this.storage, tenantId, flowId, principalIds, options);
  }

  /** Every reference of a flow (or those one person owns), in logical-name order. */
  listReferences(tenantId: string, flowId: string, ownerId?: string): Promise<StoredReference[]> {
    return this.lists.references(tenantId, flowId, ownerId);
  }

  /** The flow's runs not yet final, for the run-repair sweep. */
  activeRuns(tenantId: string, flowId: string): Promise<StoredRun[]> {
    return this.lists.activeRuns(tenantId, flowId);
  }

  /** A run of the flow, by the run's own part of its id. */
  getRun(tenantId: string, flowId: string, runUuid: string): Promise<StoredRun | undefined> {
    return this.lists.run(tenantId, flowId, runUuid);
  }

  /** One page of the flow's runs, newest first. */
  listRuns(tenantId: string, flowId: string, request: PageRequest): Promise<Page<StoredRun>> {
    return this.lists.runs(tenantId, flowId, request);
  }

  /** One page of the audit trail, newest first. */
  listAudit(tenantId: string, flowId: string, request: PageRequest): Promise<Page<AuditEntry & { id: string }>> {
    return this.lists.audit(tenantId, flowId, request);
  }

  listPermissions(tenantId: string, flowId: string, request: PageRequest): Promise<Page<Permission>> {
    return this.lists.permissions(tenantId, flowId, request);
  }

  /** A change to the flow, committed as one transaction (see UnitOfWork). */
  change(tenantId: string, flowId: string): UnitOfWork {
    return new UnitOfWork((changes) => this.commit(tenantId, flowId, changes));
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
    const actions = transactionOf(flowPartitionKey(tenantId, flowId), changes);
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
  definitionOf(flow: StoredFlow): Promise<string> {
    return this.definitions.definitionOf(flow);
  }

  /** Creates the flow, its owner's permission and, if large, its definition blob. */
  async create(flow: Flow, definitionJson: string): Promise<StoredFlow> {
    await this.storage.ensureReady();
    const partitionKey = flowPartitionKey(flow.tenantId, flow.id);
    const placed = await this.definitions.place(flow.tenantId, flow.id, definitionJson);
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
      if (wasRefused(error)) await this.definitions.discardIfUnreferenced(partitionKey, placed.definitionBlob);
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
        : await this.definitions.place(flow.tenantId, flow.id, changes.definitionJson);
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
        await this.definitions.discardIfUnreferenced(partitionKey, placed.definitionBlob);
      throw error;
    }
    // A reader that read the old row may still fetch this blob; it reads again (FlowService.get).
    if (flow.definitionBlob && placed.definitionBlob !== flow.definitionBlob)
      await this.definitions.discard(flow.definitionBlob);
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
      if (batch.length === MAX_CHANGES_PER_COMMIT) {
        await this.storage.flows.submitTransaction(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.storage.flows.submitTransaction(batch);
    await this.definitions.discard(flow.definitionBlob);
    return principals;
  }

  /**
   * Submits the flow row's transaction; answers the ETag that the action at
   * `etagOf` (its position) produced. Sub-responses come in request order.
   * (Protected: tests make its answer arrive late.)
   */
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
}
