// Timer triggers on the local host, as the Functions host runs them: each
// registered app.timer(...) on its NCRONTAB schedule (six fields, seconds
// first, in UTC, Azure's default), one invocation of a function at a time,
// `runOnStartup` honoured. Enough of
// NCRONTAB for the schedules this project uses: numbers, `*`, lists, ranges
// and steps; no month or day names.
import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import { InvocationContext, type Timer } from '@azure/functions';
import type { BindingMetadata, RegisteredFunction } from './functionsCore';
import type { HostLog } from './functionsHost';

const FIELDS = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  // 7 is Sunday too.
  { name: 'day of week', min: 0, max: 7 },
] as const;

export interface Schedule {
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
}

/** A six-field NCRONTAB expression (`{second} {minute} {hour} {day} {month} {day of week}`). */
export function parseSchedule(expression: string): Schedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== FIELDS.length) {
    throw new Error(`schedule "${expression}": NCRONTAB has six fields, seconds first; this has ${parts.length}`);
  }
  const [seconds, minutes, hours, days, months, daysOfWeek] = parts.map((part, i) =>
    parseField(part, FIELDS[i]!, expression),
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (daysOfWeek.delete(7)) daysOfWeek.add(0);
  return { seconds, minutes, hours, days, months, daysOfWeek };
}

function parseField(text: string, field: (typeof FIELDS)[number], expression: string): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!match) throw new Error(`schedule "${expression}": "${item}" is not a ${field.name} this host reads`);
    const [, whole, from, to, step] = match;
    const first = whole === '*' ? field.min : Number(from);
    // `n/step` runs from n to the end, as in cron.
    const last = whole === '*' || (to === undefined && step !== undefined) ? field.max : Number(to ?? from);
    const by = step === undefined ? 1 : Number(step);
    if (first < field.min || last > field.max || first > last || by < 1) {
      throw new Error(`schedule "${expression}": "${item}" is out of range for a ${field.name}`);
    }
    for (let value = first; value <= last; value += by) values.add(value);
  }
  return values;
}

/** The first time after `after` (to the whole second) that the schedule names, in UTC. */
export function nextOccurrence(schedule: Schedule, after: Date): Date {
  let t = Math.floor(after.getTime() / 1000) * 1000 + 1000;
  // Five years of misses is a schedule that never fires (say, 30 February).
  const limit = t + 5 * 366 * 24 * 3600 * 1000;
  while (t < limit) {
    const d = new Date(t);
    const [year, month, day, hour, minute] = [
      d.getUTCFullYear(),
      d.getUTCMonth(),
      d.getUTCDate(),
      d.getUTCHours(),
      d.getUTCMinutes(),
    ];
    if (!schedule.months.has(month + 1)) t = Date.UTC(year, month + 1, 1);
    else if (!schedule.days.has(day) || !schedule.daysOfWeek.has(d.getUTCDay())) t = Date.UTC(year, month, day + 1);
    else if (!schedule.hours.has(hour)) t = Date.UTC(year, month, day, hour + 1);
    else if (!schedule.minutes.has(minute)) t = Date.UTC(year, month, day, hour, minute + 1);
    else if (!schedule.seconds.has(d.getUTCSeconds())) t += 1000;
    else return d;
  }
  throw new Error('the schedule names no time in the next five years');
}

export interface TimerTrigger {
  fn: RegisteredFunction;
  binding: BindingMetadata;
}

export function timerTriggersOf(functions: RegisteredFunction[]): TimerTrigger[] {
  return functions.flatMap((fn) => {
    const binding = Object.values(fn.metadata.bindings).find((b) => b.type === 'timerTrigger');
    return binding ? [{ fn, binding }] : [];
  });
}

/** setTimeout holds at most about 24.8 days; a later occurrence is waited for in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Runs one timer-triggered function on its schedule until stopped. */
export class TimerRunner {
  private readonly schedule: Schedule;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private last: Date | undefined;

  constructor(
    private readonly trigger: TimerTrigger,
    private readonly log: HostLog,
    private readonly now: () => Date = () => new Date(),
  ) {
    // A bad schedule stops the start with its function's name, as the host does.
    try {
      this.schedule = parseSchedule(String(trigger.binding.schedule ?? ''));
    } catch (error) {
      throw new Error(`timer trigger ${trigger.fn.metadata.name}: ${(error as Error).message}`, { cause: error });
    }
  }

  start(): void {
    if (this.trigger.binding.runOnStartup === true) this.fire(this.now());
    else this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Waits for the next occurrence after now. */
  private arm(): void {
    if (this.stopped) return;
    const next = nextOccurrence(this.schedule, this.now());
    const wait = () => {
      const delay = next.getTime() - this.now().getTime();
      if (delay > MAX_DELAY_MS) this.timer = setTimeout(wait, MAX_DELAY_MS);
      else this.timer = setTimeout(() => this.fire(next), Math.max(0, delay));
    };
    wait();
  }

  /** One invocation; the next occurrence is armed once it is over, so invocations never overlap. */
  private fire(due: Date): void {
    if (this.stopped) return;
    this.running = this.invoke(due).finally(() => {
      this.running = undefined;
      this.arm();
    });
  }

  private async invoke(due: Date): Promise<void> {
    const { fn, binding } = this.trigger;
    const invocationId = randomUUID();
    const at = this.now();
    const timer: Timer = {
      isPastDue: at.getTime() - due.getTime() > 1000,
      schedule: { adjustForDST: false },
      scheduleStatus: {
        last: (this.last ?? due).toISOString(),
        next: nextOccurrence(this.schedule, at).toISOString(),
        lastUpdated: at.toISOString(),
      },
    };
    this.last = due;
    const context = new InvocationContext({
      invocationId,
      functionName: fn.metadata.name,
      options: { trigger: { ...binding, name: binding.name ?? 'timer', type: binding.type } },
      logHandler: (level, ...args) => this.log(level, `${fn.metadata.name} (${invocationId}) ${format(...args)}`),
    });
    try {
      await fn.handler(timer, context);
    } catch (error) {
      // As the host does: logged, and the schedule goes on.
      this.log('warning', `${fn.metadata.name} (${invocationId}) failed: ${String(error)}`);
    }
  }
}
