// The run record, shared by the request-time use cases, the cloud-run
// processor and the run-repair sweep: recording a new run (its flow noted for
// the sweep first), writing a run's next state over the one read, and moving
// it to a final status as the lifecycle allows (lib/domain/runLifecycle.ts).
import type { Caller } from '../domain/caller';
import { notFound } from '../domain/errors';
import { canMove, isFinal } from '../domain/runLifecycle';
import { parseRunId, runId, type Run } from '../domain/runs';
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

export class RunRecords {
  /** When this process last noted each flow, by tenant and flow. */
  private readonly noted = new Map<string, number>();

  constructor(
    private readonly store: FlowStore,
    private readonly notes: PendingWork,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Writes a new run as Queued with its "run started" audit entry, in one
   * transaction. Its flow is noted for the run-repair sweep before, so a run
   * that storage leaves behind is always found.
   */
  async record(caller: Caller, flowId: string, mode: Run['mode'], connections: Run['connections']): Promise<StoredRun> {
    const at = this.now();
    await this.note(caller.tenantId, flowId, at);
    const run: Run = {
      tenantId: caller.tenantId,
      flowId,
      id: runId(flowId, newId(at)),
      mode,
      status: 'Queued',
      initiatedBy: caller.principalId,
      connections,
      createdAt: at.toISOString(),
    };
    const change = this.store.change(caller.tenantId, flowId);
    const recorded = change.recordRun(run, undefined);
    change.audit({
      action: 'runStarted',
      actorId: caller.principalId,
      at: run.createdAt,
      subjectId: run.id,
      details: { mode },
    });
    await change.commit();
    return { ...run, etag: recorded.version };
  }

  get(tenantId: string, flowId: string, runUuid: string): Promise<StoredRun | undefined> {
    return this.store.getRun(tenantId, flowId, runUuid);
  }

  /** Writes the run's next state over the run as read; ConcurrencyConflict when it changed since. */
  async write(current: StoredRun, next: Run): Promise<StoredRun> {
    const change = this.store.change(next.tenantId, next.flowId);
    const recorded = change.recordRun(next, current);
    await change.commit();
    return { ...next, etag: recorded.version };
  }

  /**
   * Moves a run to a final status, if the lifecycle lets it go there from
   * where it is: final is final, and a run claimed for dispatch is no longer
   * the rejecter's. A concurrent change is read again (the later writer agrees).
   */
  async finish(run: StoredRun, final: Pick<Run, 'status' | 'errors'>): Promise<StoredRun> {
    let current: StoredRun | undefined = run;
    return retryOnConflict(async () => {
      current ??= await this.store.getRun(run.tenantId, run.flowId, parseRunId(run.id)!.uuid);
      if (!current) throw notFound('The run');
      if (isFinal(current.status) || !canMove(current.status, final.status)) return current;
      const attempt = current;
      current = undefined;
      return this.write(attempt, { ...attempt, ...final, completedAt: this.now().toISOString() });
    });
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
