// The run-repair sweep: runs that storage left behind, and runs whose lease
// lapsed, repaired on a timer so that reading a run never writes. Every run's
// flow is noted before the run is recorded (RunRecords), so the sweep looks
// only at noted flows' runs not yet final, and does what
// lib/domain/runLifecycle.ts says each needs. Safe on several instances at
// once: every write is conditional on the ETag read.
import { repairOf } from '../domain/runLifecycle';
import { ConcurrencyConflict } from '../storage/errors';
import type { FlowStore, StoredRun } from '../storage/flows';
import type { PendingWork } from '../storage/pendingWork';
import type { RunQueues } from '../storage/runQueues';
import { consoleLog, type Log } from '../log';
import { NOTE_KEPT_MS, type RunRecords } from './runRecords';

export interface RunRepairOutcome {
  /** Noted flows looked at. */
  flows: number;
  /** Runs repaired: asked for again, failed, or ended for want of a lease. */
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

  async sweep(log: Log = consoleLog): Promise<RunRepairOutcome> {
    const noted = await this.notes.list();
    const outcome: RunRepairOutcome = { flows: noted.length, repaired: 0, failed: [] };
    for (const note of noted) {
      try {
        const active = await this.store.activeRuns(note.tenantId, note.flowId);
        for (const run of active) if (await this.repairUnlessMoved(run, log)) outcome.repaired++;
        // Nothing left that may need repair, and no run is being recorded under this note.
        if (active.length === 0 && Date.parse(note.notedAt) < this.now().getTime() - NOTE_KEPT_MS) {
          await this.notes.forget(note);
        }
      } catch (error) {
        outcome.failed.push({ flowId: note.flowId, reason: error instanceof Error ? error.name : String(error) });
      }
    }
    return outcome;
  }

  /** A run another sweep or the processor moved on since it was read is theirs. */
  private async repairUnlessMoved(run: StoredRun, log: Log): Promise<boolean> {
    try {
      return await this.repair(run, log);
    } catch (error) {
      if (error instanceof ConcurrencyConflict) return false;
      throw error;
    }
  }

  /** Repairs one run if it needs it now; answers whether it did. */
  private async repair(run: StoredRun, log: Log): Promise<boolean> {
    const repair = repairOf(run, this.now());
    switch (repair.kind) {
      case 'none':
        return false;
      case 'lapse': {
        const ended = await this.records.endUnleased(run);
        if (ended) log.info('a run ended for want of a lease', { flowId: run.flowId, runId: run.id });
        return ended;
      }
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
