// How a run ended, for a client that waits for it and must then succeed or
// fail as a whole: Power Automate's connector action "Run a shared desktop
// flow" (docs/api.md, "Cloud flows and the asynchronous pattern"). Only a run
// that Succeeded is a success; any other end is told in words, from what the
// reader may see of the run. Pure: no I/O.
import { isFinal, type PublicRunStatus } from './runLifecycle';
import type { RunView } from './runs';

export type RunOutcome = { kind: 'pending' } | { kind: 'succeeded' } | { kind: 'unsuccessful'; detail: string };

const HOW_IT_ENDED: Record<Exclude<PublicRunStatus, 'Queued' | 'Dispatched' | 'Running' | 'Succeeded'>, string> = {
  Rejected: 'The run was rejected.',
  Failed: 'The run failed.',
  Cancelled: 'The run was cancelled.',
  TimedOut: 'The run timed out.',
};

export function runOutcome(run: Pick<RunView, 'status' | 'errors' | 'actions'>): RunOutcome {
  if (!isFinal(run.status)) return { kind: 'pending' };
  if (run.status === 'Succeeded') return { kind: 'succeeded' };
  const reasons = [
    ...(run.errors ?? []).map((e) => (e.logicalName ? `Reference "${e.logicalName}": ${e.detail}` : e.detail)),
    // Present only for those who may see what the run did (its initiator and the flow's makers).
    ...(run.actions ?? [])
      .filter((a) => a.error)
      .map((a) => `Action "${a.name}" ${a.status.toLowerCase()}: ${a.error!.detail}`),
  ];
  const ended = HOW_IT_ENDED[run.status as keyof typeof HOW_IT_ENDED];
  return { kind: 'unsuccessful', detail: [ended, ...reasons].join(' ') };
}
