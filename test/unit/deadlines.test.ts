import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SharedDeadlines } from '../../lib/storage/deadlines';

describe('shared deadlines of table requests', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('give the requests of one window one signal, and the next window another', () => {
    const deadlines = new SharedDeadlines(10_000);
    const first = deadlines.take();
    vi.advanceTimersByTime(99);
    const second = deadlines.take();
    vi.advanceTimersByTime(1);
    const third = deadlines.take();
    expect(second.signal).toBe(first.signal);
    expect(third.signal).not.toBe(first.signal);
    for (const taken of [first, second, third]) taken.release();
  });

  it('abort a request no sooner than its timeout after it started, and at most one window later', () => {
    const deadlines = new SharedDeadlines(10_000);
    const first = deadlines.take();
    vi.advanceTimersByTime(99);
    const last = deadlines.take(); // the same window, 99 ms on
    vi.advanceTimersByTime(9_999); // 10 s after the last one started, less 1 ms
    expect(last.signal.aborted).toBe(false);
    vi.advanceTimersByTime(2);
    expect(first.signal.aborted).toBe(true); // 10.1 s after the first one started
    first.release();
    last.release();
  });

  it('abort nothing once every request of a closed window has settled', () => {
    const deadlines = new SharedDeadlines(10_000);
    const taken = deadlines.take();
    vi.advanceTimersByTime(100); // the window closes
    deadlines.take().release(); // a request in the next window
    taken.release();
    vi.advanceTimersByTime(20_000);
    expect(taken.signal.aborted).toBe(false);
  });

  it('keep the window well below a short timeout', () => {
    const deadlines = new SharedDeadlines(50);
    const taken = deadlines.take();
    vi.advanceTimersByTime(5); // a tenth of the timeout
    expect(deadlines.take().signal).not.toBe(taken.signal);
    vi.advanceTimersByTime(50);
    expect(taken.signal.aborted).toBe(true);
  });
});
