// `npm run bench`: flowshare's routes against the storage they must touch.
// Starts the local stack (Azurite in memory, the issuer, the functions) and,
// for each scenario at concurrency 1 and 16, measures the route over HTTP and
// the same storage requests issued raw with the SDK against the same Azurite;
// each read route also against a bare Node HTTP server making the same
// requests (bareServer.ts). Prints a table and writes bench/results.json. Not a
// test: numbers, no verdicts.
//
// Beside throughput it reads, on Linux, the CPU time each process spent per
// operation: the service, Azurite, and this process (the HTTP client while the
// route runs, the raw SDK requests while raw runs). On a small machine all
// three share the cores, so the throughput ratio is partly a share of CPU;
// service CPU beside raw client CPU is what the service itself adds.
//
// `npm run bench -- --decompose <scenario>` instead times a read route beside
// its bare server and the same bare function on the local host, to tell the
// cost of the Functions objects from the service's own; `--profile <scenario>`
// does so with each process under `node --cpu-prof`, and sums where their CPU
// went (cpuProfile.ts).
import {
  copyFileSync,
  createWriteStream,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { odata } from '@azure/data-tables';
import { DEFAULT_NAMES } from '../lib/config';
import { parseCatalog } from '../lib/domain/connectors';
import { devConnectorCatalog, devSignInApp } from '../dev/devConnectors';
import { mintToken, type SigningKey } from '../dev/issuer';
import { startStackProcess } from '../dev/stackProcess';
import { createServices } from '../lib/services';
import { createStorage } from '../lib/storage/clients';
import { CONNECTION_RANGE } from '../lib/storage/connections';
import { LIST_COLUMNS } from '../lib/storage/connectionRows';
import {
  flowPartitionKey,
  machineRowKey,
  permissionRowKey,
  principalPartitionKey,
  PENDING_UNEMBED_RANGE,
  rangeFilter,
  REFERENCE_RANGE,
  referenceRowKey,
} from '../lib/storage/keys';
import { encodeMessage } from '../lib/storage/queues';
import { countRequests } from '../test/support/requestCounter';
import { FlowStore, type FlowChange } from '../lib/storage/flows';
import { newId } from '../lib/services/ids';
import { runId, type Run } from '../lib/domain/runs';
import type { BareQuery } from './bareServer';
import { formatSummary, summarizeProfile, type Window } from './cpuProfile';
import {
  bareQueryOf,
  DURATION_MS,
  httpClient,
  measure,
  measureInTurns,
  recordRequests,
  round,
  startBareServer,
  WARMUP_MS,
  type Op,
} from './measure';
import { examineGateway, GATEWAY, runtimeRows, runtimeVerdicts } from './runtime';

const root = resolve(__dirname, '../..');
const CONCURRENCIES = [1, 16];
/** How many people change their own flow at once in the spread rows. */
const SPREAD = 16;

interface Result {
  name: string;
  concurrency: number;
  opsPerSec: number;
  rawOpsPerSec: number;
  ratio: number;
  /** Read routes: the service's throughput over the bare server's (bareServer.ts), in the same turns. */
  bareRatio?: number;
  p50Ms: number;
  p99Ms: number;
  storageRequestsPerOp: number;
  /** CPU milliseconds per operation: the service process, and Azurite under it (Linux only). */
  serviceCpuMsPerOp?: number;
  storageCpuMsPerOp?: number;
  /** The same for the raw requests: this process issuing them, and Azurite. */
  rawClientCpuMsPerOp?: number;
  rawStorageCpuMsPerOp?: number;
  /** A bare Node HTTP server issuing only the same requests (bench/bareServer.ts), for read routes. */
  bareServerOpsPerSec?: number;
  bareServerCpuMsPerOp?: number;
}

interface Scenario {
  name: string;
  read: boolean;
  route: Op;
  raw: Op;
  counted: () => Promise<unknown>;
  /**
   * Read routes: the table queries a bare HTTP server answers the route with
   * (bench/bareServer.ts), in parallel; those `counted` sends, as recorded.
   */
  bare?: BareQuery[];
  /** Puts the state where `counted` starts from, uncounted. */
  prepare?: () => Promise<unknown>;
  halve?: boolean;
  /** When not CONCURRENCIES (a spread row is only itself at 16). */
  concurrencies?: number[];
  /**
   * Times DURATION_MS: sixteen writes at once take some 100 ms each here, so
   * a turn of a second holds too few of them to say much on a busy machine.
   */
  longer?: number;
  /** The least `ratio` the issue asks of it at 16, for the verdict printed last. */
  ratioTarget?: number;
}

/** The target of every read route at 16: service throughput over the bare server's. */
const BARE_RATIO_TARGET = 0.85;

async function main() {
  const { values: flags } = parseArgs({
    options: {
      profile: { type: 'string' },
      decompose: { type: 'string' },
      only: { type: 'string', multiple: true },
    },
  });
  const stateDir = mkdtempSync(join(tmpdir(), 'flowshare-bench-'));
  const profileDirs = {
    stack: join(stateDir, 'profile-stack'),
    bare: join(stateDir, 'profile-bare'),
    bareOnHost: join(stateDir, 'profile-bare-on-host'),
  };
  const cpuProf = (dir: string) => (flags.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', dir]);
  const log = createWriteStream(join(stateDir, 'stack.log'));
  const stack = await startStackProcess({
    root,
    stateDir,
    log,
    logLevel: 'warning',
    nodeArgs: cpuProf(profileDirs.stack),
  });
  let failed = false;
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

    // The spread rows: SPREAD people, each with a flow of their own set up as the owner's above.
    const spread = await Promise.all(
      Array.from({ length: SPREAD }, async (_, w) => {
        const owner = `spread${w}`;
        const bearer = await token(owner);
        const flow = (
          await call('POST', '/flows', bearer, {
            name: `Bench ${w}`,
            definition: { actions: [{ type: 'connector', connectionReference: 'db', operation: 'Q' }] },
          })
        ).body.id as string;
        const db = (
          await call('POST', '/connections', bearer, { connectorId: 'shared_sql', displayName: 'DB', apiKey: 'k' })
        ).body.id as string;
        await call('PUT', `/flows/${flow}/connection-references/db`, bearer, {
          connectorId: 'shared_sql',
          connectionId: db,
        });
        await call('PATCH', `/flows/${flow}/connection-references/db`, bearer, { embedded: true });
        // Whether the reference is embedded now: each worker toggles its own, one change at a time.
        return { owner, bearer, flow, db, pk: flowPartitionKey('bench', flow), embedded: true };
      }),
    );

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
    /** A read of a flow's partition as readSnapshot writes it: the flow row, these rows, these ranges. */
    const flowRead = (partition: string, rowKeys: string[], ranges: Array<{ from: string; to: string }> = []) => {
      const rows = ['flow', ...rowKeys].map((rowKey) => odata`RowKey eq ${rowKey}`);
      const within = ranges.map(({ from, to }) => `(${odata`RowKey ge ${from} and RowKey lt ${to}`})`);
      const filter = `${odata`PartitionKey eq ${partition}`} and (${[...rows, ...within].join(' or ')})`;
      return storage.flows.listEntities<{ etag: string }>({ queryOptions: { filter } });
    };
    const flowQuery = (principal: string, references: boolean, partition = pk) =>
      drain(
        flowRead(partition, [permissionRowKey(principal)], references ? [REFERENCE_RANGE, PENDING_UNEMBED_RANGE] : []),
      );
    // As ConnectionStore.listAll reads them: the range of connection rows, the listed columns.
    const ownConnections = (user: string) =>
      drain(
        storage.connections.listEntities({
          queryOptions: {
            filter: rangeFilter(principalPartitionKey('bench', user), CONNECTION_RANGE),
            select: LIST_COLUMNS,
          },
        }),
      );
    const caller = (user: string) => ({ tenantId: 'bench', principalId: user });
    let guest = 0;
    // Raw rows need names no earlier round used.
    let rawId = 0;

    /** A share's storage requests, issued raw: the owner's read, the index, the permission and audit, the index. */
    // The writes below are the service's, row for row, except that they are
    // made on any version (If-Match: *): raw clients do not retry lost races.
    const anyVersion = { etag: '*' };
    /**
     * A share's storage requests, issued raw: the owner's and the guest's
     * permissions read with the flow, the guest's index row, the permission
     * with its audit entry and the owner's still-holds check, the index again.
     */
    const rawShare = async (owner: string, flow: string, partition: string) => {
      const who = `raw${rawId++}`;
      const at = new Date().toISOString();
      await drain(flowRead(partition, [permissionRowKey(owner), permissionRowKey(who)]));
      const index = { partitionKey: principalPartitionKey('bench', who), rowKey: flow, flowId: flow, addedAt: at };
      await storage.principalIndex.upsertEntity(index, 'Replace');
      await storage.flows.submitTransaction([
        [
          'create',
          {
            partitionKey: partition,
            rowKey: permissionRowKey(who),
            principalId: who,
            role: 'user',
            grantedBy: owner,
            grantedAt: at,
          },
        ],
        [
          'create',
          {
            partitionKey: partition,
            rowKey: `audit|raw|${who}`,
            action: 'shared',
            actorId: owner,
            at,
            subjectId: who,
            details: JSON.stringify({ role: 'user' }),
          },
        ],
        ['update', { partitionKey: partition, rowKey: permissionRowKey(owner) }, 'Merge', anyVersion],
      ]);
      await storage.principalIndex.upsertEntity(index, 'Replace');
    };
    /**
     * An embed's storage requests, issued raw: the owner's permission, the
     * reference and what is left to unembed read with the flow, the owner's
     * connection, then the reference replaced with its audit entry and the
     * owner's still-holds check.
     */
    const rawEmbed = async (owner: string, connection: string, partition: string) => {
      const at = new Date().toISOString();
      await drain(flowRead(partition, [permissionRowKey(owner), referenceRowKey('db')], [PENDING_UNEMBED_RANGE]));
      await storage.connections.getEntity(principalPartitionKey('bench', owner), `conn|${connection}`);
      const reference = {
        logicalName: 'db',
        connectorId: 'shared_sql',
        referenceOwnerId: owner,
        connectionId: connection,
        embedded: true,
        createdAt: at,
        modifiedAt: at,
      };
      await storage.flows.submitTransaction([
        ['update', { partitionKey: partition, rowKey: referenceRowKey('db'), ...reference }, 'Replace', anyVersion],
        [
          'create',
          {
            partitionKey: partition,
            rowKey: `audit|raw|${rawId++}`,
            action: 'embedded',
            actorId: owner,
            at,
            subjectId: 'db',
          },
        ],
        ['update', { partitionKey: partition, rowKey: permissionRowKey(owner) }, 'Merge', anyVersion],
      ]);
    };

    const scenarios: Scenario[] = [
      {
        name: 'GET flow',
        read: true,
        route: () => call('GET', `/flows/${flowId}`, userToken),
        raw: () => flowQuery('user', false),
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
        raw: () => rawShare('owner', flowId, pk),
        counted: () => services.permissions.share(caller('owner'), flowId, `counted${guest++}`, 'user'),
      },
      {
        // Sixteen people each sharing their own flow at once: nothing for ChangeLanes to serialize.
        name: 'share, spread',
        read: false,
        route: (_, w) => {
          const { flow, bearer } = spread[w % SPREAD]!;
          return call('PUT', `/flows/${flow}/permissions/g${guest++}`, bearer, { role: 'user' });
        },
        raw: (_, w) => {
          const { owner, flow, pk: partition } = spread[w % SPREAD]!;
          return rawShare(owner, flow, partition);
        },
        counted: () =>
          services.permissions.share(caller(spread[0]!.owner), spread[0]!.flow, `counted${guest++}`, 'user'),
        concurrencies: [SPREAD],
        longer: 2,
        ratioTarget: 0.8,
      },
      {
        name: 'embed',
        read: false,
        route: (i) => call('PATCH', `/flows/${flowId}/connection-references/db`, ownerToken, { embedded: i % 2 === 1 }),
        raw: () => rawEmbed('owner', ownerDb, pk),
        prepare: () => services.references.setEmbedded(caller('owner'), flowId, 'db', true),
        counted: async () => {
          // Once each way, each a change; halved below.
          await services.references.setEmbedded(caller('owner'), flowId, 'db', false);
          await services.references.setEmbedded(caller('owner'), flowId, 'db', true);
        },
        halve: true,
      },
      {
        // Sixteen owners each embedding or unembedding the reference of their own flow at once.
        name: 'embed, spread',
        read: false,
        route: (_, w) => {
          const own = spread[w % SPREAD]!;
          own.embedded = !own.embedded;
          return call('PATCH', `/flows/${own.flow}/connection-references/db`, own.bearer, { embedded: own.embedded });
        },
        raw: (_, w) => {
          const { owner, db, pk: partition } = spread[w % SPREAD]!;
          return rawEmbed(owner, db, partition);
        },
        prepare: async () => {
          const { owner, flow } = spread[0]!;
          await services.references.setEmbedded(caller(owner), flow, 'db', true);
        },
        counted: async () => {
          const { owner, flow } = spread[0]!;
          await services.references.setEmbedded(caller(owner), flow, 'db', false);
          await services.references.setEmbedded(caller(owner), flow, 'db', true);
        },
        halve: true,
        concurrencies: [SPREAD],
        longer: 2,
        ratioTarget: 0.8,
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

    // A read route's bare server makes exactly the requests the service makes,
    // and so must the raw side: both checked against what the service sends.
    for (const scenario of scenarios.filter((sc) => sc.read)) {
      const sent = await recordRequests(scenario.counted);
      const raw = await recordRequests(() => scenario.raw(0, 0));
      const paths = (requests: typeof sent) => requests.map((r) => `${r.method} ${r.path}`).sort();
      if (JSON.stringify(paths(raw)) !== JSON.stringify(paths(sent))) {
        throw new Error(`${scenario.name}: the raw requests are not the service's:\n${paths(raw)}\n${paths(sent)}`);
      }
      scenario.bare = sent.map(bareQueryOf);
    }

    /**
     * The scenario's route and, for a read route, its bare server and the same
     * on the local host, warmed up and then timed at 16 in turns: with
     * --decompose, the CPU each spent per request; with --profile, all of them
     * under --cpu-prof, and then the profiles, summed over each one's turns only.
     */
    async function examine(scenario: Scenario) {
      const bareOf = async (onHost: boolean, dir: string) =>
        scenario.bare &&
        (await startBareServer(scenario.bare, info.storageConnectionString, { nodeArgs: cpuProf(dir), onHost }));
      const bares = [
        { title: 'the bare server', server: await bareOf(false, profileDirs.bare) },
        { title: 'the bare server on the local host', server: await bareOf(true, profileDirs.bareOnHost) },
      ];
      const contenders = [
        { title: `the service, ${scenario.name}`, dir: profileDirs.stack, op: scenario.route, pids },
        ...bares.flatMap(({ title, server }, i) =>
          server
            ? [
                {
                  title,
                  dir: i === 0 ? profileDirs.bare : profileDirs.bareOnHost,
                  op: () => server.call('GET', server.path, userToken),
                  pids: { ...pids, service: server.pid },
                },
              ]
            : [],
        ),
      ];
      for (const { op, pids: of } of contenders) await measure(op, 16, of, WARMUP_MS);
      const windows: Window[] = contenders.map(() => ({ turns: [] }));
      const summaries = await measureInTurns(contenders, 16, (i, fromUs, toUs) =>
        windows[i]!.turns.push({ fromUs, toUs }),
      );
      for (const { server } of bares) await server?.stop();
      if (flags.profile === undefined) {
        console.table(
          contenders.map(({ title }, i) => ({
            process: title,
            requestsPerSec: round(summaries[i]!.opsPerSec),
            cpuMsPerRequest: summaries[i]!.serviceCpuMsPerOp,
            storageCpuMsPerRequest: summaries[i]!.storageCpuMsPerOp,
          })),
        );
        return;
      }
      await stack.stop(); // --cpu-prof writes the profiles as the processes exit
      for (const [i, { title, dir }] of contenders.entries()) {
        const [file] = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
        if (!file) throw new Error(`no CPU profile was written to ${dir}`);
        const summary = summaries[i]!;
        const timedStretch = { requests: summary.ops, cpuMsPerRequest: summary.serviceCpuMsPerOp };
        // Kept (dist/ is not committed), to open in a profiler or sum again with cpuProfile.js.
        const kept = join(__dirname, `${title.replace(/\W+/g, '-')}.cpuprofile`);
        copyFileSync(join(dir, file), kept);
        writeFileSync(
          kept.replace(/\.cpuprofile$/, '.window.json'),
          JSON.stringify({ ...windows[i], ...timedStretch }),
        );
        console.log(`\n(${kept})`);
        console.log(
          `${title} at 16: ${round(summary.opsPerSec)} requests/s, ${summary.serviceCpuMsPerOp} CPU ms per request (from /proc)`,
        );
        console.log(formatSummary(title, summarizeProfile(join(dir, file), { window: windows[i] }), timedStretch));
      }
    }

    const examined = flags.profile ?? flags.decompose;
    if (examined === GATEWAY) {
      const profile = flags.profile === undefined ? undefined : { stopStack: stack.stop, dir: profileDirs.stack };
      await examineGateway({ info, issuerKey: key, pids, services, storage }, profile);
      return;
    }
    if (examined !== undefined) {
      const scenario = scenarios.find((sc) => sc.name === examined);
      if (!scenario) throw new Error(`no scenario "${examined}" (${scenarios.map((sc) => sc.name).join(', ')})`);
      await examine(scenario);
      return;
    }

    const results: Result[] = [];
    // `--only <scenario>` (repeatable): just those rows, printed; no scale case, no files written.
    const measured = flags.only ? scenarios.filter((sc) => flags.only!.includes(sc.name)) : scenarios;
    for (const scenario of measured) {
      const bare = scenario.bare && (await startBareServer(scenario.bare, info.storageConnectionString));
      try {
        const contenders = [
          { op: scenario.route, pids },
          { op: scenario.raw, pids },
          ...(bare ? [{ op: () => bare.call('GET', bare.path, userToken), pids: { ...pids, service: bare.pid } }] : []),
        ];
        for (const { op, pids: of } of contenders) await measure(op, 16, of, WARMUP_MS);
        for (const concurrency of scenario.concurrencies ?? CONCURRENCIES) {
          const duration = DURATION_MS * (scenario.longer ?? 1);
          const [service, raw, bareServer] = await measureInTurns(contenders, concurrency, undefined, duration);
          results.push({
            name: scenario.name,
            concurrency,
            opsPerSec: round(service!.opsPerSec),
            rawOpsPerSec: round(raw!.opsPerSec),
            ratio: round(service!.opsPerSec / raw!.opsPerSec, 2),
            ...(bareServer ? { bareRatio: round(service!.opsPerSec / bareServer.opsPerSec, 2) } : {}),
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
        await bare?.stop();
      }
    }
    // The gateway and a cloud run end to end (bench/runtime.ts), timed here: counting comes after timing.
    const runtime = await runtimeRows({ info, issuerKey: key, pids, services, storage, only: flags.only });
    process.stderr.write('\n');

    // The scale case: the same reads and writes on a flow with 500 references and
    // 5,000 permissions, at concurrency 1, beside the small flow's numbers.
    const scale = flags.only ? [] : await setUpScale();
    async function setUpScale() {
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
      const scaled: Array<{ name: string; op: () => Promise<unknown>; counted: () => Promise<unknown> }> = [
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
      return scaled;
    }
    const scaleTimings = [];
    for (const { name, op } of scale) {
      await measure(op, 1, pids, WARMUP_MS);
      scaleTimings.push({ name, big: await measure(op, 1, pids) });
    }

    // Counted after timing: counting runs operations in an AsyncLocalStorage
    // scope, which turns on promise hooks for the rest of this process.
    for (const scenario of measured) {
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
    if (!flags.only) {
      console.log('\nA flow with 500 references and 5,000 permissions, against the small one (concurrency 1):');
      console.table(scaleRows);
      writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify([...results, ...runtime], null, 2)}\n`);
      writeFileSync(join(root, 'bench', 'scale.json'), `${JSON.stringify(scaleRows, null, 2)}\n`);
    }
    console.table([...results, ...runtime]);
    for (const r of results.filter((row) => row.concurrency === 16)) {
      const scenario = scenarios.find((sc) => sc.name === r.name)!;
      const cpu =
        r.serviceCpuMsPerOp === undefined
          ? ''
          : `; the service used ${r.serviceCpuMsPerOp} CPU ms per request, the raw requests ${r.rawClientCpuMsPerOp}`;
      if (r.bareRatio !== undefined) {
        const met = r.bareRatio >= BARE_RATIO_TARGET ? 'met' : 'NOT met';
        console.log(
          `${r.name} at 16: bareRatio ${r.bareRatio} (target >= ${BARE_RATIO_TARGET}) ${met}; ratio ${r.ratio}${cpu}` +
            `, the bare server ${r.bareServerCpuMsPerOp}`,
        );
      } else if (scenario.ratioTarget !== undefined) {
        const met = r.ratio >= scenario.ratioTarget ? 'met' : 'NOT met';
        console.log(`${r.name} at 16: ratio ${r.ratio} (target >= ${scenario.ratioTarget}) ${met}${cpu}`);
      }
    }
    for (const line of runtimeVerdicts(runtime)) console.log(line);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await stack.stop();
    await new Promise<void>((resolve) => log.end(resolve));
    // The stack's log (Azurite's own output among it) says why a run failed; stateDir goes.
    if (failed) {
      const kept = join(__dirname, 'stack.log');
      copyFileSync(join(stateDir, 'stack.log'), kept);
      console.error(`(the stack's log: ${kept})`);
    }
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
