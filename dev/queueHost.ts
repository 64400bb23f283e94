// Queue triggers on the local host, as the Functions host runs them with
// host.json's `extensions.queues`: poll (backing off to maxPollingInterval
// when idle), run a batch concurrently, delete a message its function took,
// make a failed one visible again after visibilityTimeout, and move it to
// `<queue>-poison` once it has failed maxDequeueCount times. Messages are
// base64 (messageEncoding), and JSON ones reach the handler parsed.
import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import { InvocationContext } from '@azure/functions';
import { QueueServiceClient, type DequeuedMessageItem, type QueueClient } from '@azure/storage-queue';
import type { BindingMetadata, RegisteredFunction } from './functionsCore';
import type { HostLog } from './functionsHost';

export interface QueueSettings {
  batchSize: number;
  newBatchThreshold: number;
  maxPollingIntervalMs: number;
  visibilityTimeoutMs: number;
  maxDequeueCount: number;
  messageEncoding: 'base64' | 'none';
}

/** host.json's `extensions.queues`, with the Functions host's defaults. */
export function queueSettings(hostQueues: Record<string, unknown> | undefined): QueueSettings {
  const q = hostQueues ?? {};
  const num = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);
  return {
    batchSize: num(q.batchSize, 16),
    newBatchThreshold: num(q.newBatchThreshold, 8),
    maxPollingIntervalMs: timeSpanMs(q.maxPollingInterval, 60_000),
    visibilityTimeoutMs: timeSpanMs(q.visibilityTimeout, 0),
    maxDequeueCount: num(q.maxDequeueCount, 5),
    messageEncoding: q.messageEncoding === 'none' ? 'none' : 'base64',
  };
}

/** "hh:mm:ss" (or milliseconds) as milliseconds. */
function timeSpanMs(value: unknown, fallback: number): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return fallback;
  const match = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value);
  if (!match) return fallback;
  return (Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])) * 1000;
}

export interface QueueTrigger {
  fn: RegisteredFunction;
  binding: BindingMetadata;
}

export function queueTriggersOf(functions: RegisteredFunction[]): QueueTrigger[] {
  return functions.flatMap((fn) => {
    const binding = Object.values(fn.metadata.bindings).find((b) => b.type === 'queueTrigger');
    return binding ? [{ fn, binding }] : [];
  });
}

/** While a function runs, its message stays hidden this long (the host renews; we take a long one). */
const PROCESSING_VISIBILITY_SECONDS = 300;

export class QueuePoller {
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly queue: QueueClient;
  private readonly poison: QueueClient;

  constructor(
    private readonly trigger: QueueTrigger,
    connectionString: string,
    private readonly settings: QueueSettings,
    private readonly log: HostLog,
  ) {
    const service = QueueServiceClient.fromConnectionString(connectionString);
    const name = String(trigger.binding.queueName);
    this.queue = service.getQueueClient(name);
    this.poison = service.getQueueClient(`${name}-poison`);
  }

  async start(): Promise<void> {
    await Promise.all([this.queue.createIfNotExists(), this.poison.createIfNotExists()]);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let idleDelay = 50;
    while (!this.stopped) {
      let received: DequeuedMessageItem[] = [];
      try {
        const response = await this.queue.receiveMessages({
          numberOfMessages: this.settings.batchSize,
          visibilityTimeout: PROCESSING_VISIBILITY_SECONDS,
        });
        received = response.receivedMessageItems;
      } catch (error) {
        this.log('warning', `queue ${this.queue.name}: polling failed: ${String(error)}`);
      }
      if (received.length > 0) {
        idleDelay = 50;
        await Promise.all(received.map((message) => this.invoke(message)));
        continue;
      }
      await this.sleep(idleDelay);
      idleDelay = Math.min(idleDelay * 2, this.settings.maxPollingIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async invoke(message: DequeuedMessageItem): Promise<void> {
    const { fn, binding } = this.trigger;
    if (message.dequeueCount > this.settings.maxDequeueCount) {
      // As the host does with a message that already used up its attempts (say, across a crash).
      await this.toPoison(message).catch((error: unknown) =>
        this.log('warning', `queue ${this.queue.name}: ${String(error)}`),
      );
      return;
    }
    const invocationId = randomUUID();
    const context = new InvocationContext({
      invocationId,
      functionName: fn.metadata.name,
      triggerMetadata: {
        id: message.messageId,
        dequeueCount: message.dequeueCount,
        insertionTime: message.insertedOn,
        expirationTime: message.expiresOn,
        nextVisibleTime: message.nextVisibleOn,
        popReceipt: message.popReceipt,
      },
      options: { trigger: { ...binding, name: binding.name ?? 'queueItem', type: binding.type } },
      logHandler: (level, ...args) => this.log(level, `${fn.metadata.name} (${invocationId}) ${format(...args)}`),
    });
    try {
      await fn.handler(this.decode(message.messageText), context);
      await this.queue.deleteMessage(message.messageId, message.popReceipt);
    } catch (error) {
      this.log(
        'warning',
        `${fn.metadata.name} (${invocationId}) failed on attempt ${message.dequeueCount}: ${String(error)}`,
      );
      try {
        if (message.dequeueCount >= this.settings.maxDequeueCount) {
          await this.toPoison(message);
        } else {
          await this.queue.updateMessage(
            message.messageId,
            message.popReceipt,
            undefined,
            Math.ceil(this.settings.visibilityTimeoutMs / 1000),
          );
        }
      } catch (moveError) {
        this.log(
          'warning',
          `queue ${this.queue.name}: could not return message ${message.messageId}: ${String(moveError)}`,
        );
      }
    }
  }

  private async toPoison(message: DequeuedMessageItem): Promise<void> {
    await this.poison.sendMessage(message.messageText);
    await this.queue.deleteMessage(message.messageId, message.popReceipt);
    this.log('warning', `${this.trigger.fn.metadata.name}: message ${message.messageId} moved to ${this.poison.name}`);
  }

  private decode(text: string): unknown {
    const raw = this.settings.messageEncoding === 'base64' ? Buffer.from(text, 'base64').toString('utf8') : text;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
}
