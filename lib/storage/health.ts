// Whether storage answers: a cheap call to each service the API depends on.
import type { Storage } from './clients';
import { withDeadline } from './errors';

export interface StorageHealth {
  healthy: boolean;
  checks: Record<'tables' | 'blobs', 'ok' | 'unavailable'>;
}

export async function checkStorage(storage: Storage): Promise<StorageHealth> {
  const attempt = async (probe: () => Promise<unknown>) =>
    probe().then(
      () => 'ok' as const,
      () => 'unavailable' as const,
    );
  const [tables, blobs] = await Promise.all([
    attempt(async () => {
      await storage.ensureReady();
      await storage.flows
        .listEntities({ queryOptions: { filter: "PartitionKey eq '~health'" } })
        .byPage({ maxPageSize: 1 })
        .next();
    }),
    attempt(() =>
      withDeadline(storage.blobQueueTimeoutMs, (abortSignal) => storage.definitions.getProperties({ abortSignal })),
    ),
  ]);
  return { healthy: tables === 'ok' && blobs === 'ok', checks: { tables, blobs } };
}
