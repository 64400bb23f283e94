// The local providers check credentials as the real services do, and say
// who sent what (docs/domain.md, Local providers); the local issuer mints
// the tokens they check, rotates refresh tokens and lets a test shorten a
// client's tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProviders, type RunningProviders } from '../../dev/providers/server';
import { DEV_CLIENTS } from '../../dev/devConnectors';
import {
  consentTokens,
  issueSqlKey,
  mailbox,
  received,
  refreshTokens,
  setTokenLifetime,
  tokenRequestCounts,
} from '../support/providers';
import { stack, tokenFor, unique } from '../support/stack';

const office = () => `${stack().providersUrl}/office365/v1.0`;
const sharepoint = () => `${stack().providersUrl}/sharepoint`;

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

function bearer(token: string, body?: unknown): RequestInit {
  return {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

async function sql(key: string | undefined, query: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack().providersUrl}/sql/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'x-api-key': key }) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the local Office 365 provider', () => {
  it("puts a sent message in the recipient's inbox, as sent by the token's user", async () => {
    const [sender, recipient] = [unique('alice-mail'), unique('bob-mail')];
    const { accessToken } = await consentTokens(DEV_CLIENTS.office365, sender, ['Mail.Send', 'Mail.Read']);
    const sent = await fetch(
      `${office()}/me/sendMail`,
      bearer(accessToken, { to: recipient, subject: 'Hi', body: 'Hello' }),
    );
    expect(sent.status).toBe(202);
    expect(await mailbox(recipient)).toEqual([
      { id: expect.any(String), from: sender, to: recipient, subject: 'Hi', body: 'Hello', sentAt: expect.any(String) },
    ]);
    const { accessToken: theirs } = await consentTokens(DEV_CLIENTS.office365, recipient, ['Mail.Read']);
    const inbox = await fetch(`${office()}/me/messages?top=5`, bearer(theirs));
    expect(((await inbox.json()) as { value: unknown[] }).value).toEqual([
      expect.objectContaining({ from: sender, subject: 'Hi' }),
    ]);
    const profile = await fetch(`${office()}/me`, bearer(theirs));
    expect(await profile.json()).toMatchObject({ id: recipient, mail: recipient });

    const entry = (await received('office365')).find(
      (e) => e.operation === 'SendEmail' && e.body && (e.body as { to: string }).to === recipient,
    );
    expect(entry).toMatchObject({
      method: 'POST',
      status: 202,
      identity: { kind: 'user', user: sender, clientId: DEV_CLIENTS.office365 },
      body: { to: recipient, subject: 'Hi', body: 'Hello' },
    });
    expect(JSON.stringify(await received())).not.toContain(accessToken.split('.')[2]);
  });

  it('refuses a token without the scope the operation needs, with 403 insufficient_scope', async () => {
    const { accessToken } = await consentTokens(DEV_CLIENTS.office365, unique('reader'), ['Mail.Read']);
    const response = await fetch(`${office()}/me/sendMail`, bearer(accessToken, { to: 'x', subject: 's', body: 'b' }));
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(/error="insufficient_scope", scope="Mail.Send"/);
    expect((await fetch(`${office()}/me/messages`, bearer(accessToken))).status).toBe(200);
  });

  it("refuses another client's token, a caller token, a forged or missing one, with 401 and WWW-Authenticate", async () => {
    const user = unique('someone');
    const { accessToken: sharepointToken } = await consentTokens(DEV_CLIENTS.sharepoint, user, ['Sites.ReadWrite.All']);
    const callerToken = await tokenFor(user);
    const { accessToken } = await consentTokens(DEV_CLIENTS.office365, user, ['Mail.Read']);
    const [header, payload] = accessToken.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'x', oid: 'x' })).toString('base64url')}.${accessToken.split('.')[2]}`;
    for (const token of [sharepointToken, callerToken, forged]) {
      const response = await fetch(`${office()}/me`, bearer(token));
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="office365", error="invalid_token"/);
    }
    const none = await fetch(`${office()}/me`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="office365"');
  });

  it('refuses an expired token, signed by the issuer for the right client and scope all the same', async () => {
    const user = unique('expired');
    const claims = { azp: DEV_CLIENTS.office365, scp: 'Mail.Read' };
    const good = await tokenFor(user, { claims });
    expect((await fetch(`${office()}/me`, bearer(good))).status).toBe(200);
    const expired = await tokenFor(user, { claims, expiresInSeconds: -1 });
    const response = await fetch(`${office()}/me`, bearer(expired));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /error="invalid_token", error_description="The token is expired."/,
    );
  });
});

describe('the local issuer as the providers’ OAuth server', () => {
  it("puts the user, the client and the scopes in a provider's access token", async () => {
    const user = unique('claims');
    const { accessToken } = await consentTokens(DEV_CLIENTS.office365, user, ['Mail.Send', 'Mail.Read']);
    expect(claimsOf(accessToken)).toMatchObject({
      sub: user,
      oid: user,
      azp: DEV_CLIENTS.office365,
      scp: 'Mail.Send Mail.Read',
      iss: stack().issuerUrl,
    });
  });

  it("makes a client's access tokens short-lived when a test asks, from then on", async () => {
    const client = unique('short-lived-client');
    const user = unique('short');
    await setTokenLifetime(client, 2);
    const short = await consentTokens(client, user, ['Mail.Read']);
    expect(short.expiresIn).toBe(2);
    const claims = claimsOf(short.accessToken);
    expect(Number(claims.exp) - Number(claims.iat)).toBe(2);
    const refreshed = await refreshTokens(client, short.refreshToken, ['Mail.Read']);
    expect(refreshed.tokens!.expiresIn).toBe(2);
    await setTokenLifetime(client, null);
    expect((await consentTokens(client, user, ['Mail.Read'])).expiresIn).toBe(3600);
    const refused = await fetch(`${stack().issuerUrl}/dev/clients/${client}/token-lifetime`, {
      method: 'POST',
      body: JSON.stringify({ seconds: 0 }),
    });
    expect(refused.status).toBe(400);
  });

  it('rotates refresh tokens: each refresh answers a new one, and the one it used stops working', async () => {
    const user = unique('rotating');
    const first = await consentTokens(DEV_CLIENTS.sharepoint, user, ['Sites.ReadWrite.All']);
    const second = await refreshTokens(DEV_CLIENTS.sharepoint, first.refreshToken, ['Sites.ReadWrite.All']);
    expect(second.status).toBe(200);
    expect(second.tokens!.refreshToken).not.toBe(first.refreshToken);
    expect(await refreshTokens(DEV_CLIENTS.sharepoint, first.refreshToken, ['Sites.ReadWrite.All'])).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
    const third = await refreshTokens(DEV_CLIENTS.sharepoint, second.tokens!.refreshToken, ['Sites.ReadWrite.All']);
    expect(third.status).toBe(200);
    // The refreshed access token is good at the provider, for the same user.
    const items = await fetch(`${sharepoint()}/lists/none/items`, bearer(third.tokens!.accessToken));
    expect(items.status).toBe(404);
    expect((await received('sharepoint')).at(-1)?.identity).toEqual({
      kind: 'user',
      user,
      clientId: DEV_CLIENTS.sharepoint,
    });
    expect(await tokenRequestCounts(user)).toEqual({
      count: 4,
      byClient: { [DEV_CLIENTS.sharepoint]: { authorization_code: 1, refresh_token: 2, refused: 1 } },
    });
  });
});

describe('the local SharePoint provider', () => {
  it("keeps each provider user's lists apart", async () => {
    const [alice, bob] = [unique('alice-sp'), unique('bob-sp')];
    const { accessToken: aliceToken } = await consentTokens(DEV_CLIENTS.sharepoint, alice, ['Sites.ReadWrite.All']);
    const { accessToken: bobToken } = await consentTokens(DEV_CLIENTS.sharepoint, bob, ['Sites.ReadWrite.All']);
    const created = await fetch(
      `${sharepoint()}/lists/Tasks/items`,
      bearer(aliceToken, { title: 'Pay', fields: { amount: 3 } }),
    );
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ title: 'Pay', fields: { amount: 3 }, createdBy: alice });
    const hers = await fetch(`${sharepoint()}/lists/Tasks/items`, bearer(aliceToken));
    expect(((await hers.json()) as { value: unknown[] }).value).toHaveLength(1);
    expect((await fetch(`${sharepoint()}/lists/Tasks/items`, bearer(bobToken))).status).toBe(404);
  });

  it("answers a file's content with a redirect to another origin", async () => {
    const { accessToken } = await consentTokens(DEV_CLIENTS.sharepoint, unique('files'), ['Sites.ReadWrite.All']);
    const response = await fetch(`${sharepoint()}/lists/Docs/files/a.txt/content`, {
      ...bearer(accessToken),
      redirect: 'manual',
    });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin).not.toBe(new URL(stack().providersUrl).origin);
    const download = await fetch(location);
    expect(await download.text()).toBe('The content of a.txt.');
    expect((await received('download')).at(-1)).toMatchObject({ path: '/downloads/a.txt', authorizationSent: false });
  });

  it('refuses an Office 365 token', async () => {
    const { accessToken } = await consentTokens(DEV_CLIENTS.office365, unique('wrong'), ['Mail.Read']);
    expect((await fetch(`${sharepoint()}/lists/Tasks/items`, bearer(accessToken))).status).toBe(401);
  });
});

describe('the local SQL provider', () => {
  it('keeps each API key its own tables', async () => {
    const [first, second] = [await issueSqlKey(), await issueSqlKey()];
    expect(await sql(first, "INSERT INTO Invoices (id, customer, amount) VALUES ('1', 'O''Brien', 12.5)")).toEqual({
      status: 200,
      body: { rowsAffected: 1 },
    });
    expect(await sql(first, "insert into invoices (id, customer) values ('2', 'Ada');")).toMatchObject({ status: 200 });
    expect(await sql(first, "SELECT * FROM Invoices WHERE customer = 'O''Brien'")).toEqual({
      status: 200,
      body: { rows: [{ id: '1', customer: "O'Brien", amount: 12.5 }] },
    });
    expect((await sql(first, 'SELECT * FROM Invoices')).body.rows).toHaveLength(2);
    expect(await sql(second, 'SELECT * FROM Invoices')).toMatchObject({
      status: 400,
      body: { error: { code: 'InvalidObjectName' } },
    });
    await sql(second, "INSERT INTO Invoices (id) VALUES ('9')");
    expect((await sql(second, 'SELECT * FROM Invoices')).body.rows).toEqual([{ id: '9' }]);
    expect((await sql(first, 'SELECT * FROM Invoices')).body.rows).toHaveLength(2);

    const entries = (await received('sql')).filter((e) => e.identity.kind === 'apiKey');
    const fingerprints = new Set(entries.slice(-7).map((e) => (e.identity as { fingerprint: string }).fingerprint));
    expect(fingerprints.size).toBe(2);
    const text = JSON.stringify(await received());
    expect(text).not.toContain(first);
    expect(text).not.toContain(second);
  });

  it('answers 401 to a wrong or missing key, and 400 to what it does not understand', async () => {
    for (const key of [undefined, 'not-a-key-it-issued']) {
      const answer = await sql(key, 'SELECT * FROM t');
      expect(answer).toMatchObject({ status: 401, body: { error: { code: 'Unauthorized' } } });
    }
    const key = await issueSqlKey();
    for (const query of ['DROP TABLE t', "INSERT INTO t (a, b) VALUES ('1')", 'SELECT a FROM t']) {
      expect(await sql(key, query)).toMatchObject({ status: 400, body: { error: { code: 'SyntaxError' } } });
    }
  });

  it('lists every key it issued or received for the secret scan', async () => {
    const key = await issueSqlKey();
    await sql('received-but-wrong-key', 'SELECT * FROM t');
    const { apiKeys } = (await (await fetch(`${stack().providersUrl}/dev/credentials`)).json()) as {
      apiKeys: string[];
    };
    expect(apiKeys).toEqual(expect.arrayContaining([key, 'received-but-wrong-key']));
  });
});

describe('the local providers’ latency (for the benchmark)', () => {
  // A providers server of its own: the delay would slow every test file sharing the stack's.
  let own: RunningProviders;
  beforeAll(async () => {
    own = await startProviders({ port: 0, issuerUrl: stack().issuerUrl, jwksUri: `${stack().issuerUrl}/jwks` });
  });
  afterAll(() => own.stop());

  const latency = async (ms?: unknown) => {
    const response = await fetch(
      `${own.url}/dev/latency`,
      ms === undefined
        ? {}
        : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms }) },
    );
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  /** A key the providers know, and a SQL query's time to answer with it, in ms. */
  const newKey = async () => {
    const response = await fetch(`${own.url}/dev/sql/keys`, { method: 'POST', body: '{}' });
    return ((await response.json()) as { key: string }).key;
  };
  const query = (key: string, text: string) =>
    fetch(`${own.url}/sql/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ query: text }),
    });
  const timed = async (key: string) => {
    const started = performance.now();
    expect((await query(key, 'SELECT * FROM t')).status).toBe(200);
    return performance.now() - started;
  };

  it('delays every provider answer by the time set, until set back to 0', async () => {
    const DELAY_MS = 600;
    const key = await newKey();
    expect((await query(key, "INSERT INTO t (a) VALUES ('1')")).status).toBe(200);
    expect(await latency()).toEqual({ status: 200, body: { ms: 0 } });
    expect(await latency(DELAY_MS)).toEqual({ status: 200, body: { ms: DELAY_MS } });
    expect(await latency()).toEqual({ status: 200, body: { ms: DELAY_MS } }); // not delayed itself
    // A timer may fire a millisecond early (it rounds), never more.
    expect(await timed(key)).toBeGreaterThanOrEqual(DELAY_MS - 2);
    expect(await latency(0)).toEqual({ status: 200, body: { ms: 0 } });
    expect(await timed(key)).toBeLessThan(DELAY_MS);
  });

  it('refuses a delay that is not a whole number of ms from 0 to 60000', async () => {
    for (const ms of [-1, 1.5, 60_001, '50']) expect((await latency(ms)).status).toBe(400);
    expect((await latency()).body).toEqual({ ms: 0 });
  });
});
