// Run use cases at request time: the prompt of an attended run, starting one
// (with its lease), cloud readiness, requesting a cloud run, reading runs,
// cancelling one. Reading never writes: runs left behind are the run-repair
// sweep's (runRepairs.ts), a cloud run is decided by the processor
// (cloudRunProcessor.ts), and leased by its machine (runLeases.ts).
import { randomUUID } from 'node:crypto';
import type { RunTokens } from '../auth/runTokens';
import type { Caller } from '../domain/caller';
import { notFound } from '../domain/errors';
import { decideCancel, leaseUntil, leaseView, type LeaseView } from '../domain/leases';
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
import type { FlowStore, StoredRun } from '../storage/flows';
import type { Role } from '../domain/roles';
import type { MachineStore } from '../storage/machines';
import type { Page, PageRequest } from '../storage/pages';
import type { RunQueues } from '../storage/runQueues';
import { consoleLog, type Log } from '../log';
import { readFlowAs } from './access';

import type { CloudRunChecks } from './cloudRunChecks';
import { retryOnConflict } from './retry';

import type { RunRecords } from './runRecords';
import { definitionReferences } from '../domain/cloudRuns';

/** What a person asks of a cloud run (lib/http/bodies.ts validates it). */
export interface CloudRunAsk {
  machineId: string;
  /** The inputs, as the JSON object text sent. */
  inputsJson?: string;
}

export interface RunSettings {
  /** How long a lease holds without a heartbeat. */
  leaseMs: number;
}

export class RunService {
  constructor(
    private readonly store: FlowStore,
    private readonly connectionStore: ConnectionStore,
    private readonly machines: MachineStore,
    private readonly checks: CloudRunChecks,
    private readonly records: RunRecords,
    private readonly queues: RunQueues,
    private readonly tokens: RunTokens,
    private readonly settings: RunSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async prompt(caller: Caller, flowId: string): Promise<PromptEntry[]> {
    return (await this.promptFor(caller, flowId, 'runAttended')).prompt;
  }

  /**
   * An attended console run: every reference gets a connection, and the run
   * is recorded Running with a lease for the console that asked, which
   * executes it itself (docs/domain.md, "Attended runs"). Nothing is queued.
   */
  async startAttended(caller: Caller, flowId: string, body: RunRequest): Promise<LeaseView> {
    const { connections, role, prompt, definitionJson } = await retryOnConflict(async () => {
      const { prompt, role, ownerOf, flow } = await this.promptFor(caller, flowId, 'runAttended');
      const definitionJson = await this.store.definitionOf(flow);
      const resolved = resolveAttendedRun({
        role,
        callerId: caller.principalId,
        mode: body.mode,
        requested: body.connections ?? new Map(),
        prompt,
        ownerOf,
        definitionReferences: definitionReferences(JSON.parse(definitionJson)),
        definitionErrors: this.checks.definitionErrors(
          definitionJson,
          new Map(prompt.map((entry) => [entry.logicalName, entry.connectorId])),
        ),
      });
      return { connections: resolved, role, prompt, definitionJson };
    });
    const at = this.now();
    const leaseId = randomUUID();
    const run = await this.records.record(
      caller,
      flowId,
      {
        mode: 'attended',
        status: 'Running',
        connections,
        leaseId,
        leaseExpiresAt: leaseUntil(at, this.settings.leaseMs),
        startedAt: at.toISOString(),
      },
      at,
    );
    const token = this.tokens.issue({
      tenantId: caller.tenantId,
      flowId,
      runId: run.id,
      initiatedBy: caller.principalId,
      leaseId,
    });
    const connectors = new Map(prompt.map((entry) => [entry.logicalName, entry.connectorId]));
    return leaseView(run, { id: caller.principalId, role }, definitionJson, connectors, token);
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

  /** Records a Queued cloud run for one of the caller's machines, and puts its request on the queue. */
  async requestCloudRun(caller: Caller, flowId: string, ask: CloudRunAsk): Promise<RunView> {
    const machine = this.machines.get(caller.tenantId, caller.principalId, ask.machineId);
    machine.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    const { role } = await readFlowAs(this.store, caller, flowId, 'runCloud');
    // Someone else's machine is answered as one that does not exist.
    if (!(await machine)) throw notFound('The machine');
    const run = await this.records.record(caller, flowId, {
      mode: 'cloud',
      status: 'Queued',
      connections: {},
      machineId: ask.machineId,
      ...(ask.inputsJson !== undefined ? { inputsJson: ask.inputsJson } : {}),
    });
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
    const { run, role } = await this.readRunAs(caller, id);
    // Someone who may not read the flow learns nothing of its runs.
    if (!role) throw notFound('The run');
    return runView(run, caller.principalId, role);
  }

  /**
   * Cancels a run (its initiator, the flow's owner or a co-owner): one not
   * yet leased is Cancelled at once; a Running one is told at its next
   * heartbeat, and is Cancelled when it completes or its lease lapses.
   */
  async cancel(caller: Caller, id: string): Promise<RunView> {
    return retryOnConflict(async () => {
      const { run, role } = await this.readRunAs(caller, id);
      const decision = decideCancel(role, caller.principalId, run);
      let next = run;
      if (decision.kind === 'cancelNow') {
        next = await this.records.write(
          run,
          { ...run, status: 'Cancelled', completedAt: this.now().toISOString() },
          { actorId: caller.principalId },
        );
      } else if (decision.kind === 'askMachine') {
        next = await this.records.write(run, { ...run, cancelRequestedBy: caller.principalId });
      }
      return runView(next, caller.principalId, role!); // decideCancel refused a caller without a role
    });
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

  /** A run, and the caller's role on its flow (undefined: none), in one query; 404 without the run. */
  private async readRunAs(caller: Caller, id: string): Promise<{ run: StoredRun; role: Role | undefined }> {
    const parts = parseRunId(id);
    if (!parts) throw notFound('The run');
    const snapshot = await this.store.read(caller.tenantId, parts.flowId, [caller.principalId], {
      summary: true,
      run: parts.uuid,
    });
    const role = snapshot.flow ? snapshot.permissions.get(caller.principalId)?.role : undefined;
    const run = snapshot.run;
    if (!run || run.id !== id) throw notFound('The run');
    return { run, role };
  }

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
