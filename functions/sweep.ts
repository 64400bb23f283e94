import { app, type InvocationContext, type Timer } from '@azure/functions';
import { services } from '../lib/services';

/**
 * Finishes what changes left to do after they committed: the references a
 * role change could not unembed in its own transaction (they already count
 * as not embedded). Safe to run on several instances at once.
 */
export async function sweepPendingWork(_timer: Timer, context: InvocationContext): Promise<void> {
  const outcome = await services().unembeddings.sweep();
  if (outcome.unembedded > 0 || outcome.failed.length > 0) {
    context.log(`swept ${outcome.flows} flows: ${outcome.unembedded} references unembedded`);
  }
  for (const { flowId, reason } of outcome.failed) {
    context.warn(`flow ${flowId}: its pending work failed (${reason}); the next sweep tries again`);
  }
}

app.timer('pendingWorkSweep', {
  // NCRONTAB, UTC: second 0 of every minute.
  schedule: '0 * * * * *',
  handler: sweepPendingWork,
});
