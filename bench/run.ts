// `npm run bench`: flowshare's routes against the storage they must touch.
// Starts the local stack (Azurite in memory, the issuer, the functions) and,
// for each scenario at concurrency 1 and 16, measures the route over HTTP and
// the same storage requests issued raw with the SDK against the same Azurite.
// Prints a table and writes bench/results.json. Not a test: numbers, no verdicts.
//
// Beside throughput it reads, on Linux, the CPU time each process spent per
// operation: the service, Azurite, and this process (the HTTP client while the
// route runs, the raw SDK requests while raw runs). On a small machine all
// three share the cores, so the throughput ratio is partly a share of CPU;
// service CPU beside raw client CPU is what the service itself adds.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request as httpRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { odata } from '@azure/data-tables';
import { DEFAULT_NAMES } from '../lib/config';
import { parseCatalog } from '../lib/domain/connectors';
import { devConnectorCatalog, devSignInApp } from '../dev/devConnectors';
import { mintToken, type SigningKey } from '../dev/issuer';
import { startStackProcess } from '../dev/stackProcess';
import { createServices } from '../lib/services';
import { createStorage } from '../lib/storage/clients';
import {
  flowPartitionKey,
  machineRowKey,
  permissionRowKey,
  principalPartitionKey,
  PENDING_UNEMBED_RANGE,
  REFERENCE_RANGE,
  referenceRowKey,
} from '../lib/storage/keys';
import { encodeMessage } from '../lib/storage/queues';
import { countRequests } from '../test/support/requestCounter';
import { FlowStore, type FlowChange } from '../lib/storage/flows';
import { newId } from '../lib/services/ids';
import { runId, type Run } from '../lib/domain/runs';

const root = resolve(__dirname, '../..');
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3_000);
/** Untimed work before each scenario is measured, so that both sides run JIT-compiled code. */
const WARMUP_MS = Math.min(1_000, DURATION_MS);
const CONCURRENCIES = [1, 16];
/** Turns each side of a comparison takes within DURATION_MS. */
const ROUNDS = 3;

interface Result {
  name: string;
  concurrency: number;
  opsPerSec: number;
  rawOpsPerSec: number;
  ratio: number;
  p50Ms: number;
  p99Ms: number;
  storageRequestsPerOp: number;
  /** CPU milliseconds per operation: the service process, and Azurite under it (Linux only). */
  serviceCpuMsPerOp?: number;
  storageCpuMsPerOp?: number;
  /** The same for the raw requests: this process issuing them, and Azurite. */
  rawClientCpuMsPerOp?: number;
  rawStorageCpuMsPerOp?: number;
  /** A bare Node HTTP server issuing only the same query (bench/bareServer.ts), for `GET flow`. */
  bareServerOpsPerSec?: number;
  bareServerCpuMsPerOp?: number;
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
async function sample(
  op: (i: number) => Promise<unknown>,
  concurrency: number,
  pids: { service: number; storage: number },
  durationMs: number,
): Promise<Sample> {
  const latencies: number[] = [];
  const end = Date.now() + durationMs;
  let n = 0;
  const before = { self: process.cpuUsage(), service: cpuMsOf(pids.service), storage: cpuMsOf(pids.storage) };
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        await op(n++);
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
    opsPerSec: ops / seconds,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    selfCpuMsPerOp: perOp((s) => s.selfCpuMs),
    serviceCpuMsPerOp: perOp((s) => s.serviceCpuMs),
    storageCpuMsPerOp: perOp((s) => s.storageCpuMs),
  };
}

/** One operation timed for `durationMs` in a single stretch. */
async function measure(
  op: (i: number) => Promise<unknown>,
  concurrency: number,
  pids: { service: number; storage: number },
  durationMs = DURATION_MS,
) {
  return summarize([await sample(op, concurrency, pids, durationMs)]);
}

/**
 * Several operations timed in turns (ROUNDS of DURATION_MS / ROUNDS each), so
 * that whatever drifts on a shared machine drifts alike for all of them.
 */
async function measureInTurns(
  contenders: Array<{ op: (i: number) => Promise<unknown>; pids: { service: number; storage: number } }>,
  concurrency: number,
) {
  const samples: Sample[][] = contenders.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, { op, pids }] of contenders.entries()) {
      samples[i]!.push(await sample(op, concurrency, pids, DURATION_MS / ROUNDS));
    }
  }
  return samples.map(summarize);
}

/** Runs bench/bareServer.ts as a process of its own; answers how to call it. */
async function startBareServer(bare: { table: string; filter: string }, connectionString: string) {
  const child = spawn(process.execPath, [join(__dirname, 'bareServer.js'), connectionString, bare.table, bare.filter], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { port } = JSON.parse(line) as { port: number };
  return { call: httpClient(`http://127.0.0.1:${port}`), pid: child.pid!, stop: () => child.kill() };
}

/**
 * A lean keep-alive HTTP client, as a load generator should be: fetch costs
 * this process several times more CPU per request, taken from the cores the
 * service and Azurite share.
 */
function httpClient(api: string) {
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

async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), 'flowshare-bench-'));
  const log = createWriteStream(join(stateDir, 'stack.log'));
  const stack = await startStackProcess({ root, stateDir, log, logLevel: 'warning' });
  try {
    const info = stack.info;
    const api = info.apiUrl!;
    const key = JSON.parse(readFileSync(join(stateDir, 'issuer-key.json'), 'utf8')) as SigningKey;
    const token = (user: string) =>
      mintToken(key, { issuer: info.issuerUrl, audience: info.audience, user, tenant: 'bench' });
    const [ownerToken, userToken] = await Promise.all([token('owner'), token('user')]);
    const call = httpClient(api);
    const pids = { service: info.pid, storage: info.azuritePid };

    // One flow: the owner's embedded SQL reference, shared with a user who has a connection of their own.
    const flowId = (
      await call('POST', '/flows', ownerToken, {
        name: 'Bench',
        definition: { actions: [{ type: 'connector', connectionReference: 'db', operation: 'ExecuteQuery' }] },
      })
    ).body.id as string;
    await call('PUT', `/flows/${flowId}/permissions/user`, ownerToken, { role: 'user' });
    const ownerDb = (
      await call('POST', '/connections', ownerToken, { connectorId: 'shared_sql', displayName: 'DB', apiKey: 'k' })
    ).body.id as string;
    await call('POST', '/connections', userToken, { connectorId: 'shared_sql', displayName: 'Mine', apiKey: 'k' });
    await call('PUT', `/flows/${flowId}/connection-references/db`, ownerToken, {
      connectorId: 'shared_sql',
      connectionId: ownerDb,
    });
    await call('PATCH', `/flows/${flowId}/connection-references/db`, ownerToken, { embedded: true });
    const machineId = (await call('POST', '/machines', ownerToken, { name: 'Bench agent' })).body.id as string;

    // Raw SDK clients on the same Azurite, and in-process services to count each route's requests.
    const storage = createStorage(
      { kind: 'connectionString', connectionString: info.storageConnectionString },
      DEFAULT_NAMES,
    );
    await storage.ensureReady();
    const services = createServices(storage, {
      connectors: parseCatalog(
        JSON.stringify(devConnectorCatalog(info.issuerUrl, info.providersUrl)),
        { DEV_OAUTH_CLIENT_SECRET: 'x' },
        { httpOrigins: [info.providersUrl] },
      ),
      // The stack's own sealing key, so both open the same connections.
      sealingKeys: [
        { id: 'dev', key: Buffer.from(readFileSync(join(stateDir, 'sealing-key'), 'utf8').trim(), 'base64') },
      ],
      oauth: { stateTtlSeconds: 600 },
      signIn: { app: devSignInApp(info.issuerUrl), sessionTtlSeconds: 3600 },
      auth: { issuers: [info.issuerUrl] },
      cloudRuns: { maxDequeueCount: 5 },
      gateway: { allowedLoopbackOrigins: [info.providersUrl] },
    });
    const pk = flowPartitionKey('bench', flowId);
    const drain = async <T>(iterable: AsyncIterable<T>) => {
      for await (const _ of iterable) void _;
    };
    const flowFilter = (principal: string, references: boolean) =>
      `${odata`PartitionKey eq ${pk}`} and (${odata`RowKey eq 'flow'`} or ${odata`RowKey eq ${permissionRowKey(principal)}`}` +
      (references
        ? ` or (${odata`RowKey ge ${REFERENCE_RANGE.from} and RowKey lt ${REFERENCE_RANGE.to}`})` +
          ` or (${odata`RowKey ge ${PENDING_UNEMBED_RANGE.from} and RowKey lt ${PENDING_UNEMBED_RANGE.to}`})`
        : '') +
      ')';
    const flowQuery = (principal: string, references: boolean) =>
      drain(storage.flows.listEntities({ queryOptions: { filter: flowFilter(principal, references) } }));
    const ownConnections = (user: string) =>
      drain(
        storage.connections.listEntities({
          queryOptions: { filter: odata`PartitionKey eq ${principalPartitionKey('bench', user)}` },
        }),
      );
    const caller = (user: string) => ({ tenantId: 'bench', principalId: user });
    let guest = 0;
    // Raw rows need names no earlier round used.
    let rawId = 0;

    const scenarios: Array<{
      name: string;
      read: boolean;
      route: (i: number) => Promise<unknown>;
      raw: (i: number) => Promise<unknown>;
      counted: () => Promise<unknown>;
      /** The table query a bare HTTP server answers the route with (bench/bareServer.ts). */
      bare?: { table: string; filter: string };
      /** Puts the state where `counted` starts from, uncounted. */
      prepare?: () => Promise<unknown>;
      halve?: boolean;
    }> = [
      {
        name: 'GET flow',
        read: true,
        route: () => call('GET', `/flows/${flowId}`, userToken),
        raw: () => flowQuery('user', false),
        bare: { table: DEFAULT_NAMES.flowsTable, filter: flowFilter('user', false) },
        counted: () => services.flows.get(caller('user'), flowId),
      },
      {
        name: 'run-prompt',
        read: true,
        route: () => call('GET', `/flows/${flowId}/run-prompt`, userToken),
        raw: () => Promise.all([flowQuery('user', true), ownConnections('user')]),
        counted: () => services.runs.prompt(caller('user'), flowId),
      },
      {
        name: 'share',
        read: false,
        route: () => call('PUT', `/flows/${flowId}/permissions/g${guest++}`, ownerToken, { role: 'user' }),
        raw: async () => {
          const who = `raw${rawId++}`;
          const row = { partitionKey: pk, rowKey: permissionRowKey(who), principalId: who, role: 'user' };
          await flowQuery('owner', false);
          await storage.principalIndex.upsertEntity({
            partitionKey: principalPartitionKey('bench', who),
            rowKey: flowId,
          });
          await storage.flows.submitTransaction([
            ['create', row],
            ['create', { partitionKey: pk, rowKey: `audit|raw|${who}` }],
          ]);
          await storage.principalIndex.upsertEntity({
            partitionKey: principalPartitionKey('bench', who),
            rowKey: flowId,
          });
        },
        counted: () => services.permissions.share(caller('owner'), flowId, `counted${guest++}`, 'user'),
      },
      {
        name: 'embed',
        read: false,
        route: (i) => call('PATCH', `/flows/${flowId}/connection-references/db`, ownerToken, { embedded: i % 2 === 1 }),
        raw: async () => {
          await flowQuery('owner', false);
          await storage.connections.getEntity(principalPartitionKey('bench', 'owner'), `conn|${ownerDb}`);
          // The same conditional write, on any version: raw clients do not retry lost races.
          await storage.flows.submitTransaction([
            ['update', { partitionKey: pk, rowKey: referenceRowKey('db') }, 'Merge'],
          ]);
        },
        prepare: () => services.references.setEmbedded(caller('owner'), flowId, 'db', true),
        counted: async () => {
          // Once each way, each a change; halved below.
          await services.references.setEmbedded(caller('owner'), flowId, 'db', false);
          await services.references.setEmbedded(caller('owner'), flowId, 'db', true);
        },
        halve: true,
      },
      {
        name: 'console run',
        read: false,
        route: () => call('POST', `/flows/${flowId}/runs`, userToken),
        raw: async () => {
          await Promise.all([flowQuery('user', true), ownConnections('user')]);
          const rowKey = `run|raw${rawId++}`;
          // The run, Running with its lease, and its audit entry: as the service writes them.
          await storage.flows.submitTransaction([
            ['create', { partitionKey: pk, rowKey, status: 'Running' }],
            ['create', { partitionKey: pk, rowKey: `audit|${rowKey}` }],
          ]);
        },
        counted: () => services.runs.startAttended(caller('user'), flowId, {}),
      },
      {
        name: 'cloud run, enqueue to Dispatched',
        read: false,
        route: async () => {
          const requested = await call('POST', `/flows/${flowId}/cloud-runs`, ownerToken, { machineId });
          const location = requested.headers.location as string;
          for (;;) {
            const run = await call('GET', location, ownerToken);
            if (run.status === 200 || (run.body as { status?: string }).status === 'Dispatched') return run;
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        // The same storage requests in sequence, without the queue's polling in between:
        // the request (read, the machine, record, enqueue), then the processor's eight.
        raw: async () => {
          const rowKey = `run|rawcloud${rawId++}`;
          const setStatus = (status: string) =>
            storage.flows.submitTransaction([['update', { partitionKey: pk, rowKey, status }, 'Merge']]);
          const machines = principalPartitionKey('bench', 'owner');
          const machine = () => storage.machines.getEntity(machines, machineRowKey(machineId));
          await Promise.all([flowQuery('owner', false), machine()]);
          await storage.flows.submitTransaction([
            ['create', { partitionKey: pk, rowKey, status: 'Queued' }],
            ['create', { partitionKey: pk, rowKey: `audit|${rowKey}` }],
          ]);
          await storage.cloudRunRequests.sendMessage(encodeMessage({ runId: rowKey }));
          await storage.flows.getEntity(pk, rowKey);
          await Promise.all([flowQuery('owner', true), machine()]);
          await storage.connections.getEntity(principalPartitionKey('bench', 'owner'), `conn|${ownerDb}`);
          await setStatus('Dispatching');
          await flowQuery('owner', true); // the references and the initiator's permission again
          await storage.machines.createEntity({
            partitionKey: machines,
            rowKey: `${machineRowKey(machineId)}|${rowKey}`,
          });
          await setStatus('Dispatched');
        },
        // Recording the run and processing it (the stack's own processor would race a real request).
        counted: async () => {
          const uuid = newId();
          const run: Run = {
            tenantId: 'bench',
            flowId,
            id: runId(flowId, uuid),
            mode: 'cloud',
            status: 'Queued',
            initiatedBy: 'owner',
            connections: {},
            createdAt: new Date().toISOString(),
            machineId,
          };
          await new FlowStore(storage).commit('bench', flowId, [{ kind: 'putRun', run, over: undefined }]);
          return services.cloudRuns.process({ runId: run.id, tenantId: 'bench', flowId });
        },
      },
    ];

    const results: Result[] = [];
    for (const scenario of scenarios) {
      const bare = scenario.bare && (await startBareServer(scenario.bare, info.storageConnectionString));
      try {
        const contenders = [
          { op: scenario.route, pids },
          { op: scenario.raw, pids },
          ...(bare ? [{ op: () => bare.call('GET', '/', userToken), pids: { ...pids, service: bare.pid } }] : []),
        ];
        for (const { op, pids: of } of contenders) await measure(op, 16, of, WARMUP_MS);
        for (const concurrency of CONCURRENCIES) {
          const [service, raw, bareServer] = await measureInTurns(contenders, concurrency);
          results.push({
            name: scenario.name,
            concurrency,
            opsPerSec: round(service!.opsPerSec),
            rawOpsPerSec: round(raw!.opsPerSec),
            ratio: round(service!.opsPerSec / raw!.opsPerSec, 2),
            p50Ms: round(service!.p50Ms, 1),
            p99Ms: round(service!.p99Ms, 1),
            storageRequestsPerOp: 0, // counted below
            serviceCpuMsPerOp: service!.serviceCpuMsPerOp,
            storageCpuMsPerOp: service!.storageCpuMsPerOp,
            rawClientCpuMsPerOp: raw!.selfCpuMsPerOp,
            rawStorageCpuMsPerOp: raw!.storageCpuMsPerOp,
            ...(bareServer
              ? {
                  bareServerOpsPerSec: round(bareServer.opsPerSec),
                  bareServerCpuMsPerOp: bareServer.serviceCpuMsPerOp,
                }
              : {}),
          });
          process.stderr.write('.');
        }
      } finally {
        bare?.stop();
      }
    }
    process.stderr.write('\n');

    // The scale case: the same reads and writes on a flow with 500 references and
    // 5,000 permissions, at concurrency 1, beside the small flow's numbers.
    const bigFlow = (await call('POST', '/flows', ownerToken, { name: 'Big' })).body.id as string;
    await call('PUT', `/flows/${bigFlow}/permissions/user`, ownerToken, { role: 'user' });
    const at = new Date().toISOString();
    const bulk: FlowChange[] = [
      ...Array.from({ length: 5_000 }, (_, i): FlowChange => ({
        kind: 'putPermission',
        permission: { principalId: `bulk${i}`, role: 'user', grantedBy: 'owner', grantedAt: at },
        over: undefined,
      })),
      ...Array.from({ length: 500 }, (_, i): FlowChange => ({
        kind: 'putReference',
        reference: {
          logicalName: `ref${i}`,
          connectorId: 'shared_sql',
          ownerId: 'owner',
          connectionId: ownerDb,
          embedded: true,
          createdAt: at,
          modifiedAt: at,
        },
        over: undefined,
      })),
    ];
    const bulkStore = new FlowStore(storage);
    for (let i = 0; i < bulk.length; i += 100) await bulkStore.commit('bench', bigFlow, bulk.slice(i, i + 100));
    const scale: Array<{ name: string; op: () => Promise<unknown>; counted: () => Promise<unknown> }> = [
      {
        name: 'GET flow',
        op: () => call('GET', `/flows/${bigFlow}`, userToken),
        counted: () => services.flows.get(caller('user'), bigFlow),
      },
      {
        name: 'run-prompt',
        op: () => call('GET', `/flows/${bigFlow}/run-prompt`, userToken),
        counted: () => services.runs.prompt(caller('user'), bigFlow),
      },
      {
        name: 'share',
        op: () => call('PUT', `/flows/${bigFlow}/permissions/big${guest++}`, ownerToken, { role: 'user' }),
        counted: () => services.permissions.share(caller('owner'), bigFlow, `bigc${guest++}`, 'user'),
      },
    ];
    const scaleTimings = [];
    for (const { name, op } of scale) {
      await measure(op, 1, pids, WARMUP_MS);
      scaleTimings.push({ name, big: await measure(op, 1, pids) });
    }

    // Counted after timing: counting runs operations in an AsyncLocalStorage
    // scope, which turns on promise hooks for the rest of this process.
    for (const scenario of scenarios) {
      await scenario.prepare?.();
      const counted = (await countRequests(scenario.counted)).requests.length;
      for (const result of results.filter((r) => r.name === scenario.name)) {
        result.storageRequestsPerOp = scenario.halve ? counted / 2 : counted;
      }
    }
    const scaleRows = [];
    for (const { name, big } of scaleTimings) {
      const small = results.find((r) => r.name === name && r.concurrency === 1)!;
      scaleRows.push({
        name,
        smallOpsPerSec: small.opsPerSec,
        bigOpsPerSec: round(big.opsPerSec),
        slowdown: round(small.opsPerSec / big.opsPerSec, 2),
        smallServiceCpuMsPerOp: small.serviceCpuMsPerOp,
        bigServiceCpuMsPerOp: big.serviceCpuMsPerOp,
        smallRequestsPerOp: small.storageRequestsPerOp,
        bigRequestsPerOp: (await countRequests(scale.find((s) => s.name === name)!.counted)).requests.length,
      });
    }
    console.log('\nA flow with 500 references and 5,000 permissions, against the small one (concurrency 1):');
    console.table(scaleRows);
    writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(root, 'bench', 'scale.json'), `${JSON.stringify(scaleRows, null, 2)}\n`);
    console.table(results);
    const reads = results.filter((r) => r.concurrency === 16 && scenarios.find((s) => s.name === r.name)?.read);
    for (const r of reads) {
      const cpu =
        r.serviceCpuMsPerOp === undefined
          ? ''
          : `; the service used ${r.serviceCpuMsPerOp} CPU ms per request, the raw requests ${r.rawClientCpuMsPerOp}`;
      const bare =
        r.bareServerOpsPerSec === undefined
          ? ''
          : `; a bare HTTP server issuing only the same query: ratio ${round(r.bareServerOpsPerSec / r.rawOpsPerSec, 2)}, ${r.bareServerCpuMsPerOp} CPU ms per request`;
      console.log(
        `${r.name} at 16: ratio ${r.ratio} (target >= 0.7) ${r.ratio >= 0.7 ? 'met' : 'NOT met'}${cpu}${bare}`,
      );
    }
  } finally {
    await stack.stop();
    log.end();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
