import { describe, expect, it } from 'vitest';
import { DispatchSignals } from '../../lib/services/dispatchSignals';

const machine = { tenantId: 't', ownerId: 'olivia', machineId: 'm1' };
const other = { tenantId: 't', ownerId: 'olivia', machineId: 'm2' };

/** Which of the waits have resolved after the current turn of the event loop. */
async function settled(waits: Promise<void>[]): Promise<boolean[]> {
  const done = waits.map(() => false);
  waits.forEach((wait, i) => void wait.then(() => (done[i] = true)));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('dispatch signals', () => {
  it('wake one waiting lease of the machine per dispatch, the one that began waiting first', async () => {
    const signals = new DispatchSignals();
    const waits = [signals.wait(machine, 60_000), signals.wait(machine, 60_000), signals.wait(machine, 60_000)];
    signals.notify(machine);
    expect(await settled(waits)).toEqual([true, false, false]);
    signals.notify(machine);
    expect(await settled(waits)).toEqual([true, true, false]);
    signals.notify(machine);
    expect(await settled(waits)).toEqual([true, true, true]);
  });

  it('wake nobody waiting on another machine, and hold nothing once all are woken', async () => {
    const signals = new DispatchSignals();
    const wait = signals.wait(machine, 60_000);
    signals.notify(other);
    expect(await settled([wait])).toEqual([false]);
    signals.notify(machine);
    expect(await settled([wait])).toEqual([true]);
    signals.notify(machine); // nobody left: a no-op
    expect((signals as unknown as { waiting: Map<string, unknown> }).waiting.size).toBe(0);
  });

  it('let a wait end at its timeout, and a later notify wakes the next one', async () => {
    const signals = new DispatchSignals();
    const first = signals.wait(machine, 5);
    const second = signals.wait(machine, 60_000);
    await first;
    signals.notify(machine);
    expect(await settled([second])).toEqual([true]);
  });
});
