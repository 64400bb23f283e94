// Sharing use cases. The permission row and its audit entry are one
// transaction; the per-principal index is written before a grant and cleaned
// after a removal, so it never misses a flow someone holds.
import type { Caller } from '../domain/caller';
import { notFound } from '../domain/errors';
import { permissionView, type Permission } from '../domain/flows';
import { referencesToUnembed } from '../domain/references';
import { authorize, decideShare, decideUnshare, type Role, type SharedRole } from '../domain/roles';
import {
  MAX_CHANGES_PER_COMMIT,
  permissionSlot,
  type FlowChange,
  type FlowStore,
  type StoredPermission,
  type StoredReference,
} from '../storage/flows';
import { toHttpEtag } from '../storage/keys';
import type { Page, PageRequest } from '../storage/pages';
import { type PrincipalIndex } from '../storage/principalIndex';
import { unembedChanges } from './references';
import { ChangeLanes } from './lanes';
import { retryOnConflict } from './retry';

export class PermissionService {
  constructor(
    private readonly store: FlowStore,
    private readonly index: PrincipalIndex,
    private readonly now: () => Date = () => new Date(),
    private readonly lanes = new ChangeLanes(),
  ) {}

  async list(caller: Caller, flowId: string, request: PageRequest): Promise<Page<Permission>> {
    // Both reads at once; the page is only answered if the caller may see it.
    const [snapshot, page] = await Promise.all([
      this.store.read(caller.tenantId, flowId, [caller.principalId]),
      this.store.listPermissions(caller.tenantId, flowId, request),
    ]);
    if (!snapshot.flow) throw notFound('The flow');
    authorize(snapshot.permissions.get(caller.principalId)?.role, 'readPermissions');
    return { items: page.items.map(permissionView), continuationToken: page.continuationToken };
  }

  /**
   * Grants or changes a role. `created` tells a new grant from a change. The
   * caller's own permission is checked in the same transaction, so someone
   * removed meanwhile cannot still share.
   */
  async share(
    caller: Caller,
    flowId: string,
    principalId: string,
    role: SharedRole,
  ): Promise<{ permission: Permission; etag: string; created: boolean }> {
    return this.lanes.run(caller, flowId, () => this.shareNow(caller, flowId, principalId, role));
  }

  private async shareNow(
    caller: Caller,
    flowId: string,
    principalId: string,
    role: SharedRole,
  ): Promise<{ permission: Permission; etag: string; created: boolean }> {
    return retryOnConflict(async () => {
      const snapshot = await this.store.read(caller.tenantId, flowId, [caller.principalId, principalId]);
      if (!snapshot.flow) throw notFound('The flow');
      const current = snapshot.permissions.get(principalId);
      const callerPermission = snapshot.permissions.get(caller.principalId);
      const decision = decideShare({
        callerId: caller.principalId,
        callerRole: callerPermission?.role,
        targetId: principalId,
        targetRole: current?.role,
        requestedRole: role,
      });
      if (decision.kind === 'unchanged' && current) {
        return { permission: permissionView(current), etag: toHttpEtag(current.etag), created: false };
      }

      const at = this.now().toISOString();
      if (decision.kind === 'grant') await this.index.add(caller.tenantId, principalId, flowId, at);
      const permission: Permission = { principalId, role, grantedBy: caller.principalId, grantedAt: at };
      const guards =
        decision.kind === 'change' && decision.from === 'coOwner'
          ? await this.referenceGuards(caller, flowId, principalId, role, at)
          : { inTransaction: [], after: [] };
      const [etag] = await this.store.commit(caller.tenantId, flowId, [
        { kind: 'putPermission', permission, over: permissionSlot(snapshot, principalId) },
        {
          kind: 'audit',
          entry: {
            action: decision.kind === 'grant' ? 'shared' : 'roleChanged',
            actorId: caller.principalId,
            at,
            subjectId: principalId,
            details: decision.kind === 'change' ? { from: decision.from, to: role } : { role },
          },
        },
        ...callerCheck(caller, principalId, callerPermission),
        ...guards.inTransaction,
      ]);
      await this.unembedLater(caller, flowId, guards.after, at);
      // Again after the write: an unshare racing this one may have removed the entry in between.
      if (decision.kind === 'grant') await this.index.add(caller.tenantId, principalId, flowId, at);
      return { permission: permissionView(permission), etag: toHttpEtag(etag!), created: decision.kind === 'grant' };
    });
  }

  async unshare(caller: Caller, flowId: string, principalId: string): Promise<void> {
    return this.lanes.run(caller, flowId, () => this.unshareNow(caller, flowId, principalId));
  }

  private async unshareNow(caller: Caller, flowId: string, principalId: string): Promise<void> {
    await retryOnConflict(async () => {
      const snapshot = await this.store.read(caller.tenantId, flowId, [caller.principalId, principalId]);
      if (!snapshot.flow) throw notFound('The flow');
      const callerPermission = snapshot.permissions.get(caller.principalId);
      const target = snapshot.permissions.get(principalId);
      const decision = decideUnshare({
        callerId: caller.principalId,
        callerRole: callerPermission?.role,
        targetId: principalId,
        targetRole: target?.role,
      });
      const at = this.now().toISOString();
      const guards = await this.referenceGuards(caller, flowId, principalId, undefined, at);
      await this.store.commit(caller.tenantId, flowId, [
        { kind: 'removePermission', current: target! },
        {
          kind: 'audit',
          entry: {
            action: 'unshared',
            actorId: caller.principalId,
            at,
            subjectId: principalId,
            details: { role: decision.removedRole, self: decision.self },
          },
        },
        ...callerCheck(caller, principalId, callerPermission),
        ...guards.inTransaction,
      ]);
      await this.unembedLater(caller, flowId, guards.after, at);
    });
    // After the permission is gone; if this fails the index names a flow the
    // person no longer holds, which lists skip.
    await this.index.remove(caller.tenantId, principalId, flowId).catch(() => undefined);
    // A share that landed meanwhile needs its entry back (share adds it again
    // after its own write, so between the two no grant ever goes unlisted).
    const { permissions } = await this.store.read(caller.tenantId, flowId, [principalId]);
    if (permissions.has(principalId))
      await this.index.add(caller.tenantId, principalId, flowId, this.now().toISOString());
  }

  /**
   * What the role change of a person who is no longer a co-owner writes about
   * their references, in its own transaction: each embedded one is unembedded,
   * each other one checked (so an embed racing the change makes it retry).
   * What does not fit in the transaction is unembedded right after it.
   */
  private async referenceGuards(
    caller: Caller,
    flowId: string,
    principalId: string,
    newRole: Role | undefined,
    at: string,
  ): Promise<{ inTransaction: FlowChange[]; after: StoredReference[] }> {
    const owned = await this.store.listReferences(caller.tenantId, flowId, principalId);
    const toUnembed = new Set(referencesToUnembed(owned, principalId, newRole));
    // Room left beside the permission, its audit entry and the caller's check.
    let room = MAX_CHANGES_PER_COMMIT - 3;
    const inTransaction: FlowChange[] = [];
    const after: StoredReference[] = [];
    for (const reference of [...toUnembed]) {
      if (room >= 2) {
        inTransaction.push(...unembedChanges(reference, caller.principalId, 'ownerRemoved', at));
        room -= 2;
      } else after.push(reference);
    }
    for (const reference of owned) {
      if (!toUnembed.has(reference) && room >= 1) {
        inTransaction.push({ kind: 'checkReference', current: reference });
        room -= 1;
      }
    }
    return { inTransaction, after };
  }

  /** Unembeds, one transaction each, what did not fit beside a role change. */
  private async unembedLater(caller: Caller, flowId: string, references: StoredReference[], at: string): Promise<void> {
    for (const { logicalName } of references) {
      await retryOnConflict(async () => {
        const { references: now } = await this.store.read(caller.tenantId, flowId, [], { references: [logicalName] });
        const reference = now.get(logicalName);
        if (reference?.embedded) {
          await this.store.commit(
            caller.tenantId,
            flowId,
            unembedChanges(reference, caller.principalId, 'ownerRemoved', at),
          );
        }
      });
    }
  }
}

/** The caller's own permission, unchanged since read: a check unless it is the row being written. */
function callerCheck(caller: Caller, targetId: string, callerPermission: StoredPermission | undefined): FlowChange[] {
  return callerPermission && caller.principalId !== targetId
    ? [{ kind: 'checkPermission', current: callerPermission }]
    : [];
}
