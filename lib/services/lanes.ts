import type { Caller } from '../domain/caller';

/**
 * Runs the changes one person makes to one flow one at a time, in arrival
 * order, within this process. Each such change guards that person's own
 * permission row in its transaction, which gives the row a new ETag, so
 * changes racing each other here would only make each other retry (a storm of
 * 16 shares by one owner ran out of retries). Between processes the ETags
 * still decide; this only stops a process from contending with itself.
 */
export class ChangeLanes {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * @param maxWaitMs how long a change waits for the one before it; a change
   * that hangs (storage that never answers) must not hold up the lane for ever.
   */
  constructor(private readonly maxWaitMs = 30_000) {}

  run<T>(caller: Caller, flowId: string, change: () => Promise<T>): Promise<T> {
    const key = JSON.stringify([caller.tenantId, flowId, caller.principalId]);
    const previous = this.tails.get(key);
    // `previous` never rejects: a failed change does not hold up the next one.
    const result = previous ? waitAtMost(previous, this.maxWaitMs).then(change) : change();
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** How many lanes hold changes now (for tests). */
  get size(): number {
    return this.tails.size;
  }
}

function waitAtMost(settles: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([settles, timeout]).finally(() => clearTimeout(timer));
}
