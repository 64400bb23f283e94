// Every setting of flowshare, read once from the environment (app settings in
// Azure, local.settings.json locally) and validated, so a missing or malformed
// setting fails at start with its name.
import { z } from 'zod';
import { parseSealingKeys, Sealer, SealError, type SealingKey } from './crypto/sealer';
import {
  authorityMetadataSchema,
  CatalogError,
  parseCatalog,
  type Connector,
  type OAuthApp,
} from './domain/connectors';

/** The well-known Azurite account; its key is public and only opens the emulator. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export function azuriteConnectionString(ports: { blob: number; queue: number; table: number }, host = '127.0.0.1') {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};` +
    `BlobEndpoint=http://${host}:${ports.blob}/${AZURITE_ACCOUNT};` +
    `QueueEndpoint=http://${host}:${ports.queue}/${AZURITE_ACCOUNT};` +
    `TableEndpoint=http://${host}:${ports.table}/${AZURITE_ACCOUNT};`
  );
}

const list = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()).min(1));

/**
 * Origins of providers on this machine that connector calls may reach:
 * `http(s)://<loopback host>:<port>` each, comma-separated. Only the local
 * stack sets it, for its own providers (docs/limits.md, Connector calls).
 */
const loopbackOrigins = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const origins: string[] = [];
    for (const item of value
      .split(',')
      .map((i) => i.trim())
      .filter(Boolean)) {
      let url: URL | undefined;
      try {
        url = new URL(item);
      } catch {
        url = undefined;
      }
      const loopback = url && /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(url.hostname);
      if (!url || !/^https?:$/.test(url.protocol) || !loopback || url.origin !== item.replace(/\/$/, '')) {
        ctx.addIssue({
          code: 'custom',
          message: `${item} is not an http(s) origin on a loopback host (localhost, 127.x.x.x, [::1])`,
        });
      } else origins.push(url.origin);
    }
    return origins;
  });

const tableName = z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'must be a valid Azure table name');
const containerName = z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'must be a valid container name');

/** Table and container names when the settings do not name others. */
export const DEFAULT_NAMES = {
  flowsTable: 'flows',
  principalIndexTable: 'principalFlows',
  definitionsContainer: 'flow-definitions',
  connectionsTable: 'connections',
  oauthStatesTable: 'oauthStates',
  sessionsTable: 'sessions',
  pendingWorkTable: 'pendingWork',
  machinesTable: 'machines',
} as const;

/** How long a run's lease holds without a heartbeat, unless RUN_LEASE_SECONDS says otherwise. */
export const DEFAULT_RUN_LEASE_SECONDS = 60;

const settingsSchema = z.object({
  // Storage: the same settings the Functions host uses for its own storage, so
  // one account serves the app's data and its queue triggers. Locally a
  // connection string (Azurite); in Azure service URIs and a managed identity.
  AzureWebJobsStorage: z.string().min(1).optional(),
  AzureWebJobsStorage__accountName: z.string().min(3).optional(),
  AzureWebJobsStorage__tableServiceUri: z.url().optional(),
  AzureWebJobsStorage__blobServiceUri: z.url().optional(),
  AzureWebJobsStorage__queueServiceUri: z.url().optional(),
  /** Client id of the user-assigned managed identity, when one is used. */
  AzureWebJobsStorage__clientId: z.string().min(1).optional(),

  /** Accepted token issuers, comma-separated. */
  AUTH_ISSUER: list,
  /** Accepted token audiences, comma-separated. */
  AUTH_AUDIENCE: list,
  /** JWKS address; discovered from the first issuer's OpenID configuration when absent. */
  AUTH_JWKS_URI: z.url().optional(),
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(600).default(60),

  /** The connector catalog, a JSON array (see lib/domain/connectors.ts). */
  CONNECTOR_CATALOG: z.string().min(1),
  /** `id:base64key[,id:base64key...]`: 32-byte AES keys; the first seals (a Key Vault reference in Azure). */
  SECRET_SEALING_KEYS: z.string().min(1),
  /** Where OAuth providers send people back; must be registered with each provider's client. */
  OAUTH_REDIRECT_URI: z.url().optional(),
  /** How long a consent link stays usable. */
  OAUTH_STATE_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(600),

  /**
   * Browser sign-in (OpenID Connect, auth code + PKCE through MSAL): the
   * authority people sign in at (Entra ID: https://login.microsoftonline.com/<tenant>),
   * and the web app registration's client id and secret (a Key Vault reference in Azure).
   */
  SIGNIN_AUTHORITY: z.url({ protocol: /^https$/, error: 'must be an https URL' }),
  SIGNIN_CLIENT_ID: z.string().min(1),
  SIGNIN_CLIENT_SECRET: z.string().min(1),
  /** OpenID metadata of a sign-in authority that is not Entra ID (locally, the development issuer), as JSON. */
  SIGNIN_AUTHORITY_METADATA: z.string().min(1).optional(),
  /** Where the authority sends people back after sign-in; this service's /api/auth/callback by default. */
  SIGNIN_REDIRECT_URI: z.url().optional(),
  /** How long a browser session lasts from sign-in (absolute). */
  SESSION_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(300)
    .max(7 * 24 * 3600)
    .default(8 * 3600),

  GATEWAY_ALLOWED_LOOPBACK_ORIGINS: loopbackOrigins,

  /** host.json's queues.maxDequeueCount: the attempt after which a request's run is marked Failed. */
  CLOUD_RUN_MAX_DEQUEUE_COUNT: z.coerce.number().int().min(1).max(100).default(5),
  /** How long a run's lease holds without a heartbeat; its machine renews it sooner. */
  RUN_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(DEFAULT_RUN_LEASE_SECONDS),

  FLOWS_TABLE: tableName.default(DEFAULT_NAMES.flowsTable),
  CONNECTIONS_TABLE: tableName.default(DEFAULT_NAMES.connectionsTable),
  OAUTH_STATES_TABLE: tableName.default(DEFAULT_NAMES.oauthStatesTable),
  SESSIONS_TABLE: tableName.default(DEFAULT_NAMES.sessionsTable),
  PRINCIPAL_INDEX_TABLE: tableName.default(DEFAULT_NAMES.principalIndexTable),
  /** Flows with work left after a change committed, for the sweep (functions/sweep.ts). */
  PENDING_WORK_TABLE: tableName.default(DEFAULT_NAMES.pendingWorkTable),
  /** Machines, and the runs dispatched to each (lib/storage/machines.ts). */
  MACHINES_TABLE: tableName.default(DEFAULT_NAMES.machinesTable),
  DEFINITIONS_CONTAINER: containerName.default(DEFAULT_NAMES.definitionsContainer),
});

/**
 * Settings a deployment must provide: those without a default. Storage is
 * either AzureWebJobsStorage or, in Azure, AzureWebJobsStorage__accountName.
 */
export function requiredSettings(): string[] {
  return Object.entries(settingsSchema.shape)
    .filter(([, schema]) => !(schema as z.ZodType).safeParse(undefined).success)
    .map(([name]) => name);
}

/** Every setting this code reads. */
export function knownSettings(): string[] {
  return Object.keys(settingsSchema.shape);
}

export type StorageSettings =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; tableUrl: string; blobUrl: string; queueUrl: string; managedIdentityClientId?: string };

export interface Config {
  storage: StorageSettings;
  auth: {
    issuers: string[];
    audiences: string[];
    jwksUri?: string;
    clockToleranceSeconds: number;
  };
  names: {
    flowsTable: string;
    principalIndexTable: string;
    definitionsContainer: string;
    connectionsTable: string;
    oauthStatesTable: string;
    sessionsTable: string;
    pendingWorkTable: string;
    machinesTable: string;
  };
  signIn: SignInSettings;
  connectors: Connector[];
  sealingKeys: SealingKey[];
  oauth: {
    redirectUri?: string;
    stateTtlSeconds: number;
  };
  cloudRuns: { maxDequeueCount: number };
  gateway: {
    /** Origins on this machine connector calls may reach (plain http allowed); none in Azure. */
    allowedLoopbackOrigins: string[];
  };
  runs: { leaseSeconds: number };
}

/** The web app people sign in to flowshare's pages with. */
export interface SignInSettings {
  app: OAuthApp;
  redirectUri?: string;
  sessionTtlSeconds: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid settings: ${reasons.join('; ')}`);
  }
  const s = parsed.data;
  let connectors: Connector[];
  let sealingKeys: SealingKey[];
  try {
    connectors = parseCatalog(s.CONNECTOR_CATALOG, env, { httpOrigins: s.GATEWAY_ALLOWED_LOOPBACK_ORIGINS });
    sealingKeys = parseSealingKeys(s.SECRET_SEALING_KEYS);
    new Sealer(sealingKeys); // checks every key's length and id
  } catch (error) {
    if (error instanceof CatalogError) throw new ConfigError(`Invalid settings: CONNECTOR_CATALOG: ${error.message}`);
    if (error instanceof SealError) throw new ConfigError(`Invalid settings: SECRET_SEALING_KEYS: ${error.message}`);
    throw error;
  }
  return {
    storage: storageSettings(s),
    auth: {
      issuers: s.AUTH_ISSUER,
      audiences: s.AUTH_AUDIENCE,
      jwksUri: s.AUTH_JWKS_URI,
      clockToleranceSeconds: s.AUTH_CLOCK_TOLERANCE_SECONDS,
    },
    names: {
      flowsTable: s.FLOWS_TABLE,
      principalIndexTable: s.PRINCIPAL_INDEX_TABLE,
      definitionsContainer: s.DEFINITIONS_CONTAINER,
      connectionsTable: s.CONNECTIONS_TABLE,
      oauthStatesTable: s.OAUTH_STATES_TABLE,
      pendingWorkTable: s.PENDING_WORK_TABLE,
      sessionsTable: s.SESSIONS_TABLE,
      machinesTable: s.MACHINES_TABLE,
    },
    signIn: {
      app: signInApp(s),
      redirectUri: s.SIGNIN_REDIRECT_URI,
      sessionTtlSeconds: s.SESSION_TTL_SECONDS,
    },
    connectors,
    sealingKeys,
    oauth: { redirectUri: s.OAUTH_REDIRECT_URI, stateTtlSeconds: s.OAUTH_STATE_TTL_SECONDS },
    cloudRuns: { maxDequeueCount: s.CLOUD_RUN_MAX_DEQUEUE_COUNT },
    gateway: { allowedLoopbackOrigins: s.GATEWAY_ALLOWED_LOOPBACK_ORIGINS },
    runs: { leaseSeconds: s.RUN_LEASE_SECONDS },
  };
}

function signInApp(s: z.output<typeof settingsSchema>): OAuthApp {
  const app: OAuthApp = {
    authority: s.SIGNIN_AUTHORITY,
    clientId: s.SIGNIN_CLIENT_ID,
    clientSecret: s.SIGNIN_CLIENT_SECRET,
  };
  if (s.SIGNIN_AUTHORITY_METADATA === undefined) return app;
  try {
    const metadata = authorityMetadataSchema.parse(JSON.parse(s.SIGNIN_AUTHORITY_METADATA));
    // MSAL trusts metadata given for an authority only when that authority is known to it.
    return { ...app, authorityMetadata: metadata, knownAuthorities: [new URL(s.SIGNIN_AUTHORITY).host] };
  } catch (error) {
    const reason =
      error instanceof z.ZodError
        ? error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
        : (error as Error).message;
    throw new ConfigError(`Invalid settings: SIGNIN_AUTHORITY_METADATA: ${reason}`);
  }
}

function storageSettings(s: z.output<typeof settingsSchema>): StorageSettings {
  if (s.AzureWebJobsStorage) {
    const connectionString =
      s.AzureWebJobsStorage.trim() === 'UseDevelopmentStorage=true'
        ? azuriteConnectionString({ blob: 10000, queue: 10001, table: 10002 })
        : s.AzureWebJobsStorage;
    return { kind: 'connectionString', connectionString };
  }
  const account = s.AzureWebJobsStorage__accountName;
  const tableUrl = s.AzureWebJobsStorage__tableServiceUri ?? (account && `https://${account}.table.core.windows.net`);
  const blobUrl = s.AzureWebJobsStorage__blobServiceUri ?? (account && `https://${account}.blob.core.windows.net`);
  const queueUrl = s.AzureWebJobsStorage__queueServiceUri ?? (account && `https://${account}.queue.core.windows.net`);
  if (!tableUrl || !blobUrl || !queueUrl) {
    throw new ConfigError(
      'Invalid settings: AzureWebJobsStorage: set a connection string, or AzureWebJobsStorage__accountName ' +
        '(or the table, blob and queue service URIs) for a managed identity',
    );
  }
  return {
    kind: 'identity',
    tableUrl,
    blobUrl,
    queueUrl,
    managedIdentityClientId: s.AzureWebJobsStorage__clientId,
  };
}

let cached: Config | undefined;

/** The settings of this process, read on first use. */
export function getConfig(): Config {
  cached ??= loadConfig();
  return cached;
}
