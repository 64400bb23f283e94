// Connection references over HTTP: the heart of flowshare. Who may add,
// rebind, embed and remove them; what each role sees; what happens when a
// co-owner leaves or a connection is deleted; and the audit trail.
import { beforeEach, describe, expect, it } from 'vitest';
import { call, expectProblem, type Body } from '../support/stack';
import { cast, person, sharedFlow, type Cast, type Person, type RoleName } from './people';

let people: Cast;
let coOwner2: Person;
let flowId: string;

async function sqlConnection(who: Person, displayName = `${who.id}'s db`): Promise<string> {
  const created = await call('POST', '/connections', {
    token: who.token,
    body: { connectorId: 'shared_sql', displayName, apiKey: `key-${who.id}` },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function bind(who: Person, logicalName: string, connectionId: string, connectorId = 'shared_sql') {
  return call('PUT', `/flows/${flowId}/connection-references/${logicalName}`, {
    token: who.token,
    body: { connectorId, connectionId },
  });
}

async function embed(who: Person, logicalName: string, embedded = true) {
  return call('PATCH', `/flows/${flowId}/connection-references/${logicalName}`, {
    token: who.token,
    body: { embedded },
  });
}

async function references(who: Person = people.owner): Promise<Record<string, Body>> {
  const response = await call('GET', `/flows/${flowId}/connection-references`, { token: who.token });
  expect(response.status).toBe(200);
  return Object.fromEntries(response.body.value.map((r: Body) => [r.logicalName, r]));
}

async function audit(who: Person = people.owner): Promise<Body[]> {
  const response = await call('GET', `/flows/${flowId}/audit?top=100`, { token: who.token });
  expect(response.status).toBe(200);
  return response.body.value;
}

function tokenOf(who: RoleName): string {
  return people[who].token;
}

beforeEach(async () => {
  people = await cast();
  coOwner2 = await person('coowner2');
  flowId = await sharedFlow(people);
  await call('PUT', `/flows/${flowId}/permissions/${coOwner2.id}`, {
    token: people.owner.token,
    body: { role: 'coOwner' },
  });
});

describe('listing references', () => {
  beforeEach(async () => {
    expect((await bind(people.coOwner, 'db', await sqlConnection(people.coOwner, 'Finance DB'))).status).toBe(201);
  });

  it('shows the bound connection to its reference owner only, and its status to every role', async () => {
    const mine = await references(people.coOwner);
    expect(mine.db).toEqual({
      logicalName: 'db',
      connectorId: 'shared_sql',
      ownerId: people.coOwner.id,
      embedded: false,
      status: 'Connected',
      connection: { id: expect.any(String), displayName: 'Finance DB' },
    });
    for (const who of [people.owner, coOwner2, people.user]) {
      const theirs = await references(who);
      expect(theirs.db).toEqual({ ...mine.db, connection: undefined });
      expect(theirs.db).not.toHaveProperty('connection');
    }
  });

  it.each(['stranger', 'otherTenant'] as const)('answers a %s 404', async (who) => {
    expectProblem(
      await call('GET', `/flows/${flowId}/connection-references`, { token: tokenOf(who) }),
      404,
      'NotFound',
    );
  });

  it('refuses a caller without a token', async () => {
    expectProblem(await call('GET', `/flows/${flowId}/connection-references`), 401, 'Unauthenticated');
  });
});

describe('adding and rebinding a reference', () => {
  it.each(['owner', 'coOwner'] as const)(
    'lets the %s add one bound to their own connection (201), owned by them',
    async (who) => {
      const response = await bind(people[who], 'db', await sqlConnection(people[who]));
      expect(response.status).toBe(201);
      expect(response.headers.get('etag')).toMatch(/^".+"$/);
      expect(response.body).toMatchObject({
        logicalName: 'db',
        ownerId: people[who].id,
        embedded: false,
        status: 'Connected',
      });
    },
  );

  it('forbids a user', async () => {
    expectProblem(await bind(people.user, 'db', await sqlConnection(people.user)), 403, 'Forbidden');
  });

  it.each(['stranger', 'otherTenant'] as const)('answers a %s 404', async (who) => {
    expectProblem(await bind(people[who], 'db', await sqlConnection(people[who])), 404, 'NotFound');
  });

  it('refuses a caller without a token', async () => {
    expectProblem(
      await call('PUT', `/flows/${flowId}/connection-references/db`, {
        body: { connectorId: 'shared_sql', connectionId: 'x' },
      }),
      401,
      'Unauthenticated',
    );
  });

  it('lets only the reference owner rebind it', async () => {
    await bind(people.coOwner, 'db', await sqlConnection(people.coOwner));
    expectProblem(await bind(coOwner2, 'db', await sqlConnection(coOwner2)), 403, 'NotReferenceOwner');
    expectProblem(await bind(people.owner, 'db', await sqlConnection(people.owner)), 403, 'NotReferenceOwner');
    const other = await sqlConnection(people.coOwner, 'Second DB');
    const rebound = await bind(people.coOwner, 'db', other);
    expect(rebound.status).toBe(200);
    expect(rebound.body.connection).toEqual({ id: other, displayName: 'Second DB' });
    const again = await bind(people.coOwner, 'db', other);
    expect(again.status).toBe(200);
    expect(again.headers.get('etag')).toBe(rebound.headers.get('etag'));
  });

  it("refuses someone else's connection exactly as one that does not exist", async () => {
    const bobs = await sqlConnection(people.coOwner);
    const theirs = await bind(coOwner2, 'db', bobs);
    const missing = await bind(coOwner2, 'db', 'no-such-connection');
    expectProblem(theirs, 400, 'ValidationFailed');
    expect(theirs.body).toEqual(missing.body);
    expect(await references()).toEqual({});
  });

  it.each([
    [
      'a connection of another connector',
      async () => ({ connectorId: 'shared_office365', connectionId: await sqlConnection(people.coOwner) }),
    ],
    ['an unknown field', async () => ({ connectorId: 'shared_sql', connectionId: 'x', embedded: true })],
    ['no connection', async () => ({ connectorId: 'shared_sql' })],
  ])('answers 400 for %s', async (_why, body) => {
    const response = await call('PUT', `/flows/${flowId}/connection-references/db`, {
      token: people.coOwner.token,
      body: await body(),
    });
    expectProblem(response, 400, 'ValidationFailed');
  });

  it.each(['a%2Fb', 'a%23b', 'x'.repeat(101)])('answers 400 for the logical name %s', async (name) => {
    const response = await call('PUT', `/flows/${flowId}/connection-references/${name}`, {
      token: people.coOwner.token,
      body: { connectorId: 'shared_sql', connectionId: 'x' },
    });
    expectProblem(response, 400, 'ValidationFailed');
  });
});

describe('embedding', () => {
  beforeEach(async () => {
    await bind(people.coOwner, 'db', await sqlConnection(people.coOwner));
  });

  it('lets the reference owner embed and unembed it', async () => {
    const embedded = await embed(people.coOwner, 'db');
    expect(embedded.status).toBe(200);
    expect(embedded.body).toMatchObject({ embedded: true });
    expect((await references(people.user)).db.embedded).toBe(true);
    const unembedded = await embed(people.coOwner, 'db', false);
    expect(unembedded.body).toMatchObject({ embedded: false });
  });

  it.each([
    ['the flow owner', () => people.owner, 403, 'NotReferenceOwner'],
    ['another co-owner', () => coOwner2, 403, 'NotReferenceOwner'],
    ['a user', () => people.user, 403, 'Forbidden'],
    ['a stranger', () => people.stranger, 404, 'NotFound'],
    ['someone in another tenant', () => people.otherTenant, 404, 'NotFound'],
  ])('refuses %s', async (_who, who, status, code) => {
    expectProblem(await embed(who(), 'db'), status, code);
    expect((await references()).db.embedded).toBe(false);
  });

  it('refuses a caller without a token', async () => {
    expectProblem(
      await call('PATCH', `/flows/${flowId}/connection-references/db`, { body: { embedded: true } }),
      401,
      'Unauthenticated',
    );
  });

  it('needs a Connected connection', async () => {
    const pending = await call('POST', '/connections', {
      token: people.coOwner.token,
      body: { connectorId: 'shared_office365', displayName: 'Mail, not consented yet' },
    });
    await bind(people.coOwner, 'mail', pending.body.id, 'shared_office365');
    expectProblem(await embed(people.coOwner, 'mail'), 409, 'ConnectionUnavailable');
    expect((await references()).mail).toMatchObject({ embedded: false, status: 'PendingConsent' });
  });

  it('answers 404 for a reference that does not exist and 400 for a bad body', async () => {
    expectProblem(await embed(people.coOwner, 'nothing'), 404, 'NotFound');
    for (const body of [{}, { embedded: 'yes' }, { embedded: true, extra: 1 }]) {
      const response = await call('PATCH', `/flows/${flowId}/connection-references/db`, {
        token: people.coOwner.token,
        body,
      });
      expectProblem(response, 400, 'ValidationFailed');
    }
  });
});

describe('removing a reference', () => {
  beforeEach(async () => {
    await bind(people.coOwner, 'db', await sqlConnection(people.coOwner));
  });

  it.each([
    ['the flow owner, while the reference owner is a co-owner', () => people.owner, 403, 'NotReferenceOwner'],
    ['another co-owner', () => coOwner2, 403, 'NotReferenceOwner'],
    ['a user', () => people.user, 403, 'Forbidden'],
    ['a stranger', () => people.stranger, 404, 'NotFound'],
    ['someone in another tenant', () => people.otherTenant, 404, 'NotFound'],
  ])('refuses %s', async (_who, who, status, code) => {
    expectProblem(
      await call('DELETE', `/flows/${flowId}/connection-references/db`, { token: who().token }),
      status,
      code,
    );
    expect(await references()).toHaveProperty('db');
  });

  it('lets the reference owner remove it', async () => {
    expect(
      (await call('DELETE', `/flows/${flowId}/connection-references/db`, { token: people.coOwner.token })).status,
    ).toBe(204);
    expect(await references()).toEqual({});
    expectProblem(
      await call('DELETE', `/flows/${flowId}/connection-references/db`, { token: people.coOwner.token }),
      404,
      'NotFound',
    );
  });

  it('lets the flow owner remove it once the reference owner has lost access', async () => {
    await call('DELETE', `/flows/${flowId}/permissions/${people.coOwner.id}`, { token: people.owner.token });
    expect(
      (await call('DELETE', `/flows/${flowId}/connection-references/db`, { token: people.owner.token })).status,
    ).toBe(204);
    expect(await references()).toEqual({});
    expectProblem(await embed(people.owner, 'db'), 404, 'NotFound');
    expect((await audit())[0]).toMatchObject({
      action: 'referenceRemoved',
      actorId: people.owner.id,
      subjectId: 'db',
      at: expect.any(String),
      details: { connectorId: 'shared_sql', referenceOwnerId: people.coOwner.id },
    });
  });

  it('refuses a caller without a token', async () => {
    expectProblem(await call('DELETE', `/flows/${flowId}/connection-references/db`), 401, 'Unauthenticated');
  });
});

describe('a co-owner who leaves no longer lends the flow their connection', () => {
  beforeEach(async () => {
    await bind(people.coOwner, 'db', await sqlConnection(people.coOwner));
    await embed(people.coOwner, 'db');
  });

  it.each([
    [
      'removed by the owner',
      () => call('DELETE', `/flows/${flowId}/permissions/${people.coOwner.id}`, { token: people.owner.token }),
    ],
    [
      'leaving',
      () => call('DELETE', `/flows/${flowId}/permissions/${people.coOwner.id}`, { token: people.coOwner.token }),
    ],
    [
      'made a user',
      () =>
        call('PUT', `/flows/${flowId}/permissions/${people.coOwner.id}`, {
          token: people.owner.token,
          body: { role: 'user' },
        }),
    ],
  ])('unembeds their references when %s, with an audit entry for each', async (_how, change) => {
    expect([200, 204]).toContain((await change()).status);
    expect((await references()).db.embedded).toBe(false);
    const entries = await audit();
    expect(entries[0]!.action === 'unembedded' || entries[1]!.action === 'unembedded').toBe(true);
    expect(entries.find((e: Body) => e.action === 'unembedded')).toMatchObject({
      subjectId: 'db',
      details: { reason: 'ownerRemoved' },
    });
  });

  it("leaves other co-owners' references as they are", async () => {
    await bind(coOwner2, 'mail', await sqlConnection(coOwner2));
    await embed(coOwner2, 'mail');
    await call('DELETE', `/flows/${flowId}/permissions/${people.coOwner.id}`, { token: people.owner.token });
    const now = await references();
    expect(now.db.embedded).toBe(false);
    expect(now.mail.embedded).toBe(true);
  });
});

describe('deleting an embedded connection', () => {
  let connectionId: string;
  beforeEach(async () => {
    connectionId = await sqlConnection(people.coOwner);
    await bind(people.coOwner, 'db', connectionId);
    await embed(people.coOwner, 'db');
  });

  it('lists where it is used, to its owner only', async () => {
    const usage = await call('GET', `/connections/${connectionId}/usage`, { token: people.coOwner.token });
    expect(usage.status).toBe(200);
    expect(usage.body.value).toEqual([{ flowId, flowName: 'Invoices', logicalName: 'db', embedded: true }]);
    expectProblem(
      await call('GET', `/connections/${connectionId}/usage`, { token: people.owner.token }),
      404,
      'NotFound',
    );
    expectProblem(await call('GET', `/connections/${connectionId}/usage`), 401, 'Unauthenticated');
  });

  it('is refused with 409 naming the flows, and changes nothing', async () => {
    const refused = await call('DELETE', `/connections/${connectionId}`, { token: people.coOwner.token });
    expectProblem(refused, 409, 'Conflict');
    expect(refused.body.flows).toEqual([{ flowId, flowName: 'Invoices', logicalName: 'db' }]);
    expect((await references()).db.embedded).toBe(true);
    expect((await call('GET', `/connections/${connectionId}`, { token: people.coOwner.token })).status).toBe(200);
  });

  it('with force=true unembeds it first, audited, then deletes it', async () => {
    expect(
      (await call('DELETE', `/connections/${connectionId}?force=true`, { token: people.coOwner.token })).status,
    ).toBe(204);
    expect((await references()).db).toMatchObject({ embedded: false, status: 'Error' });
    expect((await audit())[0]).toMatchObject({
      action: 'unembedded',
      subjectId: 'db',
      details: { reason: 'connectionDeleted' },
    });
    expectProblem(await call('GET', `/connections/${connectionId}`, { token: people.coOwner.token }), 404, 'NotFound');
  });

  it('answers 400 for a force that is not true or false', async () => {
    expectProblem(
      await call('DELETE', `/connections/${connectionId}?force=yes`, { token: people.coOwner.token }),
      400,
      'ValidationFailed',
    );
  });

  it('is allowed at once once unembedded; the reference stays, bound to nothing usable', async () => {
    await embed(people.coOwner, 'db', false);
    expect((await call('DELETE', `/connections/${connectionId}`, { token: people.coOwner.token })).status).toBe(204);
    expect((await references(people.coOwner)).db).toMatchObject({ status: 'Error' });
    expect((await references(people.coOwner)).db).not.toHaveProperty('connection');
  });
});

describe('the audit trail', () => {
  it('records who shared, bound, embedded, unembedded and removed what, newest first', async () => {
    const first = await sqlConnection(people.coOwner);
    await bind(people.coOwner, 'db', first);
    await bind(people.coOwner, 'db', await sqlConnection(people.coOwner, 'Other'));
    await embed(people.coOwner, 'db');
    await embed(people.coOwner, 'db', false);
    await call('DELETE', `/flows/${flowId}/connection-references/db`, { token: people.coOwner.token });
    const entries = await audit(people.coOwner);
    expect(entries.map((e: Body) => e.action)).toEqual([
      'referenceRemoved',
      'unembedded',
      'embedded',
      'referenceRebound',
      'referenceAdded',
      'shared',
      'shared',
      'shared',
    ]);
    for (const entry of entries.slice(0, 5))
      expect(entry).toMatchObject({ actorId: people.coOwner.id, subjectId: 'db', at: expect.any(String) });
    expect(JSON.stringify(entries)).not.toContain(first);
  });

  it('pages with nextLink', async () => {
    const page = await call('GET', `/flows/${flowId}/audit?top=2`, { token: people.owner.token });
    expect(page.body.value).toHaveLength(2);
    const next = await call('GET', page.body.nextLink, { token: people.owner.token });
    expect(next.body.value).toHaveLength(1);
  });

  it.each([
    ['user', 403, 'Forbidden'],
    ['stranger', 404, 'NotFound'],
    ['otherTenant', 404, 'NotFound'],
  ] as const)('refuses a %s', async (who, status, code) => {
    expectProblem(await call('GET', `/flows/${flowId}/audit`, { token: tokenOf(who) }), status, code);
  });

  it('refuses a caller without a token', async () => {
    expectProblem(await call('GET', `/flows/${flowId}/audit`), 401, 'Unauthenticated');
  });
});

describe('concurrent changes to one reference', () => {
  it('end in a consistent state with one audit entry per change that happened', async () => {
    const connections = [await sqlConnection(people.coOwner, 'A'), await sqlConnection(people.coOwner, 'B')];
    await bind(people.coOwner, 'db', connections[0]!);
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        i % 3 === 2 ? bind(people.coOwner, 'db', connections[i % 2]!) : embed(people.coOwner, 'db', i % 3 === 0),
      ),
    );
    expect(results.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);

    const final = (await references(people.coOwner)).db;
    const entries = (await audit(people.coOwner)).filter((e: Body) => e.subjectId === 'db');
    const count = (action: string) => entries.filter((e: Body) => e.action === action).length;
    // Starting unembedded, embeds and unembeds alternate: the final state is the last one.
    expect(count('embedded') - count('unembedded')).toBe(final.embedded ? 1 : 0);
    const lastBinding = entries.find((e: Body) => e.action === 'referenceRebound' || e.action === 'referenceAdded');
    expect(lastBinding).toBeDefined();
    expect(connections).toContain(final.connection.id);
    expect(count('referenceAdded')).toBe(1);
  });
});

describe('an embedded connection stays within its flow', () => {
  it('cannot be read, listed or bound elsewhere by the co-owners it is lent to', async () => {
    const lent = await sqlConnection(people.coOwner);
    await bind(people.coOwner, 'db', lent);
    expect((await embed(people.coOwner, 'db')).body.embedded).toBe(true);

    for (const who of [people.owner, coOwner2]) {
      expectProblem(await call('GET', `/connections/${lent}`, { token: who.token }), 404, 'NotFound');
      expectProblem(await call('GET', `/connections/${lent}/usage`, { token: who.token }), 404, 'NotFound');
      const listed = await call('GET', '/connections', { token: who.token });
      expect(listed.body.value.map((c: Body) => c.id)).not.toContain(lent);
      // Not into another reference of this flow, nor into a flow of their own.
      expectProblem(await bind(who, 'copy', lent), 400, 'ValidationFailed');
      const ownFlow = (await call('POST', '/flows', { token: who.token, body: { name: 'Mine' } })).body.id;
      const elsewhere = await call('PUT', `/flows/${ownFlow}/connection-references/db`, {
        token: who.token,
        body: { connectorId: 'shared_sql', connectionId: lent },
      });
      expectProblem(elsewhere, 400, 'ValidationFailed');
    }
    expect(Object.keys(await references())).toEqual(['db']);
  });
});

describe('a storm of 50 concurrent changes on one flow', () => {
  it('ends in a state its audit trail explains, with no lost update', async () => {
    const connections = [await sqlConnection(people.coOwner, 'A'), await sqlConnection(people.coOwner, 'B')];
    await bind(people.coOwner, 'db', connections[0]!);
    const guests = ['g1', 'g2', 'g3', 'g4', 'g5'];
    const ops = Array.from({ length: 50 }, (_, i) => {
      const guest = guests[i % guests.length]!;
      switch (i % 5) {
        case 0:
          return embed(people.coOwner, 'db', true);
        case 1:
          return embed(people.coOwner, 'db', false);
        case 2:
          return bind(people.coOwner, 'db', connections[i % 2]!);
        case 3:
          return call('PUT', `/flows/${flowId}/permissions/${guest}`, {
            token: people.owner.token,
            body: { role: i % 2 ? 'user' : 'coOwner' },
          });
        default:
          return call('DELETE', `/flows/${flowId}/permissions/${guest}`, { token: coOwner2.token });
      }
    });
    const results = await Promise.all(ops);
    // Every change either happened or was told it could not (an unshare of someone not there).
    for (const r of results) expect([200, 201, 204, 404]).toContain(r.status);

    const entries = await audit(people.owner);
    const final = (await references(people.coOwner)).db;
    const count = (action: string) => entries.filter((e: Body) => e.subjectId === 'db' && e.action === action).length;
    expect(count('embedded') - count('unembedded')).toBe(final.embedded ? 1 : 0);
    expect(connections).toContain(final.connection.id);

    const roles = Object.fromEntries(
      (await call('GET', `/flows/${flowId}/permissions?top=100`, { token: people.owner.token })).body.value.map(
        (p: Body) => [p.principalId, p.role],
      ),
    );
    for (const guest of guests) {
      // The newest entry about each guest says whether they are on the flow now, and as what.
      const last = entries.find((e: Body) => e.subjectId === guest);
      if (!last || last.action === 'unshared') expect(roles[guest]).toBeUndefined();
      else expect(roles[guest]).toBe(last.action === 'shared' ? last.details.role : last.details.to);
    }
    // One audit entry per change that happened: successful unshares and shares that changed something.
    const changedShares = results.filter((r, i) => i % 5 === 3 && r.status === 201).length;
    expect(entries.filter((e: Body) => e.action === 'shared' && guests.includes(e.subjectId))).toHaveLength(
      changedShares,
    );
    const unshares = results.filter((r, i) => i % 5 === 4 && r.status === 204).length;
    expect(entries.filter((e: Body) => e.action === 'unshared' && guests.includes(e.subjectId))).toHaveLength(unshares);
  });
});
