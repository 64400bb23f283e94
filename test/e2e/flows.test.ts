// Flows over HTTP: every route for every role, bad input and the body limit.
import { beforeAll, describe, expect, it } from 'vitest';
import { call, expectProblem, stack, type Body } from '../support/stack';
import { cast, person, sharedFlow, type Cast, type RoleName } from './people';

const MiB = 1024 * 1024;
let people: Cast;
let flowId: string;

beforeAll(async () => {
  people = await cast();
  flowId = await sharedFlow(people, {
    name: 'Invoices',
    schemaVersion: 1,
    definition: { actions: [{ type: 'connector', connectionReference: 'mail', operation: 'SendEmail' }] },
  });
});

function tokenOf(who: RoleName): string {
  return people[who].token;
}

describe('creating a flow', () => {
  it('makes the caller its owner and answers 201 with an ETag and a Location', async () => {
    const definition = {
      actions: [
        { type: 'connector', connectionReference: 'sql', operation: 'Query', parameters: { query: 'select 1' } },
        { type: 'wait', seconds: 3 },
      ],
    };
    const response = await call('POST', '/flows', { token: people.stranger.token, body: { name: 'Mine', definition } });
    expect(response.status).toBe(201);
    expect(response.headers.get('etag')).toMatch(/^"[^"]+"$/);
    expect(response.headers.get('location')).toBe(`/api/flows/${response.body.id}`);
    expect(response.body).toMatchObject({
      name: 'Mine',
      schemaVersion: 2,
      ownerId: people.stranger.id,
      role: 'owner',
      definition,
    });
    expect(response.body.createdAt).toBe(response.body.modifiedAt);
  });

  it('gives a flow without a definition an empty one', async () => {
    const response = await call('POST', '/flows', { token: people.stranger.token, body: { name: 'Empty' } });
    expect(response.status).toBe(201);
    expect(response.body.definition).toEqual({ actions: [] });
  });

  it('refuses a caller without a token', async () => {
    const response = await call('POST', '/flows', { body: { name: 'x' } });
    expectProblem(response, 401, 'Unauthenticated');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it.each([
    ['malformed JSON', '{"name": '],
    ['an empty body', ''],
    ['a JSON array', '[]'],
    ['a missing name', { definition: { actions: [] } }],
    ['a name of the wrong type', { name: 42 }],
    ['an empty name', { name: '   ' }],
    ['a name with control characters', { name: 'a\u0007b' }],
    ['an unknown field', { name: 'x', owner: 'mallory' }],
    ['schema version 3', { name: 'x', schemaVersion: 3 }],
    ['actions that are not a list', { name: 'x', definition: { actions: {} } }],
    [
      'a connector action without its reference',
      { name: 'x', definition: { actions: [{ type: 'connector', operation: 'Send' }] } },
    ],
    [
      'a reference with a slash',
      { name: 'x', definition: { actions: [{ type: 'connector', connectionReference: 'a/b', operation: 'Send' }] } },
    ],
  ])('answers 400 ValidationFailed for %s', async (_why, body) => {
    const response = await call('POST', '/flows', { token: people.stranger.token, body });
    expectProblem(response, 400, 'ValidationFailed');
    expect(response.body.errors).toEqual(
      expect.arrayContaining([{ field: expect.any(String), detail: expect.any(String) }]),
    );
  });

  it("keeps a 1 MiB request's definition byte for byte", async () => {
    const filler = 'é€😀"\\\n<>'.repeat(10);
    const bodyOf = (list: unknown[]) => JSON.stringify({ name: 'Big', definition: { actions: list } });
    const actions: unknown[] = [];
    const one = (n: number) => ({ type: 'note', text: filler, n });
    // Grow by the size of one serialized action (plus its comma) until close to 1 MiB,
    // then pad the last action so the body is exactly 1 MiB.
    let size = Buffer.byteLength(bodyOf(actions));
    while (size < MiB - 2_000) {
      actions.push(one(actions.length));
      size += Buffer.byteLength(JSON.stringify(one(actions.length - 1))) + (actions.length > 1 ? 1 : 0);
    }
    actions.push({ type: 'note', text: '' });
    actions[actions.length - 1] = { type: 'note', text: 'x'.repeat(MiB - Buffer.byteLength(bodyOf(actions))) };
    const text = bodyOf(actions);
    expect(Buffer.byteLength(text)).toBe(MiB);

    const created = await call('POST', '/flows', { token: people.stranger.token, body: text });
    expect(created.status).toBe(201);
    const read = await call('GET', `/flows/${created.body.id}`, { token: people.stranger.token });
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body.definition)).toBe(JSON.stringify({ actions }));
    expect(read.text).toContain(JSON.stringify({ actions }));
  });

  it('answers 413 for a body one byte over 1 MiB', async () => {
    const body = JSON.stringify({ name: 'TooBig', definition: { actions: [{ type: 'note', text: '' }] } });
    const padded = body.replace('"text":""', `"text":"${'x'.repeat(MiB + 1 - Buffer.byteLength(body))}"`);
    expect(Buffer.byteLength(padded)).toBe(MiB + 1);
    expectProblem(await call('POST', '/flows', { token: people.stranger.token, body: padded }), 413, 'PayloadTooLarge');
  });
});

describe('a body that is not UTF-8', () => {
  const before = Buffer.from('{"name":"Bytes","definition":{"actions":[{"type":"note","text":"a');
  const after = Buffer.from('b"}]}}');

  async function postBytes(token: string, bytes: Buffer) {
    const response = await fetch(`${stack().apiUrl}/flows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: new Uint8Array(bytes),
    });
    return { status: response.status, headers: response.headers, text: '', body: (await response.json()) as Body };
  }

  it.each([
    ['FF C3 (no UTF-8 at all)', [0xff, 0xc3]],
    ['a sequence cut short (E2 82)', [0xe2, 0x82]],
    ['an overlong slash (C0 AF)', [0xc0, 0xaf]],
    ['a lone surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
  ])('is refused, not altered: %s', async (_why, invalid) => {
    const someone = await person('bytes');
    const response = await postBytes(someone.token, Buffer.concat([before, Buffer.from(invalid), after]));
    expectProblem(response, 400, 'ValidationFailed');
    expect(response.body.errors).toEqual([{ field: '(body)', detail: expect.stringContaining('UTF-8') }]);
    // Nothing was created in its place (a U+FFFD for each bad byte, as before).
    expect((await call('GET', '/flows', { token: someone.token })).body.value).toEqual([]);
  });

  it('is refused when it starts with a byte order mark, which JSON on the wire must not carry', async () => {
    const someone = await person('bom');
    const response = await postBytes(someone.token, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), before, after]));
    expectProblem(response, 400, 'ValidationFailed');
    expect(response.body.errors).toEqual([{ field: '(body)', detail: expect.stringContaining('byte order mark') }]);
  });

  it('keeps valid multi-byte UTF-8 byte for byte', async () => {
    const someone = await person('utf8');
    const text = 'é€😀\u00e9';
    const response = await postBytes(someone.token, Buffer.concat([before, Buffer.from(text), after]));
    expect(response.status).toBe(201);
    const read = await call('GET', `/flows/${response.body.id}`, { token: someone.token });
    expect(read.text).toContain(`"text":"a${text}b"`);
  });
});

describe('reading a flow', () => {
  it.each([
    ['owner', 'owner'],
    ['coOwner', 'coOwner'],
    ['user', 'user'],
  ] as const)('shows it to its %s with their role and an ETag', async (who, role) => {
    const response = await call('GET', `/flows/${flowId}`, { token: tokenOf(who) });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toMatch(/^"[^"]+"$/);
    expect(response.body).toMatchObject({
      id: flowId,
      name: 'Invoices',
      schemaVersion: 1,
      ownerId: people.owner.id,
      role,
    });
    expect(response.body.definition.actions[0].connectionReference).toBe('mail');
  });

  it.each(['stranger', 'otherTenant'] as const)(
    'tells a %s exactly what it tells about a flow that does not exist',
    async (who) => {
      const hidden = await call('GET', `/flows/${flowId}`, { token: tokenOf(who) });
      const missing = await call('GET', `/flows/no-such-flow`, { token: tokenOf(who) });
      expectProblem(hidden, 404, 'NotFound');
      expect(hidden.body).toEqual(missing.body);
    },
  );

  it('refuses a caller without a token', async () => {
    expectProblem(await call('GET', `/flows/${flowId}`), 401, 'Unauthenticated');
  });

  it.each([
    ['a slash', 'a%2Fb'],
    ['a backslash', 'a%5Cb'],
    ['a hash', 'a%23b'],
    ['a question mark', 'a%3Fb'],
    ['a control character', 'a%01b'],
    ['a quote', "a'b"],
    ['101 characters', 'x'.repeat(101)],
  ])('answers 400, not a storage error, for an id with %s', async (_why, id) => {
    expectProblem(await call('GET', `/flows/${id}`, { token: people.owner.token }), 400, 'ValidationFailed');
  });
});

describe('listing flows', () => {
  it.each([
    ['owner', 'owner'],
    ['coOwner', 'coOwner'],
    ['user', 'user'],
  ] as const)('lists a shared flow for its %s with their role', async (who, role) => {
    const response = await call('GET', '/flows', { token: tokenOf(who) });
    expect(response.status).toBe(200);
    expect(response.body.value).toContainEqual(expect.objectContaining({ id: flowId, role, name: 'Invoices' }));
    expect(response.body.value[0]).not.toHaveProperty('definition');
  });

  it.each(['stranger', 'otherTenant'] as const)('does not list it for a %s', async (who) => {
    const response = await call('GET', '/flows', { token: tokenOf(who) });
    expect(response.status).toBe(200);
    expect(response.body.value.map((f: { id: string }) => f.id)).not.toContain(flowId);
  });

  it('pages with nextLink', async () => {
    const maker = await person('pager');
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) {
      ids.push((await call('POST', '/flows', { token: maker.token, body: { name } })).body.id);
    }
    const seen: string[] = [];
    let next: string | undefined = '/flows?top=2';
    while (next) {
      const page: Body = await call('GET', next, { token: maker.token });
      expect(page.status).toBe(200);
      expect(page.body.value.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.value.map((f: { id: string }) => f.id));
      next = page.body.nextLink;
    }
    expect(seen).toEqual(ids); // oldest first
  });

  it.each(['0', '101', 'abc'])('answers 400 for top=%s', async (top) => {
    expectProblem(await call('GET', `/flows?top=${top}`, { token: people.owner.token }), 400, 'ValidationFailed');
  });

  it('refuses a caller without a token', async () => {
    expectProblem(await call('GET', '/flows'), 401, 'Unauthenticated');
  });
});

describe('changing a flow', () => {
  it.each(['owner', 'coOwner'] as const)('lets the %s rename it and answers the new ETag', async (who) => {
    const before = await call('GET', `/flows/${flowId}`, { token: tokenOf(who) });
    const response = await call('PATCH', `/flows/${flowId}`, {
      token: tokenOf(who),
      body: { name: `Invoices by ${who}` },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ name: `Invoices by ${who}`, role: who });
    expect(response.headers.get('etag')).not.toBe(before.headers.get('etag'));
    expect(response.body.modifiedAt > before.body.modifiedAt).toBe(true);
  });

  it('forbids a user, who may only run it', async () => {
    expectProblem(
      await call('PATCH', `/flows/${flowId}`, { token: people.user.token, body: { name: 'no' } }),
      403,
      'Forbidden',
    );
  });

  it.each(['stranger', 'otherTenant'] as const)('answers a %s 404', async (who) => {
    expectProblem(
      await call('PATCH', `/flows/${flowId}`, { token: tokenOf(who), body: { name: 'no' } }),
      404,
      'NotFound',
    );
  });

  it('refuses a caller without a token', async () => {
    expectProblem(await call('PATCH', `/flows/${flowId}`, { body: { name: 'no' } }), 401, 'Unauthenticated');
  });

  it('answers 412 when If-Match is stale and applies it when it is current', async () => {
    const read = await call('GET', `/flows/${flowId}`, { token: people.owner.token });
    const etag = read.headers.get('etag')!;
    const first = await call('PATCH', `/flows/${flowId}`, {
      token: people.owner.token,
      headers: { 'if-match': etag },
      body: { name: 'A' },
    });
    expect(first.status).toBe(200);
    const stale = await call('PATCH', `/flows/${flowId}`, {
      token: people.coOwner.token,
      headers: { 'if-match': etag },
      body: { name: 'B' },
    });
    expectProblem(stale, 412, 'PreconditionFailed');
    const after = await call('GET', `/flows/${flowId}`, { token: people.owner.token });
    expect(after.body.name).toBe('A');
  });

  it('lets exactly one of many writers with the same If-Match win', async () => {
    const etag = (await call('GET', `/flows/${flowId}`, { token: people.owner.token })).headers.get('etag')!;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call('PATCH', `/flows/${flowId}`, {
          token: people.owner.token,
          headers: { 'if-match': etag },
          body: { name: `W${i}` },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(7);
  });

  it('replaces the definition, moving it between the row and a blob as it grows and shrinks', async () => {
    const big = {
      actions: Array.from({ length: 400 }, (_, i) => ({ type: 'note', text: `step ${i} ${'·'.repeat(100)}` })),
    };
    const grown = await call('PATCH', `/flows/${flowId}`, { token: people.coOwner.token, body: { definition: big } });
    expect(grown.status).toBe(200);
    expect((await call('GET', `/flows/${flowId}`, { token: people.user.token })).body.definition).toEqual(big);
    const small = { actions: [{ type: 'connector', connectionReference: 'mail', operation: 'SendEmail' }] };
    await call('PATCH', `/flows/${flowId}`, { token: people.coOwner.token, body: { definition: small } });
    expect((await call('GET', `/flows/${flowId}`, { token: people.user.token })).body.definition).toEqual(small);
  });

  it.each([
    ['nothing to change', {}],
    ['an unknown field', { name: 'x', color: 'red' }],
    ['the schema version, which only upgrade-schema changes', { schemaVersion: 2 }],
    ['the owner, which never changes', { ownerId: 'someone' }],
  ])('answers 400 for %s', async (_why, body) => {
    expectProblem(
      await call('PATCH', `/flows/${flowId}`, { token: people.owner.token, body }),
      400,
      'ValidationFailed',
    );
  });
});

describe('upgrading the schema', () => {
  it('forbids a user', async () => {
    expectProblem(
      await call('POST', `/flows/${flowId}/upgrade-schema`, { token: people.user.token }),
      403,
      'Forbidden',
    );
  });

  it.each(['stranger', 'otherTenant'] as const)('answers a %s 404', async (who) => {
    expectProblem(await call('POST', `/flows/${flowId}/upgrade-schema`, { token: tokenOf(who) }), 404, 'NotFound');
  });

  it('refuses a caller without a token', async () => {
    expectProblem(await call('POST', `/flows/${flowId}/upgrade-schema`), 401, 'Unauthenticated');
  });

  it('moves v1 to v2 for a co-owner, and is idempotent for the owner', async () => {
    const first = await call('POST', `/flows/${flowId}/upgrade-schema`, { token: people.coOwner.token });
    expect(first.status).toBe(200);
    expect(first.body.schemaVersion).toBe(2);
    const again = await call('POST', `/flows/${flowId}/upgrade-schema`, { token: people.owner.token });
    expect(again.status).toBe(200);
    expect(again.body.schemaVersion).toBe(2);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
  });
});

describe('deleting a flow', () => {
  let doomed: string;
  beforeAll(async () => {
    doomed = await sharedFlow(people, { name: 'Doomed' });
  });

  it.each([
    ['coOwner', 403, 'Forbidden'],
    ['user', 403, 'Forbidden'],
    ['stranger', 404, 'NotFound'],
    ['otherTenant', 404, 'NotFound'],
  ] as const)('refuses a %s', async (who, status, code) => {
    expectProblem(await call('DELETE', `/flows/${doomed}`, { token: tokenOf(who) }), status, code);
  });

  it('refuses a caller without a token', async () => {
    expectProblem(await call('DELETE', `/flows/${doomed}`), 401, 'Unauthenticated');
  });

  it('answers 412 for a stale If-Match, then lets the owner delete it for everyone', async () => {
    const etag = (await call('GET', `/flows/${doomed}`, { token: people.owner.token })).headers.get('etag')!;
    await call('PATCH', `/flows/${doomed}`, { token: people.coOwner.token, body: { name: 'Still doomed' } });
    expectProblem(
      await call('DELETE', `/flows/${doomed}`, { token: people.owner.token, headers: { 'if-match': etag } }),
      412,
      'PreconditionFailed',
    );

    const deleted = await call('DELETE', `/flows/${doomed}`, { token: people.owner.token });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    for (const who of ['owner', 'coOwner', 'user'] as const) {
      expectProblem(await call('GET', `/flows/${doomed}`, { token: tokenOf(who) }), 404, 'NotFound');
      const listed = await call('GET', '/flows', { token: tokenOf(who) });
      expect(listed.body.value.map((f: { id: string }) => f.id)).not.toContain(doomed);
    }
    expectProblem(await call('DELETE', `/flows/${doomed}`, { token: people.owner.token }), 404, 'NotFound');
  });
});

describe('keeping definitions exactly', () => {
  it('answers a definition byte for byte: spacing, big numbers, 1.0 and escapes included', async () => {
    const definitionText =
      '{ "actions" : [\n  {"type":"note", "n": 12345678901234567890, "f": 1.0, "e": "\\u00e9\\/", "deep": {"a": [1, 2e3, -0]}}\n] }';
    const body = `{"name": "Exact", "definition": ${definitionText} }`;
    const created = await call('POST', '/flows', { token: people.stranger.token, body });
    expect(created.status).toBe(201);
    expect(created.text).toContain(`"definition":${definitionText}`);
    const read = await call('GET', `/flows/${created.body.id}`, { token: people.stranger.token });
    expect(read.text).toContain(`"definition":${definitionText}`);

    const patched = await call('PATCH', `/flows/${created.body.id}`, {
      token: people.stranger.token,
      body: { name: 'Renamed' },
    });
    expect(patched.text).toContain(`"definition":${definitionText}`);
  });
});

describe('ETags and If-Match', () => {
  it('answers each concurrent writer the ETag of its own write', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call('PATCH', `/flows/${flowId}`, { token: people.owner.token, body: { name: `Racer ${i}` } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    const etags = results.map((r) => r.headers.get('etag'));
    expect(new Set(etags).size).toBe(results.length);
    const now = await call('GET', `/flows/${flowId}`, { token: people.owner.token });
    const winner = results.find((r) => r.headers.get('etag') === now.headers.get('etag'));
    expect(winner?.body.name).toBe(now.body.name);
  });

  it('lets every writer with If-Match: * through, one after another', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call('PATCH', `/flows/${flowId}`, {
          token: people.owner.token,
          headers: { 'if-match': '*' },
          body: { name: `Star ${i}` },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
  });

  it('never matches a weak ETag, and matches a list that holds the current one', async () => {
    const etag = (await call('GET', `/flows/${flowId}`, { token: people.owner.token })).headers.get('etag')!;
    const weak = await call('PATCH', `/flows/${flowId}`, {
      token: people.owner.token,
      headers: { 'if-match': `W/${etag}` },
      body: { name: 'Weak' },
    });
    expectProblem(weak, 412, 'PreconditionFailed');
    const listed = await call('PATCH', `/flows/${flowId}`, {
      token: people.owner.token,
      headers: { 'if-match': `"stale", ${etag}` },
      body: { name: 'Listed' },
    });
    expect(listed.status).toBe(200);
  });

  it('answers 400 for a continuation token it never gave out', async () => {
    for (const path of ['/flows', `/flows/${flowId}/permissions`, '/connections']) {
      for (const token of ['garbage!', Buffer.from('{"nextPartitionKey":5}').toString('base64')]) {
        const response = await call('GET', `${path}?continuationToken=${encodeURIComponent(token)}`, {
          token: people.owner.token,
        });
        expectProblem(response, 400, 'ValidationFailed');
      }
    }
  });
});
