// The lists of a flow's partition, one page at a time (a list never loads a
// whole partition), and single rows read by key.
import { odata } from '@azure/data-tables';
import type { AuditEntry, Permission } from '../domain/flows';
import { isFinal, RUN_STATUSES } from '../domain/runLifecycle';
import type { Storage } from './clients';
import { storageStatusOf } from './errors';
import {
  toAuditEntry,
  toStoredPermission,
  toStoredReference,
  type AuditRow,
  type PermissionRow,
  type ReferenceRow,
  type StoredPermission,
  type StoredReference,
} from './flowRows';
import { toStoredRun, type RunRow, type StoredRun } from './runRows';
import {
  AUDIT_RANGE,
  flowPartitionKey,
  PERMISSION_RANGE,
  rangeFilter,
  REFERENCE_RANGE,
  RUN_RANGE,
  runRowKey,
} from './keys';
import { queryPage, type Page, type PageRequest } from './pages';

export class FlowLists {
  constructor(private readonly storage: Storage) {}

  /** Every reference of a flow (or those one person owns), in logical-name order. */
  async references(tenantId: string, flowId: string, ownerId?: string): Promise<StoredReference[]> {
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
  async run(tenantId: string, flowId: string, runUuid: string): Promise<StoredRun | undefined> {
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
  async runs(tenantId: string, flowId: string, request: PageRequest): Promise<Page<StoredRun>> {
    await this.storage.ensureReady();
    const partitionKey = flowPartitionKey(tenantId, flowId);
    const filter = rangeFilter(partitionKey, RUN_RANGE);
    const page = await queryPage<RunRow>(this.storage.flows, filter, request);
    return {
      items: page.items.map((row) => toStoredRun(row, tenantId, flowId)),
      continuationToken: page.continuationToken,
    };
  }

  /** The flow's runs not yet final: what the run-repair sweep looks at (docs/domain.md, "Runs"). */
  async activeRuns(tenantId: string, flowId: string): Promise<StoredRun[]> {
    await this.storage.ensureReady();
    const active = RUN_STATUSES.filter((status) => !isFinal(status)).map((status) => odata`status eq ${status}`);
    const filter = `${rangeFilter(flowPartitionKey(tenantId, flowId), RUN_RANGE)} and (${active.join(' or ')})`;
    const runs: StoredRun[] = [];
    for await (const row of this.storage.flows.listEntities<RunRow>({ queryOptions: { filter } })) {
      runs.push(toStoredRun(row, tenantId, flowId));
    }
    return runs;
  }

  /** One page of the audit trail, newest first. */
  async audit(tenantId: string, flowId: string, request: PageRequest): Promise<Page<AuditEntry & { id: string }>> {
    await this.storage.ensureReady();
    const partitionKey = flowPartitionKey(tenantId, flowId);
    const filter = rangeFilter(partitionKey, AUDIT_RANGE);
    const page = await queryPage<AuditRow>(this.storage.flows, filter, request);
    return { items: page.items.map(toAuditEntry), continuationToken: page.continuationToken };
  }

  /** One page of the flow's permissions (tombstones left out). */
  async permissions(tenantId: string, flowId: string, request: PageRequest): Promise<Page<Permission>> {
    await this.storage.ensureReady();
    const partitionKey = flowPartitionKey(tenantId, flowId);
    const filter = rangeFilter(partitionKey, PERMISSION_RANGE);
    const page = await queryPage<PermissionRow>(this.storage.flows, filter, request);
    return {
      items: page.items.map(toStoredPermission).filter((p): p is StoredPermission => p !== undefined),
      continuationToken: page.continuationToken,
    };
  }
}
