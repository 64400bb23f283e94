// Leases, run tokens and cancelling, as rules (docs/domain.md, "Leases and
// run tokens"): whether a call made with a run token is accepted, what a
// lease that lapsed becomes, who may cancel a run and what cancelling does.
// Pure: no I/O, no clock of its own.
import { DomainError, notFound } from './errors';
import { RawJson } from './rawJson';
import { can, type Role } from './roles';
import { canMove, isFinal, leaseLapsedAt, publicStatus, type PublicRunStatus, type RunStatus } from './runLifecycle';
import { runView, type Run, type RunView } from './runs';

/**
 * What a run token says, once opened: the run it is for and the lease it was
 * issued with. It names no connection and holds no secret of anyone's.
 */
export interface RunTokenClaims {
  tenantId: string;
  flowId: string;
  runId: string;
  /** On whose behalf it runs: a call can read their permission with the flow and the run, in one query. */
  initiatedBy: string;
  leaseId: string;
}

/** What the rules need of a run, as read. */
export interface LeasedRunFacts {
  id: string;
  initiatedBy: string;
  status: RunStatus;
  leaseId?: string;
  leaseExpiresAt?: string;
  cancelRequestedBy?: string;
}

export type RunCallVerdict =
  /** The run is Running under this token's lease, which holds: go on. */
  | { kind: 'accepted' }
  /** Not this run's token (another run, another lease), or no such run: 401. */
  | { kind: 'refused' }
  /**
   * The run is over: it ended, or its lease lapsed just now (`lapsed`), in
   * which case the caller records `status` (the sweep would otherwise).
   */
  | { kind: 'ended'; status: PublicRunStatus; lapsed: boolean };

/** Whether a run, as read now, accepts a call made with a token carrying `claims`. */
export function runCallVerdict(run: LeasedRunFacts | undefined, claims: RunTokenClaims, now: Date): RunCallVerdict {
  if (
    !run ||
    run.id !== claims.runId ||
    run.initiatedBy !== claims.initiatedBy ||
    run.leaseId === undefined ||
    run.leaseId !== claims.leaseId
  ) {
    return { kind: 'refused' };
  }
  if (run.status !== 'Running') return { kind: 'ended', status: publicStatus(run.status), lapsed: false };
  if (leaseLapsedAt(run.leaseExpiresAt, now)) return { kind: 'ended', status: lapsedStatus(run), lapsed: true };
  return { kind: 'accepted' };
}

/** What a run becomes when its lease lapses, or no machine leased it in time. */
export function lapsedStatus(run: Pick<LeasedRunFacts, 'cancelRequestedBy'>): 'Cancelled' | 'TimedOut' {
  return run.cancelRequestedBy !== undefined ? 'Cancelled' : 'TimedOut';
}

/** What a completed run becomes: what its machine reports, unless someone asked to cancel it. */
export function completedStatus(
  run: Pick<LeasedRunFacts, 'cancelRequestedBy'>,
  reported: 'Succeeded' | 'Failed',
): 'Succeeded' | 'Failed' | 'Cancelled' {
  return run.cancelRequestedBy !== undefined ? 'Cancelled' : reported;
}

/** The answer to a call with a run token after its run ended (409, naming how it ended). */
export function runEnded(status: PublicRunStatus): DomainError {
  return new DomainError('RunEnded', `The run has ended: it is ${status}.`, { runStatus: status });
}

/** A lease from `now`, for `leaseMs`. */
export function leaseUntil(now: Date, leaseMs: number): string {
  return new Date(now.getTime() + leaseMs).toISOString();
}

export type CancelDecision =
  /** Not leased yet: Cancelled at once. */
  | { kind: 'cancelNow' }
  /** Running: its machine is told at its next heartbeat; it is Cancelled when it completes or lapses. */
  | { kind: 'askMachine' }
  /** Asked already, or Cancelled already: nothing changes. */
  | { kind: 'unchanged' };

/**
 * Who may cancel a run, and what cancelling it does now. Its initiator, the
 * flow's owner and co-owners may; another role gets 403, and a stranger 404
 * (a stranger never learns a run exists).
 */
export function decideCancel(role: Role | undefined, callerId: string, run: LeasedRunFacts): CancelDecision {
  if (role === undefined) throw notFound('The run');
  if (callerId !== run.initiatedBy && !can(role, 'cancelRun')) {
    throw new DomainError('Forbidden', `The ${role} role does not allow cancelling someone else's run.`);
  }
  if (run.status === 'Cancelled') return { kind: 'unchanged' };
  if (isFinal(run.status)) throw runEnded(publicStatus(run.status));
  if (run.status === 'Running')
    return run.cancelRequestedBy !== undefined ? { kind: 'unchanged' } : { kind: 'askMachine' };
  if (!canMove(run.status, 'Cancelled')) throw new Error(`a ${run.status} run cannot be cancelled`);
  return { kind: 'cancelNow' };
}

/**
 * A lease (docs/shapes.md, Lease): what its executor needs to run a run,
 * and the run token it calls with. The references name connectors only:
 * which connection serves each is flowshare's business, at each call.
 */
export interface LeaseView {
  run: RunView;
  definition: RawJson;
  inputs: RawJson;
  references: Array<{ logicalName: string; connectorId: string }>;
  token: string;
  leaseExpiresAt: string;
}

export function leaseView(
  run: Run,
  viewer: { id: string; role: Role },
  definitionJson: string,
  /** The connector of each of the flow's references, by logical name. */
  connectorOf: ReadonlyMap<string, string>,
  token: string,
): LeaseView {
  const references = Object.keys(run.connections).flatMap((logicalName) => {
    const connectorId = connectorOf.get(logicalName);
    return connectorId === undefined ? [] : [{ logicalName, connectorId }];
  });
  return {
    run: runView(run, viewer.id, viewer.role),
    definition: new RawJson(definitionJson),
    inputs: new RawJson(run.inputsJson ?? '{}'),
    references,
    token,
    leaseExpiresAt: run.leaseExpiresAt!,
  };
}
