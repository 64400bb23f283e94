// Run use cases: the prompt of an attended run, starting one, cloud readiness,
// requesting a cloud run, and processing that request from its queue (the
// authority: it checks everything again when it runs).
import type { Caller } from '../domain/caller';
import type { ConnectionStatus } from '../domain/connections';
import { notFound } from '../domain/errors';
import { asLent, type ConnectionReference } from '../domain/references';
import {
  buildRunPrompt,
  byName,
  checkCloudRun,
  definitionReferences,
  isFinal,
  parseRunId,
  resolveAttendedRun,
  runId,
  runView,
  type ConnectionSummary,
  type PromptEntry,
  type Run,
  type RunError,
  type RunView,
  type RunRequest,
} from '../domain/runs';
import type { Storage } from '../storage/clients';
import type { ConnectionStore } from '../storage/connections';
import { ConcurrencyConflict } from '../storage/errors';
import {
  type FlowSnapshot,
  type FlowStore,
  type StoredPermission,
  type StoredReference,
  type StoredRun,
} from '../storage/flows';
import type { Page, PageRequest } from '../storage/pages';
import { outcomeUnknown } from '../storage/errors';
import { holdsRun, sendJson } from '../storage/queues';
import type { ConnectionService } from './connections';
import { readFlowAs } from './access';
import { newId } from './ids';
import { retryOnConflict } from './retry';

/** What goes on cloud-run-requests. */
export interface CloudRunRequest {
  runId: string;
  tenantId: string;
  flowId: string;
}

/** What goes on desktop-run-dispatch: ids only, never a secret. */
export interface DispatchMessage {
  runId: string;
  tenantId: string;
  flowId: string;
  mode: Run['mode'];
  initiatedBy: string;
  connections: Record<string, string>;
}

export type ProcessOutcome = 'dispatched' | 'rejected' | 'alreadyFinal' | 'claimedElsewhere' | 'unknownRun';

/** How long a claim keeps other deliveries of the same request waiting. */
// Shorter than host.json's retry delay times its retries, so a claim left by a
// crash is taken over before the request's last attempt.
export const CLAIM_LEASE_MS = 5_000;

/** An attended run still Queued after this never got its dispatch. */
export const STALE_ATTENDED_MS = 60_000;
/** How long a cloud run may stay Queued before a read puts its request on the queue again. */
export const STALE_CLOUD_MS = 2 * 60_000;
/** How long after it was requested a cloud run may still be asked for again; after that, it is Failed. */
export const CLOUD_REQUEST_WINDOW_MS = 15 * 60_000;

/** Another delivery of the same request is dispatching this run right now. */
export class RunInProgress extends Error {
  override name = 'RunInProgress';
  constructor(runId: string) {
    super(`run ${runId} is being dispatched by another delivery`);
  }
}

export class RunService {
  constructor(
    private readonly storage: Storage,
    private readonly store: FlowStore,
    private readonly connectionStore: ConnectionStore,
    private readonly connections: ConnectionService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async prompt(caller: Caller, flowId: string): Promise<PromptEntry[]> {
    return (await this.promptFor(caller, flowId, 'runAttended')).prompt;
  }

  /** An attended console run: every reference gets a connection, then the run is dispatched. */
  async startAttended(caller: Caller, flowId: string, body: RunRequest): Promise<RunView> {
    const { connections, role } = await retryOnConflict(async () => {
      const { prompt, role, ownerOf, flow } = await this.promptFor(caller, flowId, 'runAttended');
      const resolved = resolveAttendedRun({
        role,
        callerId: caller.principalId,
        mode: body.mode,
        requested: body.connections ?? new Map(),
        prompt,
        ownerOf,
        definitionReferences: definitionReferences(JSON.parse(await this.store.definitionOf(flow))),
      });
      return { connections: resolved, role };
    });
    const run = await this.record(caller, flowId, 'attended', connections);
    try {
      await sendJson(this.storage.desktopRunDispatch, dispatchOf(run), this.storage.blobQueueTimeoutMs);
    } catch (error) {
      // A dispatch whose answer was lost may be on the queue: the run stays
      // Queued, and whoever reads it a minute on finds out (settleStale).
      if (!outcomeUnknown(error)) {
        await this.markFailed(run, 'The run could not be dispatched.').catch(() => undefined);
      }
      throw error;
    }
    const dispatched = await this.finish(run, { status: 'Dispatched' });
    return runView(dispatched, caller.principalId, role);
  }

  /** The cloud-run processor's own checks, run now. */
  async readiness(caller: Caller, flowId: string): Promise<{ ready: boolean; errors: RunError[] }> {
    // A definition replaced while it is read is read again (ConcurrencyConflict).
    const { errors } = await retryOnConflict(async () => {
      const { snapshot } = await readFlowAs(this.store, caller, flowId, 'checkCloudReadiness', { allReferences: true });
      // As if the caller asked for a cloud run now.
      return this.cloudRunErrors(caller.tenantId, snapshot, caller.principalId);
    });
    return { ready: errors.length === 0, errors };
  }

  /** Records a Queued cloud run and puts its request on the queue. */
  async requestCloudRun(caller: Caller, flowId: string): Promise<RunView> {
    const { role } = await readFlowAs(this.store, caller, flowId, 'runCloud');
    const run = await this.record(caller, flowId, 'cloud', {});
    const request: CloudRunRequest = { runId: run.id, tenantId: caller.tenantId, flowId };
    try {
      await sendJson(this.storage.cloudRunRequests, request, this.storage.blobQueueTimeoutMs);
    } catch (error) {
      await this.markFailed(run, 'The run could not be queued.').catch(() => undefined);
      throw error;
    }
    return runView(run, caller.principalId, role);
  }

  async get(caller: Caller, id: string): Promise<RunView> {
    const parts = parseRunId(id);
    if (!parts) throw notFound('The run');
    const [snapshot, run] = await Promise.all([
      this.store.read(caller.tenantId, parts.flowId, [caller.principalId], { summary: true }),
      this.store.getRun(caller.tenantId, parts.flowId, parts.uuid),
    ]);
    // Someone who may not read the flow learns nothing of its runs.
    const role = snapshot.flow ? snapshot.permissions.get(caller.principalId)?.role : undefined;
    if (!role || !run || run.id !== id) throw notFound('The run');
    return runView(await this.askAgainIfLost(await this.settleStale(run)), caller.principalId, role);
  }

  /**
   * A cloud run still Queued a while after it was requested may have lost its
   * request: the queue refused the message and marking the run Failed failed
   * too. Processing is idempotent (a request delivered twice yields one run
   * and one dispatch), so putting the request on the queue again is safe
   * whether it was lost or is only waiting; the reader who polls it does so,
   * at most once per STALE_CLOUD_MS, the conditional write deciding which reader.
   */
  private async askAgainIfLost(run: StoredRun): Promise<StoredRun> {
    const now = this.now();
    const asked = Date.parse(run.requestedAgainAt ?? run.createdAt);
    if (run.mode !== 'cloud' || run.status !== 'Queued' || asked >= now.getTime() - STALE_CLOUD_MS) return run;
    // Past its window it is settled instead (settleStale): a run nobody
    // processed for that long is not started behind its requester's back.
    if (Date.parse(run.createdAt) < now.getTime() - CLOUD_REQUEST_WINDOW_MS) return run;
    try {
      const updated = await this.write(run, { ...run, requestedAgainAt: now.toISOString() });
      const request: CloudRunRequest = { runId: run.id, tenantId: run.tenantId, flowId: run.flowId };
      await sendJson(this.storage.cloudRunRequests, request, this.storage.blobQueueTimeoutMs);
      return updated;
    } catch {
      // Another reader asked, the processor moved it on, or storage failed:
      // the run is answered as it was read, and a later read looks again.
      return run;
    }
  }

  /**
   * An attended run is dispatched within its request; one still Queued a
   * minute later lost its dispatch to a storage fault: Dispatched if the
   * dispatch is on the queue after all (its send's answer was lost), else
   * Failed. A cloud run nobody processed within CLOUD_REQUEST_WINDOW_MS is
   * Failed: its request was lost, and asking again (askAgainIfLost) only
   * happens within that window.
   */
  private async settleStale(run: StoredRun): Promise<StoredRun> {
    if (run.status !== 'Queued') return run;
    const age = this.now().getTime() - Date.parse(run.createdAt);
    try {
      if (run.mode === 'attended' && age > STALE_ATTENDED_MS) {
        if (await this.dispatchQueued(run)) {
          return await this.finish(run, { status: 'Dispatched' });
        }
        return await this.markFailed(run, 'The run was never dispatched: storage failed while it started.');
      }
      if (run.mode === 'cloud' && age > CLOUD_REQUEST_WINDOW_MS) {
        return await this.markFailed(run, 'The run was never processed: its request was lost.');
      }
    } catch {
      // Storage failed again: answered as read, and a later read looks again.
    }
    return run;
  }

  async history(caller: Caller, flowId: string, request: PageRequest): Promise<Page<RunView>> {
    const [{ role }, page] = await Promise.all([
      readFlowAs(this.store, caller, flowId, 'readRunHistory', { summary: true }),
      this.store.listRuns(caller.tenantId, flowId, request),
    ]);
    const items = await Promise.all(
      page.items.map(async (run) => runView(await this.settleStale(run), caller.principalId, role)),
    );
    return { items, continuationToken: page.continuationToken };
  }

  /**
   * Processes one cloud-run request. Idempotent: a run already final is left
   * alone; a run claimed (`Dispatching`) by a delivery that crashed before
   * recording its dispatch is finished without sending a second one.
   */
  async processCloudRun(request: CloudRunRequest): Promise<ProcessOutcome> {
    const parts = parseRunId(request.runId);
    if (!parts || parts.flowId !== request.flowId) return 'unknownRun';
    let run = await this.store.getRun(request.tenantId, request.flowId, parts.uuid);
    if (!run) return 'unknownRun';
    if (isFinal(run.status)) return 'alreadyFinal';

    if (run.status === 'Queued') {
      // Read again on a conflict (a definition replaced while it was read).
      // The initiator's permission comes with the flow, in the same query.
      const { errors, references, initiator } = await retryOnConflict(async () =>
        this.cloudRunErrors(
          request.tenantId,
          await this.store.read(request.tenantId, request.flowId, [run!.initiatedBy], { allReferences: true }),
          run!.initiatedBy,
        ),
      );
      if (errors.length > 0) {
        await this.finish(run, { status: 'Rejected', errors });
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
        run = await this.write(run, claimed);
        if (!(await this.unchangedSinceChecked(request, references, initiator!))) {
          await this.write(run, { ...run, status: 'Queued', connections: {}, claimedAt: undefined });
          throw new ConcurrencyConflict(412);
        }
      } catch (error) {
        if (!(error instanceof ConcurrencyConflict)) throw error;
        // Another delivery claimed or decided it, or a reference changed: decide again later.
        const now = await this.store.getRun(request.tenantId, request.flowId, parts.uuid);
        if (now && now.status !== 'Queued') return 'claimedElsewhere';
        throw error;
      }
    } else if (await this.dispatchQueued(run)) {
      // Claimed and sent by a delivery that did not get to record it.
      await this.finish(run, { status: 'Dispatched' });
      return 'dispatched';
    } else if (Date.parse(run.claimedAt ?? '') > this.now().getTime() - CLAIM_LEASE_MS) {
      // Another delivery claimed it moments ago and may be sending right now: try again later.
      throw new RunInProgress(run.id);
    }
    if (!(await this.dispatchQueued(run))) {
      await sendJson(this.storage.desktopRunDispatch, dispatchOf(run), this.storage.blobQueueTimeoutMs);
    }
    await this.finish(run, { status: 'Dispatched' });
    return 'dispatched';
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

  /** A request that kept failing: its run ends Failed (the message goes to the poison queue). */
  async failCloudRun(request: CloudRunRequest, reason: string): Promise<void> {
    const parts = parseRunId(request.runId);
    if (!parts) return;
    const run = await this.store.getRun(request.tenantId, request.flowId, parts.uuid);
    if (!run || isFinal(run.status)) return;
    // A dispatch already on its way wins over the failure to record it.
    if (run.status === 'Dispatching' && (await this.dispatchQueued(run))) {
      await this.finish(run, { status: 'Dispatched' });
    } else {
      await this.markFailed(run, reason);
    }
  }

  // ---- helpers ----------------------------------------------------------------

  /**
   * The prompt for the caller: the flow and its references, the caller's own
   * connections (one query) and, for makers, the embedded connections (one
   * query per reference owner), read in parallel.
   */
  private async promptFor(caller: Caller, flowId: string, action: 'runAttended') {
    const [{ snapshot, role, flow }, own] = await Promise.all([
      readFlowAs(this.store, caller, flowId, action, { allReferences: true }),
      this.connectionStore.listAll(caller.tenantId, caller.principalId),
    ]);
    const references = asLent(snapshot.references.values(), snapshot.pendingUnembeddings);
    const lent =
      role === 'user' ? new Map<string, ConnectionSummary>() : await this.embedded(caller.tenantId, references);
    const ownSummaries = own.map(summary);
    const prompt = buildRunPrompt(references, role, caller.principalId, ownSummaries, lent);
    const ownerOf = new Map<string, string>([
      ...[...lent.values()].map((c) => [c.id, c.ownerId] as [string, string]),
      ...ownSummaries.map((c) => [c.id, c.ownerId] as [string, string]),
    ]);
    return { prompt, role, ownerOf, flow };
  }

  /** The connections embedded references lend, by id. */
  private async embedded(tenantId: string, references: ConnectionReference[]): Promise<Map<string, ConnectionSummary>> {
    const found = await this.connectionStore.getBound(
      tenantId,
      references.filter((r) => r.embedded),
    );
    return new Map(found.map((c) => [c.id, summary(c)]));
  }

  /**
   * The processor's checks: the flow, its references (read with it, in one
   * query), its definition, each embedded connection now.
   */
  private async cloudRunErrors(
    tenantId: string,
    snapshot: Pick<FlowSnapshot, 'flow' | 'references' | 'permissions' | 'pendingUnembeddings'>,
    initiatorId: string,
  ): Promise<{ errors: RunError[]; references: StoredReference[]; initiator: StoredPermission | undefined }> {
    const { flow } = snapshot;
    const initiator = snapshot.permissions.get(initiatorId);
    if (!flow) {
      const errors = checkCloudRun({
        flow: undefined,
        initiatorRole: undefined,
        references: [],
        embeddedStatus: new Map(),
        definitionReferences: [],
      });
      return { errors, references: [], initiator };
    }
    const references = asLent(snapshot.references.values(), snapshot.pendingUnembeddings);
    const definitionJson = await this.store.definitionOf(flow);
    // Each distinct connection is checked once, however many references bind it.
    const checks = new Map<string, Promise<ConnectionStatus | undefined>>();
    const checkOnce = (r: StoredReference) => {
      const key = JSON.stringify([r.ownerId, r.connectionId]);
      if (!checks.has(key)) checks.set(key, this.connections.checkForRun(tenantId, r.ownerId, r.connectionId));
      return checks.get(key)!;
    };
    const statuses = await Promise.all(
      references
        .filter((r) => r.embedded)
        .map(async (r): Promise<[string, ConnectionStatus | undefined]> => [r.logicalName, await checkOnce(r)]),
    );
    const errors = checkCloudRun({
      flow,
      initiatorRole: initiator?.role,
      references,
      embeddedStatus: new Map(statuses),
      definitionReferences: definitionReferences(JSON.parse(definitionJson)),
    });
    return { errors, references, initiator };
  }

  /** Writes a new run as Queued with its "run started" audit entry, in one transaction. */
  private async record(
    caller: Caller,
    flowId: string,
    mode: Run['mode'],
    connections: Run['connections'],
  ): Promise<StoredRun> {
    const at = this.now();
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

  private async write(current: StoredRun, next: Run): Promise<StoredRun> {
    const change = this.store.change(next.tenantId, next.flowId);
    const recorded = change.recordRun(next, current);
    await change.commit();
    return { ...next, etag: recorded.version };
  }

  /** Moves a run to a final status; a concurrent change is read again (the later writer agrees). */
  private async finish(run: StoredRun, final: Pick<Run, 'status' | 'errors'>): Promise<StoredRun> {
    let current: StoredRun | undefined = run;
    return retryOnConflict(async () => {
      current ??= await this.store.getRun(run.tenantId, run.flowId, parseRunId(run.id)!.uuid);
      if (!current) throw notFound('The run');
      // Final is final; and a run claimed for dispatch is no longer the rejecter's to decide.
      if (isFinal(current.status) || (final.status === 'Rejected' && current.status !== 'Queued')) return current;
      const attempt = current;
      current = undefined;
      return this.write(attempt, { ...attempt, ...final, completedAt: this.now().toISOString() });
    });
  }

  /** Whether the run's dispatch is waiting on the queue (see holdsRun). */
  private dispatchQueued(run: StoredRun): Promise<boolean> {
    return holdsRun(this.storage.desktopRunDispatch, run.id, this.storage.blobQueueTimeoutMs);
  }

  private markFailed(run: StoredRun, detail: string): Promise<StoredRun> {
    return this.finish(run, { status: 'Failed', errors: [{ code: 'ProcessingFailed', detail }] });
  }
}

/** Only the summary's fields of a connection (a stored one carries its secret too). */
function summary(c: ConnectionSummary): ConnectionSummary {
  return {
    id: c.id,
    ownerId: c.ownerId,
    connectorId: c.connectorId,
    displayName: c.displayName,
    status: c.status,
    createdAt: c.createdAt,
  };
}

function dispatchOf(run: Run): DispatchMessage {
  return {
    runId: run.id,
    tenantId: run.tenantId,
    flowId: run.flowId,
    mode: run.mode,
    initiatedBy: run.initiatedBy,
    connections: byName(Object.entries(run.connections).map(([name, c]) => [name, c.connectionId])),
  };
}
