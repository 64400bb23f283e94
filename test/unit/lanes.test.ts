import { describe, expect, it } from 'vitest';
import { ChangeLanes } from '../../lib/services/lanes';

const alice = { tenantId: 't', principalId: 'alice' };
const bob = { tenantId: 't', principalId: 'bob' };

/** A change that finishes when told to, recording when it started and ended. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    open,
    change: async () => {
      log.push(`${name} start`);
      await opened;
      log.push(`${name} end`);
      return name;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('change lanes', () => {
  it("run one person's changes to one flow one at a time, in arrival order", async () => {
    const lanes = new ChangeLanes();
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => gate(log, name));
    const results = [a!, b!, c!].map((g) => lanes.run(alice, 'f', g.change));
    await settle();
    expect(log).toEqual(['a start']);
    c!.open();
    b!.open();
    await settle();
    expect(log).toEqual(['a start']);
    a!.open();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    expect(lanes.size).toBe(0);
  });

  it('let other people, and other flows, go at the same time', async () => {
    const lanes = new ChangeLanes();
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => gate(log, name));
    const results = [
      lanes.run(alice, 'f', a!.change),
      lanes.run(bob, 'f', b!.change),
      lanes.run(alice, 'g', c!.change),
    ];
    await settle();
    expect(log).toEqual(['a start', 'b start', 'c start']);
    [a, b, c].forEach((g) => g!.open());
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
  });

  it('do not hold the next change up when one fails', async () => {
    const lanes = new ChangeLanes();
    const failed = lanes.run(alice, 'f', () => Promise.reject(new Error('lost')));
    const next = lanes.run(alice, 'f', () => Promise.resolve('next'));
    await expect(failed).rejects.toThrow('lost');
    await expect(next).resolves.toBe('next');
    await settle();
    expect(lanes.size).toBe(0);
  });

  it('stop waiting for a change that hangs', async () => {
    const lanes = new ChangeLanes(20);
    void lanes.run(alice, 'f', () => new Promise<never>(() => undefined));
    await expect(lanes.run(alice, 'f', () => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('keep tenants apart even when ids would join into the same text', async () => {
    const lanes = new ChangeLanes();
    const log: string[] = [];
    const [a, b] = ['a', 'b'].map((name) => gate(log, name));
    const results = [
      lanes.run({ tenantId: 't|x', principalId: 'p' }, 'f', a!.change),
      lanes.run({ tenantId: 't', principalId: 'x|p' }, 'f', b!.change),
    ];
    await settle();
    expect(log).toEqual(['a start', 'b start']);
    a!.open();
    b!.open();
    await Promise.all(results);
  });
});
