// Desktop flows, their permissions and audit entries as the domain sees them,
// and the views the API answers with. Pure: no I/O.
import { RawJson } from './rawJson';
import type { Role } from './roles';

export type SchemaVersion = 1 | 2;

/** New flows use the current schema; v1 exists for flows made before it. */
export const DEFAULT_SCHEMA_VERSION: SchemaVersion = 2;

export const EMPTY_DEFINITION_JSON = '{"actions":[]}';

export interface Flow {
  tenantId: string;
  id: string;
  name: string;
  schemaVersion: SchemaVersion;
  ownerId: string;
  createdAt: string;
  modifiedAt: string;
}

export interface Permission {
  principalId: string;
  role: Role;
  grantedBy: string;
  grantedAt: string;
}

export const AUDIT_ACTIONS = [
  'shared',
  'roleChanged',
  'unshared',
  'schemaUpgraded',
  'referenceAdded',
  'referenceRebound',
  'embedded',
  'unembedded',
  'referenceRemoved',
  'runStarted',
  'runCompleted',
  'runCancelled',
  'runTimedOut',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One line of a flow's audit trail: who did what, when, to whom or what. */
export interface AuditEntry {
  action: AuditAction;
  actorId: string;
  at: string;
  /** Whom or what the action was about: a principal, a reference, a run. */
  subjectId?: string;
  details?: Record<string, string | number | boolean>;
}

/** A flow as one caller sees it (docs/shapes.md, Flow). */
export interface FlowView {
  id: string;
  name: string;
  schemaVersion: SchemaVersion;
  ownerId: string;
  role: Role;
  /** The definition as it was sent. */
  definition?: RawJson;
  createdAt: string;
  modifiedAt: string;
}

export function flowView(flow: Flow, role: Role, definitionJson?: string): FlowView {
  return {
    id: flow.id,
    name: flow.name,
    schemaVersion: flow.schemaVersion,
    ownerId: flow.ownerId,
    role,
    ...(definitionJson === undefined ? {} : { definition: new RawJson(definitionJson) }),
    createdAt: flow.createdAt,
    modifiedAt: flow.modifiedAt,
  };
}

export function permissionView(permission: Permission): Permission {
  const { principalId, role, grantedBy, grantedAt } = permission;
  return { principalId, role, grantedBy, grantedAt };
}

/** Upgrading is idempotent: a v2 flow stays as it is. */
export function needsSchemaUpgrade(flow: Flow): boolean {
  return flow.schemaVersion < 2;
}
