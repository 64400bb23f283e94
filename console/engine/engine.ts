// The definition engine (docs/definitions.md, Running a definition): runs a
// flow's actions in order, connector actions through the gateway and the
// built-in ones here. The console and the machine agent both run leases
// with it; it knows nothing of HTTP, so it is tested with a fake gateway.
import { checkDefinition } from '../../lib/domain/definitionChecks';
import { actionNames, issueField, MAX_WAIT_SECONDS, type Action, type Definition } from '../../lib/domain/definitions';
import { MAX_ERROR_DETAIL_LENGTH } from '../../lib/domain/limits';
import { InputInvalid, resolveInputs } from './inputs';
import { evaluate, ExpressionFailed, holds, type Scope } from './values';

export interface ConnectorCall {
  connectionReference: string;
  operationId: string;
  parameters: Record<string, unknown>;
}

/** The provider's answer as the gateway gives it (docs/gateway.md). */
export interface GatewayAnswer {
  status: number;
  contentType?: string;
  body: unknown;
  bodyEncoding?: 'base64';
}

/** A problem the gateway answered (or the way to it failed): the action fails with its code. */
export class GatewayProblem extends Error {
  constructor(
    readonly code: string,
    detail: string,
    /** With `RunEnded`: how the run ended. */
    readonly runStatus?: string,
  ) {
    super(detail);
  }
}

export interface Gateway {
  /** Calls a connector operation for this run; throws GatewayProblem. */
  call(call: ConnectorCall): Promise<GatewayAnswer>;
}

export type ActionStatus = 'Succeeded' | 'Failed' | 'Skipped' | 'Cancelled';

/** One action's result, as a run's completion reports it (docs/shapes.md, Lease). */
export interface ActionReport {
  name: string;
  status: ActionStatus;
  startedAt: string;
  durationMs: number;
  error?: { code: string; detail: string };
}

export interface RunOutcome {
  /** `Ended`: the run ended on the service while it ran (`runStatus` says how); nothing more may be reported. */
  status: 'Succeeded' | 'Failed' | 'Cancelled' | 'Ended';
  outputs: Record<string, unknown>;
  actions: ActionReport[];
  /** Why it failed: the failed action's error. */
  error?: { code: string; detail: string; action?: string };
  runStatus?: string;
}

export interface EngineOptions {
  definition: unknown;
  inputs: unknown;
  gateway: Gateway;
  /** Aborted when the run is to stop: between actions, and during a wait. */
  signal?: AbortSignal;
  onActionStart?: (name: string, action: Action) => void;
  onActionEnd?: (report: ActionReport, action: Action) => void;
  now?: () => Date;
}

class Stop extends Error {
  constructor(
    readonly status: 'Failed' | 'Cancelled' | 'Ended',
    readonly reportStatus: ActionStatus,
    readonly code: string,
    detail: string,
    readonly runStatus?: string,
  ) {
    super(detail);
  }
}

export async function runDefinition(options: EngineOptions): Promise<RunOutcome> {
  const now = options.now ?? (() => new Date());
  const definition = options.definition as Definition;
  const names = actionNames(definition);
  const reports: ActionReport[] = [];
  const outputs: Record<string, unknown> = {};
  let stopped: { status: RunOutcome['status']; error?: RunOutcome['error']; runStatus?: string } | undefined;

  const report = (action: Action, r: ActionReport) => {
    reports.push(r);
    options.onActionEnd?.(r, action);
  };
  /** An action not run (and the actions inside it); the first may carry why. */
  const skip = (actions: readonly Action[], why?: { code: string; detail: string }) => {
    for (const action of actions) {
      // A definition refused before it ran may hold anything: only actions are reported.
      if (typeof action !== 'object' || action === null || action.type === 'note') continue;
      const error = why && reports.length === 0 ? why : undefined;
      const name = names.get(action) ?? String(action.type);
      report(action, {
        name,
        status: 'Skipped',
        startedAt: now().toISOString(),
        durationMs: 0,
        ...(error ? { error } : {}),
      });
      skip([...listOf(action.then), ...listOf(action.else)]);
    }
  };

  const issues = checkDefinition(definition);
  let scope: Scope;
  try {
    if (issues.length > 0) {
      const detail = issues
        .slice(0, 5)
        .map((i) => `${issueField(i)} ${i.detail}`)
        .join('; ');
      throw new InputInvalid(`The definition breaks the rules of flow definitions: ${detail}.`, 'DefinitionInvalid');
    }
    scope = { inputs: resolveInputs(definition.inputs, options.inputs), variables: new Map(), actions: new Map() };
  } catch (error) {
    if (!(error instanceof InputInvalid)) throw error;
    const why = { code: error.code, detail: clip(error.message) };
    skip(listOf((definition as Partial<Definition> | null)?.actions), why);
    return { status: 'Failed', outputs, actions: reports, error: why };
  }

  const runAction = async (action: Action): Promise<void> => {
    const name = names.get(action)!;
    const started = now();
    options.onActionStart?.(name, action);
    const finish = (status: ActionStatus, error?: { code: string; detail: string }) =>
      report(action, {
        name,
        status,
        startedAt: started.toISOString(),
        durationMs: Math.max(0, now().getTime() - started.getTime()),
        ...(error ? { error: { code: error.code, detail: clip(error.detail) } } : {}),
      });
    try {
      const output = await execute(action, scope, outputs, options);
      if (action.type === 'condition') {
        finish('Succeeded');
        scope.actions.set(name, output);
        const taken = (output as { result: boolean }).result;
        if (!taken) skip(action.then ?? []);
        await runList(taken ? (action.then ?? []) : (action.else ?? []));
        if (taken) skip(action.else ?? []);
        return;
      }
      scope.actions.set(name, output);
      finish('Succeeded');
    } catch (error) {
      const stop = asStop(error);
      finish(stop.reportStatus, { code: stop.code, detail: stop.message });
      stopped = {
        status: stop.status,
        ...(stop.status === 'Failed' ? { error: { code: stop.code, detail: clip(stop.message), action: name } } : {}),
        ...(stop.runStatus ? { runStatus: stop.runStatus } : {}),
      };
    }
  };

  const runList = async (actions: readonly Action[]): Promise<void> => {
    for (const action of actions) {
      if (action.type === 'note') continue;
      if (!stopped && options.signal?.aborted) stopped = { status: 'Cancelled' };
      if (stopped) skip([action]);
      else await runAction(action);
    }
  };

  await runList(definition.actions);
  return {
    status: stopped?.status ?? 'Succeeded',
    outputs,
    actions: reports,
    ...(stopped?.error ? { error: stopped.error } : {}),
    ...(stopped?.runStatus ? { runStatus: stopped.runStatus } : {}),
  };
}

/** What one action does; answers its output. */
async function execute(
  action: Action,
  scope: Scope,
  outputs: Record<string, unknown>,
  options: EngineOptions,
): Promise<unknown> {
  switch (action.type) {
    case 'connector': {
      const parameters = evaluate(action.parameters ?? {}, scope) as Record<string, unknown>;
      const answer = await options.gateway.call({
        connectionReference: action.connectionReference!,
        operationId: action.operation!,
        parameters,
      });
      if (answer.status >= 400) {
        throw new Stop(
          'Failed',
          'Failed',
          'ProviderError',
          `The provider answered ${answer.status}: ${snippet(answer.body)}`,
        );
      }
      return answer;
    }
    case 'setVariable': {
      const value = evaluate(action.value, scope);
      scope.variables.set(action.variable!, value);
      return { value };
    }
    case 'output': {
      const value = evaluate(action.value, scope);
      Object.defineProperty(outputs, action.output!, { value, enumerable: true, writable: true, configurable: true });
      return { value };
    }
    case 'condition':
      return { result: holds(action.if, scope) };
    case 'wait': {
      const seconds = evaluate(action.seconds, scope);
      if (typeof seconds !== 'number' || !(seconds >= 0 && seconds <= MAX_WAIT_SECONDS)) {
        throw new ExpressionFailed(`A wait is 0 to ${MAX_WAIT_SECONDS} seconds, not ${JSON.stringify(seconds)}.`);
      }
      await sleep(seconds * 1000, options.signal);
      return { seconds };
    }
    case 'fail': {
      const message = evaluate(action.message, scope);
      throw new Stop(
        'Failed',
        'Failed',
        action.code ?? 'FlowFailed',
        typeof message === 'string' ? message : JSON.stringify(message),
      );
    }
    default:
      return {};
  }
}

function asStop(error: unknown): Stop {
  if (error instanceof Stop) return error;
  if (error instanceof ExpressionFailed) return new Stop('Failed', 'Failed', 'ExpressionFailed', error.message);
  if (error instanceof Cancelled)
    return new Stop('Cancelled', 'Cancelled', 'Cancelled', 'The run was stopped while this action ran.');
  if (error instanceof GatewayProblem) {
    if (error.code === 'RunEnded') return new Stop('Ended', 'Cancelled', error.code, error.message, error.runStatus);
    return new Stop('Failed', 'Failed', error.code, error.message);
  }
  throw error;
}

class Cancelled extends Error {}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Cancelled());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function listOf(actions: unknown): Action[] {
  return Array.isArray(actions) ? (actions as Action[]) : [];
}

function snippet(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function clip(detail: string): string {
  return detail.length > MAX_ERROR_DETAIL_LENGTH ? `${detail.slice(0, MAX_ERROR_DETAIL_LENGTH - 1)}…` : detail;
}
