// Sharing use cases. The permission row and its audit entry are one
// transaction; the per-principal index is written before a grant and cleaned
// after a removal, so it never misses a flow someone holds.
import type { Caller } from '../domain/caller';
import { notFound } from '../domain/errors';
import { permissionView, type Permission } from '../domain/flows';
import { referencesToUnembed } from '../domain/references';
import { authorize, decideShare, decideUnshare, type Role, type SharedRole } from '../domain/roles';
import { MAX_CHANGES_PER_COMMIT, type FlowChange, type FlowStore } from '../storage/flows';
import { toHttpEtag } from '../storage/keys';
import type { Page, PageRequest } from '../storage/pages';
import { type PrincipalIndex } from '../storage/principalIndex';
import { unembedChanges } from './references';
import { retryOnConflict } from './retry';

export class PermissionService {
  constructor(
    private readonly store: FlowStore,
    private readonly index: PrincipalIndex,
    private readonly now: () => Date = () => new Date(),
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

  /** Grants or changes a role. `created` tells a new grant from a change. */
  async share(
    caller: Caller,
    flowId: string,
    principalId: string,
    role: SharedRole,
  ): Promise<{ permission: Permission; etag: string; created: boolean }> {
    return retryOnConflict(async () => {
      const { flow, permissions } = await this.store.read(caller.tenantId, flowId, [caller.principalId, principalId]);
      if (!flow) throw notFound('The flow');
      const current = permissions.get(principalId);
      const decision = decideShare({
        callerId: caller.principalId,
        callerRole: permissions.get(caller.principalId)?.role,
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
      const audit: FlowChange = {
        kind: 'audit',
        entry: {
          action: decision.kind === 'grant' ? 'shared' : 'roleChanged',
          actorId: caller.principalId,
          at,
          subjectId: principalId,
          details: decision.kind === 'change' ? { from: decision.from, to: role } : { role },
        },
      };
      const unembeds =
        decision.kind === 'change' && decision.from === 'coOwner'
          ? await this.unembedsFor(caller, flowId, principalId, role, at)
          : [];
      const [etag] = await this.store.commit(caller.tenantId, flowId, [
        { kind: 'putPermission', permission, current },
        audit,
        ...unembeds,
      ]);
      const stored = { ...permission, etag: etag! };
      // Again after the write: an unshare racing this one may have removed the entry in between.
      if (decision.kind === 'grant') await this.index.add(caller.tenantId, principalId, flowId, at);
      return { permission: permissionView(stored), etag: toHttpEtag(stored.etag), created: decision.kind === 'grant' };
    });
  }

  async unshare(caller: Caller, flowId: string, principalId: string): Promise<void> {
    await retryOnConflict(async () => {
      const { flow, permissions } = await this.store.read(caller.tenantId, flowId, [caller.principalId, principalId]);
      if (!flow) throw notFound('The flow');
      const decision = decideUnshare({
        callerId: caller.principalId,
        callerRole: permissions.get(caller.principalId)?.role,
        targetId: principalId,
        targetRole: permissions.get(principalId)?.role,
      });
      const at = this.now().toISOString();
      // Only a co-owner can have embedded references (a user's were unembedded when they became one).
      const unembeds =
        decision.removedRole === 'coOwner' ? await this.unembedsFor(caller, flowId, principalId, undefined, at) : [];
      await this.store.commit(caller.tenantId, flowId, [
        { kind: 'removePermission', principalId },
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
        ...unembeds,
      ]);
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
   * The changes that unembed every reference `principalId` owns on the flow
   * when their new role no longer lets them lend it a connection, to go in the
   * same transaction as the role change. Past one transaction's size, the
   * surplus is unembedded first, in transactions of its own.
   */
  private async unembedsFor(
    caller: Caller,
    flowId: string,
    principalId: string,
    newRole: Role | undefined,
    at: string,
  ): Promise<FlowChange[]> {
    if (newRole === 'coOwner') return [];
    const owned = await this.store.listReferences(caller.tenantId, flowId, principalId);
    const changes = referencesToUnembed(owned, principalId, newRole).flatMap((reference) =>
      unembedChanges(reference, caller.principalId, 'ownerRemoved', at),
    );
    const room = MAX_CHANGES_PER_COMMIT - 2;
    while (changes.length > room) {
      await this.store.commit(caller.tenantId, flowId, changes.splice(0, Math.min(room, changes.length - room)));
    }
    return changes;
  }
}
