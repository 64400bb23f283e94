// Every setting of flowshare, read once from the environment (app settings in
// Azure, local.settings.json locally) and validated, so a missing or malformed
// setting fails at start with its name.
import { z } from 'zod';

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

const tableName = z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'must be a valid Azure table name');
const containerName = z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'must be a valid container name');

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

  FLOWS_TABLE: tableName.default('flows'),
  PRINCIPAL_INDEX_TABLE: tableName.default('principalFlows'),
  DEFINITIONS_CONTAINER: containerName.default('flow-definitions'),
});

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
  };
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
    },
  };
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
