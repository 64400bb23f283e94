// Sharing over HTTP: who may see, grant, change and remove roles on a flow.
import { beforeEach, describe, expect, it } from 'vitest';
import { call, expectProblem } from '../support/stack';
import { cast, person, sharedFlow, type Cast, type RoleName } from './people';

let people: Cast;
let flowId: string;

beforeEach(async () => {
  people = await cast();
  flowId = await sharedFlow(people);
});

function tokenOf(who: RoleName): string {
  return people[who].token;
}

async function roles(): Promise<Record<string, string>> {
  const response = await call('GET', `/flows/${flowId}/permissions`, { token: people.owner.token });
  return Object.fromEntries(
    response.body.value.map((p: { principalId: string; role: string }) => [p.principalId, p.role]),
  );
}

describe('listing who has which role', () => {
  it.each(['owner', 'coOwner', 'user'] as const)('shows every role to the %s', async (who) => {
    const response = await call('GET', `/flows/${flowId}/permissions`, { token: tokenOf(who) });
    expect(response.status).toBe(200);
    expect(response.body.value).toHaveLength(3);
    expect(response.body.value).toEqual(
      expect.arrayContaining([
        { principalId: people.owner.id, role: 'owner', grantedBy: people.owner.id, grantedAt: expect.any(String) },
        { principalId: people.coOwner.id, role: 'coOwner', grantedBy: people.owner.id, grantedAt: expect.any(String) },
        { principalId: people.user.id, role: 'user', grantedBy: people.owner.id, grantedAt: expect.any(String) },
      ]),
    );
  });

  it.each(['stranger', 'otherTenant'] as const)('answers a %s 404', async (who) => {
    expectProblem(await call('GET', `/flows/${flowId}/permissions`, { token: tokenOf(who) }), 404, 'NotFound');
  });

  it('refuses a caller without a token', async () => {
    expectProblem(await call('GET', `/flows/${flowId}/permissions`), 401, 'Unauthenticated');
  });

  it('pages with nextLink', async () => {
    const first = await call('GET', `/flows/${flowId}/permissions?top=2`, { token: people.user.token });
    expect(first.body.value).toHaveLength(2);
    const second = await call('GET', first.body.nextLink, { token: people.user.token });
    expect(second.body.value).toHaveLength(1);
    expect(second.body.nextLink).toBeUndefined();
  });
});

describe('sharing', () => {
  it.each(['owner', 'coOwner'] as const)(
    'lets the %s share with someone new (201) and that person sees the flow',
    async (who) => {
      const newcomer = await person('newcomer');
      const response = await call('PUT', `/flows/${flowId}/permissions/${newcomer.id}`, {
        token: tokenOf(who),
        body: { role: 'user' },
      });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        principalId: newcomer.id,
        role: 'user',
        grantedBy: people[who].id,
        grantedAt: expect.any(String),
      });
      expect(response.headers.get('etag')).toMatch(/^"[^"]+"$/);
      const listed = await call('GET', '/flows', { token: newcomer.token });
      expect(listed.body.value).toContainEqual(expect.objectContaining({ id: flowId, role: 'user' }));
    },
  );

  it('changes a role (200) and answers the same again when nothing changes', async () => {
    const promoted = await call('PUT', `/flows/${flowId}/permissions/${people.user.id}`, {
      token: people.coOwner.token,
      body: { role: 'coOwner' },
    });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ role: 'coOwner', grantedBy: people.coOwner.id });
    const again = await call('PUT', `/flows/${flowId}/permissions/${people.user.id}`, {
      token: people.owner.token,
      body: { role: 'coOwner' },
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(promoted.body);
    expect((await call('GET', `/flows/${flowId}`, { token: people.user.token })).body.role).toBe('coOwner');
  });

  it('forbids a user to share', async () => {
    const newcomer = await person('newcomer');
    expectProblem(
      await call('PUT', `/flows/${flowId}/permissions/${newcomer.id}`, {
        token: people.user.token,
        body: { role: 'user' },
      }),
      403,
      'Forbidden',
    );
  });

  it.each(['stranger', 'otherTenant'] as const)('answers a %s 404', async (who) => {
    expectProblem(
      await call('PUT', `/flows/${flowId}/permissions/${people[who].id}`, {
        token: tokenOf(who),
        body: { role: 'coOwner' },
      }),
      404,
      'NotFound',
    );
    expect(Object.keys(await roles())).toHaveLength(3);
  });

  it('refuses a caller without a token', async () => {
    expectProblem(
      await call('PUT', `/flows/${flowId}/permissions/someone`, { body: { role: 'user' } }),
      401,
      'Unauthenticated',
    );
  });

  it.each(['owner', 'coOwner'] as const)("never changes the owner's role, even when the %s asks", async (who) => {
    expectProblem(
      await call('PUT', `/flows/${flowId}/permissions/${people.owner.id}`, {
        token: tokenOf(who),
        body: { role: 'user' },
      }),
      409,
      'Conflict',
    );
    expect((await roles())[people.owner.id]).toBe('owner');
  });

  it.each([
    ['the owner role', { role: 'owner' }],
    ['an unknown role', { role: 'admin' }],
    ['no role', {}],
    ['an extra field', { role: 'user', expires: 'never' }],
    ['malformed JSON', '{"role":'],
  ])('answers 400 for %s', async (_why, body) => {
    expectProblem(
      await call('PUT', `/flows/${flowId}/permissions/newcomer`, { token: people.owner.token, body }),
      400,
      'ValidationFailed',
    );
  });

  it.each(['a%2Fb', 'a%23b', 'a%3Fb', 'a%5Cb', 'a%00b', 'x'.repeat(101)])(
    'answers 400 for the principal id %s',
    async (id) => {
      expectProblem(
        await call('PUT', `/flows/${flowId}/permissions/${id}`, { token: people.owner.token, body: { role: 'user' } }),
        400,
        'ValidationFailed',
      );
    },
  );

  it('keeps every one of many concurrent shares of one flow', async () => {
    const newcomers = Array.from({ length: 20 }, (_, i) => `concurrent-${i}`);
    const results = await Promise.all(
      newcomers.map((id, i) =>
        call('PUT', `/flows/${flowId}/permissions/${id}`, {
          token: i % 2 ? people.owner.token : people.coOwner.token,
          body: { role: i % 3 ? 'user' : 'coOwner' },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(newcomers.map(() => 201));
    const now = await roles();
    for (const [i, id] of newcomers.entries()) expect(now[id]).toBe(i % 3 ? 'user' : 'coOwner');
  });
});

describe('removing a role', () => {
  it.each(['owner', 'coOwner'] as const)('lets the %s remove a user, who then cannot see the flow', async (who) => {
    const response = await call('DELETE', `/flows/${flowId}/permissions/${people.user.id}`, { token: tokenOf(who) });
    expect(response.status).toBe(204);
    expectProblem(await call('GET', `/flows/${flowId}`, { token: people.user.token }), 404, 'NotFound');
    const listed = await call('GET', '/flows', { token: people.user.token });
    expect(listed.body.value.map((f: { id: string }) => f.id)).not.toContain(flowId);
  });

  it.each(['coOwner', 'user'] as const)('lets a %s remove themselves', async (who) => {
    expect(
      (await call('DELETE', `/flows/${flowId}/permissions/${people[who].id}`, { token: tokenOf(who) })).status,
    ).toBe(204);
    expect(await roles()).not.toHaveProperty(people[who].id);
  });

  it('forbids a user to remove someone else', async () => {
    expectProblem(
      await call('DELETE', `/flows/${flowId}/permissions/${people.coOwner.id}`, { token: people.user.token }),
      403,
      'Forbidden',
    );
    expect((await roles())[people.coOwner.id]).toBe('coOwner');
  });

  it.each(['owner', 'coOwner'] as const)('never removes the owner, even when the %s asks', async (who) => {
    expectProblem(
      await call('DELETE', `/flows/${flowId}/permissions/${people.owner.id}`, { token: tokenOf(who) }),
      409,
      'Conflict',
    );
    expect((await roles())[people.owner.id]).toBe('owner');
  });

  it.each(['stranger', 'otherTenant'] as const)('answers a %s 404, even for themselves', async (who) => {
    expectProblem(
      await call('DELETE', `/flows/${flowId}/permissions/${people.user.id}`, { token: tokenOf(who) }),
      404,
      'NotFound',
    );
    expectProblem(
      await call('DELETE', `/flows/${flowId}/permissions/${people[who].id}`, { token: tokenOf(who) }),
      404,
      'NotFound',
    );
  });

  it('answers 404 for someone who holds no role', async () => {
    expectProblem(
      await call('DELETE', `/flows/${flowId}/permissions/nobody-here`, { token: people.owner.token }),
      404,
      'NotFound',
    );
  });

  it('refuses a caller without a token', async () => {
    expectProblem(await call('DELETE', `/flows/${flowId}/permissions/${people.user.id}`), 401, 'Unauthenticated');
  });

  it('answers 400 for a bad principal id', async () => {
    expectProblem(
      await call('DELETE', `/flows/${flowId}/permissions/a%23b`, { token: people.owner.token }),
      400,
      'ValidationFailed',
    );
  });
});

describe('the list of shared flows under contention', () => {
  it('lists the flow for whoever holds a role after unshares race re-shares', async () => {
    for (let round = 0; round < 8; round++) {
      await Promise.all([
        call('DELETE', `/flows/${flowId}/permissions/${people.user.id}`, { token: people.owner.token }),
        call('PUT', `/flows/${flowId}/permissions/${people.user.id}`, {
          token: people.coOwner.token,
          body: { role: 'user' },
        }),
      ]);
      const holds = (await roles())[people.user.id] !== undefined;
      const listed = (await call('GET', '/flows', { token: people.user.token })).body.value.some(
        (f: { id: string }) => f.id === flowId,
      );
      expect(listed).toBe(holds);
    }
  });
});
