// The rows of a flow's partition and how each maps to and from the domain:
// the flow row, a row per permission, reference and run, and the audit trail.
import { randomBytes } from 'node:crypto';
import type { TableEntity, TableEntityResult } from '@azure/data-tables';
import type { AuditEntry, Flow, Permission } from '../domain/flows';
import type { ConnectionReference } from '../domain/references';
import { byName, parseRunId, type Run } from '../domain/runs';
import { isRole } from '../domain/roles';
import { chunkColumns, chunked, chunksFor, unchunked } from './chunks';
import { MAX_RUN_RESULT_BYTES } from '../domain/limits';
import { auditRowKey } from './keys';
import { PENDING_UNEMBEDDING_COLUMNS } from './pendingUnembeddings';

// Row shapes are type aliases, not interfaces: the SDK wants them assignable to Record<string, unknown>.
export type FlowRow = {
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

export type PermissionRow = {
  principalId: string;
  /** A role, or REMOVED_ROLE for a tombstone. */
  role: string;
  grantedBy: string;
  grantedAt: string;
};

export type ReferenceRow = {
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

export type RunRow = {
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
  machineId?: string;
  /** JSON: the inputs of a cloud run, as sent (chunked like connections). */
  inputs?: string;
  leaseId?: string;
  leaseExpiresAt?: string;
  startedAt?: string;
  cancelRequestedBy?: string;
  /** JSON: what the machine reported on completion (chunked). */
  outputs?: string;
  actions?: string;
};

/**
 * Every column of a run but its inputs (up to 64 KiB, for its machine only),
 * chunked ones with their chunks: what a summary read of a run selects. A
 * run's outputs and results exist only once it has ended, so reading a
 * Running run this way costs what its lifecycle columns do.
 */
export const RUN_SUMMARY_COLUMNS = [
  'runId',
  'mode',
  'status',
  'initiatedBy',
  ...chunkColumns('connections'),
  ...chunkColumns('errors'),
  'createdAt',
  'completedAt',
  'claimedAt',
  'requestedAgainAt',
  'machineId',
  'leaseId',
  'leaseExpiresAt',
  'startedAt',
  'cancelRequestedBy',
  // Together at most MAX_RUN_RESULT_BYTES (UTF-8), so neither has more characters.
  ...chunkColumns('outputs', chunksFor(MAX_RUN_RESULT_BYTES)),
  ...chunkColumns('actions', chunksFor(MAX_RUN_RESULT_BYTES)),
];

export type AuditRow = {
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

export interface StoredRun extends Run {
  etag: string;
}

/** The role of a removed permission's tombstone; never a real role. */
export const REMOVED_ROLE = 'removed';

/** Every column of the partition's rows but the inline definition (once each). */
export const SUMMARY_COLUMNS = [
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

export function flowRow(flow: Flow): FlowRow {
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

export function permissionRowOf(permission: Permission): PermissionRow {
  return {
    principalId: permission.principalId,
    role: permission.role,
    grantedBy: permission.grantedBy,
    grantedAt: permission.grantedAt,
  };
}

export function referenceRowOf(reference: ConnectionReference): ReferenceRow {
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

export function toStoredReference(row: TableEntityResult<ReferenceRow>): StoredReference {
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

export function runUuidOf(run: Run): string {
  return parseRunId(run.id)!.uuid;
}

export function runRowOf(run: Run): RunRow {
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
    ...(run.machineId ? { machineId: run.machineId } : {}),
    ...(run.inputsJson !== undefined ? chunked('inputs', run.inputsJson) : {}),
    ...(run.leaseId ? { leaseId: run.leaseId } : {}),
    ...(run.leaseExpiresAt ? { leaseExpiresAt: run.leaseExpiresAt } : {}),
    ...(run.startedAt ? { startedAt: run.startedAt } : {}),
    ...(run.cancelRequestedBy !== undefined ? { cancelRequestedBy: run.cancelRequestedBy } : {}),
    ...(run.outputsJson !== undefined ? chunked('outputs', run.outputsJson) : {}),
    ...(run.actions ? chunked('actions', JSON.stringify(run.actions)) : {}),
  };
}

export function toStoredRun(row: TableEntityResult<RunRow>, tenantId: string, flowId: string): StoredRun {
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
    ...(row.machineId ? { machineId: row.machineId } : {}),
    ...(typeof row.inputs === 'string' ? { inputsJson: unchunked(row, 'inputs') } : {}),
    ...(row.leaseId ? { leaseId: row.leaseId } : {}),
    ...(row.leaseExpiresAt ? { leaseExpiresAt: row.leaseExpiresAt } : {}),
    ...(row.startedAt ? { startedAt: row.startedAt } : {}),
    ...(typeof row.cancelRequestedBy === 'string' ? { cancelRequestedBy: row.cancelRequestedBy } : {}),
    ...(typeof row.outputs === 'string' ? { outputsJson: unchunked(row, 'outputs') } : {}),
    ...(typeof row.actions === 'string' ? { actions: JSON.parse(unchunked(row, 'actions')!) as Run['actions'] } : {}),
    etag: row.etag,
  };
}

export function toAuditEntry(row: TableEntityResult<AuditRow>): AuditEntry & { id: string } {
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

export function auditRow(partitionKey: string, entry: AuditEntry): TableEntity<AuditRow> {
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

export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function toStoredFlow(row: TableEntityResult<FlowRow>): StoredFlow {
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

export function toStoredPermission(row: TableEntityResult<Partial<PermissionRow>>): StoredPermission | undefined {
  if (!row.principalId || !isRole(row.role)) return undefined;
  return {
    principalId: row.principalId,
    role: row.role,
    grantedBy: row.grantedBy ?? '',
    grantedAt: row.grantedAt ?? '',
    etag: row.etag,
  };
}
