// The preamble of every use case on a flow: read it with the caller's
// permission, answer 404 when there is no flow (or the caller holds no role
// on it: a stranger never learns it exists), and 403 unless the role allows
// the action (FLOW_ACTIONS in lib/domain/roles.ts).
import type { Caller } from '../domain/caller';
import { notFound } from '../domain/errors';
import { authorize, type FlowAction, type Role } from '../domain/roles';
import type { FlowSnapshot, FlowStore, SnapshotOptions, StoredFlow, StoredPermission } from '../storage/flows';

export interface FlowAccess {
  flow: StoredFlow;
  /** The caller's role, which allows the action. */
  role: Role;
  /** The caller's permission as read: what a change guards (stillHolds). */
  permission: StoredPermission;
  /** Everything read with it, in the same query. */
  snapshot: FlowSnapshot;
}

export interface AccessOptions extends SnapshotOptions {
  /** Others whose permissions are read in the same query. */
  alsoPermissionsOf?: readonly string[];
}

export async function readFlowAs(
  store: FlowStore,
  caller: Caller,
  flowId: string,
  action: FlowAction,
  options: AccessOptions = {},
): Promise<FlowAccess> {
  const { alsoPermissionsOf = [], ...read } = options;
  const snapshot = await store.read(caller.tenantId, flowId, [caller.principalId, ...alsoPermissionsOf], read);
  if (!snapshot.flow) throw notFound('The flow');
  const permission = snapshot.permissions.get(caller.principalId);
  const role = authorize(permission?.role, action);
  return { flow: snapshot.flow, role, permission: permission!, snapshot };
}
