// Run use cases at request time: the prompt of an attended run, starting one,
// cloud readiness, requesting a cloud run, reading runs. Reading never writes:
// runs left behind are the run-repair sweep's (runRepairs.ts), and a cloud run
// is decided by the processor (cloudRunProcessor.ts).
import type { Caller } from '../domain/caller';
import { notFound } from '../domain/errors';

import { asLent, type ConnectionReference } from '../domain/references';

import {
  buildRunPrompt,
  parseRunId,
  resolveAttendedRun,
  runView,
  type ConnectionSummary,
  type PromptEntry,
  type RunError,
  type RunRequest,
  type RunView,
} from '../domain/runs';
import type { ConnectionStore } from '../storage/connections';
import { outcomeUnknown } from '../storage/errors';

import type { FlowStore } from '../storage/flows';
import type { Page, PageRequest } from '../storage/pages';
import type { RunQueues } from '../storage/runQueues';
import { consoleLog, type Log } from '../log';
import { readFlowAs } from './access';

import type { CloudRunChecks } from './cloudRunChecks';
import { retryOnConflict } from './retry';

import type { RunRecords } from './runRecords';
import { definitionReferences } from '../domain/cloudRuns';

export class RunService {
  constructor(
    private readonly store: FlowStore,
    private readonly connectionStore: ConnectionStore,
    private readonly checks: CloudRunChecks,
    private readonly records: RunRecords,
    private readonly queues: RunQueues,
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
    const run = await this.records.record(caller, flowId, 'attended', connections);
    try {
      await this.queues.dispatch(run);
    } catch (error) {
      // A dispatch whose answer was lost may be on the queue: the run stays
      // Queued, and the run-repair sweep finds out a minute on.
      if (!outcomeUnknown(error)) {
        await this.records.markFailed(run, 'The run could not be dispatched.').catch(() => undefined);
      }
      throw error;
    }
    const dispatched = await this.records.finish(run, { status: 'Dispatched' });
    return runView(dispatched, caller.principalId, role);
  }

  /** The cloud-run processor's own checks, run now. */
  async readiness(
    caller: Caller,
    flowId: string,
    log: Log = consoleLog,
  ): Promise<{ ready: boolean; errors: RunError[] }> {
    // A definition replaced while it is read is read again (ConcurrencyConflict).
    const { errors } = await retryOnConflict(async () => {
      const { snapshot } = await readFlowAs(this.store, caller, flowId, 'checkCloudReadiness', { allReferences: true });
      // As if the caller asked for a cloud run now.
      return this.checks.check(caller.tenantId, snapshot, caller.principalId, log);
    });
    return { ready: errors.length === 0, errors };
  }

  /** Records a Queued cloud run and puts its request on the queue. */
  async requestCloudRun(caller: Caller, flowId: string): Promise<RunView> {
    const { role } = await readFlowAs(this.store, caller, flowId, 'runCloud');
    const run = await this.records.record(caller, flowId, 'cloud', {});
    try {
      await this.queues.requestCloudRun(run);
    } catch (error) {
      // Should marking it Failed fail too, the run-repair sweep asks for it again.
      await this.records.markFailed(run, 'The run could not be queued.').catch(() => undefined);
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
    return runView(run, caller.principalId, role);
  }

  async history(caller: Caller, flowId: string, request: PageRequest): Promise<Page<RunView>> {
    const [{ role }, page] = await Promise.all([
      readFlowAs(this.store, caller, flowId, 'readRunHistory', { summary: true }),
      this.store.listRuns(caller.tenantId, flowId, request),
    ]);
    return {
      items: page.items.map((run) => runView(run, caller.principalId, role)),
      continuationToken: page.continuationToken,
    };
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
