// How `npm run bench` times an operation: workers issuing it in a loop, the
// CPU each process spent meanwhile (Linux, from /proc), a lean HTTP client,
// and the bare servers (bareServer.ts) it compares the read routes with.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import diagnostics from 'node:diagnostics_channel';
import { Agent, request as httpRequest, type ClientRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { BareQuery } from './bareServer';

export const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3_000);
/** Untimed work before each scenario is measured, so that both sides run JIT-compiled code. */
export const WARMUP_MS = Math.min(1_000, DURATION_MS);
/** Turns each side of a comparison takes within DURATION_MS. */
const ROUNDS = 3;

/** One operation; `worker` is which of the concurrent workers issues it (0 to concurrency - 1). */
export type Op = (i: number, worker: number) => Promise<unknown>;

export interface Pids {
  service: number;
  storage: number;
}

/** CPU milliseconds a process has used, from /proc (undefined elsewhere). */
function cpuMsOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** What one timed stretch of an operation did. */
interface Sample {
  seconds: number;
  latencies: number[];
  selfCpuMs: number;
  serviceCpuMs?: number;
  storageCpuMs?: number;
}

/** Runs `op` from `concurrency` workers for `durationMs`, reading each process's CPU before and after. */
async function sample(op: Op, concurrency: number, pids: Pids, durationMs: number): Promise<Sample> {
  const latencies: number[] = [];
  const end = Date.now() + durationMs;
  let n = 0;
  const before = { self: process.cpuUsage(), service: cpuMsOf(pids.service), storage: cpuMsOf(pids.storage) };
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (Date.now() < end) {
        const t = performance.now();
        await op(n++, worker);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const self = process.cpuUsage(before.self);
  const spent = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined ? undefined : to - from;
  return {
    seconds: (Date.now() - started) / 1000,
    latencies,
    selfCpuMs: (self.user + self.system) / 1000,
    serviceCpuMs: spent(before.service, cpuMsOf(pids.service)),
    storageCpuMs: spent(before.storage, cpuMsOf(pids.storage)),
  };
}

export type Summary = ReturnType<typeof summarize>;

/** Throughput, latencies and CPU per operation over several samples of one operation. */
function summarize(samples: Sample[]) {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const ops = latencies.length;
  const seconds = samples.reduce((total, s) => total + s.seconds, 0);
  const perOp = (pick: (s: Sample) => number | undefined) => {
    const values = samples.map(pick);
    return values.some((v) => v === undefined)
      ? undefined
      : round(values.reduce((total: number, v) => total + v!, 0) / ops, 3);
  };
  const pct = (p: number) => latencies[Math.min(ops - 1, Math.floor(ops * p))] ?? 0;
  return {
    ops,
    opsPerSec: ops / seconds,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    selfCpuMsPerOp: perOp((s) => s.selfCpuMs),
    serviceCpuMsPerOp: perOp((s) => s.serviceCpuMs),
    storageCpuMsPerOp: perOp((s) => s.storageCpuMs),
  };
}

/** One operation timed for `durationMs` in a single stretch. */
export async function measure(op: Op, concurrency: number, pids: Pids, durationMs = DURATION_MS): Promise<Summary> {
  return summarize([await sample(op, concurrency, pids, durationMs)]);
}

/**
 * Several operations timed in turns (ROUNDS of durationMs / ROUNDS each), so
 * that whatever drifts on a shared machine drifts alike for all of them.
 */
export async function measureInTurns(
  contenders: Array<{ op: Op; pids: Pids }>,
  concurrency: number,
  /** Told when each turn ran, in µs of process.hrtime (a CPU profile's clock). */
  onTurn?: (contender: number, fromUs: number, toUs: number) => void,
  durationMs = DURATION_MS,
): Promise<Summary[]> {
  const samples: Sample[][] = contenders.map(() => []);
  const clockUs = () => Number(process.hrtime.bigint() / 1000n);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, { op, pids }] of contenders.entries()) {
      const fromUs = clockUs();
      samples[i]!.push(await sample(op, concurrency, pids, durationMs / ROUNDS));
      onTurn?.(i, fromUs, clockUs());
    }
  }
  return samples.map(summarize);
}

/** Runs bench/bareServer.ts as a process of its own, answering `queries`; answers how to call it. */
export async function startBareServer(
  queries: BareQuery[],
  connectionString: string,
  options: { nodeArgs?: string[]; onHost?: boolean } = {},
) {
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      join(__dirname, 'bareServer.js'),
      ...(options.onHost ? ['--on-host'] : []),
      connectionString,
      JSON.stringify(queries),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { port } = JSON.parse(line) as { port: number };
  return {
    call: httpClient(`http://127.0.0.1:${port}`),
    /** What to request of it: any path of the plain server, the one function's on the host. */
    path: options.onHost ? '/api/bare' : '/',
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export type HttpClient = ReturnType<typeof httpClient>;

/**
 * A lean keep-alive HTTP client, as a load generator should be: fetch costs
 * this process several times more CPU per request, taken from the cores the
 * service and Azurite share.
 */
export function httpClient(api: string) {
  const agent = new Agent({ keepAlive: true });
  const origin = new URL(api).origin;
  return (method: string, path: string, bearer: string, body?: unknown) =>
    new Promise<{
      status: number;
      headers: Record<string, string | string[] | undefined>;
      body: Record<string, unknown>;
    }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const request = httpRequest(
        `${path.startsWith('/api') ? origin : api}${path}`,
        {
          method,
          agent,
          headers: {
            authorization: `Bearer ${bearer}`,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = response.statusCode ?? 0;
            if (status >= 400) reject(new Error(`${method} ${path}: ${status} ${text}`));
            else
              resolve({
                status,
                headers: response.headers,
                body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
              });
          });
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * The storage requests `op` sends (method and path with its query), seen on
 * Node's diagnostics channel. Nothing else may run meanwhile; unlike
 * countRequests it needs no AsyncLocalStorage, which would slow every
 * promise of this process from then on.
 */
export async function recordRequests(op: () => Promise<unknown>): Promise<Array<{ method: string; path: string }>> {
  const seen: Array<{ method: string; path: string }> = [];
  const onStart = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    seen.push({ method: request.method, path: request.path });
  };
  diagnostics.subscribe('http.client.request.start', onStart);
  try {
    await op();
  } finally {
    diagnostics.unsubscribe('http.client.request.start', onStart);
  }
  return seen;
}

/** A table query as recorded (`GET /<account>/<table>()?$filter=…&$select=…`), for the bare server. */
export function bareQueryOf(request: { method: string; path: string }): BareQuery {
  const url = new URL(request.path, 'http://storage');
  const table = /^\/[^/]+\/([^/(]+)\(\)$/.exec(url.pathname)?.[1];
  const filter = url.searchParams.get('$filter');
  if (request.method !== 'GET' || !table || !filter) throw new Error(`not a table query: ${request.path}`);
  const select = url.searchParams.get('$select');
  return { table, filter, ...(select ? { select: select.split(',') } : {}) };
}
