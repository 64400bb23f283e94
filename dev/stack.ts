// The whole local stack on one machine: Azurite, the local OpenID issuer, the
// local provider APIs of the development connectors and the functions, wired together through the same settings the Functions host
// would read. `npm start` and the end-to-end tests both start it from here.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { loadConfig } from '../lib/config';
import { API_PREFIX } from '../lib/http/routes';
import { startAzurite, type AzuritePorts, type RunningAzurite } from './azurite';
import { devConnectorCatalog, devSignInSettings } from './devConnectors';
import { createFunctionsServer, loadFunctions, type HostLog } from './functionsHost';
import { startIssuer, type RunningIssuer } from './issuer';
import { startProviders } from './providers/server';
import { QueuePoller, queueSettings, queueTriggersOf } from './queueHost';
import { TimerRunner, timerTriggersOf } from './timerHost';
import { applyLocalSettings, readHostJson, readLocalSettings } from './project';

export interface StackOptions {
  root: string;
  /** Git-ignored folder for Azurite's data, the issuer key and stack.json. */
  stateDir: string;
  /** Keep storage in memory (tests) instead of under stateDir. */
  inMemory: boolean;
  httpPort: number;
  issuerPort: number;
  providersPort: number;
  storagePorts: AzuritePorts;
  /** Serve the functions too; off when `func start` will serve them. */
  functions: boolean;
  log: HostLog;
}

/** What a running stack offers, as written to `<stateDir>/stack.json`. */
export interface StackInfo {
  pid: number;
  /** Azurite's own process, so fault tests can take storage away. */
  azuritePid: number;
  /** The site's root: the web console. */
  siteUrl?: string;
  /** Where the API's routes are: `<siteUrl>/api`. */
  apiUrl?: string;
  issuerUrl: string;
  jwksUri: string;
  /** The local providers (dev/providers/): `<providersUrl>/dev/received` says what they received. */
  providersUrl: string;
  audience: string;
  storageConnectionString: string;
  storagePorts: AzuritePorts;
  functions: string[];
  /** Every HTTP route served: method and template below host.json's route prefix (`api/flows`, `{*path}`). */
  routes: Array<{ method: string; route: string }>;
}

export interface RunningStack {
  info: StackInfo;
  stop(): Promise<void>;
}

export const STACK_INFO_FILE = 'stack.json';
export const ISSUER_KEY_FILE = 'issuer-key.json';
export const SEALING_KEY_FILE = 'sealing-key';

/** The development key that seals connection secrets, created on first start. */
function loadOrCreateSealingKey(file: string): string {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const { log } = options;
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopOne of stoppers.reverse()) await stopOne().catch(() => undefined);
    stoppers.length = 0;
  };

  try {
    const [azurite, issuer] = await Promise.all([
      startAzurite({
        ports: options.storagePorts,
        location: options.inMemory ? undefined : join(options.stateDir, 'azurite'),
        onOutput: (line) => log('information', `[azurite] ${line}`),
      }).then((started: RunningAzurite) => {
        stoppers.push(() => started.stop());
        return started;
      }),
      startIssuer({ port: options.issuerPort, keyFile: join(options.stateDir, ISSUER_KEY_FILE) }).then(
        (started: RunningIssuer) => {
          stoppers.push(() => started.stop());
          return started;
        },
      ),
    ]);

    const providers = await startProviders({
      port: options.providersPort,
      issuerUrl: issuer.url,
      jwksUri: issuer.jwksUri,
    });
    stoppers.push(() => providers.stop());

    // The started parts decide these; everything else comes from
    // local.settings.json as Core Tools would read it (the environment wins).
    process.env.AzureWebJobsStorage = azurite.connectionString;
    process.env.AUTH_ISSUER = issuer.url;
    process.env.AUTH_JWKS_URI = issuer.jwksUri;
    process.env.CONNECTOR_CATALOG = JSON.stringify(devConnectorCatalog(issuer.url, providers.url));
    // Connector calls may reach the local providers, and nothing else on this machine.
    process.env.GATEWAY_ALLOWED_LOOPBACK_ORIGINS = providers.url;
    Object.assign(process.env, devSignInSettings(issuer.url));
    process.env.SECRET_SEALING_KEYS ??= `dev:${loadOrCreateSealingKey(join(options.stateDir, SEALING_KEY_FILE))}`;
    applyLocalSettings(readLocalSettings(options.root));
    const config = loadConfig(); // a bad setting stops the start here, with its name

    const info: StackInfo = {
      pid: process.pid,
      azuritePid: azurite.process.pid ?? 0,
      issuerUrl: issuer.url,
      jwksUri: issuer.jwksUri,
      providersUrl: providers.url,
      audience: config.auth.audiences[0]!,
      storageConnectionString: azurite.connectionString,
      storagePorts: azurite.ports,
      functions: [],
      routes: [],
    };

    if (options.functions) {
      const loaded = loadFunctions(join(options.root, 'dist', 'functions'), log);
      // The Functions host's default prefix is `api`; flowshare's host.json sets none (the
      // console has the root) and puts its API routes below `api/` itself (lib/http/routes.ts).
      const routePrefix = readHostJson(options.root).extensions?.http?.routePrefix ?? 'api';
      const server = createFunctionsServer({ routes: loaded.httpRoutes, routePrefix, log });
      const port = await listen(server, options.httpPort);
      stoppers.push(() => close(server));
      info.siteUrl = `http://localhost:${port}`;
      info.apiUrl = [info.siteUrl, routePrefix, API_PREFIX].filter(Boolean).join('/');
      // Read by the functions at their first request, which comes after this.
      process.env.OAUTH_REDIRECT_URI = `${info.apiUrl}/connections/oauth/callback`;
      process.env.SIGNIN_REDIRECT_URI = `${info.apiUrl}/auth/callback`;
      info.functions = loaded.functions.map((fn) => fn.metadata.name);
      info.routes = loaded.httpRoutes.flatMap((r) => [...r.methods].map((method) => ({ method, route: r.template })));

      const settings = queueSettings(readHostJson(options.root).extensions?.queues);
      for (const trigger of queueTriggersOf(loaded.functions)) {
        const connection = process.env[String(trigger.binding.connection ?? 'AzureWebJobsStorage')];
        if (!connection)
          throw new Error(`queue trigger ${trigger.fn.metadata.name}: its connection setting is not set`);
        const poller = new QueuePoller(trigger, connection, settings, log);
        await poller.start();
        stoppers.push(() => poller.stop());
      }
      for (const trigger of timerTriggersOf(loaded.functions)) {
        const runner = new TimerRunner(trigger, log);
        runner.start();
        stoppers.push(() => runner.stop());
      }
    }

    const infoFile = join(options.stateDir, STACK_INFO_FILE);
    // Written whole, then renamed: whoever waits for this file never reads half of it.
    writeFileSync(`${infoFile}.tmp`, JSON.stringify(info, null, 2));
    renameSync(`${infoFile}.tmp`, infoFile);
    stoppers.unshift(async () => rmSync(infoFile, { force: true }));
    return { info, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Loopback only, like the issuer: this is a development host.
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
