// Queue messages as the Functions host reads them (host.json messageEncoding
// base64): JSON, base64-encoded. Messages name ids, never secrets.
import type { QueueClient } from '@azure/storage-queue';
import { withDeadline } from './errors';

export function encodeMessage(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

export function decodeMessage(text: string): unknown {
  const decoded = Buffer.from(text, 'base64').toString('utf8');
  try {
    return JSON.parse(decoded) as unknown;
  } catch {
    return decoded;
  }
}

export async function sendJson(queue: QueueClient, value: unknown, timeoutMs: number): Promise<void> {
  await withDeadline(timeoutMs, (abortSignal) => queue.sendMessage(encodeMessage(value), { abortSignal }));
}

/**
 * Whether a message for this run is waiting on the queue (the first 32, which
 * is all a peek sees): how a processor that crashed between sending a
 * dispatch and recording it tells whether it sent it.
 */
export async function holdsRun(queue: QueueClient, runId: string, timeoutMs: number): Promise<boolean> {
  const { peekedMessageItems } = await withDeadline(timeoutMs, (abortSignal) =>
    queue.peekMessages({ numberOfMessages: 32, abortSignal }),
  );
  return peekedMessageItems.some((item) => (decodeMessage(item.messageText) as { runId?: unknown })?.runId === runId);
}
