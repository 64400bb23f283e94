// Machines over HTTP: registering one (its key shown once, kept only as a
// hash), listing and reading one's own, rotating and deleting; who may, and
// that a machine key is a machine's credential only, never a person's.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { parseMachineKey } from '../../lib/auth/machineKeys';
import { machineRowKey, principalPartitionKey } from '../../lib/storage/keys';
import { lease, registerMachine } from '../support/machines';
import { call, expectProblem, testStorage, type Body } from '../support/stack';
import { cast, person } from './people';

const storage = testStorage();

describe('machines', () => {
  it('are registered with a key shown once, and kept with its hash only', async () => {
    const olivia = await person('olivia');
    const created = await call('POST', '/machines', { token: olivia.token, body: { name: ' Build agent ' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'Build agent',
      ownerId: olivia.id,
      createdAt: expect.any(String),
      key: expect.stringMatching(/^fsm_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{40,}$/),
    });
    expect(created.headers.get('location')).toBe(`/api/machines/${created.body.id}`);
    const { id, key } = created.body;

    const read = await call('GET', `/machines/${id}`, { token: olivia.token });
    expect(read.body).toEqual({ id, name: 'Build agent', ownerId: olivia.id, createdAt: created.body.createdAt });
    const listed = await call('GET', '/machines', { token: olivia.token });
    expect(listed.body).toEqual({ value: [read.body] });

    // Storage holds the hash of its secret, never the key or the secret.
    const { tenantId, secret } = parseMachineKey(key)!;
    const row = await storage.machines.getEntity(principalPartitionKey(tenantId, olivia.id), machineRowKey(id));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.keyHash).toEqual(expect.any(String));
  });

  it("are their owner's alone: anyone else is told they do not exist", async () => {
    const people = await cast();
    const machine = await registerMachine(people.owner);
    const mine = await registerMachine(people.coOwner);
    for (const who of [people.coOwner, people.user, people.stranger, people.otherTenant]) {
      for (const [method, path] of [
        ['GET', `/machines/${machine.id}`],
        ['DELETE', `/machines/${machine.id}`],
        ['POST', `/machines/${machine.id}/key`],
      ] as const) {
        expectProblem(await call(method, path, { token: who.token }), 404, 'NotFound');
      }
      const theirs = (await call('GET', '/machines', { token: who.token })).body.value.map((m: Body) => m.id);
      expect(theirs).not.toContain(machine.id);
    }
    expect((await call('GET', '/machines', { token: people.coOwner.token })).body.value).toEqual([
      expect.objectContaining({ id: mine.id }),
    ]);
    // Nothing changed for its owner: the key still works.
    expect((await lease(machine)).status).toBe(204);
    for (const [method, path] of [
      ['POST', '/machines'],
      ['GET', '/machines'],
      ['GET', `/machines/${machine.id}`],
      ['DELETE', `/machines/${machine.id}`],
      ['POST', `/machines/${machine.id}/key`],
    ] as const) {
      expectProblem(
        await call(method, path, { body: method === 'POST' ? { name: 'x' } : undefined }),
        401,
        'Unauthenticated',
      );
    }
  });

  it('get a new key on rotation, and the old one stops working at once', async () => {
    const olivia = await person('olivia');
    const machine = await registerMachine(olivia);
    expect((await lease(machine)).status).toBe(204);
    const rotated = await call('POST', `/machines/${machine.id}/key`, { token: olivia.token });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ id: machine.id, key: expect.stringMatching(/^fsm_/) });
    expect(rotated.body.key).not.toBe(machine.key);
    const old = await lease(machine);
    expectProblem(old, 401, 'Unauthenticated');
    expect(old.headers.get('www-authenticate')).toContain('invalid_token');
    expect((await lease({ key: rotated.body.key })).status).toBe(204);
  });

  it('stop a lease waiting for a run when deleted meanwhile', async () => {
    const olivia = await person('olivia');
    const machine = await registerMachine(olivia);
    const started = Date.now();
    const waiting = lease(machine, 20);
    await sleep(300);
    expect((await call('DELETE', `/machines/${machine.id}`, { token: olivia.token })).status).toBe(204);
    expectProblem(await waiting, 401, 'Unauthenticated');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stop working once deleted', async () => {
    const olivia = await person('olivia');
    const machine = await registerMachine(olivia);
    expect((await call('DELETE', `/machines/${machine.id}`, { token: olivia.token })).status).toBe(204);
    expectProblem(await lease(machine), 401, 'Unauthenticated');
    expectProblem(await call('GET', `/machines/${machine.id}`, { token: olivia.token }), 404, 'NotFound');
    expectProblem(await call('DELETE', `/machines/${machine.id}`, { token: olivia.token }), 404, 'NotFound');
    expect((await call('GET', '/machines', { token: olivia.token })).body.value).toEqual([]);
  });

  it('answer bad input with 400', async () => {
    const olivia = await person('olivia');
    for (const [body, field] of [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ name: 'a\u0007b' }, 'name'],
      [{ name: 'ok', key: 'mine' }, 'key'],
    ] as const) {
      const refused = await call('POST', '/machines', { token: olivia.token, body });
      expectProblem(refused, 400, 'ValidationFailed');
      expect(refused.body.errors.map((e: Body) => e.field)).toEqual([field]);
    }
    expectProblem(await call('POST', '/machines', { token: olivia.token }), 400, 'ValidationFailed');
    expectProblem(await call('GET', '/machines/a%2Fb', { token: olivia.token }), 400, 'ValidationFailed');
    expectProblem(await call('GET', '/machines?top=0', { token: olivia.token }), 400, 'ValidationFailed');
    const machine = await registerMachine(olivia);
    for (const wait of ['31', '-1', 'abc', '1.5']) {
      const refused = await call('POST', `/machine/lease?waitSeconds=${wait}`, { token: machine.key });
      expectProblem(refused, 400, 'ValidationFailed');
      expect(refused.body.errors).toEqual([{ field: 'waitSeconds', detail: expect.any(String) }]);
    }
  });
});

describe("a machine key and a person's token", () => {
  it('are each refused where the other is expected', async () => {
    const people = await cast();
    const machine = await registerMachine(people.owner);
    // A machine key is never a person.
    for (const [method, path] of [
      ['GET', '/machines'],
      ['POST', '/flows'],
      ['GET', '/connections'],
      ['GET', '/flows'],
    ] as const) {
      const refused = await call(method, path, {
        token: machine.key,
        body: method === 'POST' ? { name: 'x' } : undefined,
      });
      expectProblem(refused, 401, 'Unauthenticated');
      expect(refused.body.detail).toMatch(/machine key or run token/);
    }
    // A person's token, or none, is never a machine.
    for (const token of [people.owner.token, undefined, 'fsm_not-a-key', 'fsr_not-a-token']) {
      expectProblem(await call('POST', '/machine/lease', { token }), 401, 'Unauthenticated');
    }
    // Another machine's locator with this machine's secret is no key at all.
    const other = await registerMachine(people.owner, 'Other');
    const forged = `${other.key.split('.')[0]}.${machine.key.split('.')[1]}`;
    expectProblem(await lease({ key: forged }), 401, 'Unauthenticated');
  });
});
