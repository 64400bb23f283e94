// Which connection a connector call may use, decided again at the moment of
// the call (docs/gateway.md): a run's call uses the connection its run was
// given for that reference, and only while the sharing rules still allow it;
// a maker's design-time call uses the reference's connection when it is
// theirs or embedded. Pure: no I/O.
import type { ConnectionStatus } from './connections';
import { DomainError, notFound, validationFailed } from './errors';
import type { ConnectionReference } from './references';
import { authorize, can, type Role } from './roles';
import type { Run } from './runs';

/** The connection a call goes through, and whose it is. */
export interface CallConnection {
  connectionId: string;
  ownerId: string;
}

export interface RunCallFacts {
  run: Pick<Run, 'mode' | 'initiatedBy' | 'connections'>;
  logicalName: string;
  /** The reference now, as lent (a pending unembedding counts as not embedded); undefined when removed. */
  reference: ConnectionReference | undefined;
  /** The role of the run's initiator on the flow now. */
  initiatorRole: Role | undefined;
}

/**
 * The connection a run's call may use now. A connection brought to an
 * attended run must still be its person's, and that person still on the
 * flow; an embedded one must still be embedded on this flow, bound to the
 * same connection, and its user still an owner or co-owner. A cloud run has
 * embedded connections only.
 */
export function runCallConnection(facts: RunCallFacts): CallConnection {
  const given = Object.hasOwn(facts.run.connections, facts.logicalName)
    ? facts.run.connections[facts.logicalName]
    : undefined;
  if (!given) {
    throw validationFailed([{ field: 'connectionReference', detail: 'is not a connection reference of this run' }]);
  }
  const { reference, initiatorRole } = facts;
  if (given.source === 'own') {
    if (facts.run.mode !== 'attended' || given.ownerId !== facts.run.initiatedBy || !initiatorRole) {
      throw notAllowed('the person running it no longer has access to this flow');
    }
  } else {
    if (!reference?.embedded || reference.connectionId !== given.connectionId || reference.ownerId !== given.ownerId) {
      throw notAllowed('the connection is no longer embedded in this flow');
    }
    if (!can(initiatorRole, 'runCloud')) {
      throw notAllowed('the person running it is no longer an owner or co-owner of this flow');
    }
  }
  return { connectionId: given.connectionId, ownerId: given.ownerId };
}

export interface DesignCallFacts {
  callerId: string;
  callerRole: Role | undefined;
  /** The reference now, as lent; undefined when there is none. */
  reference: ConnectionReference | undefined;
  /** Whether the catalog marks the operation as a read. */
  operationReads: boolean;
}

/**
 * The connection a maker's design-time call may use: the reference's, when
 * the caller owns the reference or it is embedded. Only reads: a maker tries
 * an action to see what it answers, never to change what it reaches.
 */
export function designCallConnection(facts: DesignCallFacts): CallConnection {
  authorize(facts.callerRole, 'callConnectorAtDesignTime');
  const { reference } = facts;
  if (!reference) throw notFound('The connection reference');
  if (!facts.operationReads) {
    throw validationFailed([{ field: 'operationId', detail: 'is not a read: only reads can be tried at design time' }]);
  }
  if (reference.ownerId !== facts.callerId && !reference.embedded) {
    throw notAllowed('the connection is not embedded in this flow, and it is not yours');
  }
  return { connectionId: reference.connectionId, ownerId: reference.ownerId };
}

/** The connection as read for the call: it must still exist, be its owner's, and be Connected. */
export function checkCallConnection(
  chosen: CallConnection,
  found: { ownerId: string; status: ConnectionStatus } | undefined,
): void {
  if (!found || found.ownerId !== chosen.ownerId) throw notAllowed('the connection no longer exists');
  if (found.status !== 'Connected') throw notAllowed(`the connection is ${found.status}, not Connected`);
}

function notAllowed(why: string): DomainError {
  return new DomainError('ConnectionNotAllowed', `This call may not use that connection: ${why}.`);
}
