// The run lifecycle as a table: which status may follow which, and what the
// repair sweep does for a run left behind, at each age.
import { describe, expect, it } from 'vitest';
import {
  canMove,
  isFinal,
  publicStatus,
  repairOf,
  RUN_STATUSES,
  RUN_WINDOWS,
  type RunStatus,
} from '../../lib/domain/runLifecycle';

describe('run statuses', () => {
  const allowed: Array<[RunStatus, RunStatus[]]> = [
    ['Queued', ['Dispatching', 'Dispatched', 'Rejected', 'Failed']],
    ['Dispatching', ['Dispatched', 'Queued', 'Failed']],
    ['Dispatched', []],
    ['Rejected', []],
    ['Failed', []],
  ];
  it.each(allowed)('%s may be followed by exactly %j', (from, to) => {
    for (const next of RUN_STATUSES) expect(canMove(from, next), `${from} -> ${next}`).toBe(to.includes(next));
    expect(isFinal(from)).toBe(to.length === 0);
  });

  it('never lets a claimed run be rejected: its dispatch may be on its way', () => {
    expect(canMove('Dispatching', 'Rejected')).toBe(false);
  });

  it('shows a claimed run as Queued', () => {
    expect(publicStatus('Dispatching')).toBe('Queued');
    expect(publicStatus('Rejected')).toBe('Rejected');
  });
});

describe('a run left behind', () => {
  const created = new Date('2026-01-01T00:00:00Z');
  const at = (ms: number) => new Date(created.getTime() + ms);
  const run = (mode: 'attended' | 'cloud', status: RunStatus = 'Queued', requestedAgainAt?: string) => ({
    mode,
    status,
    createdAt: created.toISOString(),
    ...(requestedAgainAt ? { requestedAgainAt } : {}),
  });
  const { staleAttendedMs, staleCloudMs, cloudRequestWindowMs } = RUN_WINDOWS;

  it.each([
    ['an attended run within its minute', run('attended'), staleAttendedMs, 'none'],
    ['an attended run past its minute', run('attended'), staleAttendedMs + 1, 'settleAttended'],
    ['a cloud run within two minutes', run('cloud'), staleCloudMs, 'none'],
    ['a cloud run past two minutes', run('cloud'), staleCloudMs + 1, 'requestAgain'],
    [
      'a cloud run asked again a minute ago',
      run('cloud', 'Queued', at(10 * 60_000 - 60_000).toISOString()),
      10 * 60_000,
      'none',
    ],
    [
      'a cloud run asked again over two minutes ago',
      run('cloud', 'Queued', at(10 * 60_000 - staleCloudMs - 1).toISOString()),
      10 * 60_000,
      'requestAgain',
    ],
    ['a cloud run at the end of its window', run('cloud'), cloudRequestWindowMs, 'requestAgain'],
    ['a cloud run past its window', run('cloud'), cloudRequestWindowMs + 1, 'fail'],
    ['a claimed cloud run', run('cloud', 'Dispatching'), cloudRequestWindowMs + 1, 'none'],
    ['a final run', run('attended', 'Failed'), cloudRequestWindowMs + 1, 'none'],
  ] as const)('%s', (_what, facts, ageMs, kind) => {
    expect(repairOf(facts, at(ageMs)).kind).toBe(kind);
  });
});
