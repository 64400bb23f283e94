// In-process wake-ups for leases waiting on a machine: when this process
// dispatches a run to a machine, a lease of that machine long-polling here
// looks again at once instead of at its next interval. Dispatches made by
// other processes are found by looking at storage (RunLeases). Holds nothing
// but the waiters' callbacks, each removed when it fires or times out.
import type { MachineRef } from '../auth/machineKeys';

function keyOf(machine: MachineRef): string {
  return JSON.stringify([machine.tenantId, machine.ownerId, machine.machineId]);
}

export class DispatchSignals {
  private readonly waiting = new Map<string, Set<() => void>>();

  /**
   * Wakes the lease whose current wait began first: one dispatched
   * run needs one look. Waking them all made every slot of a machine (the
   * agent's --concurrency) query and race to claim the same run; the others
   * still look at their next interval, so a run the woken one does not take
   * is found all the same.
   */
  notify(machine: MachineRef): void {
    const waiters = this.waiting.get(keyOf(machine));
    const first = waiters?.values().next().value;
    first?.();
  }

  /** Resolves when the machine is notified, or after `ms`, whichever comes first. */
  wait(machine: MachineRef, ms: number): Promise<void> {
    const key = keyOf(machine);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        const waiters = this.waiting.get(key);
        waiters?.delete(done);
        if (waiters?.size === 0) this.waiting.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      let waiters = this.waiting.get(key);
      if (!waiters) this.waiting.set(key, (waiters = new Set()));
      waiters.add(done);
    });
  }
}
