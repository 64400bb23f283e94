// `flowshare run <flow>` (docs/cli.md, Running a flow): the run prompt, a
// connection for every reference (asked for in a terminal, the defaults
// otherwise), then the run started and executed on this machine, each action
// shown as it ends, and the outputs. Ctrl-C cancels the run on the service.
import { confirm, select } from '@inquirer/prompts';
import { ID_PATTERN } from '../../lib/domain/limits';
import type { Definition } from '../../lib/domain/definitions';
import { ApiProblem, body, type Api, type Flow, type RunPromptEntry } from '../api';
import { UsageError } from '../config';
import { inputFromText, InputInvalid } from '../engine/inputs';
import { EXIT } from '../exitCodes';
import { executeLease, messageOf } from '../lease';
import { duration, progress, type Output } from '../output';
import { addConnection } from './connections';

export interface RunOptions {
  input: string[];
  connection: string[];
  yes: boolean;
  json: boolean;
}

const ADD = '\u0000add';

export async function runFlow(
  api: Api,
  apiUrl: string,
  out: Output,
  flowRef: string,
  options: RunOptions,
): Promise<number> {
  const interactive = !options.yes && Boolean(process.stdin.isTTY && out.stream.isTTY);
  // The arguments' form first: a usage error needs no service.
  const given = parsePairs(options.input, '--input', 'name=value');
  const asked = parsePairs(options.connection, '--connection', 'reference=connectionId');
  const flow = await findFlow(api, flowRef);
  const inputs = parseInputs(given, flow.definition as Definition);
  const prompt = (await body(api.GET('/flows/{flowId}/run-prompt', { params: { path: { flowId: flow.id } } }))).value;
  for (const [name, id] of asked) {
    const entry = prompt.find((e) => e.logicalName === name);
    if (!entry) throw new UsageError(`--connection ${name}: the flow has no connection reference ${name}.`);
    if (!entry.candidates.some((c) => c.id === id)) {
      throw new UsageError(
        `--connection ${name}: ${id} is not a connection you can use for it (flowshare connections).`,
      );
    }
  }

  out.line(`${flow.name} (${flow.id}), as ${flow.role}`);
  const chosen: Record<string, string> = {};
  const missing: RunPromptEntry[] = [];
  for (const entry of prompt) {
    const id = asked.get(entry.logicalName) ?? (interactive ? await ask(api, out, entry) : usable(entry));
    if (id) chosen[entry.logicalName] = id;
    else missing.push(entry);
  }
  if (missing.length > 0) {
    out.line('The run cannot start: these connection references have no connection of yours:');
    for (const entry of missing) out.line(`  ${entry.logicalName} (${entry.connectorId})`);
    out.line('Add one (flowshare connections add <connector>), or run in a terminal to be asked.');
    if (options.json)
      out.result({
        flowId: flow.id,
        started: false,
        missing: missing.map(({ logicalName, connectorId }) => ({ logicalName, connectorId })),
      });
    return EXIT.refused;
  }

  let lease;
  try {
    lease = await body(
      api.POST('/flows/{flowId}/runs', { params: { path: { flowId: flow.id } }, body: { connections: chosen } }),
    );
  } catch (error) {
    if (!(error instanceof ApiProblem) || error.status === 401 || error.transient) throw error;
    out.line(`The run was refused: ${error.message}`);
    for (const e of (error.problem?.errors ?? error.problem?.missing ?? []) as Array<Record<string, string>>) {
      out.line(`  ${[e.code, e.logicalName, e.connectorId, e.field, e.detail].filter(Boolean).join(': ')}`);
    }
    if (options.json) out.result({ flowId: flow.id, started: false, problem: error.problem });
    return EXIT.refused;
  }
  const runId = lease.run.id;
  out.line(`Run ${runId} started on this machine.`);
  const lines = progress(out);

  // Ctrl-C: the run is cancelled on the service, then this console stops after the action under way.
  const stop = new AbortController();
  let interrupted = 0;
  const onInterrupt = () => {
    interrupted += 1;
    if (interrupted > 1) process.exit(EXIT.cancelled); // a second Ctrl-C: its lease ends the run
    lines.note('Cancelling the run (Ctrl-C again to leave at once)…');
    void api
      .POST('/runs/{runId}/cancel', { params: { path: { runId } } })
      .catch((error: unknown) => out.line(`The service was not told (${messageOf(error)}).`))
      .finally(() => stop.abort());
  };
  process.on('SIGINT', onInterrupt);
  let result;
  try {
    result = await executeLease({
      apiUrl,
      lease,
      inputs,
      signal: stop.signal,
      events: {
        onActionStart: (name) => lines.start(name),
        onActionEnd: (report) => lines.end(report),
        onNote: (message) => lines.note(message),
      },
    });
  } finally {
    process.off('SIGINT', onInterrupt);
  }
  const status = result.runStatus ?? 'Unknown';
  const took =
    result.run?.completedAt && result.run.startedAt
      ? Date.parse(result.run.completedAt) - Date.parse(result.run.startedAt)
      : undefined;
  out.line(`Run ${status}${took !== undefined ? ` in ${duration(took)}` : ''}.`);
  if (result.outcome.error && status !== 'Cancelled') {
    out.line(`  ${result.outcome.error.action ?? ''}: ${result.outcome.error.code}: ${result.outcome.error.detail}`);
  }
  const outputs = Object.entries(result.outcome.outputs);
  if (outputs.length > 0) {
    out.line('Outputs:');
    for (const [name, value] of outputs) out.line(`  ${name}: ${JSON.stringify(value)}`);
  }
  const exitCode = exitFor(status);
  if (options.json) {
    out.result({
      flowId: flow.id,
      started: true,
      run: { id: runId, status },
      outputs: result.outcome.outputs,
      actions: result.outcome.actions,
      ...(result.outcome.error ? { error: result.outcome.error } : {}),
      exitCode,
    });
  }
  return exitCode;
}

export function exitFor(status: string): number {
  switch (status) {
    case 'Succeeded':
      return EXIT.ok;
    case 'Cancelled':
      return EXIT.cancelled;
    case 'TimedOut':
      return EXIT.timedOut;
    case 'Unknown':
      return EXIT.unreachable;
    default:
      return EXIT.failed;
  }
}

/** A flow by id, or by its exact name among the caller's flows. */
async function findFlow(api: Api, ref: string): Promise<Flow> {
  if (ID_PATTERN.test(ref)) {
    try {
      return await body(api.GET('/flows/{flowId}', { params: { path: { flowId: ref } } }));
    } catch (error) {
      if (!(error instanceof ApiProblem && error.code === 'NotFound')) throw error;
    }
  }
  const named = (await listFlows(api)).filter((f) => f.name === ref);
  if (named.length === 0) throw new UsageError(`No flow of yours is named or has the id "${ref}" (flowshare flows).`);
  if (named.length > 1) {
    throw new UsageError(`Several flows are named "${ref}": give its id (${named.map((f) => f.id).join(', ')}).`);
  }
  return body(api.GET('/flows/{flowId}', { params: { path: { flowId: named[0]!.id } } }));
}

export async function listFlows(api: Api): Promise<Flow[]> {
  const all: Flow[] = [];
  let token: string | undefined;
  do {
    const page = await body(
      api.GET('/flows', { params: { query: { top: 100, ...(token ? { continuationToken: token } : {}) } } }),
    );
    all.push(...page.value);
    token = page.nextLink
      ? (new URL(page.nextLink, 'http://x').searchParams.get('continuationToken') ?? undefined)
      : undefined;
  } while (token);
  return all;
}

function parsePairs(pairs: string[], option: string, form: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`${option} takes ${form}, not "${pair}".`);
    map.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return map;
}

function parseInputs(given: Map<string, string>, definition: Definition): Record<string, unknown> {
  const specs = definition?.inputs;
  const inputs: Record<string, unknown> = {};
  for (const [name, text] of given) {
    if (specs && !Object.hasOwn(specs, name)) {
      throw new UsageError(`--input ${name}: the flow takes ${Object.keys(specs).join(', ') || 'no inputs'}.`);
    }
    try {
      Object.defineProperty(inputs, name, {
        value: inputFromText(name, text, specs?.[name]?.type),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } catch (error) {
      throw error instanceof InputInvalid ? new UsageError(error.message) : error;
    }
  }
  return inputs;
}

/** The connection used without asking: the default, if it is Connected. */
function usable(entry: RunPromptEntry): string | undefined {
  const id = entry.defaultConnectionId;
  return id && entry.candidates.some((c) => c.id === id && c.status === 'Connected') ? id : undefined;
}

/** Asks which connection serves a reference: its candidates, the default selected; or a new one. */
async function ask(api: Api, out: Output, entry: RunPromptEntry): Promise<string | undefined> {
  const context = { output: out.stream };
  const what = `${entry.logicalName} (${entry.connectorId})`;
  if (entry.candidates.length === 0) {
    const add = await confirm(
      { message: `${what}: you have no connection for it. Add one now?`, default: true },
      context,
    );
    if (!add) return undefined;
    return (await addConnection(api, out, entry.connectorId, { interactive: true })).id;
  }
  const picked = await select(
    {
      message: `Connection for ${what}`,
      choices: [
        ...entry.candidates.map((c) => ({
          value: c.id,
          name: `${c.displayName}${c.source === 'embedded' ? ' (embedded by its reference owner)' : ''}`,
          ...(c.status !== 'Connected' ? { disabled: `(${c.status})` } : {}),
        })),
        { value: ADD, name: 'Add a new connection…' },
      ],
      default: usable(entry) ?? ADD,
    },
    context,
  );
  if (picked !== ADD) return picked;
  return (await addConnection(api, out, entry.connectorId, { interactive: true })).id;
}
