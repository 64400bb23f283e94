// The two queues of runs, as the rest of the code speaks of them: a cloud run
// is requested (cloud-run-requests, read by the queue-triggered processor), a
// run is dispatched for a machine (desktop-run-dispatch), and whether a run's
// dispatch is waiting there. Messages name ids, never a secret. Each request
// has its deadline (see withDeadline).
import { byName, type Run } from '../domain/runs';
import type { Storage } from './clients';
import { decodeMessage, encodeMessage } from './queues';
import { withDeadline } from './errors';

/** What goes on cloud-run-requests. */
export interface CloudRunRequest {
  runId: string;
  tenantId: string;
  flowId: string;
}

/** What goes on desktop-run-dispatch: ids only, never a secret. */
export interface DispatchMessage {
  runId: string;
  tenantId: string;
  flowId: string;
  mode: Run['mode'];
  initiatedBy: string;
  connections: Record<string, string>;
}

/** A peek sees at most this many messages. */
const PEEK_LIMIT = 32;

export class RunQueues {
  constructor(private readonly storage: Storage) {}

  /** Puts a cloud run's request on the queue (again: processing a request twice is harmless). */
  async requestCloudRun(run: Pick<Run, 'id' | 'tenantId' | 'flowId'>): Promise<void> {
    const request: CloudRunRequest = { runId: run.id, tenantId: run.tenantId, flowId: run.flowId };
    await this.send('cloudRunRequests', request);
  }

  /** Puts the run's dispatch on the queue for a machine: which connection serves each reference, by id. */
  async dispatch(run: Run): Promise<void> {
    const message: DispatchMessage = {
      runId: run.id,
      tenantId: run.tenantId,
      flowId: run.flowId,
      mode: run.mode,
      initiatedBy: run.initiatedBy,
      connections: byName(Object.entries(run.connections).map(([name, c]) => [name, c.connectionId])),
    };
    await this.send('desktopRunDispatch', message);
  }

  /**
   * Whether the run's dispatch is waiting on the queue (among the first 32, all
   * a peek sees): how a processor that stopped between sending a dispatch and
   * recording it tells whether it sent it.
   */
  async holdsDispatch(runId: string): Promise<boolean> {
    const { peekedMessageItems } = await withDeadline(this.storage.blobQueueTimeoutMs, (abortSignal) =>
      this.storage.desktopRunDispatch.peekMessages({ numberOfMessages: PEEK_LIMIT, abortSignal }),
    );
    return peekedMessageItems.some((item) => (decodeMessage(item.messageText) as { runId?: unknown })?.runId === runId);
  }

  private async send(queue: 'cloudRunRequests' | 'desktopRunDispatch', value: unknown): Promise<void> {
    await withDeadline(this.storage.blobQueueTimeoutMs, (abortSignal) =>
      this.storage[queue].sendMessage(encodeMessage(value), { abortSignal }),
    );
  }
}
