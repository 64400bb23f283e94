// Who may do what on a flow: docs/domain.md, Roles, as one table, plus the
// rules for sharing and unsharing. Pure: no I/O.
import { DomainError, notFound } from './errors';

export const ROLES = ['owner', 'coOwner', 'user'] as const;
export type Role = (typeof ROLES)[number];
/** The roles a flow can be shared with; `owner` is never granted. */
export const SHARED_ROLES = ['coOwner', 'user'] as const;
export type SharedRole = (typeof SHARED_ROLES)[number];

const EVERY_ROLE = ROLES;
const MAKERS = ['owner', 'coOwner'] as const;

/** Each action on a flow and the roles allowed to take it. */
export const FLOW_ACTIONS = {
  readFlow: EVERY_ROLE,
  modifyFlow: MAKERS,
  deleteFlow: ['owner'],
  upgradeSchema: MAKERS,
  readPermissions: EVERY_ROLE,
  /** Grant a role, or change someone's role. Removing oneself is always allowed. */
  share: MAKERS,
  readConnectionReferences: EVERY_ROLE,
  writeConnectionReferences: MAKERS,
  runAttended: EVERY_ROLE,
  runCloud: MAKERS,
  /** Cancel someone else's run; a run's initiator may always cancel their own (leases.ts). */
  cancelRun: MAKERS,
  checkCloudReadiness: MAKERS,
  readRunHistory: MAKERS,
  readAudit: MAKERS,
  /** Try a read operation through a reference while editing the flow (docs/gateway.md). */
  callConnectorAtDesignTime: MAKERS,
} as const satisfies Record<string, readonly Role[]>;

export type FlowAction = keyof typeof FLOW_ACTIONS;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function can(role: Role | undefined, action: FlowAction): boolean {
  return role !== undefined && (FLOW_ACTIONS[action] as readonly Role[]).includes(role);
}

/**
 * Throws unless `role` may take `action`. Someone without a role is told the
 * flow does not exist: a stranger never learns that a flow exists.
 */
export function authorize(role: Role | undefined, action: FlowAction): Role {
  if (role === undefined) throw notFound('The flow');
  if (!can(role, action)) throw new DomainError('Forbidden', `The ${role} role does not allow ${describe(action)}.`);
  return role;
}

function describe(action: FlowAction): string {
  return action.replace(/([A-Z])/g, ' $1').toLowerCase();
}

export interface ShareRequest {
  callerId: string;
  callerRole: Role | undefined;
  targetId: string;
  targetRole: Role | undefined;
  requestedRole: SharedRole;
}

export type ShareDecision =
  | { kind: 'grant'; role: SharedRole }
  | { kind: 'change'; from: SharedRole; role: SharedRole }
  | { kind: 'unchanged'; role: SharedRole };

export function decideShare(request: ShareRequest): ShareDecision {
  const { callerRole, targetRole, requestedRole } = request;
  authorize(callerRole, 'share');
  if (targetRole === 'owner') throw ownerRoleIsFixed();
  if (targetRole === undefined) return { kind: 'grant', role: requestedRole };
  if (targetRole === requestedRole) return { kind: 'unchanged', role: requestedRole };
  return { kind: 'change', from: targetRole, role: requestedRole };
}

export interface UnshareRequest {
  callerId: string;
  callerRole: Role | undefined;
  targetId: string;
  targetRole: Role | undefined;
}

export interface UnshareDecision {
  removedRole: SharedRole;
  /** The caller removed themselves. */
  self: boolean;
}

export function decideUnshare(request: UnshareRequest): UnshareDecision {
  const { callerId, callerRole, targetId, targetRole } = request;
  if (callerRole === undefined) throw notFound('The flow');
  const self = callerId === targetId;
  if (!self) authorize(callerRole, 'share');
  if (targetRole === 'owner') throw ownerRoleIsFixed();
  if (targetRole === undefined) throw notFound('A permission for this principal');
  return { removedRole: targetRole, self };
}

function ownerRoleIsFixed(): DomainError {
  return new DomainError('Conflict', "The flow owner's role cannot be changed or removed.");
}
