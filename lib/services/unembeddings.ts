// Finishing what a role change could not do in its own transaction: it
// unembeds up to 48 of a former co-owner's references there and names the
// rest in pending-unembedding rows of the same transaction (which already
// make them count as not embedded, see asLent). Right after it commits the
// role change finishes them here; should it stop before, the sweep
// (functions/sweep.ts) does, from the flows noted before that commit.
// Idempotent, and safe to run twice at once: every write is conditional.
import { stillToUnembed } from '../domain/references';
import type { FlowStore, StoredReference } from '../storage/flows';
import type { StoredPendingUnembedding } from '../storage/pendingUnembeddings';
import type { PendingWork } from '../storage/pendingWork';
import { unembed } from './references';
import { retryOnConflict } from './retry';

/**
 * How long a noted flow with nothing pending is kept: far longer than a role
 * change takes from noting it to its commit landing, so the sweep never
 * forgets a note whose pending rows are still on their way.
 */
export const NOTE_GRACE_MS = 5 * 60_000;

export interface SweepOutcome {
  flows: number;
  unembedded: number;
  /** Flows whose work failed this time (a later sweep tries again), with why. */
  failed: Array<{ flowId: string; reason: string }>;
}

export class Unembeddings {
  constructor(
    private readonly store: FlowStore,
    private readonly work: PendingWork,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Before a role change that leaves references to unembed commits. */
  async expect(tenantId: string, flowId: string): Promise<void> {
    await this.work.note(tenantId, flowId, this.now().toISOString());
  }

  /** Unembeds everything pending in the flow; answers how many references this call unembedded. */
  async finish(tenantId: string, flowId: string): Promise<number> {
    let unembedded = 0;
    // A conflict (another sweep, an embed, a reference changed) reads the flow again.
    await retryOnConflict(async () => {
      const snapshot = await this.store.read(tenantId, flowId, [], { allReferences: true, summary: true });
      if (!snapshot.flow) return; // deleted: its purge removes what is left of it
      for (const pending of snapshot.pendingUnembeddings) {
        unembedded += await this.finishOne(tenantId, flowId, pending, snapshot.references);
      }
    });
    return unembedded;
  }

  /** Every noted flow's pending work; a note is forgotten once its flow has none and the note is old enough. */
  async sweep(): Promise<SweepOutcome> {
    const noted = await this.work.list();
    const outcome: SweepOutcome = { flows: noted.length, unembedded: 0, failed: [] };
    for (const flow of noted) {
      try {
        outcome.unembedded += await this.finish(flow.tenantId, flow.flowId);
        if (Date.parse(flow.notedAt) < this.now().getTime() - NOTE_GRACE_MS) await this.work.forget(flow);
      } catch (error) {
        outcome.failed.push({ flowId: flow.flowId, reason: error instanceof Error ? error.name : 'Error' });
      }
    }
    return outcome;
  }

  /** Unembeds, batch by batch, what one pending row names, rewriting it with what is left; then removes it. */
  private async finishOne(
    tenantId: string,
    flowId: string,
    pending: StoredPendingUnembedding,
    references: ReadonlyMap<string, StoredReference>,
  ): Promise<number> {
    const todo = stillToUnembed(pending, references);
    let current = pending;
    for (let done = 0; done < todo.length;) {
      const change = this.store.change(tenantId, flowId);
      // Each unembedding is two changes (the reference and its audit entry), beside the pending row's rewrite.
      const batch = todo.slice(done, done + Math.floor((change.room - 1) / 2));
      done += batch.length;
      const at = this.now().toISOString();
      const { etag: _etag, ...rest } = current;
      const next = { ...rest, logicalNames: todo.slice(done).map((r) => r.logicalName) };
      for (const reference of batch) unembed(change, reference, pending.actorId, 'ownerRemoved', at);
      const rewritten = change.leaveToUnembed(next, current);
      await change.commit();
      current = { ...next, etag: rewritten.version };
    }
    await this.store.deletePendingUnembedding(tenantId, flowId, current);
    return todo.length;
  }
}
