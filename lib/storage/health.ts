// Whether storage answers: a cheap call to each service the API depends on,
// each given a few seconds (a probe that hangs is no answer).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Storage } from './clients';
import { withDeadline } from './errors';

/** How long each probe may take before storage counts as unavailable. */
export const HEALTH_PROBE_TIMEOUT_MS = 5_000;

export interface StorageHealth {
  healthy: boolean;
  checks: Record<'tables' | 'blobs', 'ok' | 'unavailable'>;
}

export async function checkStorage(storage: Storage, timeoutMs = HEALTH_PROBE_TIMEOUT_MS): Promise<StorageHealth> {
  const attempt = async (probe: () => Promise<unknown>) => {
    const timer = new AbortController();
    try {
      return await Promise.race([
        probe().then(
          () => 'ok' as const,
          () => 'unavailable' as const,
        ),
        // The probe's own request is abandoned, not cut: its client's timeout ends it.
        sleep(timeoutMs, 'unavailable' as const, { signal: timer.signal, ref: false }),
      ]);
    } finally {
      timer.abort();
    }
  };
  const [tables, blobs] = await Promise.all([
    attempt(async () => {
      await storage.ensureReady();
      await storage.flows
        .listEntities({ queryOptions: { filter: "PartitionKey eq '~health'" } })
        .byPage({ maxPageSize: 1 })
        .next();
    }),
    attempt(() => withDeadline(timeoutMs, (abortSignal) => storage.definitions.getProperties({ abortSignal }))),
  ]);
  return { healthy: tables === 'ok' && blobs === 'ok', checks: { tables, blobs } };
}
