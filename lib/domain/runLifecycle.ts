// The run lifecycle as rules: the statuses a run goes through, which status
// may follow which, and the timing windows that decide when a run left behind
// is repaired (docs/domain.md, "Runs"). Pure: no I/O, no clock of its own.
//
//   attended:  Queued -> Dispatched                 (dispatched within its request)
//   cloud:     Queued -> Dispatching -> Dispatched  (the processor claims, then sends)
//              Queued -> Rejected                   (the processor's checks fail)
//              Dispatching -> Queued                (a claim given back: a reference changed)
//   any not final -> Failed                         (storage lost it, or processing kept failing)

export const RUN_STATUSES = ['Queued', 'Dispatching', 'Dispatched', 'Rejected', 'Failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** `Dispatching` is internal: claimed by the processor, shown as `Queued`. */
export type PublicRunStatus = Exclude<RunStatus, 'Dispatching'>;

/** Each status, and the statuses that may follow it. A final status has none. */
export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  Queued: ['Dispatching', 'Dispatched', 'Rejected', 'Failed'],
  // Once claimed, a run is no longer the rejecter's to decide: its dispatch may be on its way.
  Dispatching: ['Dispatched', 'Queued', 'Failed'],
  Dispatched: [],
  Rejected: [],
  Failed: [],
};

export function isFinal(status: RunStatus): boolean {
  return RUN_TRANSITIONS[status].length === 0;
}

export function canMove(from: RunStatus, to: RunStatus): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

export function publicStatus(status: RunStatus): PublicRunStatus {
  return status === 'Dispatching' ? 'Queued' : status;
}

/** The timing windows of the lifecycle. */
export const RUN_WINDOWS = {
  /** A claim younger than this may be sending its dispatch right now: another delivery waits. */
  claimLeaseMs: 5_000,
  /** An attended run is dispatched within its request: still Queued this long after, it lost its dispatch. */
  staleAttendedMs: 60_000,
  /** A cloud run still Queued this long after it was (last) requested may have lost its request. */
  staleCloudMs: 2 * 60_000,
  /** A cloud run nobody processed within this is Failed, not started behind its requester's back. */
  cloudRequestWindowMs: 15 * 60_000,
} as const;

/** What a run left behind needs, as the repair sweep sees it. */
export type RunRepair =
  /** Nothing: it is final, moving, or not old enough. */
  | { kind: 'none' }
  /** An attended run that lost its dispatch: Dispatched if its dispatch is on the queue after all, else Failed. */
  | { kind: 'settleAttended' }
  /** A cloud run whose request may be lost: put the request on the queue again (processing is idempotent). */
  | { kind: 'requestAgain' }
  /** A cloud run nobody processed within its window. */
  | { kind: 'fail'; detail: string };

export interface RepairFacts {
  mode: 'attended' | 'cloud';
  status: RunStatus;
  createdAt: string;
  /** When a cloud run's request was last put on the queue again. */
  requestedAgainAt?: string;
}

/** What, if anything, the sweep should do for a run now. */
export function repairOf(run: RepairFacts, now: Date): RunRepair {
  if (run.status !== 'Queued') return { kind: 'none' };
  const age = now.getTime() - Date.parse(run.createdAt);
  if (run.mode === 'attended') {
    return age > RUN_WINDOWS.staleAttendedMs ? { kind: 'settleAttended' } : { kind: 'none' };
  }
  if (age > RUN_WINDOWS.cloudRequestWindowMs) {
    return { kind: 'fail', detail: 'The run was never processed: its request was lost.' };
  }
  const asked = Date.parse(run.requestedAgainAt ?? run.createdAt);
  return now.getTime() - asked > RUN_WINDOWS.staleCloudMs ? { kind: 'requestAgain' } : { kind: 'none' };
}

/** The longest a run can be left needing repair: a note about its flow may be forgotten after this. */
export const REPAIR_HORIZON_MS = RUN_WINDOWS.cloudRequestWindowMs + RUN_WINDOWS.staleCloudMs;
