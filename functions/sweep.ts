import { app, type InvocationContext, type Timer } from '@azure/functions';
import { invocationLog } from '../lib/log';
import { services } from '../lib/services';

/**
 * Finishes what changes left to do after they committed: the references a
 * role change could not unembed in its own transaction (they already count
 * as not embedded). Safe to run on several instances at once.
 */
export async function sweepPendingWork(_timer: Timer, context: InvocationContext): Promise<void> {
  const log = invocationLog(context);
  const outcome = await services().unembeddings.sweep();
  if (outcome.unembedded > 0 || outcome.failed.length > 0) {
    log.info('pending unembeddings swept', { flows: outcome.flows, unembedded: outcome.unembedded });
  }
  for (const { flowId, reason } of outcome.failed) {
    log.warn("a flow's pending work failed; the next sweep tries again", { flowId, reason });
  }
}

app.timer('pendingWorkSweep', {
  // NCRONTAB, UTC: second 0 of every minute.
  schedule: '0 * * * * *',
  handler: sweepPendingWork,
});

/**
 * Repairs runs left behind (docs/domain.md, "Runs"): a cloud run whose
 * request may be lost is asked for again, one nobody processed within its
 * window is Failed, a run whose lease lapsed (or that no machine leased in
 * time) is TimedOut. So that reading a run never writes.
 */
export async function repairRuns(_timer: Timer, context: InvocationContext): Promise<void> {
  const log = invocationLog(context);
  const outcome = await services().runRepairs.sweep(log);
  if (outcome.repaired > 0) log.info('runs repaired', { flows: outcome.flows, repaired: outcome.repaired });
  for (const { flowId, reason } of outcome.failed) {
    log.warn("repairing a flow's runs failed; the next sweep tries again", { flowId, reason });
  }
}

/** Deletes consent states and sessions past their time (they are refused when read after it anyway). */
export async function deleteExpiredStates(_timer: Timer, context: InvocationContext): Promise<void> {
  const deleted = await services().expiredStates.sweep();
  if (deleted.states + deleted.sessions > 0) {
    invocationLog(context).info('expired consent states and sessions deleted', deleted);
  }
}

app.timer('runRepairSweep', {
  // NCRONTAB, UTC: second 30 of every minute (apart from the pending-work sweep).
  schedule: '30 * * * * *',
  handler: repairRuns,
});

app.timer('expiredStateSweep', {
  // NCRONTAB, UTC: every ten minutes.
  schedule: '0 */10 * * * *',
  handler: deleteExpiredStates,
});
