// Runs as their executors see them (docs/domain.md, "Leases and run
// tokens"): a machine leases its oldest dispatched run, waiting for one if
// asked (long polling), and whoever holds a run's token keeps its lease
// alive (heartbeat) and reports how it ended (complete). A run is leased at
// most once: the claim `Dispatched -> Running` is conditional on the run's
// ETag, and nothing leases a run again. A lease that lapses ends its run
// TimedOut (or Cancelled, if asked), here when a call finds it so, or by the
// run-repair sweep.
import { randomUUID } from 'node:crypto';
import type { MachineKey } from '../auth/machineKeys';
import { matchesKeyHash } from '../auth/machineKeys';
import type { RunTokens } from '../auth/runTokens';
import { DomainError } from '../domain/errors';
import {
  completedStatus,
  leaseUntil,
  leaseView,
  runCallVerdict,
  runEnded,
  type LeaseView,
  type RunTokenClaims,
} from '../domain/leases';
import { parseRunId, runView, type ActionResult, type RunView } from '../domain/runs';
import { ConcurrencyConflict } from '../storage/errors';
import type { FlowStore, StoredRun } from '../storage/flows';
import type { Dispatch, MachineStore } from '../storage/machines';
import { consoleLog, type Log } from '../log';
import type { DispatchSignals } from './dispatchSignals';
import { retryOnConflict } from './retry';
import type { RunRecords } from './runRecords';

/** How many dispatched runs one look at a machine considers. */
const CANDIDATES = 4;
/** While waiting, storage is looked at this often at first, then less (other processes' dispatches). */
const FIRST_LOOK_MS = 500;
const LAST_LOOK_MS = 2_000;

export interface LeaseSettings {
  /** How long a lease holds without a heartbeat. */
  leaseMs: number;
}

/** How a run ended, as its executor reports it (lib/http/bodies.ts validates it). */
export interface RunReport {
  status: 'Succeeded' | 'Failed';
  /** The outputs, as the JSON object text sent. */
  outputsJson?: string;
  actions: ActionResult[];
}

export class RunLeases {
  constructor(
    private readonly store: FlowStore,
    private readonly machines: MachineStore,
    private readonly records: RunRecords,
    private readonly tokens: RunTokens,
    private readonly signals: DispatchSignals,
    private readonly settings: LeaseSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * The machine's oldest dispatched run, leased to it; undefined when none
   * arrived within `waitSeconds`. The key is checked on every look, so a key
   * rotated or a machine deleted meanwhile stops the wait (401).
   */
  async lease(key: MachineKey, waitSeconds: number, log: Log = consoleLog): Promise<LeaseView | undefined> {
    const deadline = this.now().getTime() + waitSeconds * 1000;
    for (let look = 0; ; look++) {
      const { machine, dispatches } = await this.machines.withDispatches(
        key.tenantId,
        key.ownerId,
        key.machineId,
        CANDIDATES,
      );
      if (!machine || !matchesKeyHash(key.secret, machine.keyHash)) {
        throw new DomainError('Unauthenticated', 'The machine key is not valid.', { tokenPresent: true });
      }
      let forgotten = 0;
      for (const dispatch of dispatches) {
        const leased = await this.claim(dispatch, log);
        if (leased === 'forgotten') forgotten++;
        else if (leased) return leased;
      }
      // A full look whose rows led nowhere (and are gone now) looks again at once: more may be behind them.
      if (dispatches.length === CANDIDATES && forgotten > 0) continue;
      const left = deadline - this.now().getTime();
      if (left <= 0) return undefined;
      await this.signals.wait(key, Math.min(left, Math.min(LAST_LOOK_MS, FIRST_LOOK_MS * 2 ** look)));
    }
  }

  /** Keeps the run's lease alive; answers whether someone asked to cancel it. */
  async heartbeat(
    token: string,
    runId: string,
    log: Log = consoleLog,
  ): Promise<{ cancelRequested: boolean; leaseExpiresAt: string }> {
    const claims = this.tokens.claimsFor(token, runId);
    return retryOnConflict(async () => {
      const run = await this.acceptedRun(claims, log);
      const leaseExpiresAt = leaseUntil(this.now(), this.settings.leaseMs);
      await this.records.write(run, { ...run, leaseExpiresAt });
      return { cancelRequested: run.cancelRequestedBy !== undefined, leaseExpiresAt };
    });
  }

  /** Ends the run as its executor reports (Cancelled instead, if someone asked); the token stops working. */
  async complete(token: string, runId: string, report: RunReport, log: Log = consoleLog): Promise<RunView> {
    const claims = this.tokens.claimsFor(token, runId);
    return retryOnConflict(async () => {
      const run = await this.acceptedRun(claims, log);
      const status = completedStatus(run, report.status);
      const ended = await this.records.write(
        run,
        {
          ...run,
          status,
          ...(report.outputsJson !== undefined ? { outputsJson: report.outputsJson } : {}),
          actions: report.actions,
          completedAt: this.now().toISOString(),
        },
        {
          actorId: run.cancelRequestedBy ?? run.initiatedBy,
          details: { reported: report.status, ...(run.machineId ? { machineId: run.machineId } : {}) },
        },
      );
      // Its executor sees the run's results, and no connection id but its initiator's own (it needs none).
      return runView(ended, run.initiatedBy, 'user');
    });
  }

  /** The run a run token's call is for, read now (one request), if it accepts the call: see `accept`. */
  async acceptedRun(claims: RunTokenClaims, log: Log = consoleLog): Promise<StoredRun> {
    return this.accept(
      await this.store.getRun(claims.tenantId, claims.flowId, parseRunId(claims.runId)!.uuid),
      claims,
      log,
    );
  }

  /**
   * The run, as read by the caller (say with its flow, in one query:
   * FlowStore.read with `{ run }`), if it accepts a call with these claims
   * (runCallVerdict, lib/domain/leases.ts): else 401, or 409 RunEnded, a lapse
   * found so recorded first (TimedOut, or Cancelled if asked). Every call
   * made with a run token goes through this check.
   */
  async accept(run: StoredRun | undefined, claims: RunTokenClaims, log: Log = consoleLog): Promise<StoredRun> {
    const verdict = runCallVerdict(run, claims, this.now());
    if (verdict.kind === 'accepted') return run!;
    if (verdict.kind === 'refused') {
      throw new DomainError('Unauthenticated', 'The run token is not valid for this run.', { tokenPresent: true });
    }
    if (verdict.lapsed && (await this.records.endUnleased(run!))) {
      log.info('a run ended for want of a lease', { runId: run!.id, status: verdict.status });
    }
    throw runEnded(verdict.status);
  }

  /**
   * Leases the run a dispatch row points at, if it is still Dispatched.
   * Else 'forgotten' when the row leads nowhere any more (it is removed), or
   * undefined when the run may yet be dispatched or another call claimed it.
   */
  private async claim(dispatch: Dispatch, log: Log): Promise<LeaseView | 'forgotten' | undefined> {
    const uuid = parseRunId(dispatch.runId)!.uuid;
    // The flow (its definition), its references, the initiator's role and the run: one query.
    const snapshot = await this.store.read(dispatch.tenantId, dispatch.flowId, [dispatch.ownerId], {
      allReferences: true,
      run: uuid,
    });
    const { run, flow } = snapshot;
    const waiting = run?.id === dispatch.runId && run.machineId === dispatch.machineId;
    // A claim given back, or a dispatch not yet recorded: the processor decides it yet.
    if (waiting && (run.status === 'Queued' || run.status === 'Dispatching')) return undefined;
    if (!waiting || run.status !== 'Dispatched' || !flow) {
      await this.machines.forget(dispatch);
      return 'forgotten';
    }
    const definitionJson = await this.store.definitionOf(flow);
    const at = this.now();
    const leaseId = randomUUID();
    let leased: StoredRun;
    try {
      leased = await this.records.write(run, {
        ...run,
        status: 'Running',
        leaseId,
        leaseExpiresAt: leaseUntil(at, this.settings.leaseMs),
        startedAt: at.toISOString(),
      });
    } catch (error) {
      // Another call leased it, or it was cancelled, since it was read.
      if (error instanceof ConcurrencyConflict) return undefined;
      throw error;
    }
    // Leased: the row has done its job. Should removing it fail, the next look removes it.
    await this.machines.forget(dispatch).catch((error: unknown) => {
      log.warn('a leased run kept its dispatch row; the next lease removes it', {
        runId: run.id,
        reason: error instanceof Error ? error.name : String(error),
      });
    });
    const token = this.tokens.issue({
      tenantId: run.tenantId,
      flowId: run.flowId,
      runId: run.id,
      initiatedBy: run.initiatedBy,
      leaseId,
    });
    const role = snapshot.permissions.get(run.initiatedBy)?.role ?? 'user';
    const connectors = new Map([...snapshot.references.values()].map((r) => [r.logicalName, r.connectorId]));
    return leaseView(leased, { id: run.initiatedBy, role }, definitionJson, connectors, token);
  }
}
