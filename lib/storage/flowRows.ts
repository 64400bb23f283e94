// The rows of a flow's partition and how each maps to and from the domain:
// the flow row, a row per permission and reference, and the audit trail (a
// run's row is in runRows.ts).
import { randomBytes } from 'node:crypto';
import type { TableEntity, TableEntityResult } from '@azure/data-tables';
import type { AuditEntry, Flow, Permission } from '../domain/flows';
import type { ConnectionReference } from '../domain/references';
import { isRole } from '../domain/roles';
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
