// Connection references: a flow's named slots for one connector each, bound by
// their reference owner to a connection of theirs, and embedded (lent to the
// flow's other co-owners) only by that owner. Every rule about references is
// here. Pure: no I/O.
import type { ConnectionStatus } from './connections';
import { DomainError, notFound, validationFailed } from './errors';
import { authorize, type Role } from './roles';

export interface ConnectionReference {
  logicalName: string;
  connectorId: string;
  /** Who added it and bound it: the only one who may rebind, embed or remove it. */
  ownerId: string;
  connectionId: string;
  embedded: boolean;
  createdAt: string;
  modifiedAt: string;
}

/** What a viewer learns of the bound connection. */
export interface BoundConnection {
  id: string;
  displayName: string;
  status: ConnectionStatus;
}

/** A reference as one caller sees it (docs/shapes.md, Connection reference). */
export interface ReferenceView {
  logicalName: string;
  connectorId: string;
  ownerId: string;
  embedded: boolean;
  /** The bound connection's health; `Error` when it no longer exists. */
  status: ConnectionStatus;
  /** Only for the reference owner: the connection is theirs alone. */
  connection?: { id: string; displayName: string };
}

export function referenceView(
  reference: ConnectionReference,
  viewerId: string,
  bound: BoundConnection | undefined,
): ReferenceView {
  return {
    logicalName: reference.logicalName,
    connectorId: reference.connectorId,
    ownerId: reference.ownerId,
    embedded: reference.embedded,
    status: bound?.status ?? 'Error',
    ...(viewerId === reference.ownerId && bound
      ? { connection: { id: bound.id, displayName: bound.displayName } }
      : {}),
  };
}

/** Why a reference stopped being embedded; kept in the audit trail. */
export type UnembedReason = 'byOwner' | 'ownerRemoved' | 'connectionDeleted';

export type BindDecision =
  | { kind: 'add'; reference: ConnectionReference }
  | { kind: 'rebind'; from: string; reference: ConnectionReference }
  | { kind: 'unchanged'; reference: ConnectionReference };

export interface BindRequest {
  callerId: string;
  callerRole: Role | undefined;
  logicalName: string;
  current: ConnectionReference | undefined;
  connectorId: string;
  /** The caller's own connection with that id; undefined when they have none (or it is someone else's). */
  connection: { id: string; connectorId: string; status: ConnectionStatus } | undefined;
  at: string;
}

/** Adding a reference, or rebinding one, to a connection the caller owns. */
export function decideBind(request: BindRequest): BindDecision {
  const { callerId, current, connection, connectorId, at } = request;
  authorize(request.callerRole, 'writeConnectionReferences');
  if (current && current.ownerId !== callerId) throw notReferenceOwner();
  if (current && current.connectorId !== connectorId) {
    throw validationFailed([
      { field: 'connectorId', detail: `the reference ${current.logicalName} is for ${current.connectorId}` },
    ]);
  }
  // Someone else's connection is answered exactly like one that does not exist.
  if (!connection) throw validationFailed([{ field: 'connectionId', detail: 'is not a connection of yours' }]);
  if (connection.connectorId !== connectorId) {
    throw validationFailed([
      { field: 'connectionId', detail: `is a ${connection.connectorId} connection, not ${connectorId}` },
    ]);
  }
  if (!current) {
    return {
      kind: 'add',
      reference: {
        logicalName: request.logicalName,
        connectorId,
        ownerId: callerId,
        connectionId: connection.id,
        embedded: false,
        createdAt: at,
        modifiedAt: at,
      },
    };
  }
  if (current.connectionId === connection.id) return { kind: 'unchanged', reference: current };
  // An embedded reference stays embedded, so the connection it moves to must be usable.
  if (current.embedded && connection.status !== 'Connected') throw connectionUnavailable();
  return {
    kind: 'rebind',
    from: current.connectionId,
    reference: { ...current, connectionId: connection.id, modifiedAt: at },
  };
}

export interface EmbedRequest {
  callerId: string;
  callerRole: Role | undefined;
  reference: ConnectionReference | undefined;
  embedded: boolean;
  /** The status of the bound connection; undefined when it no longer exists. */
  connectionStatus: ConnectionStatus | undefined;
}

/** Embedding or unembedding: the reference owner only; embedding needs a Connected connection. */
export function decideEmbed(request: EmbedRequest): 'change' | 'unchanged' {
  const { reference } = request;
  authorize(request.callerRole, 'writeConnectionReferences');
  if (!reference) throw notFound('The connection reference');
  if (reference.ownerId !== request.callerId) throw notReferenceOwner();
  if (reference.embedded === request.embedded) return 'unchanged';
  if (request.embedded && request.connectionStatus !== 'Connected') throw connectionUnavailable();
  return 'change';
}

export interface RemoveReferenceRequest {
  callerId: string;
  callerRole: Role | undefined;
  reference: ConnectionReference | undefined;
  /** The reference owner's role on the flow now. */
  referenceOwnerRole: Role | undefined;
}

/**
 * Removing a reference: its owner, or the flow owner once the reference owner
 * can no longer manage the flow (removed, or now only a user).
 */
export function decideRemoveReference(request: RemoveReferenceRequest): void {
  const { reference, callerRole } = request;
  authorize(callerRole, 'writeConnectionReferences');
  if (!reference) throw notFound('The connection reference');
  if (reference.ownerId === request.callerId) return;
  const ownerLostAccess = request.referenceOwnerRole !== 'owner' && request.referenceOwnerRole !== 'coOwner';
  if (callerRole === 'owner' && ownerLostAccess) return;
  throw notReferenceOwner();
}

/**
 * The references to unembed when a person's role on a flow changes: a person
 * who is no longer a co-owner (or owner) no longer lends the flow their data.
 */
export function referencesToUnembed<T extends ConnectionReference>(
  references: T[],
  principalId: string,
  newRole: Role | undefined,
): T[] {
  if (newRole === 'owner' || newRole === 'coOwner') return [];
  return references.filter((r) => r.ownerId === principalId && r.embedded);
}

/**
 * References a role change could not unembed in its own transaction (one
 * holds 100 changes), named in rows written in that same transaction and
 * unembedded after it by whoever gets there first: the role change itself,
 * or the sweep (functions/sweep.ts).
 */
export interface PendingUnembedding {
  /** Unique within the flow. */
  id: string;
  /** Whose references: the person who is no longer an owner or co-owner. */
  principalId: string;
  /** Who changed their role: the actor of the audit entries. */
  actorId: string;
  at: string;
  logicalNames: string[];
}

/** Whether a pending unembedding names this reference, as its owner's. */
export function namesReference(pending: PendingUnembedding, reference: ConnectionReference): boolean {
  return pending.principalId === reference.ownerId && pending.logicalNames.includes(reference.logicalName);
}

/**
 * The references as they lend their connections now, which is what every use
 * of an embedding goes by (the run prompt, attended runs, cloud readiness,
 * the cloud-run processor, the list of references): one a pending
 * unembedding names is not embedded, whatever its row still says. Its owner
 * lost co-ownership when it was named, and sharing the flow with them again
 * does not lend it again; only embedding it again does (see setEmbedded).
 */
export function asLent<T extends ConnectionReference>(
  references: Iterable<T>,
  pending: readonly PendingUnembedding[],
): T[] {
  const withheld = new Set(pending.flatMap((p) => p.logicalNames.map((name) => JSON.stringify([p.principalId, name]))));
  return [...references].map((r) =>
    r.embedded && withheld.has(JSON.stringify([r.ownerId, r.logicalName])) ? { ...r, embedded: false } : r,
  );
}

/** What finishing a pending unembedding still has to unembed: what it names, still embedded and its person's. */
export function stillToUnembed<T extends ConnectionReference>(
  pending: PendingUnembedding,
  references: ReadonlyMap<string, T>,
): T[] {
  return pending.logicalNames.flatMap((name) => {
    const reference = references.get(name);
    return reference?.embedded && namesReference(pending, reference) ? [reference] : [];
  });
}

function notReferenceOwner(): DomainError {
  return new DomainError(
    'NotReferenceOwner',
    'Only the reference owner may change or remove this connection reference.',
  );
}

function connectionUnavailable(): DomainError {
  return new DomainError(
    'ConnectionUnavailable',
    'Embedding needs a Connected connection; refresh or reconnect it first.',
  );
}
