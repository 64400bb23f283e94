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
    ['Queued', ['Dispatching', 'Rejected', 'Failed', 'Cancelled']],
    ['Dispatching', ['Dispatched', 'Queued', 'Failed', 'Cancelled']],
    ['Dispatched', ['Running', 'Cancelled', 'TimedOut']],
    ['Running', ['Succeeded', 'Failed', 'Cancelled', 'TimedOut']],
    ['Succeeded', []],
    ['Failed', []],
    ['Cancelled', []],
    ['TimedOut', []],
    ['Rejected', []],
  ];
  it.each(allowed)('%s may be followed by exactly %j', (from, to) => {
    for (const next of RUN_STATUSES) expect(canMove(from, next), `${from} -> ${next}`).toBe(to.includes(next));
    expect(isFinal(from)).toBe(to.length === 0);
  });

  it('covers every status', () => {
    expect(allowed.map(([status]) => status).sort()).toEqual([...RUN_STATUSES].sort());
  });

  it('never lets a claimed run be rejected: its dispatch may be on its way', () => {
    expect(canMove('Dispatching', 'Rejected')).toBe(false);
  });

  it('never leases a run twice: nothing goes back to Dispatched or Running', () => {
    for (const from of RUN_STATUSES) {
      expect(canMove(from, 'Dispatched'), from).toBe(from === 'Dispatching');
      expect(canMove(from, 'Running'), from).toBe(from === 'Dispatched');
    }
  });

  it('shows a claimed run as Queued', () => {
    expect(publicStatus('Dispatching')).toBe('Queued');
    expect(publicStatus('Rejected')).toBe('Rejected');
  });
});

describe('a run left behind', () => {
  const created = new Date('2026-01-01T00:00:00Z');
  const at = (ms: number) => new Date(created.getTime() + ms);
  const run = (
    mode: 'attended' | 'cloud',
    status: RunStatus = 'Queued',
    more: { requestedAgainAt?: string; leaseExpiresAt?: string } = {},
  ) => ({ mode, status, createdAt: created.toISOString(), ...more });
  const { staleAttendedMs, staleCloudMs, cloudRequestWindowMs, leaseWaitMs } = RUN_WINDOWS;
  const lease = (ms: number) => ({ leaseExpiresAt: at(ms).toISOString() });

  it.each([
    ['an attended run still Queued within its minute', run('attended'), staleAttendedMs, 'none'],
    ['an attended run still Queued past its minute', run('attended'), staleAttendedMs + 1, 'fail'],
    ['a cloud run within two minutes', run('cloud'), staleCloudMs, 'none'],
    ['a cloud run past two minutes', run('cloud'), staleCloudMs + 1, 'requestAgain'],
    [
      'a cloud run asked again a minute ago',
      run('cloud', 'Queued', { requestedAgainAt: at(10 * 60_000 - 60_000).toISOString() }),
      10 * 60_000,
      'none',
    ],
    [
      'a cloud run asked again over two minutes ago',
      run('cloud', 'Queued', { requestedAgainAt: at(10 * 60_000 - staleCloudMs - 1).toISOString() }),
      10 * 60_000,
      'requestAgain',
    ],
    ['a cloud run at the end of its window', run('cloud'), cloudRequestWindowMs, 'requestAgain'],
    ['a cloud run past its window', run('cloud'), cloudRequestWindowMs + 1, 'fail'],
    ['a claimed cloud run', run('cloud', 'Dispatching'), cloudRequestWindowMs + 1, 'none'],
    ['a dispatched run within its wait for a lease', run('cloud', 'Dispatched'), leaseWaitMs, 'none'],
    ['a dispatched run no machine leased in time', run('cloud', 'Dispatched'), leaseWaitMs + 1, 'lapse'],
    ['a running run whose lease holds', run('attended', 'Running', lease(60_000)), 59_999, 'none'],
    ['a running run whose lease just lapsed', run('attended', 'Running', lease(60_000)), 60_000, 'lapse'],
    ['a running run without a lease', run('cloud', 'Running'), 0, 'lapse'],
    ['a final run', run('attended', 'Failed'), cloudRequestWindowMs + 1, 'none'],
    ['a run that timed out', run('cloud', 'TimedOut', lease(0)), leaseWaitMs + 1, 'none'],
  ] as const)('%s', (_what, facts, ageMs, kind) => {
    expect(repairOf(facts, at(ageMs)).kind).toBe(kind);
  });
});
