// Timer triggers on the local host: NCRONTAB schedules, and a function
// registered with app.timer(...) fired on its schedule and on startup.
import type * as functions from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { installFunctionsCore } from '../../dev/functionsCore';
import { nextOccurrence, parseSchedule, TimerRunner, timerTriggersOf } from '../../dev/timerHost';

const next = (schedule: string, after: string) =>
  nextOccurrence(parseSchedule(schedule), new Date(after)).toISOString();

describe('NCRONTAB schedules', () => {
  it.each([
    ['0 * * * * *', '2026-03-01T10:15:42.500Z', '2026-03-01T10:16:00.000Z'],
    ['0 * * * * *', '2026-03-01T10:15:00.000Z', '2026-03-01T10:16:00.000Z'],
    ['0 */5 * * * *', '2026-03-01T10:15:00.000Z', '2026-03-01T10:20:00.000Z'],
    ['*/10 * * * * *', '2026-03-01T10:15:42.000Z', '2026-03-01T10:15:50.000Z'],
    ['30 0 9 * * 1-5', '2026-03-06T09:00:31.000Z', '2026-03-09T09:00:30.000Z'], // Friday after: Monday
    ['0 0 0 1 1,7 *', '2026-03-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z'],
    ['0 0 12 * * 0', '2026-03-01T12:00:01.000Z', '2026-03-08T12:00:00.000Z'], // Sunday
    ['0 0 12 * * 7', '2026-03-01T12:00:01.000Z', '2026-03-08T12:00:00.000Z'], // 7 is Sunday too
    ['0 15-45/15 * * * *', '2026-03-01T10:45:00.000Z', '2026-03-01T11:15:00.000Z'],
    ['0 0 0 29 2 *', '2026-03-01T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
  ])('%s after %s is %s', (schedule, after, expected) => {
    expect(next(schedule, after)).toBe(expected);
  });

  it.each([
    ['five fields', '* * * * *'],
    ['a name', '0 0 0 * * Mon'],
    ['a second out of range', '60 * * * * *'],
    ['a backward range', '0 30-10 * * * *'],
    ['a zero step', '*/0 * * * * *'],
    ['a time span', '00:05:00'],
  ])('refuses %s', (_why, schedule) => {
    expect(() => parseSchedule(schedule)).toThrow(/schedule/);
  });

  it('refuses a schedule that never comes', () => {
    expect(() => next('0 0 0 30 2 *', '2026-03-01T00:00:00.000Z')).toThrow(/no time/);
  });
});

describe('the local host', () => {
  it('fires a function registered with app.timer on its schedule, and on startup when asked', async () => {
    // As the host loads function files: @azure/functions-core provided first.
    const registry = installFunctionsCore();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after the core module is in place
    const { app } = require('@azure/functions') as typeof functions;
    const calls: Array<{ name: string; timer: unknown; functionName: string }> = [];
    const handler = (name: string) => (timer: unknown, context: { functionName: string }) => {
      calls.push({ name, timer, functionName: context.functionName });
    };
    app.timer('everySecond', { schedule: '* * * * * *', handler: handler('everySecond') });
    app.timer('atStartup', { schedule: '0 0 0 1 1 *', runOnStartup: true, handler: handler('atStartup') });

    const logged: string[] = [];
    const runners = timerTriggersOf(registry.functions).map(
      (trigger) => new TimerRunner(trigger, (_level, message) => logged.push(message)),
    );
    expect(runners).toHaveLength(2);
    runners.forEach((runner) => runner.start());
    try {
      const deadline = Date.now() + 5_000;
      while (calls.filter((c) => c.name === 'everySecond').length < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await Promise.all(runners.map((runner) => runner.stop()));
    }
    expect(calls.filter((c) => c.name === 'atStartup')).toHaveLength(1);
    const ticks = calls.filter((c) => c.name === 'everySecond');
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(ticks[0]).toMatchObject({
      functionName: 'everySecond',
      timer: {
        isPastDue: expect.any(Boolean),
        schedule: { adjustForDST: false },
        scheduleStatus: { last: expect.any(String), next: expect.any(String), lastUpdated: expect.any(String) },
      },
    });
    expect(logged).toEqual([]);
  });
});
