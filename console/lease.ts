// Executing a leased run, as the console and the machine agent both do
// (docs/cli.md, How a run executes): the definition engine runs the actions,
// connector calls go to the gateway with the run's token, heartbeats keep the
// lease and bring a cancellation, and the completion is reported, tried again
// while the service cannot be reached, until the lease lapses.
import { setTimeout as sleep } from 'node:timers/promises';
import { apiClient, ApiProblem, body, ServiceUnreachable, type Api, type Lease, type Run } from './api';
import {
  GatewayProblem,
  runDefinition,
  type ActionReport,
  type ConnectorCall,
  type Gateway,
  type GatewayAnswer,
  type RunOutcome,
} from './engine/engine';
import type { Action } from '../lib/domain/definitions';

export interface LeaseEvents {
  onActionStart?: (name: string, action: Action) => void;
  onActionEnd?: (report: ActionReport, action: Action) => void;
  /** Something worth a line: a cancellation asked for, the service out of reach, a report given up. */
  onNote?: (message: string) => void;
}

export interface LeaseOptions {
  apiUrl: string;
  lease: Lease;
  /** The run's inputs: the console's own for an attended run; the lease's otherwise. */
  inputs?: unknown;
  /** Aborted to stop the run (Ctrl-C, or an agent that must stop): the action under way finishes or is cancelled. */
  signal?: AbortSignal;
  /** How often to renew the lease, which is also how soon a cancellation is heard; a third of the lease by default. */
  heartbeatSeconds?: number;
  events?: LeaseEvents;
}

export interface LeaseResult {
  outcome: RunOutcome;
  /** The run as the service ended it; undefined when its end could not be learned. */
  run?: Run;
  /** How the run ended on the service (`Succeeded`, `Failed`, `Cancelled`, `TimedOut`), or undefined when unknown. */
  runStatus?: string;
}

/** Attempts at a connector call flowshare said it did not act on (503), or that never left this machine. */
const CALL_ATTEMPTS = 4;

export async function executeLease(options: LeaseOptions): Promise<LeaseResult> {
  const { lease } = options;
  const runId = lease.run.id;
  const note = (message: string) => options.events?.onNote?.(message);
  const api = apiClient(options.apiUrl, () => lease.token, 45_000);
  const stop = new AbortController();
  const stopNow = () => stop.abort();
  options.signal?.addEventListener('abort', stopNow, { once: true });
  if (options.signal?.aborted) stop.abort();

  let leaseExpiresAt = Date.parse(lease.leaseExpiresAt);
  let endedAs: string | undefined;
  const heartbeats = new AbortController();
  const beating = heartbeat(api, runId, {
    signal: heartbeats.signal,
    everyMs: options.heartbeatSeconds === undefined ? undefined : options.heartbeatSeconds * 1000,
    expiresAt: () => leaseExpiresAt,
    renewed: (until) => (leaseExpiresAt = until),
    cancelRequested: () => {
      if (!stop.signal.aborted) note('A cancellation was asked for: the run stops after the action under way.');
      stop.abort();
    },
    ended: (status) => {
      endedAs = status;
      stop.abort();
    },
    note,
  });

  let outcome: RunOutcome;
  try {
    outcome = await runDefinition({
      definition: lease.definition,
      inputs: options.inputs ?? lease.inputs,
      gateway: runGateway(api, runId, () => leaseExpiresAt, note),
      signal: stop.signal,
      ...(options.events?.onActionStart ? { onActionStart: options.events.onActionStart } : {}),
      ...(options.events?.onActionEnd ? { onActionEnd: options.events.onActionEnd } : {}),
    });
  } finally {
    heartbeats.abort();
    await beating;
    options.signal?.removeEventListener('abort', stopNow);
  }
  if (outcome.status === 'Ended' || endedAs) {
    return { outcome, runStatus: endedAs ?? outcome.runStatus };
  }
  return { outcome, ...(await complete(api, runId, outcome, () => leaseExpiresAt, note)) };
}

/** Renews the lease a third of the way before it lapses, until told to stop. */
async function heartbeat(
  api: Api,
  runId: string,
  on: {
    signal: AbortSignal;
    everyMs: number | undefined;
    expiresAt: () => number;
    renewed: (until: number) => void;
    cancelRequested: () => void;
    ended: (runStatus: string | undefined) => void;
    note: (message: string) => void;
  },
): Promise<void> {
  let failing = false;
  while (!on.signal.aborted) {
    const due = Math.max(1_000, (on.expiresAt() - Date.now()) / 3);
    const wait = failing ? 2_000 : Math.min(due, on.everyMs ?? due);
    try {
      await sleep(wait, undefined, { signal: on.signal });
    } catch {
      return; // stopped
    }
    try {
      const beat = await body(api.POST('/runs/{runId}/heartbeat', { params: { path: { runId } } }));
      on.renewed(Date.parse(beat.leaseExpiresAt));
      if (failing) on.note('The service answers again.');
      failing = false;
      if (beat.cancelRequested) on.cancelRequested();
    } catch (error) {
      if (error instanceof ApiProblem && error.code === 'RunEnded') {
        on.ended(runStatusOf(error));
        return;
      }
      if (!failing) on.note(`Heartbeat failed (${messageOf(error)}); trying again until the lease lapses.`);
      failing = true;
      if (Date.now() > on.expiresAt()) {
        on.note('The lease lapsed before the service could be reached: the run is TimedOut.');
        on.ended('TimedOut');
        return;
      }
    }
  }
}

/** The gateway as the engine sees it: this run's connector calls, with its token. */
function runGateway(api: Api, runId: string, expiresAt: () => number, note: (m: string) => void): Gateway {
  return {
    async call(call: ConnectorCall): Promise<GatewayAnswer> {
      for (let attempt = 1; ; attempt++) {
        try {
          const answer = await body(
            api.POST('/runs/{runId}/connector-calls', {
              params: { path: { runId } },
              body: {
                connectionReference: call.connectionReference,
                operationId: call.operationId,
                parameters: call.parameters,
              },
            }),
          );
          return answer as GatewayAnswer;
        } catch (error) {
          // Tried again only when flowshare surely did nothing: a provider may have acted on any other failure.
          const nothingDone =
            (error instanceof ServiceUnreachable && error.notSent) ||
            (error instanceof ApiProblem &&
              (error.code === 'StorageUnavailable' || error.code === 'IdentityProviderUnavailable'));
          if (nothingDone && attempt < CALL_ATTEMPTS && Date.now() < expiresAt()) {
            note(`The connector call was not made (${messageOf(error)}); trying again.`);
            await sleep(1_000 * attempt);
            continue;
          }
          throw gatewayProblem(error);
        }
      }
    },
  };
}

function gatewayProblem(error: unknown): GatewayProblem {
  if (error instanceof ServiceUnreachable) {
    return new GatewayProblem(
      'ServiceUnreachable',
      `${error.message} Whether the provider acted on the call is unknown.`,
    );
  }
  if (error instanceof ApiProblem) {
    const fields = error.problem?.errors as Array<{ field: string; detail: string }> | undefined;
    const detail = fields?.length
      ? `${error.problem?.detail} ${fields.map((f) => `${f.field} ${f.detail}`).join('; ')}.`
      : error.problem?.detail;
    return new GatewayProblem(error.code, detail ?? error.message, runStatusOf(error));
  }
  throw error;
}

/** Reports how the run went; tried again while the service cannot be reached, until the lease lapses. */
async function complete(
  api: Api,
  runId: string,
  outcome: RunOutcome,
  expiresAt: () => number,
  note: (m: string) => void,
): Promise<{ run?: Run; runStatus?: string }> {
  let report = {
    status: outcome.status === 'Succeeded' ? ('Succeeded' as const) : ('Failed' as const),
    outputs: outcome.outputs,
    actions: outcome.actions,
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const run = await body(api.POST('/runs/{runId}/complete', { params: { path: { runId } }, body: report }));
      return { run, runStatus: run.status };
    } catch (error) {
      if (error instanceof ApiProblem && error.code === 'RunEnded') return { runStatus: runStatusOf(error) };
      if (error instanceof ApiProblem && error.code === 'PayloadTooLarge' && 'outputs' in report) {
        note('The outputs are too large to report (docs/limits.md): the run is reported Failed without them.');
        report = { status: 'Failed', actions: report.actions } as typeof report;
        continue;
      }
      const retry = error instanceof ServiceUnreachable || (error instanceof ApiProblem && error.transient);
      const delay = Math.min(10_000, 1_000 * 2 ** attempt);
      if (!retry || Date.now() + delay > expiresAt()) {
        note(`The run's end could not be reported (${messageOf(error)}).`);
        return {};
      }
      note(`Reporting the run's end failed (${messageOf(error)}); trying again in ${delay / 1000} s.`);
      await sleep(delay);
    }
  }
}

function runStatusOf(error: ApiProblem): string | undefined {
  const status = error.problem?.runStatus;
  return typeof status === 'string' ? status : undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
