// Connection-reference use cases: list a flow's references, add or rebind one,
// embed or unembed it, remove it. Each change and its audit entry are one
// transaction on the flow's partition, written with the ETag that was read.
import type { Caller } from '../domain/caller';
import type { AuditEntry } from '../domain/flows';
import {
  asLent,
  decideBind,
  decideEmbed,
  namesReference,
  decideRemoveReference,
  referenceView,
  type ConnectionReference,
  type ReferenceView,
  type UnembedReason,
} from '../domain/references';
import type { Role } from '../domain/roles';
import type { ConnectionStore, ConnectionUse, StoredConnection } from '../storage/connections';
import { referenceSlot, type FlowStore, type StoredReference, type UnitOfWork, type Written } from '../storage/flows';
import { readFlowAs } from './access';
import { ChangeLanes } from './lanes';
import { retryOnConflict } from './retry';
import type { Tagged } from './flows';

/** Unembeds a reference as read, with its audit entry, in `change`. */
export function unembed(
  change: UnitOfWork,
  reference: StoredReference,
  actorId: string,
  reason: UnembedReason,
  at: string,
): Written {
  const written = change.bind({ ...plainReference(reference), embedded: false, modifiedAt: at }, reference);
  change.audit({ action: 'unembedded', actorId, at, subjectId: reference.logicalName, details: { reason } });
  return written;
}

function audited(
  action: AuditEntry['action'],
  caller: Caller,
  reference: ConnectionReference,
  at: string,
  details: AuditEntry['details'],
): AuditEntry {
  return { action, actorId: caller.principalId, at, subjectId: reference.logicalName, details };
}

export class ReferenceService {
  constructor(
    private readonly store: FlowStore,
    private readonly connections: ConnectionStore,
    private readonly now: () => Date = () => new Date(),
    private readonly lanes = new ChangeLanes(),
  ) {}

  async list(caller: Caller, flowId: string): Promise<ReferenceView[]> {
    const { snapshot } = await readFlowAs(this.store, caller, flowId, 'readConnectionReferences', {
      allReferences: true,
    });
    const references = asLent(snapshot.references.values(), snapshot.pendingUnembeddings);
    const bound = await this.boundConnections(caller.tenantId, references);
    return references.map((r) => referenceView(r, caller.principalId, bound.get(boundKey(r))));
  }

  /** Adds the reference (created: true) or rebinds it, to a connection of the caller's. */
  async put(
    caller: Caller,
    flowId: string,
    logicalName: string,
    body: { connectorId: string; connectionId: string },
  ): Promise<Tagged<ReferenceView> & { created: boolean }> {
    return this.lanes.run(caller, flowId, () => this.putNow(caller, flowId, logicalName, body));
  }

  private async putNow(
    caller: Caller,
    flowId: string,
    logicalName: string,
    body: { connectorId: string; connectionId: string },
  ): Promise<Tagged<ReferenceView> & { created: boolean }> {
    return retryOnConflict(async () => {
      const [{ snapshot, role, permission: callerPermission }, connection] = await Promise.all([
        readFlowAs(this.store, caller, flowId, 'writeConnectionReferences', { references: [logicalName] }),
        this.connections.get(caller.tenantId, caller.principalId, body.connectionId),
      ]);
      const current = snapshot.references.get(logicalName);
      const at = this.now().toISOString();
      const decision = decideBind({
        callerId: caller.principalId,
        callerRole: role,
        logicalName,
        current,
        connectorId: body.connectorId,
        connection,
        at,
      });
      if (decision.kind === 'unchanged') {
        return {
          value: referenceView(current!, caller.principalId, connection),
          etag: current!.etag,
          created: false,
        };
      }
      const use = { flowId, logicalName };
      // The use is noted before the binding, so a connection's uses never miss one.
      await this.connections.addUse(caller.tenantId, caller.principalId, connection!.id, use, at);
      const change = this.store.change(caller.tenantId, flowId);
      const bound = change.bind(decision.reference, referenceSlot(snapshot, logicalName));
      // The caller is still a maker of the flow when this lands.
      change.stillHolds(callerPermission);
      change.audit(
        audited(decision.kind === 'add' ? 'referenceAdded' : 'referenceRebound', caller, decision.reference, at, {
          connectorId: body.connectorId,
        }),
      );
      await change.commit();
      if (decision.kind === 'rebind') {
        await this.connections
          .removeUse(caller.tenantId, caller.principalId, decision.from, use)
          .catch(() => undefined);
      }
      return {
        value: referenceView(decision.reference, caller.principalId, connection),
        etag: bound.version,
        created: decision.kind === 'add',
      };
    });
  }

  async setEmbedded(
    caller: Caller,
    flowId: string,
    logicalName: string,
    embedded: boolean,
  ): Promise<Tagged<ReferenceView>> {
    return this.lanes.run(caller, flowId, () => this.setEmbeddedNow(caller, flowId, logicalName, embedded));
  }

  private async setEmbeddedNow(
    caller: Caller,
    flowId: string,
    logicalName: string,
    embedded: boolean,
  ): Promise<Tagged<ReferenceView>> {
    return retryOnConflict(async () => {
      const {
        snapshot,
        role,
        permission: callerPermission,
      } = await readFlowAs(this.store, caller, flowId, 'writeConnectionReferences', { references: [logicalName] });
      const stored = snapshot.references.get(logicalName);
      // Decided on whether it is lent now: one a role change left to unembed is not.
      const [reference] = stored ? asLent([stored], snapshot.pendingUnembeddings) : [];
      // Only the reference owner's own connection can be looked up here.
      const connection =
        reference?.ownerId === caller.principalId
          ? await this.connections.get(caller.tenantId, caller.principalId, reference.connectionId)
          : undefined;
      const decision = decideEmbed({
        callerId: caller.principalId,
        callerRole: role,
        reference,
        embedded,
        connectionStatus: connection?.status,
      });
      if (decision === 'unchanged') {
        return { value: referenceView(reference!, caller.principalId, connection), etag: reference!.etag };
      }
      const at = this.now().toISOString();
      const next = { ...plainReference(reference!), embedded, modifiedAt: at };
      const change = this.store.change(caller.tenantId, flowId);
      let written: Written;
      if (embedded) {
        written = change.bind(next, reference);
        change.audit(audited('embedded', caller, next, at, undefined));
        // Embedded again by its owner, a co-owner again: no longer left to unembed.
        for (const { etag, ...pending } of snapshot.pendingUnembeddings) {
          if (!namesReference(pending, reference!)) continue;
          const logicalNames = pending.logicalNames.filter((name) => name !== logicalName);
          change.leaveToUnembed({ ...pending, logicalNames }, { etag });
        }
      } else {
        written = unembed(change, reference!, caller.principalId, 'byOwner', at);
      }
      // A co-owner removed or demoted meanwhile cannot lend the flow a connection.
      change.stillHolds(callerPermission);
      await change.commit();
      return { value: referenceView(next, caller.principalId, connection), etag: written.version };
    });
  }

  async remove(caller: Caller, flowId: string, logicalName: string): Promise<void> {
    const removed = await this.lanes.run(caller, flowId, () => this.removeNow(caller, flowId, logicalName));
    await this.forgetUse(caller.tenantId, removed.ownerId, removed.connectionId, { flowId, logicalName });
  }

  private async removeNow(caller: Caller, flowId: string, logicalName: string): Promise<StoredReference> {
    return retryOnConflict(async () => {
      const {
        snapshot,
        role: callerRole,
        permission: callerPermission,
      } = await readFlowAs(this.store, caller, flowId, 'writeConnectionReferences', { references: [logicalName] });
      const reference = snapshot.references.get(logicalName);
      let referenceOwnerRole: Role | undefined = callerRole;
      if (reference && reference.ownerId !== caller.principalId) {
        const owner = await this.store.read(caller.tenantId, flowId, [reference.ownerId]);
        referenceOwnerRole = owner.permissions.get(reference.ownerId)?.role;
      }
      decideRemoveReference({ callerId: caller.principalId, callerRole, reference, referenceOwnerRole });
      const at = this.now().toISOString();
      const change = this.store.change(caller.tenantId, flowId);
      change.unbind(reference!);
      change.stillHolds(callerPermission);
      change.audit(
        audited('referenceRemoved', caller, reference!, at, {
          connectorId: reference!.connectorId,
          ...(reference!.ownerId === caller.principalId ? {} : { referenceOwnerId: reference!.ownerId }),
        }),
      );
      await change.commit();
      return reference!;
    });
  }

  /**
   * Forgets a connection's use after its binding went; if a bind racing this
   * put it back meanwhile, the note is written again. Best effort: the notes
   * are checked against the reference whenever they are read.
   */
  private async forgetUse(tenantId: string, ownerId: string, connectionId: string, use: ConnectionUse): Promise<void> {
    try {
      await this.connections.removeUse(tenantId, ownerId, connectionId, use);
      const { references } = await this.store.read(tenantId, use.flowId, [], { references: [use.logicalName] });
      const now = references.get(use.logicalName);
      if (now?.ownerId === ownerId && now.connectionId === connectionId) {
        await this.connections.addUse(tenantId, ownerId, connectionId, use, this.now().toISOString());
      }
    } catch {
      // A stale or missing note only costs a check; the binding itself is in the flow.
    }
  }

  /** The bound connections of these references, by owner and id. */
  private async boundConnections(
    tenantId: string,
    references: ConnectionReference[],
  ): Promise<Map<string, StoredConnection>> {
    const found = await this.connections.getBound(tenantId, references);
    return new Map(found.map((c) => [boundKey({ ownerId: c.ownerId, connectionId: c.id }), c]));
  }
}

function boundKey(reference: { ownerId: string; connectionId: string }): string {
  return JSON.stringify([reference.ownerId, reference.connectionId]);
}

function plainReference(reference: StoredReference): ConnectionReference {
  const { etag: _etag, ...plain } = reference;
  return plain;
}
