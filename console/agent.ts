// `flowshare agent` (docs/cli.md, An unattended machine): a registered
// machine that leases its cloud runs with long polling, executes each as the
// console does (console/lease.ts), N at a time. While the service cannot be
// reached it tries again with backoff. SIGTERM (or Ctrl-C) stops it cleanly:
// no new lease is asked for, the runs in hand get a grace period to finish,
// then are stopped and reported Failed.
import { readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiClient, ApiProblem, ServiceUnreachable, type Lease } from './api';
import { UsageError } from './config';
import { EXIT } from './exitCodes';
import { executeLease, messageOf } from './lease';
import { actionLine } from './output';

export interface AgentOptions {
  apiUrl: string;
  keyFile: string;
  concurrency: number;
  /** How long runs in hand may go on after SIGTERM before they are stopped. */
  graceSeconds: number;
  /** How long each lease request waits for a run (long polling). */
  waitSeconds: number;
  /** How often a run's lease is renewed (and a cancellation heard); a third of the lease by default. */
  heartbeatSeconds?: number;
  log?: (line: string) => void;
}

const MAX_BACKOFF_MS = 30_000;

export async function runAgent(options: AgentOptions): Promise<number> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`));
  const key = readKey(options.keyFile, log);
  // A lease request waits up to waitSeconds for a run; the answer gets a margin on top.
  const api = apiClient(options.apiUrl, () => key, (options.waitSeconds + 15) * 1000);
  const stopping = new AbortController();
  const stopRuns = new AbortController();
  let refused = false;

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping.signal.aborted) {
      log(`${signal} again: stopping the runs in hand now.`);
      stopRuns.abort();
      return;
    }
    log(`${signal}: no new runs; the runs in hand have ${options.graceSeconds} s to finish.`);
    stopping.abort();
    setTimeout(() => stopRuns.abort(), options.graceSeconds * 1000).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const worker = async (slot: number) => {
    let failures = 0;
    while (!stopping.signal.aborted && !refused) {
      let lease: Lease | undefined;
      try {
        // Not aborted on SIGTERM: a lease whose answer is lost is never given again (docs/domain.md).
        const answer = await api.POST('/machine/lease', { params: { query: { waitSeconds: options.waitSeconds } } });
        if (!answer.response.ok) throw new ApiProblem(answer.response.status, answer.error as never);
        if (failures > 0) log('The service answers again.');
        failures = 0;
        if (answer.response.status === 204 || !answer.data) continue;
        lease = answer.data;
      } catch (error) {
        if (stopping.signal.aborted) return; // the last lease request, cut short by the service going away
        if (error instanceof ApiProblem && error.status === 401) {
          if (!refused) log('The machine key is refused (rotated, or its machine deleted): stopping.');
          refused = true;
          return;
        }
        const delay = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** failures) * (0.75 + Math.random() / 2);
        failures += 1;
        const why = error instanceof ServiceUnreachable ? 'the service cannot be reached' : messageOf(error);
        log(`Leasing failed (${why}); trying again in ${(delay / 1000).toFixed(1)} s.`);
        await sleep(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
        continue;
      }
      await execute(lease, slot);
    }
  };

  const execute = async (lease: Lease, slot: number) => {
    const runId = lease.run.id;
    log(`[${slot}] Run ${runId} of flow ${lease.run.flowId} leased.`);
    try {
      const result = await executeLease({
        apiUrl: options.apiUrl,
        lease,
        signal: stopRuns.signal,
        ...(options.heartbeatSeconds ? { heartbeatSeconds: options.heartbeatSeconds } : {}),
        events: {
          onActionEnd: (report) => log(`[${slot}] ${runId}${actionLine(report)}`),
          onNote: (message) => log(`[${slot}] ${runId} ${message}`),
        },
      });
      const why = result.outcome.error ? `: ${result.outcome.error.code}: ${result.outcome.error.detail}` : '';
      log(`[${slot}] Run ${runId} ${result.runStatus ?? 'ended, unreported'}${why}.`);
    } catch (error) {
      log(`[${slot}] Run ${runId} could not be executed: ${messageOf(error)}`);
    }
  };

  log(`Agent for ${options.apiUrl}: ${options.concurrency} run(s) at a time.`);
  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i + 1)));
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  log('Agent stopped.');
  return refused ? EXIT.auth : EXIT.ok;
}

/** The machine key from its file: owner-only, like an SSH key. */
function readKey(file: string, log: (line: string) => void): string {
  let key: string;
  try {
    key = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new UsageError(`--machine-key-file ${file}: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)}.`);
  }
  if (!key.startsWith('fsm_'))
    throw new UsageError(`--machine-key-file ${file} does not hold a machine key (fsm_...).`);
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    log(`Warning: ${file} can be read by others; chmod 600 it.`);
  }
  return key;
}
