// The storage clients of one process: tables, the definitions container and
// the queues, on Azurite through a connection string or on Azure through a
// managed identity. Nothing else in the code constructs a storage client.
import { TableClient, TableServiceClient, type TableServiceClientOptions } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import {
  QueueServiceClient,
  type QueueClient,
  type StoragePipelineOptions as QueuePipelineOptions,
} from '@azure/storage-queue';
import { DefaultAzureCredential } from '@azure/identity';
import { getConfig, type Config, type StorageSettings } from '../config';
import { SharedDeadlines } from './deadlines';
import { StorageTimeout, withDeadline } from './errors';

export interface Storage {
  readonly flows: TableClient;
  readonly principalIndex: TableClient;
  readonly connections: TableClient;
  readonly oauthStates: TableClient;
  /** Browser sessions (lib/storage/sessions.ts). */
  readonly sessions: TableClient;
  /** Flows with work left after a change committed (lib/storage/pendingWork.ts). */
  readonly pendingWork: TableClient;
  /** Machines and the runs dispatched to each, one partition per owner (lib/storage/machines.ts). */
  readonly machines: TableClient;
  readonly definitions: ContainerClient;
  /** Cloud-run requests, processed by the queue-triggered function. */
  readonly cloudRunRequests: QueueClient;
  readonly tableService: TableServiceClient;
  /** The deadline of a blob or queue request (table requests have theirs in the pipeline). */
  readonly blobQueueTimeoutMs: number;
  /** Creates the tables and containers this code needs, once per process. */
  ensureReady(): Promise<void>;
}

/** Queue names of docs/domain.md, Runs; the queue trigger names it too (functions/cloudRunProcessor.ts). */
export const QUEUES = {
  cloudRunRequests: 'cloud-run-requests',
} as const;

const queueOptions: QueuePipelineOptions = {
  retryOptions: { maxTries: 3, retryDelayInMs: 100, maxRetryDelayInMs: 1_000, tryTimeoutInMs: 30_000 },
};

type TablePolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number]['policy'];
type CallerSignal = NonNullable<Parameters<TablePolicy['sendRequest']>[0]['abortSignal']>;

/** How long one table request may go unanswered before it is a storage fault. */
export const TABLE_TRY_TIMEOUT_MS = 10_000;
/** How long a blob or queue request may take, all its tries together (see withDeadline). */
export const BLOB_QUEUE_TIMEOUT_MS = 30_000;

/**
 * Storage that accepts a request and never answers, or sends the headers and
 * then nothing (a half-open connection), would hold a caller, and every
 * change queued behind it, for ever: each table request, body included, gets
 * a deadline, and missing it is a storage fault (503), as an unreachable
 * store is. (The SDK's own request.timeout stops at the headers.) A request
 * that missed it is not retried: it may still land, and every write is
 * conditional, so the caller decides again on fresh state.
 */
function tableTryTimeout(timeoutMs: number): TablePolicy {
  const deadlines = new SharedDeadlines(timeoutMs);
  return {
    name: 'flowshareTableTryTimeout',
    async sendRequest(request, next) {
      const callerSignal = request.abortSignal;
      // A caller's own signal (none of ours passes one) gets a deadline of its own, to forward it into.
      const deadline = callerSignal ? ownDeadline(timeoutMs, callerSignal) : deadlines.take();
      request.abortSignal = deadline.signal;
      try {
        return await next(request);
      } catch (error) {
        if (deadline.signal.aborted && !callerSignal?.aborted) throw new StorageTimeout(timeoutMs);
        throw error;
      } finally {
        deadline.release();
        request.abortSignal = callerSignal;
      }
    },
  };
}

function ownDeadline(timeoutMs: number, callerSignal: CallerSignal): { signal: AbortSignal; release: () => void } {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  timer.unref();
  const forward = () => deadline.abort();
  callerSignal.addEventListener('abort', forward);
  return {
    signal: deadline.signal,
    release: () => {
      clearTimeout(timer);
      callerSignal.removeEventListener('abort', forward);
    },
  };
}

// Few, quick retries: a caller waiting on an unreachable store should get a
// 503 in a second or two, not after the SDK's default back-off of a minute.
function tableOptionsWith(tryTimeoutMs: number): TableServiceClientOptions {
  return {
    retryOptions: { maxRetries: 2, retryDelayInMs: 100, maxRetryDelayInMs: 1_000 },
    additionalPolicies: [{ policy: tableTryTimeout(tryTimeoutMs), position: 'perRetry' }],
  };
}
const blobOptions: StoragePipelineOptions = {
  retryOptions: { maxTries: 3, retryDelayInMs: 100, maxRetryDelayInMs: 1_000, tryTimeoutInMs: 30_000 },
};

export function createStorage(
  settings: StorageSettings,
  names: Config['names'],
  options: { tableTryTimeoutMs?: number; blobQueueTimeoutMs?: number } = {},
): Storage {
  const blobQueueTimeoutMs = options.blobQueueTimeoutMs ?? BLOB_QUEUE_TIMEOUT_MS;
  const tableOptions = tableOptionsWith(options.tableTryTimeoutMs ?? TABLE_TRY_TIMEOUT_MS);
  let tableService: TableServiceClient;
  let blobService: BlobServiceClient;
  let queueService: QueueServiceClient;
  let table: (name: string) => TableClient;

  if (settings.kind === 'connectionString') {
    const insecure = { ...tableOptions, allowInsecureConnection: true };
    tableService = TableServiceClient.fromConnectionString(settings.connectionString, insecure);
    blobService = BlobServiceClient.fromConnectionString(settings.connectionString, blobOptions);
    queueService = QueueServiceClient.fromConnectionString(settings.connectionString, queueOptions);
    table = (name) => TableClient.fromConnectionString(settings.connectionString, name, insecure);
  } else {
    const credential = new DefaultAzureCredential(
      settings.managedIdentityClientId ? { managedIdentityClientId: settings.managedIdentityClientId } : {},
    );
    tableService = new TableServiceClient(settings.tableUrl, credential, tableOptions);
    blobService = new BlobServiceClient(settings.blobUrl, credential, blobOptions);
    queueService = new QueueServiceClient(settings.queueUrl, credential, queueOptions);
    table = (name) => new TableClient(settings.tableUrl, name, credential, tableOptions);
  }

  const flows = table(names.flowsTable);
  const principalIndex = table(names.principalIndexTable);
  const connections = table(names.connectionsTable);
  const oauthStates = table(names.oauthStatesTable);
  const sessions = table(names.sessionsTable);
  const pendingWork = table(names.pendingWorkTable);
  const machines = table(names.machinesTable);
  const definitions = blobService.getContainerClient(names.definitionsContainer);
  const cloudRunRequests = queueService.getQueueClient(QUEUES.cloudRunRequests);

  let ready: Promise<void> | undefined;
  const ensureReady = () => {
    ready ??= Promise.all([
      ...[flows, principalIndex, connections, oauthStates, sessions, pendingWork, machines].map((t) => t.createTable()),
      withDeadline(blobQueueTimeoutMs, (abortSignal) => definitions.createIfNotExists({ abortSignal })),
      withDeadline(blobQueueTimeoutMs, (abortSignal) => cloudRunRequests.createIfNotExists({ abortSignal })),
    ]).then(
      () => undefined,
      (error: unknown) => {
        ready = undefined; // not remembered: the next request tries again
        throw error;
      },
    );
    return ready;
  };

  return {
    flows,
    principalIndex,
    connections,
    oauthStates,
    sessions,
    pendingWork,
    machines,
    definitions,
    cloudRunRequests,
    tableService,
    blobQueueTimeoutMs,
    ensureReady,
  };
}

let shared: Storage | undefined;

/** The storage of this process, from its settings. */
export function getStorage(): Storage {
  const config = getConfig();
  shared ??= createStorage(config.storage, config.names);
  return shared;
}
