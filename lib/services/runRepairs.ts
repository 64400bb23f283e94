// The run-repair sweep: runs that storage left behind, repaired on a timer so
// that reading a run never writes. Every run's flow is noted before the run is
// recorded (RunRecords), so the sweep looks only at noted flows' runs still
// Queued, and does what lib/domain/runLifecycle.ts says each needs. Safe on
// several instances at once: every write is conditional on the ETag read.
import { repairOf } from '../domain/runLifecycle';
import { ConcurrencyConflict } from '../storage/errors';
import type { FlowStore, StoredRun } from '../storage/flows';
import type { PendingWork } from '../storage/pendingWork';
import type { RunQueues } from '../storage/runQueues';
import { NOTE_KEPT_MS, type RunRecords } from './runRecords';

export interface RunRepairOutcome {
  /** Noted flows looked at. */
  flows: number;
  /** Runs repaired: settled, asked for again, or failed. */
  repaired: number;
  /** Flows whose repair failed this time (a later sweep tries again). */
  failed: Array<{ flowId: string; reason: string }>;
}

export class RunRepairs {
  constructor(
    private readonly store: FlowStore,
    private readonly records: RunRecords,
    private readonly queues: RunQueues,
    private readonly notes: PendingWork,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async sweep(): Promise<RunRepairOutcome> {
    const noted = await this.notes.list();
    const outcome: RunRepairOutcome = { flows: noted.length, repaired: 0, failed: [] };
    for (const note of noted) {
      try {
        const queued = await this.store.queuedRuns(note.tenantId, note.flowId);
        for (const run of queued) if (await this.repairUnlessMoved(run)) outcome.repaired++;
        // Nothing left that may need repair, and no run is being recorded under this note.
        if (queued.length === 0 && Date.parse(note.notedAt) < this.now().getTime() - NOTE_KEPT_MS) {
          await this.notes.forget(note);
        }
      } catch (error) {
        outcome.failed.push({ flowId: note.flowId, reason: error instanceof Error ? error.name : String(error) });
      }
    }
    return outcome;
  }

  /** A run another sweep or the processor moved on since it was read is theirs. */
  private async repairUnlessMoved(run: StoredRun): Promise<boolean> {
    try {
      return await this.repair(run);
    } catch (error) {
      if (error instanceof ConcurrencyConflict) return false;
      throw error;
    }
  }

  /** Repairs one run if it needs it now; answers whether it did. */
  private async repair(run: StoredRun): Promise<boolean> {
    const repair = repairOf(run, this.now());
    switch (repair.kind) {
      case 'none':
        return false;
      case 'settleAttended':
        // Its dispatch may be on the queue after all (only the answer to its send was lost).
        if (await this.queues.holdsDispatch(run.id)) await this.records.finish(run, { status: 'Dispatched' });
        else await this.records.markFailed(run, 'The run was never dispatched: storage failed while it started.');
        return true;
      case 'requestAgain':
        // The conditional write decides which sweep asks: a rival's makes this one's fail (ConcurrencyConflict).
        await this.records.write(run, { ...run, requestedAgainAt: this.now().toISOString() });
        await this.queues.requestCloudRun(run);
        return true;
      case 'fail':
        await this.records.markFailed(run, repair.detail);
        return true;
    }
  }
}
