// The cloud-run processor: the authority on cloud runs. When a request
// arrives from its queue it checks everything again (the machine the run is
// for included), then claims the run and dispatches it to that machine, or
// rejects it with every reason. Idempotent: a request delivered twice yields
// one run and one dispatch.
import { asLent } from '../domain/references';
import { isFinal, RUN_WINDOWS } from '../domain/runLifecycle';
import { byName, parseRunId, type Run } from '../domain/runs';
import { ConcurrencyConflict } from '../storage/errors';
import type { FlowStore, StoredPermission, StoredReference, StoredRun } from '../storage/flows';
import { QUEUES } from '../storage/clients';
import type { DispatchedRun, MachineStore } from '../storage/machines';
import type { CloudRunRequest } from '../storage/runQueues';
import { consoleLog, type Log } from '../log';
import type { CloudRunChecks } from './cloudRunChecks';
import type { DispatchSignals } from './dispatchSignals';
import { retryOnConflict } from './retry';
import type { RunRecords } from './runRecords';

export type { CloudRunRequest } from '../storage/runQueues';

/** The queue the processor's trigger reads. */
export const CLOUD_RUN_REQUESTS_QUEUE = QUEUES.cloudRunRequests;

export type ProcessOutcome =
  | 'dispatched'
  | 'rejected'
  | 'alreadyFinal'
  /** Dispatched (or leased, or running) already: the processor's part is done. */
  | 'alreadyDispatched'
  | 'claimedElsewhere'
  | 'unknownRun';

/** Another delivery of the same request is dispatching this run right now. */
export class RunInProgress extends Error {
  override name = 'RunInProgress';
  constructor(runId: string) {
    super(`run ${runId} is being dispatched by another delivery`);
  }
}

export interface ProcessorSettings {
  /** host.json's queues.maxDequeueCount: the attempt after which a request's run is marked Failed. */
  maxDequeueCount: number;
}

export class CloudRunProcessor {
  constructor(
    private readonly store: FlowStore,
    private readonly checks: CloudRunChecks,
    private readonly records: RunRecords,
    private readonly machines: MachineStore,
    private readonly signals: DispatchSignals,
    private readonly settings: ProcessorSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Processes one cloud-run request. A run already final is left alone; a run
   * claimed (`Dispatching`) by a delivery that stopped before recording its
   * dispatch is finished without sending a second one.
   */
  async process(request: CloudRunRequest, log: Log = consoleLog): Promise<ProcessOutcome> {
    const parts = parseRunId(request.runId);
    if (!parts || parts.flowId !== request.flowId) return 'unknownRun';
    let run = await this.records.get(request.tenantId, request.flowId, parts.uuid);
    if (!run) return 'unknownRun';
    if (isFinal(run.status)) return 'alreadyFinal';
    if (run.status !== 'Queued' && run.status !== 'Dispatching') return 'alreadyDispatched';

    if (run.status === 'Queued') {
      const initiatedBy = run.initiatedBy;
      const machineId = run.machineId;
      const machine = machineId ? this.machines.get(request.tenantId, initiatedBy, machineId) : undefined;
      machine?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
      // Read again on a conflict (a definition replaced while it was read).
      // The initiator's permission comes with the flow, in the same query.
      const { errors, references, initiator } = await retryOnConflict(async () =>
        this.checks.check(
          request.tenantId,
          await this.store.read(request.tenantId, request.flowId, [initiatedBy], { allReferences: true }),
          initiatedBy,
          log,
          (await machine) !== undefined,
        ),
      );
      if (errors.length > 0) {
        await this.records.finish(run, { status: 'Rejected', errors });
        return 'rejected';
      }
      const connections = byName(
        references.map((r) => [
          r.logicalName,
          { connectionId: r.connectionId, ownerId: r.ownerId, source: 'embedded' as const },
        ]),
      );
      // The claim: only one delivery gets from Queued to Dispatching. The
      // references and the initiator's permission are then read again: if one
      // changed since it was checked, the claim is given back and the request
      // decided again later. (A check inside the claim's transaction would
      // touch those rows and make concurrent runs of one flow collide.)
      try {
        const claimed: Run = { ...run, status: 'Dispatching', connections, claimedAt: this.now().toISOString() };
        run = await this.records.write(run, claimed);
        if (!(await this.unchangedSinceChecked(request, references, initiator!))) {
          await this.records.write(run, { ...run, status: 'Queued', connections: {}, claimedAt: undefined });
          throw new ConcurrencyConflict(412);
        }
      } catch (error) {
        if (!(error instanceof ConcurrencyConflict)) throw error;
        // Another delivery claimed or decided it, or a reference changed: decide again later.
        const now = await this.records.get(request.tenantId, request.flowId, parts.uuid);
        if (now && now.status !== 'Queued') return 'claimedElsewhere';
        throw error;
      }
    } else if (await this.machines.holdsDispatch(dispatchOf(run))) {
      // Claimed and dispatched by a delivery that did not get to record it.
      return this.dispatched(run);
    } else if (Date.parse(run.claimedAt ?? '') > this.now().getTime() - RUN_WINDOWS.claimLeaseMs) {
      // Another delivery claimed it moments ago and may be dispatching right now: try again later.
      throw new RunInProgress(run.id);
    }
    // Idempotent: a dispatch row already there is this one.
    await this.machines.dispatch(dispatchOf(run), this.now().toISOString());
    return this.dispatched(run);
  }

  /** Records the dispatch, and wakes a lease of its machine waiting in this process. */
  private async dispatched(run: StoredRun): Promise<'dispatched'> {
    const recorded = await this.records.finish(run, { status: 'Dispatched' });
    if (recorded.status === 'Dispatched') {
      this.signals.notify({ tenantId: run.tenantId, ownerId: run.initiatedBy, machineId: run.machineId! });
    }
    return 'dispatched';
  }

  /**
   * A delivery failed. On the request's last attempt its run ends Failed (the
   * host then moves the message to the poison queue), unless its dispatch is
   * already on its way, which wins over the failure to record it. Answers
   * whether it was the last attempt.
   */
  async failedAttempt(request: CloudRunRequest, attempt: number, reason: string): Promise<boolean> {
    if (attempt < this.settings.maxDequeueCount) return false;
    const parts = parseRunId(request.runId);
    const run = parts && (await this.records.get(request.tenantId, request.flowId, parts.uuid));
    if (!run || (run.status !== 'Queued' && run.status !== 'Dispatching')) return true;
    const detail = `Processing failed ${attempt} times (${reason}); the request went to the poison queue.`;
    if (run.status === 'Dispatching' && (await this.machines.holdsDispatch(dispatchOf(run)))) {
      await this.dispatched(run);
    } else {
      await this.records.markFailed(run, detail);
    }
    return true;
  }

  private async unchangedSinceChecked(
    request: CloudRunRequest,
    checked: StoredReference[],
    initiator: StoredPermission,
  ): Promise<boolean> {
    const now = await this.store.read(request.tenantId, request.flowId, [initiator.principalId], {
      allReferences: true,
      summary: true,
    });
    // A reference a role change left to unembed since is no longer lent, though its row is unchanged.
    const lent = new Map(asLent(now.references.values(), now.pendingUnembeddings).map((r) => [r.logicalName, r]));
    return (
      now.permissions.get(initiator.principalId)?.etag === initiator.etag &&
      lent.size === checked.length &&
      checked.every((r) => lent.get(r.logicalName)?.etag === r.etag && lent.get(r.logicalName)?.embedded === r.embedded)
    );
  }
}

/** A claimed run as its machine's dispatch row names it (a claim is made only with a machine). */
function dispatchOf(run: Run): DispatchedRun {
  return {
    tenantId: run.tenantId,
    flowId: run.flowId,
    id: run.id,
    initiatedBy: run.initiatedBy,
    machineId: run.machineId!,
  };
}
