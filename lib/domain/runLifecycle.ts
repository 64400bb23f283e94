// The run lifecycle as rules: the statuses a run goes through, which status
// may follow which, and the timing windows that decide when a run left behind
// is repaired (docs/domain.md, "Runs"). Pure: no I/O, no clock of its own.
//
//   attended:  Running (recorded with its lease, for the console that asked)
//   cloud:     Queued -> Dispatching -> Dispatched  (the processor claims, then dispatches to the machine)
//              Queued -> Rejected                   (the processor's checks fail)
//              Dispatching -> Queued                (a claim given back: a reference changed)
//              Dispatched -> Running                (the machine's lease)
//   Running -> Succeeded | Failed                   (the machine completes it)
//   not yet Running -> Cancelled                    (cancelled at once)
//   Running -> Cancelled                            (cancel asked, then completed or lapsed)
//   Dispatched | Running -> TimedOut                (never leased, or its lease lapsed)
//   Queued | Dispatching -> Failed                  (storage lost it, or processing kept failing)

export const RUN_STATUSES = [
  'Queued',
  'Dispatching',
  'Dispatched',
  'Running',
  'Succeeded',
  'Failed',
  'Cancelled',
  'TimedOut',
  'Rejected',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** `Dispatching` is internal: claimed by the processor, shown as `Queued`. */
export type PublicRunStatus = Exclude<RunStatus, 'Dispatching'>;
export const PUBLIC_RUN_STATUSES = RUN_STATUSES.filter((s): s is PublicRunStatus => s !== 'Dispatching');

/** Each status, and the statuses that may follow it. A final status has none. */
export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  Queued: ['Dispatching', 'Rejected', 'Failed', 'Cancelled'],
  // Once claimed, a run is no longer the rejecter's to decide: its dispatch may be on its way.
  Dispatching: ['Dispatched', 'Queued', 'Failed', 'Cancelled'],
  Dispatched: ['Running', 'Cancelled', 'TimedOut'],
  // Never back: a run executes at most once, so nothing leases it again.
  Running: ['Succeeded', 'Failed', 'Cancelled', 'TimedOut'],
  Succeeded: [],
  Failed: [],
  Cancelled: [],
  TimedOut: [],
  Rejected: [],
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

/** The timing windows of the lifecycle (a lease's own length is a setting, RUN_LEASE_SECONDS). */
export const RUN_WINDOWS = {
  /** A claim younger than this may be dispatching right now: another delivery waits. */
  claimLeaseMs: 5_000,
  /** An attended run is recorded Running; one still Queued this long after (older code) is Failed. */
  staleAttendedMs: 60_000,
  /** A cloud run still Queued this long after it was (last) requested may have lost its request. */
  staleCloudMs: 2 * 60_000,
  /** A cloud run nobody processed within this is Failed, not started behind its requester's back. */
  cloudRequestWindowMs: 15 * 60_000,
  /** A cloud run its machine did not lease within this of its request is TimedOut (the machine is away). */
  leaseWaitMs: 60 * 60_000,
} as const;

/** What a run left behind needs, as the repair sweep sees it. */
export type RunRepair =
  /** Nothing: it is final, moving, or not old enough. */
  | { kind: 'none' }
  /** A cloud run whose request may be lost: put the request on the queue again (processing is idempotent). */
  | { kind: 'requestAgain' }
  /** A run nobody processed within its window. */
  | { kind: 'fail'; detail: string }
  /** A run whose lease lapsed, or that no machine leased in time (see leases.ts). */
  | { kind: 'lapse' };

export interface RepairFacts {
  mode: 'attended' | 'cloud';
  status: RunStatus;
  createdAt: string;
  /** When a cloud run's request was last put on the queue again. */
  requestedAgainAt?: string;
  /** Until when a Running run's lease holds. */
  leaseExpiresAt?: string;
}

/** What, if anything, the sweep should do for a run now. */
export function repairOf(run: RepairFacts, now: Date): RunRepair {
  const age = now.getTime() - Date.parse(run.createdAt);
  switch (run.status) {
    case 'Queued':
      if (run.mode === 'attended') {
        return age > RUN_WINDOWS.staleAttendedMs
          ? { kind: 'fail', detail: 'The run was never started: storage failed while it started.' }
          : { kind: 'none' };
      }
      if (age > RUN_WINDOWS.cloudRequestWindowMs) {
        return { kind: 'fail', detail: 'The run was never processed: its request was lost.' };
      }
      return now.getTime() - Date.parse(run.requestedAgainAt ?? run.createdAt) > RUN_WINDOWS.staleCloudMs
        ? { kind: 'requestAgain' }
        : { kind: 'none' };
    case 'Dispatched':
      return age > RUN_WINDOWS.leaseWaitMs ? { kind: 'lapse' } : { kind: 'none' };
    case 'Running':
      return leaseLapsedAt(run.leaseExpiresAt, now) ? { kind: 'lapse' } : { kind: 'none' };
    default:
      return { kind: 'none' };
  }
}

/** A lease lapses at its expiry: from then on its run is over (TimedOut, or Cancelled if asked). */
export function leaseLapsedAt(leaseExpiresAt: string | undefined, now: Date): boolean {
  return leaseExpiresAt === undefined || Date.parse(leaseExpiresAt) <= now.getTime();
}
