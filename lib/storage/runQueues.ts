// The queue of runs, as the rest of the code speaks of it: a cloud run is
// requested (cloud-run-requests, read by the queue-triggered processor).
// Messages name ids, never a secret. Each request has its deadline (see
// withDeadline). An accepted run is dispatched to its machine in the machines
// table (lib/storage/machines.ts), not on a queue.
import type { Run } from '../domain/runs';
import type { Storage } from './clients';
import { encodeMessage } from './queues';
import { withDeadline } from './errors';

/** What goes on cloud-run-requests. */
export interface CloudRunRequest {
  runId: string;
  tenantId: string;
  flowId: string;
}

export class RunQueues {
  constructor(private readonly storage: Storage) {}

  /** Puts a cloud run's request on the queue (again: processing a request twice is harmless). */
  async requestCloudRun(run: Pick<Run, 'id' | 'tenantId' | 'flowId'>): Promise<void> {
    const request: CloudRunRequest = { runId: run.id, tenantId: run.tenantId, flowId: run.flowId };
    await withDeadline(this.storage.blobQueueTimeoutMs, (abortSignal) =>
      this.storage.cloudRunRequests.sendMessage(encodeMessage(request), { abortSignal }),
    );
  }
}
