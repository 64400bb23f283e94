// The runtime rows of `npm run bench` (issue 14): what a run's executor sees.
//
// - `gateway`: a connector call through flowshare (`POST /runs/{id}/connector-calls`
//   with a machine's run token) beside the same provider call made directly
//   with the same access token, in turns in the same run. The call is
//   Office 365's `GetMyProfile` (`GET /me`) on an OAuth connection consented
//   at the local issuer: a read with no side effect, so the provider does the
//   same work for every call on both sides. Storage requests and writes per
//   call are counted in this process on the in-process services, warm.
// - `gateway, provider 50 ms away`: the same, with the local providers answering
//   after 50 ms (their `POST /dev/latency`, a timer), as a real provider a
//   network hop away does; the row above, at no distance, stays as the worst case.
// - `cloud run, end to end`: from `POST /flows/{id}/cloud-runs` to the run
//   `Succeeded`, with one machine leasing with long polling as the agent does
//   (`flowshare agent --concurrency N`, N the row's concurrency): each run it
//   leases makes one connector call (the same GetMyProfile) and completes.
//
// The local providers are served by the stack's own process (dev/stack.ts),
// so on the direct side the service's CPU column is the provider's own work.
import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TableClient } from '@azure/data-tables';
import { decodeJwt } from 'jose';
import { DEV_CLIENTS } from '../dev/devConnectors';
import { mintToken, type SigningKey } from '../dev/issuer';
import type { StackInfo } from '../dev/stack';
import type { Log } from '../lib/log';
import type { Services } from '../lib/services';
import type { Storage } from '../lib/storage/clients';
import { formatSummary, summarizeProfile, type Window } from './cpuProfile';
import {
  DURATION_MS,
  httpClient,
  measure,
  measureInTurns,
  recordRequests,
  round,
  WARMUP_MS,
  type HttpClient,
  type Pids,
} from './measure';

export const GATEWAY = 'gateway';
export const GATEWAY_DISTANT = 'gateway, provider 50 ms away';
/** The distant row's provider delay. */
const DISTANT_PROVIDER_MS = 50;
export const CLOUD_RUN_END_TO_END = 'cloud run, end to end';
const CONCURRENCIES = [1, 16];
/** Issue 14's targets for the gateway at 16. */
const GATEWAY_RATIO_TARGET = 0.8;
const GATEWAY_STORAGE_TARGET = 2;
/** Calls counted (after one warm call) for the gateway's storage requests and writes per call. */
const COUNTED_CALLS = 20;
/** The agent's long poll (`flowshare agent --wait-seconds`), shorter so that stopping the machine is quick. */
const LEASE_WAIT_SECONDS = 5;

/** A row as run.ts's others, with the fields only these rows have. */
export interface RuntimeRow {
  name: string;
  concurrency: number;
  opsPerSec: number;
  /** The gateway: the direct provider call's throughput, and ours over it. */
  rawOpsPerSec?: number;
  ratio?: number;
  p50Ms: number;
  p99Ms: number;
  /**
   * The gateway: the least any gateway must do, timed in the same turns: the
   * call's storage requests issued raw with the SDK, then the direct call; and ours over it.
   */
  floorOpsPerSec?: number;
  floorRatio?: number;
  /** The gateway: per call, counted warm on the in-process services (the provider's request not included). */
  storageRequestsPerOp?: number;
  storageWritesPerOp?: number;
  serviceCpuMsPerOp?: number;
  storageCpuMsPerOp?: number;
  /** The direct call: this process calling, and the stack's process, which serves the providers too. */
  rawClientCpuMsPerOp?: number;
  rawServiceCpuMsPerOp?: number;
}

export interface RuntimeContext {
  info: StackInfo;
  /** The local issuer's signing key, to mint callers' tokens. */
  issuerKey: SigningKey;
  pids: Pids;
  /** In-process services on the same storage, for counting. */
  services: Services;
  /** Raw SDK clients on the same storage. */
  storage: Storage;
  /** `--only`: the names asked for, or undefined for all. */
  only?: string[];
}

/** Measures the runtime rows (those `only` names); answers them in run.ts's row shape. */
export async function runtimeRows(ctx: RuntimeContext): Promise<RuntimeRow[]> {
  const wanted = (name: string) => !ctx.only || ctx.only.includes(name);
  if (!wanted(GATEWAY) && !wanted(GATEWAY_DISTANT) && !wanted(CLOUD_RUN_END_TO_END)) return [];
  const setup = await setUp(ctx);
  const rows: RuntimeRow[] = [];
  if (wanted(GATEWAY)) rows.push(...(await gatewayRows(ctx, setup, GATEWAY)));
  if (wanted(GATEWAY_DISTANT)) {
    await providerLatency(ctx, DISTANT_PROVIDER_MS);
    try {
      rows.push(...(await gatewayRows(ctx, setup, GATEWAY_DISTANT)));
    } finally {
      await providerLatency(ctx, 0);
    }
  }
  if (wanted(CLOUD_RUN_END_TO_END)) rows.push(...(await cloudRunRows(ctx, setup)));
  return rows;
}

/** Whether the gateway's targets are met at 16, a line each, as run.ts prints the others'. */
export function runtimeVerdicts(rows: RuntimeRow[]): string[] {
  return rows
    .filter((r) => (r.name === GATEWAY || r.name === GATEWAY_DISTANT) && r.concurrency === 16)
    .map((r) => {
      const ratioMet = (r.ratio ?? 0) >= GATEWAY_RATIO_TARGET ? 'met' : 'NOT met';
      const storageMet =
        (r.storageRequestsPerOp ?? Infinity) <= GATEWAY_STORAGE_TARGET && r.storageWritesPerOp === 0
          ? 'met'
          : 'NOT met';
      return (
        `${r.name} at 16: ratio ${r.ratio} (target >= ${GATEWAY_RATIO_TARGET}) ${ratioMet}; ` +
        `${r.storageRequestsPerOp} storage requests, ${r.storageWritesPerOp} writes per call ` +
        `(target <= ${GATEWAY_STORAGE_TARGET}, no write) ${storageMet}; the service used ${r.serviceCpuMsPerOp} CPU ms ` +
        `per call, the provider alone ${r.rawServiceCpuMsPerOp}`
      );
    });
}

/** Sets the local providers' delay before each answer (dev/providers/server.ts). */
async function providerLatency(ctx: RuntimeContext, ms: number): Promise<void> {
  const answer = await fetch(`${ctx.info.providersUrl}/dev/latency`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ms }),
  });
  if (answer.status !== 200) throw new Error(`the providers refused a latency of ${ms} ms: ${answer.status}`);
}

interface Setup {
  call: HttpClient;
  ownerToken: string;
  flowId: string;
  /** The provider account's access token, as the issuer gave it to flowshare at consent. */
  accessToken: string;
}

/**
 * An owner (in the issuer's sign-in tenant, so that consent signs them in),
 * an Office 365 connection consented as a provider user, and a flow whose
 * reference `mail` embeds it.
 */
async function setUp(ctx: RuntimeContext): Promise<Setup> {
  const { info } = ctx;
  const call = httpClient(info.apiUrl!);
  const owner = `runtime-owner-${Date.now()}`;
  const providerUser = `${owner}-account`;
  const ownerToken = await mintToken(ctx.issuerKey, { issuer: info.issuerUrl, audience: info.audience, user: owner });
  const connection = (
    await call('POST', '/connections', ownerToken, { connectorId: 'shared_office365', displayName: 'Mail' })
  ).body as { id: string; consentUrl: string };
  // As a person at a browser would (dev/consent.ts, built beside this file).
  await promisify(execFile)(process.execPath, [
    join(__dirname, '../dev/consent.js'),
    '--user',
    owner,
    '--as',
    providerUser,
    connection.consentUrl,
  ]);
  const flowId = (
    await call('POST', '/flows', ownerToken, {
      name: 'Runtime',
      schemaVersion: 2,
      definition: { actions: [{ type: 'connector', connectionReference: 'mail', operation: 'GetMyProfile' }] },
    })
  ).body.id as string;
  const ref = `/flows/${flowId}/connection-references/mail`;
  await call('PUT', ref, ownerToken, { connectorId: 'shared_office365', connectionId: connection.id });
  await call('PATCH', ref, ownerToken, { embedded: true });
  // The access token the issuer gave flowshare for this account (its development endpoint lists them).
  const issued = (await (await fetch(`${info.issuerUrl}/dev/users/${providerUser}/tokens`)).json()) as {
    tokens: string[];
  };
  const accessToken = issued.tokens.find((t) => {
    try {
      const claims = decodeJwt(t);
      return claims.azp === DEV_CLIENTS.office365 && typeof claims.scp === 'string';
    } catch {
      return false; // a refresh token is not a JWT
    }
  });
  if (!accessToken) throw new Error(`no access token was issued to ${providerUser}`);
  return { call, ownerToken, flowId, accessToken };
}

/** The counted calls' log lines would only fill the output. */
const silentLog: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };

const PROFILE_CALL = { connectionReference: 'mail', operationId: 'GetMyProfile', parameters: {} };

/** The path storage requests begin with: `/<account>/`. */
function accountPath(ctx: RuntimeContext): string {
  return `/${/AccountName=([^;]+)/.exec(ctx.info.storageConnectionString)![1]!}/`;
}

/**
 * A recorded table read, to issue again with the SDK: a query
 * (`/<account>/<table>()?$filter=…`) or a point read
 * (`/<account>/<table>(PartitionKey='…',RowKey='…')`).
 */
function replayOf(storage: Storage, request: { method: string; path: string }): () => Promise<unknown> {
  const url = new URL(request.path, 'http://storage');
  const [, , name, keys] = /^\/([^/]+)\/([^/(]+)\((.*)\)$/.exec(decodeURIComponent(url.pathname)) ?? [];
  const table = Object.values(storage).find(
    (client): client is TableClient => client instanceof TableClient && client.tableName === name,
  );
  if (request.method !== 'GET' || !table || keys === undefined) throw new Error(`not a table read: ${request.path}`);
  const select = url.searchParams.get('$select')?.split(',');
  if (keys === '') {
    const filter = url.searchParams.get('$filter') ?? undefined;
    return async () => {
      for await (const _ of table.listEntities({ queryOptions: { filter, select } })) void _;
    };
  }
  const [, partitionKey, rowKey] = /^PartitionKey='(.*)',RowKey='(.*)'$/.exec(keys) ?? [];
  if (partitionKey === undefined || rowKey === undefined) throw new Error(`not a point read: ${request.path}`);
  const unquote = (key: string) => key.replace(/''/g, "'");
  return () => table.getEntity(unquote(partitionKey), unquote(rowKey), select ? { queryOptions: { select } } : {});
}

/** A machine of the owner's, with the key it leases with. */
async function registerMachine(setup: Setup, name: string): Promise<{ id: string; key: string }> {
  const created = await setup.call('POST', '/machines', setup.ownerToken, { name });
  return { id: created.body.id as string, key: created.body.key as string };
}

/** Leases until a run comes (long polling, as the agent does). */
async function leaseNext(call: HttpClient, key: string): Promise<{ runId: string; token: string }> {
  for (;;) {
    const answer = await call('POST', `/machine/lease?waitSeconds=${LEASE_WAIT_SECONDS}`, key);
    if (answer.status === 200) {
      const lease = answer.body as { run: { id: string }; token: string };
      return { runId: lease.run.id, token: lease.token };
    }
  }
}

/** A cloud run leased by a machine of the owner's, and the gateway's call and the direct one. */
async function gatewayCalls(ctx: RuntimeContext, setup: Setup) {
  const { call } = setup;
  const machine = await registerMachine(setup, 'Gateway bench');
  await call('POST', `/flows/${setup.flowId}/cloud-runs`, setup.ownerToken, { machineId: machine.id });
  // Its run token is what the calls carry.
  const run = await leaseNext(httpClient(ctx.info.apiUrl!), machine.key);
  const path = `/runs/${run.runId}/connector-calls`;
  const provider = httpClient(ctx.info.providersUrl);
  const direct = () => provider('GET', '/office365/v1.0/me', setup.accessToken);
  // The storage requests a call makes, as this process's services send them (after a first
  // call, which redeems the grant for this process's token cache and writes it back).
  const inProcess = () => ctx.services.runCalls.call(run.token, run.runId, PROFILE_CALL, silentLog);
  await inProcess();
  const storageRequests = (await recordRequests(inProcess)).filter((r) => r.path.startsWith(accountPath(ctx)));
  const replays = storageRequests.map((r) => replayOf(ctx.storage, r));
  return {
    run,
    throughFlowshare: async () => {
      const answer = await call('POST', path, run.token, PROFILE_CALL);
      if (answer.body.status !== 200) throw new Error(`the provider answered ${String(answer.body.status)}`);
    },
    direct,
    /** The call's storage requests raw, then the provider's: what flowshare cannot do without. */
    floor: async () => {
      // At once, as a run's calls after its first make them (RunCalls), then the provider's.
      await Promise.all(replays.map((replay) => replay()));
      await direct();
    },
    inProcess,
    // The lease lasts a minute (RUN_LEASE_SECONDS): renewed before each stretch, as the agent does.
    renew: () => call('POST', `/runs/${run.runId}/heartbeat`, run.token),
  };
}

async function gatewayRows(ctx: RuntimeContext, setup: Setup, name: string): Promise<RuntimeRow[]> {
  const { throughFlowshare, direct, renew, floor, inProcess } = await gatewayCalls(ctx, setup);
  const contenders = [
    { op: throughFlowshare, pids: ctx.pids },
    { op: direct, pids: ctx.pids },
    { op: floor, pids: ctx.pids },
  ];
  await renew();
  for (const { op, pids } of contenders) await measure(op, 16, pids, WARMUP_MS);
  const rows: RuntimeRow[] = [];
  for (const concurrency of CONCURRENCIES) {
    await renew();
    const [gateway, raw, least] = await measureInTurns(contenders, concurrency);
    rows.push({
      name,
      concurrency,
      opsPerSec: round(gateway!.opsPerSec),
      rawOpsPerSec: round(raw!.opsPerSec),
      ratio: round(gateway!.opsPerSec / raw!.opsPerSec, 2),
      floorOpsPerSec: round(least!.opsPerSec),
      floorRatio: round(gateway!.opsPerSec / least!.opsPerSec, 2),
      p50Ms: round(gateway!.p50Ms, 1),
      p99Ms: round(gateway!.p99Ms, 1),
      serviceCpuMsPerOp: gateway!.serviceCpuMsPerOp,
      storageCpuMsPerOp: gateway!.storageCpuMsPerOp,
      rawClientCpuMsPerOp: raw!.selfCpuMsPerOp,
      rawServiceCpuMsPerOp: raw!.serviceCpuMsPerOp,
    });
    process.stderr.write('.');
  }

  // Counted on the in-process services with the same run token: one call first, so that
  // this process's token cache is as warm as the service's (its first call redeems the grant).
  await renew();
  const sent = (
    await recordRequests(async () => {
      for (let i = 0; i < COUNTED_CALLS; i++) await inProcess();
    })
  ).filter((r) => r.path.startsWith(accountPath(ctx)));
  for (const row of rows) {
    row.storageRequestsPerOp = sent.length / COUNTED_CALLS;
    row.storageWritesPerOp = sent.filter((r) => r.method !== 'GET').length / COUNTED_CALLS;
  }
  return rows;
}

async function cloudRunRows(ctx: RuntimeContext, setup: Setup): Promise<RuntimeRow[]> {
  const machine = await registerMachine(setup, 'End to end bench');
  /** Runs the machine completed, told to whoever waits for them. */
  const done = new Map<string, () => void>();
  const finished = new Set<string>();
  const completed = (runId: string) => {
    const resolve = done.get(runId);
    if (resolve) resolve();
    else finished.add(runId); // before its request's answer came back
  };

  /** The machine, `slots` runs at a time, each with one connector call, until stopped. */
  const startMachine = (slots: number) => {
    let stopping = false;
    const agent = httpClient(ctx.info.apiUrl!);
    const workers = Array.from({ length: slots }, async () => {
      while (!stopping) {
        const answer = await agent('POST', `/machine/lease?waitSeconds=${LEASE_WAIT_SECONDS}`, machine.key);
        if (answer.status !== 200) continue;
        const lease = answer.body as { run: { id: string }; token: string };
        const runId = lease.run.id;
        const called = await agent('POST', `/runs/${runId}/connector-calls`, lease.token, PROFILE_CALL);
        const startedAt = new Date().toISOString();
        await agent('POST', `/runs/${runId}/complete`, lease.token, {
          status: 'Succeeded',
          actions: [{ name: 'Profile', status: 'Succeeded', startedAt, durationMs: 1 }],
          outputs: { status: called.body.status },
        });
        completed(runId);
      }
    });
    return async () => {
      stopping = true;
      await Promise.all(workers);
    };
  };

  const request = async () => {
    const requested = await setup.call('POST', `/flows/${setup.flowId}/cloud-runs`, setup.ownerToken, {
      machineId: machine.id,
    });
    const runId = requested.body.id as string;
    if (finished.delete(runId)) return;
    await new Promise<void>((resolve) => done.set(runId, resolve));
    done.delete(runId);
  };

  const rows: RuntimeRow[] = [];
  for (const concurrency of CONCURRENCIES) {
    const stop = startMachine(concurrency);
    try {
      await measure(request, concurrency, ctx.pids, WARMUP_MS);
      const timed = await measure(request, concurrency, ctx.pids, DURATION_MS);
      rows.push({
        name: CLOUD_RUN_END_TO_END,
        concurrency,
        opsPerSec: round(timed.opsPerSec, 1),
        p50Ms: round(timed.p50Ms, 1),
        p99Ms: round(timed.p99Ms, 1),
        serviceCpuMsPerOp: timed.serviceCpuMsPerOp,
        storageCpuMsPerOp: timed.storageCpuMsPerOp,
      });
    } finally {
      await stop();
    }
    process.stderr.write('.');
  }
  return rows;
}

/**
 * `--decompose gateway` / `--profile gateway`: the gateway's call and the
 * direct one timed at 16 in turns, with the CPU each took per call; with
 * `stopForProfile` (the stack under --cpu-prof), then the stack's profile
 * summed over the gateway's turns only.
 */
export async function examineGateway(
  ctx: RuntimeContext,
  profile?: { stopStack: () => Promise<void>; dir: string },
): Promise<void> {
  const { throughFlowshare, direct, renew, floor } = await gatewayCalls(ctx, await setUp(ctx));
  const contenders = [
    { title: 'the gateway', op: throughFlowshare, pids: ctx.pids },
    { title: 'the provider, called directly', op: direct, pids: ctx.pids },
    { title: 'its storage requests raw, then the provider', op: floor, pids: ctx.pids },
  ];
  await renew();
  for (const { op, pids } of contenders) await measure(op, 16, pids, WARMUP_MS);
  await renew();
  const windows: Window[] = contenders.map(() => ({ turns: [] }));
  const summaries = await measureInTurns(contenders, 16, (i, fromUs, toUs) => windows[i]!.turns.push({ fromUs, toUs }));
  console.table(
    contenders.map(({ title }, i) => ({
      process: title,
      requestsPerSec: round(summaries[i]!.opsPerSec),
      stackCpuMsPerRequest: summaries[i]!.serviceCpuMsPerOp,
      storageCpuMsPerRequest: summaries[i]!.storageCpuMsPerOp,
      clientCpuMsPerRequest: summaries[i]!.selfCpuMsPerOp,
    })),
  );
  if (!profile) return;
  await profile.stopStack(); // --cpu-prof writes the profile as the process exits
  const [file] = readdirSync(profile.dir).filter((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no CPU profile was written to ${profile.dir}`);
  const summary = summaries[0]!;
  const timed = { requests: summary.ops, cpuMsPerRequest: summary.serviceCpuMsPerOp };
  const kept = join(__dirname, 'the-gateway.cpuprofile');
  copyFileSync(join(profile.dir, file), kept);
  writeFileSync(kept.replace(/\.cpuprofile$/, '.window.json'), JSON.stringify({ ...windows[0], ...timed }));
  console.log(`\n(${kept})`);
  console.log(formatSummary('the gateway', summarizeProfile(join(profile.dir, file), { window: windows[0] }), timed));
}
