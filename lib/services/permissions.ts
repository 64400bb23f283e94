// Sharing use cases. The permission row and its audit entry are one
// transaction; the per-principal index is written before a grant and cleaned
// after a removal, so it never misses a flow someone holds.
import type { Caller } from '../domain/caller';
import { permissionView, type Permission } from '../domain/flows';
import { referencesToUnembed } from '../domain/references';
import { decideShare, decideUnshare, type Role, type SharedRole } from '../domain/roles';
import { permissionSlot, type FlowStore, type StoredPermission, type UnitOfWork } from '../storage/flows';
import { namesPerRow } from '../storage/pendingUnembeddings';
import type { Page, PageRequest } from '../storage/pages';
import { type PrincipalIndex } from '../storage/principalIndex';
import { consoleLog, type Log } from '../log';
import { readFlowAs } from './access';
import { newId } from './ids';
import { unembed } from './references';
import { ChangeLanes } from './lanes';
import { retryOnConflict } from './retry';
import type { Unembeddings } from './unembeddings';

export class PermissionService {
  constructor(
    private readonly store: FlowStore,
    private readonly index: PrincipalIndex,
    private readonly unembeddings: Unembeddings,
    private readonly now: () => Date = () => new Date(),
    private readonly lanes = new ChangeLanes(),
  ) {}

  async list(caller: Caller, flowId: string, request: PageRequest): Promise<Page<Permission>> {
    // Both reads at once; the page is only answered if the caller may see it.
    const [, page] = await Promise.all([
      readFlowAs(this.store, caller, flowId, 'readPermissions'),
      this.store.listPermissions(caller.tenantId, flowId, request),
    ]);
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
    log: Log = consoleLog,
  ): Promise<{ permission: Permission; etag: string; created: boolean }> {
    return this.lanes.run(caller, flowId, () => this.shareNow(caller, flowId, principalId, role, log));
  }

  private async shareNow(
    caller: Caller,
    flowId: string,
    principalId: string,
    role: SharedRole,
    log: Log,
  ): Promise<{ permission: Permission; etag: string; created: boolean }> {
    let leftUnembedding = false;
    const shared = await retryOnConflict(async () => {
      const access = await readFlowAs(this.store, caller, flowId, 'share', { alsoPermissionsOf: [principalId] });
      const { snapshot, permission: callerPermission } = access;
      const current = snapshot.permissions.get(principalId);
      const decision = decideShare({
        callerId: caller.principalId,
        callerRole: access.role,
        targetId: principalId,
        targetRole: current?.role,
        requestedRole: role,
      });
      if (decision.kind === 'unchanged' && current) {
        return { permission: permissionView(current), etag: current.etag, created: false };
      }

      const at = this.now().toISOString();
      if (decision.kind === 'grant') await this.index.add(caller.tenantId, principalId, flowId, at);
      const permission: Permission = { principalId, role, grantedBy: caller.principalId, grantedAt: at };
      const change = this.store.change(caller.tenantId, flowId);
      const granted = change.grant(permission, permissionSlot(snapshot, principalId));
      change.audit({
        action: decision.kind === 'grant' ? 'shared' : 'roleChanged',
        actorId: caller.principalId,
        at,
        subjectId: principalId,
        details: decision.kind === 'change' ? { from: decision.from, to: role } : { role },
      });
      // Room for a former co-owner's references, beside the caller's own check.
      const room = change.room - 1;
      callerStillHolds(change, caller, principalId, callerPermission);
      const left =
        decision.kind === 'change' && decision.from === 'coOwner'
          ? await this.unembedTheirReferences(change, room, caller, flowId, principalId, role, at)
          : false;
      await change.commit();
      leftUnembedding = left;
      // Again after the write: an unshare racing this one may have removed the entry in between.
      if (decision.kind === 'grant') await this.index.add(caller.tenantId, principalId, flowId, at);
      return { permission: permissionView(permission), etag: granted.version, created: decision.kind === 'grant' };
    });
    if (leftUnembedding) await this.finishUnembedding(caller, flowId, log);
    return shared;
  }

  async unshare(caller: Caller, flowId: string, principalId: string, log: Log = consoleLog): Promise<void> {
    return this.lanes.run(caller, flowId, () => this.unshareNow(caller, flowId, principalId, log));
  }

  private async unshareNow(caller: Caller, flowId: string, principalId: string, log: Log): Promise<void> {
    let leftUnembedding = false;
    await retryOnConflict(async () => {
      // Anyone on the flow may remove themselves; decideUnshare says whom else.
      const access = await readFlowAs(this.store, caller, flowId, 'readFlow', { alsoPermissionsOf: [principalId] });
      const { snapshot, permission: callerPermission } = access;
      const target = snapshot.permissions.get(principalId);
      const decision = decideUnshare({
        callerId: caller.principalId,
        callerRole: access.role,
        targetId: principalId,
        targetRole: target?.role,
      });
      const at = this.now().toISOString();
      const change = this.store.change(caller.tenantId, flowId);
      change.revoke(target!);
      change.audit({
        action: 'unshared',
        actorId: caller.principalId,
        at,
        subjectId: principalId,
        details: { role: decision.removedRole, self: decision.self },
      });
      // Room for the person's references, beside the caller's own check.
      const room = change.room - 1;
      callerStillHolds(change, caller, principalId, callerPermission);
      const left = await this.unembedTheirReferences(change, room, caller, flowId, principalId, undefined, at);
      await change.commit();
      leftUnembedding = left;
    });
    if (leftUnembedding) await this.finishUnembedding(caller, flowId, log);
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
   * their references, in its own transaction (`change`, within `room` more
   * changes): each embedded one is unembedded, each other one checked (so an
   * embed racing the change makes it retry). What does not fit is named in
   * pending-unembedding rows of the same transaction, which make those
   * references count as not embedded from the moment it commits (asLent), and
   * the flow is noted as having pending work before it commits; they are
   * unembedded right after it, or by the sweep. Answers whether any were left.
   * (Reading every reference owner's role wherever an embedding is used would
   * instead cost each run prompt and cloud run another request.)
   */
  private async unembedTheirReferences(
    change: UnitOfWork,
    room: number,
    caller: Caller,
    flowId: string,
    principalId: string,
    newRole: Role | undefined,
    at: string,
  ): Promise<boolean> {
    const owned = await this.store.listReferences(caller.tenantId, flowId, principalId);
    const toUnembed = referencesToUnembed(owned, principalId, newRole);
    // Each unembedding is two changes (the reference and its audit entry), each pending row one.
    let fit = Math.min(toUnembed.length, Math.floor(room / 2));
    let rows = namesPerRow(toUnembed.slice(fit).map((r) => r.logicalName));
    while (fit * 2 + rows.length > room) {
      fit -= 1;
      rows = namesPerRow(toUnembed.slice(fit).map((r) => r.logicalName));
    }
    for (const reference of toUnembed.slice(0, fit)) unembed(change, reference, caller.principalId, 'ownerRemoved', at);
    for (const logicalNames of rows) {
      change.leaveToUnembed({ id: newId(), principalId, actorId: caller.principalId, at, logicalNames });
    }
    let used = fit * 2 + rows.length;
    const unembedding = new Set(toUnembed);
    for (const reference of owned) {
      if (!unembedding.has(reference) && used < room) {
        change.stillBound(reference);
        used += 1;
      }
    }
    if (rows.length > 0) await this.unembeddings.expect(caller.tenantId, flowId);
    return rows.length > 0;
  }

  /**
   * The rest of a role change's unembedding, once it committed. Best effort:
   * the role change stands, the rest already counts as not embedded, and the
   * sweep finishes what this does not.
   */
  private async finishUnembedding(caller: Caller, flowId: string, log: Log): Promise<void> {
    try {
      await this.unembeddings.finish(caller.tenantId, flowId);
    } catch (error) {
      log.warn('unembedding after a role change failed; the sweep finishes it', {
        reason: error instanceof Error ? error.name : 'Error',
      });
    }
  }
}

/** The caller's own permission, unchanged since read: checked unless it is the row being written. */
function callerStillHolds(
  change: UnitOfWork,
  caller: Caller,
  targetId: string,
  callerPermission: StoredPermission,
): void {
  if (caller.principalId !== targetId) change.stillHolds(callerPermission);
}
