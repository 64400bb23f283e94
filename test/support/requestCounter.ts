// Counting the storage requests an operation makes, for round-trip budgets in
// tests and for benchmarks. Every storage client (tables, blobs, queues) sends
// through Node's http module; its diagnostics channel sees each request, and
// an async-local scope says which operation it belongs to. (The blob and
// queue clients take no extra pipeline policies, so one place sees all three.)
// Instrumentation only, shared by test/ and bench/: nothing in lib/ counts.
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

export interface StorageRequest {
  method: string;
  host: string;
  path: string;
}

const scope = new AsyncLocalStorage<StorageRequest[]>();
let subscribed = false;

function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  diagnostics.subscribe('http.client.request.start', (message) => {
    const requests = scope.getStore();
    if (!requests) return;
    const { request } = message as { request: ClientRequest };
    requests.push({ method: request.method, host: `${request.host}`, path: request.path });
  });
}

/**
 * Runs `operation` and answers the HTTP requests it sent, retries included,
 * keeping those `isStorage` accepts (by default all).
 */
export async function countRequests<T>(
  operation: () => Promise<T>,
  isStorage: (request: StorageRequest) => boolean = () => true,
): Promise<{ result: T; requests: StorageRequest[] }> {
  subscribe();
  const requests: StorageRequest[] = [];
  const result = await scope.run(requests, operation);
  return { result, requests: requests.filter(isStorage) };
}
