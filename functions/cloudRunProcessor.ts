import { app, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { idSchema } from '../lib/domain/schemas';
import { invocationLog } from '../lib/log';
import { services } from '../lib/services';
import { CLOUD_RUN_REQUESTS_QUEUE } from '../lib/services/cloudRunProcessor';

const requestSchema = z.object({
  runId: z.string().min(1).max(200),
  tenantId: z.string().min(1).max(256),
  flowId: idSchema,
});

/**
 * The authority on cloud runs: checks the flow again when the request is
 * processed and dispatches it or rejects it with every reason. A message that
 * is not a request is dropped (retrying would not help); one that keeps failing
 * marks its run Failed on its last attempt, and the host moves it to the
 * poison queue.
 */
export async function processCloudRunRequest(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = requestSchema.safeParse(message);
  if (!parsed.success) {
    context.warn('dropped a cloud-run request that is not one');
    return;
  }
  const request = parsed.data;
  try {
    const outcome = await services().cloudRuns.process(request, invocationLog(context, { flowId: request.flowId }));
    context.log(`cloud run ${request.runId}: ${outcome}`);
  } catch (error) {
    const attempt = Number(context.triggerMetadata?.dequeueCount ?? 1);
    const reason = error instanceof Error ? error.name : 'Error';
    context.warn(`cloud run ${request.runId}: attempt ${attempt} failed (${reason})`);
    await services()
      .cloudRuns.failedAttempt(request, attempt, reason)
      .catch(() => undefined);
    throw error;
  }
}

app.storageQueue('cloudRunProcessor', {
  queueName: CLOUD_RUN_REQUESTS_QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: processCloudRunRequest,
});
