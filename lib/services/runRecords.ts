// The run record, shared by the request-time use cases, the cloud-run
// processor and the run-repair sweep: recording a new run (its flow noted for
// the sweep first), writing a run's next state over the one read, and moving
// it to a final status as the lifecycle allows (lib/domain/runLifecycle.ts).
import type { Caller } from '../domain/caller';
import { notFound } from '../domain/errors';
import type { AuditEntry } from '../domain/flows';
import { lapsedStatus } from '../domain/leases';
import { canMove, isFinal } from '../domain/runLifecycle';
import { parseRunId, runId, type Run, type RunError } from '../domain/runs';
import { ConcurrencyConflict } from '../storage/errors';
import type { FlowStore, StoredRun } from '../storage/flows';
import type { PendingWork } from '../storage/pendingWork';
import { newId } from './ids';
import { retryOnConflict } from './retry';

/**
 * A flow this process noted within this long is not noted again: the sweep
 * forgets a note only when it is older than NOTE_KEPT_MS and the flow has no
 * run left Queued, and a run recorded under a note this fresh lands long
 * before that.
 */
const NOTE_REUSED_MS = 2 * 60_000;
/** How old a note must be before the sweep may forget it (see NOTE_REUSED_MS). */
export const NOTE_KEPT_MS = 5 * 60_000;
/** How many noted flows this process remembers. */
const NOTES_REMEMBERED = 10_000;

/** What a new run is, beyond who asked for it and when: recorded Queued (cloud) or Running (attended). */
export type RunStart = Pick<Run, 'mode' | 'status' | 'connections'> &
  Partial<Pick<Run, 'machineId' | 'inputsJson' | 'leaseId' | 'leaseExpiresAt' | 'startedAt'>>;

/** The audit entry of a change to a run: who, and what is said of it (its action follows from the status). */
export interface RunAudit {
  actorId: string;
  details?: AuditEntry['details'];
}

/** Which audit action a run's end is recorded as; ends by the service's own processing are not audited. */
function endAction(status: Run['status']): AuditEntry['action'] | undefined {
  if (status === 'Succeeded' || status === 'Failed') return 'runCompleted';
  if (status === 'Cancelled') return 'runCancelled';
  if (status === 'TimedOut') return 'runTimedOut';
  return undefined;
}

export class RunRecords {
  /** When this process last noted each flow, by tenant and flow. */
  private readonly noted = new Map<string, number>();

  constructor(
    private readonly store: FlowStore,
    private readonly notes: PendingWork,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Writes a new run with its "run started" audit entry, in one transaction.
   * Its flow is noted for the run-repair sweep before, so a run that storage
   * leaves behind, or whose lease lapses, is always found.
   */
  async record(caller: Caller, flowId: string, start: RunStart, at: Date = this.now()): Promise<StoredRun> {
    await this.note(caller.tenantId, flowId, at);
    const run: Run = {
      ...start,
      tenantId: caller.tenantId,
      flowId,
      id: runId(flowId, newId(at)),
      initiatedBy: caller.principalId,
      createdAt: at.toISOString(),
    };
    const change = this.store.change(caller.tenantId, flowId);
    const recorded = change.recordRun(run, undefined);
    change.audit({
      action: 'runStarted',
      actorId: caller.principalId,
      at: run.createdAt,
      subjectId: run.id,
      details: { mode: run.mode, ...(run.machineId ? { machineId: run.machineId } : {}) },
    });
    await change.commit();
    return { ...run, etag: recorded.version };
  }

  get(tenantId: string, flowId: string, runUuid: string): Promise<StoredRun | undefined> {
    return this.store.getRun(tenantId, flowId, runUuid);
  }

  /**
   * Writes the run's next state over the run as read, with the audit entry
   * of its end if it ends (and `audit` says who); ConcurrencyConflict when it
   * changed since.
   */
  async write(current: StoredRun, next: Run, audit?: RunAudit): Promise<StoredRun> {
    const change = this.store.change(next.tenantId, next.flowId);
    const recorded = change.recordRun(next, current);
    const action = audit && next.status !== current.status ? endAction(next.status) : undefined;
    if (audit && action) {
      change.audit({
        action,
        actorId: audit.actorId,
        at: next.completedAt ?? this.now().toISOString(),
        subjectId: next.id,
        ...(audit.details ? { details: audit.details } : {}),
      });
    }
    await change.commit();
    return { ...next, etag: recorded.version };
  }

  /**
   * Moves a run on (to a final status, or Dispatched), if the lifecycle lets it go there from
   * where it is: final is final, and a run claimed for dispatch is no longer
   * the rejecter's. A concurrent change is read again (the later writer
   * agrees). `final` may carry what the run ended with (outputs, results).
   */
  async finish(run: StoredRun, final: Partial<Run> & Pick<Run, 'status'>, audit?: RunAudit): Promise<StoredRun> {
    let current: StoredRun | undefined = run;
    return retryOnConflict(async () => {
      current ??= await this.store.getRun(run.tenantId, run.flowId, parseRunId(run.id)!.uuid);
      if (!current) throw notFound('The run');
      if (isFinal(current.status) || !canMove(current.status, final.status)) return current;
      const attempt = current;
      current = undefined;
      const ended = isFinal(final.status) ? { completedAt: this.now().toISOString() } : {};
      return this.write(attempt, { ...attempt, ...final, ...ended }, audit);
    });
  }

  /**
   * Ends a run whose lease lapsed (TimedOut, or Cancelled if asked), or that
   * no machine leased in time (TimedOut): for a call with its token that
   * found it so, and for the sweep. Answers whether this write ended it; one
   * lost to a concurrent change leaves the run to that change.
   */
  async endUnleased(run: StoredRun): Promise<boolean> {
    const running = run.status === 'Running';
    const status = running ? lapsedStatus(run) : 'TimedOut';
    if (!canMove(run.status, status)) return false;
    const error: RunError = running
      ? { code: 'LeaseExpired', detail: 'Its lease was not renewed in time: its executor stopped or lost touch.' }
      : { code: 'NotLeased', detail: 'No machine leased it in time: its machine is away, or was deleted.' };
    try {
      await this.write(
        run,
        {
          ...run,
          status,
          ...(status === 'TimedOut' ? { errors: [error] } : {}),
          completedAt: this.now().toISOString(),
        },
        { actorId: run.cancelRequestedBy ?? run.initiatedBy, details: { reason: error.code } },
      );
      return true;
    } catch (failure) {
      if (failure instanceof ConcurrencyConflict) return false;
      throw failure;
    }
  }

  markFailed(run: StoredRun, detail: string): Promise<StoredRun> {
    return this.finish(run, { status: 'Failed', errors: [{ code: 'ProcessingFailed', detail }] });
  }

  private async note(tenantId: string, flowId: string, at: Date): Promise<void> {
    const key = JSON.stringify([tenantId, flowId]);
    const last = this.noted.get(key);
    if (last !== undefined && at.getTime() - last < NOTE_REUSED_MS) return;
    await this.notes.note(tenantId, flowId, at.toISOString());
    this.noted.delete(key);
    // A Map iterates in insertion order: the first key is the longest remembered.
    if (this.noted.size >= NOTES_REMEMBERED) this.noted.delete(this.noted.keys().next().value!);
    this.noted.set(key, at.getTime());
  }
}
