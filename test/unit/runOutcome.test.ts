// What a client waiting for a run is told when it ends: only a run that
// Succeeded succeeds; any other end is said in words, from what the reader
// may see of the run.
import { describe, expect, it } from 'vitest';
import { PUBLIC_RUN_STATUSES } from '../../lib/domain/runLifecycle';
import { runOutcome } from '../../lib/domain/runOutcome';
import type { RunView } from '../../lib/domain/runs';

const run = (status: RunView['status'], more: Partial<RunView> = {}) => ({ status, ...more });

describe("a run's outcome", () => {
  it('is pending until the run has ended, and a success only when it Succeeded', () => {
    for (const status of PUBLIC_RUN_STATUSES) {
      const kind = runOutcome(run(status)).kind;
      if (['Queued', 'Dispatched', 'Running'].includes(status)) expect(kind, status).toBe('pending');
      else if (status === 'Succeeded') expect(kind).toBe('succeeded');
      else expect(kind, status).toBe('unsuccessful');
    }
  });

  it("gives every reason of a rejected run in words, with the reference each concerns, in the processor's order", () => {
    const outcome = runOutcome(
      run('Rejected', {
        errors: [
          { code: 'FlowSchemaNotV2', detail: 'Cloud runs need schema v2; upgrade the flow first.' },
          {
            code: 'ConnectionReferenceNotEmbedded',
            logicalName: 'db',
            detail: 'A cloud run has nobody to bring a connection: its reference owner must embed one.',
          },
        ],
      }),
    );
    expect(outcome).toEqual({
      kind: 'unsuccessful',
      detail:
        'The run was rejected. Cloud runs need schema v2; upgrade the flow first. Reference "db": A cloud run has nobody to bring a connection: its reference owner must embed one.',
    });
  });

  it('names each action that failed, when the reader may see the actions', () => {
    const actions = [
      { name: 'Read', status: 'Succeeded', startedAt: '2026-01-01T00:00:00Z', durationMs: 5 },
      {
        name: 'Send',
        status: 'Failed',
        startedAt: '2026-01-01T00:00:01Z',
        durationMs: 7,
        error: { code: 'MailboxFull', detail: 'The mailbox is full.' },
      },
    ];
    expect(runOutcome(run('Failed', { actions }))).toEqual({
      kind: 'unsuccessful',
      detail: 'The run failed. Action "Send" failed: The mailbox is full.',
    });
    // Another user of the flow is not shown the actions: only how the run ended.
    expect(runOutcome(run('Failed'))).toEqual({ kind: 'unsuccessful', detail: 'The run failed.' });
  });

  it('says a run timed out or was cancelled, and why when the run says', () => {
    expect(
      runOutcome(run('TimedOut', { errors: [{ code: 'NotLeased', detail: 'No machine leased it in time.' }] })),
    ).toEqual({ kind: 'unsuccessful', detail: 'The run timed out. No machine leased it in time.' });
    expect(runOutcome(run('Cancelled'))).toEqual({ kind: 'unsuccessful', detail: 'The run was cancelled.' });
  });
});
