// Connections over HTTP: the catalog, API-key connections, OAuth onboarding
// against the local issuer as provider, and proof that no secret ever leaves.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call as rawCall,
  expectProblem,
  stack,
  testStorage,
  unique,
  type ApiResponse,
  type Body,
  type CallOptions,
} from '../support/stack';
import { type Browser, signedIn } from '../support/browser';
import { person, type Person } from './people';

// Every response this file receives, to search for secrets at the end.
const seen: string[] = [];
async function call(method: string, path: string, options?: CallOptions): Promise<ApiResponse<Body>> {
  const response = await rawCall(method, path, options);
  seen.push(JSON.stringify([...response.headers]), response.text);
  return response;
}

const apiKeys: string[] = [];
/** OAuth codes and states seen on callbacks: short-lived, but still never logged. */
const callbackSecrets: string[] = [];
const providerUsers: string[] = [];

let alice: Person;
let bob: Person;
let aliceElsewhere: Person;

beforeAll(async () => {
  [alice, bob] = await Promise.all([person('alice'), person('bob')]);
  aliceElsewhere = await person('alice', unique('tenant'));
});

function newApiKey(): string {
  const key = `sk-${unique('key')}-${Math.random().toString(36).slice(2)}`;
  apiKeys.push(key);
  return key;
}

async function createSql(who: Person, displayName = 'Prod DB') {
  return call('POST', '/connections', {
    token: who.token,
    body: { connectorId: 'shared_sql', displayName, apiKey: newApiKey() },
  });
}

/** Each person's browser, signed in to flowshare as them. */
const browsers = new Map<string, Browser>();
async function browserOf(who: Person): Promise<Browser> {
  let browser = browsers.get(who.id);
  if (!browser) {
    browser = await signedIn(who.id);
    browsers.set(who.id, browser);
  }
  return browser;
}

/** `who`, at their signed-in browser, consents on the connection's page as `providerUser`. */
async function consent(who: Person, consentUrl: string, providerUser: string) {
  providerUsers.push(providerUser);
  const browser = await browserOf(who);
  const page = await browser.consent(consentUrl, providerUser);
  callbackSecrets.push(...browser.callbackSecrets);
  seen.push(...browser.received);
  return page;
}

/**
 * Takes `who`'s consent up to the provider's answer and stops there: the
 * callback URL the provider sent their browser to, not yet opened.
 */
async function callbackFor(browser: Browser, consentUrl: string, providerUser: string): Promise<string> {
  providerUsers.push(providerUser);
  const page = await browser.navigate(consentUrl);
  const atProvider = await browser.submit(page);
  // The provider's sign-in page, answered as `providerUser`.
  expect(atProvider.url.startsWith(`${stack().issuerUrl}/authorize?`)).toBe(true);
  const back = await browser.request(`${atProvider.url}&login_hint=${encodeURIComponent(providerUser)}`, {
    from: atProvider.url,
  });
  expect(back.status).toBe(302);
  const callbackUrl = back.headers.get('location')!;
  const query = new URL(callbackUrl).searchParams;
  callbackSecrets.push(query.get('code')!, query.get('state')!);
  return callbackUrl;
}

async function createOffice(who: Person, displayName = 'My mail') {
  const created = await call('POST', '/connections', {
    token: who.token,
    body: { connectorId: 'shared_office365', displayName },
  });
  expect(created.status).toBe(201);
  return created;
}

async function connectedOffice(who: Person, providerUser = unique('mailbox')) {
  const created = await createOffice(who);
  const page = await consent(who, created.body.consentUrl, providerUser);
  expect(page.status).toBe(200);
  return { id: created.body.id as string, providerUser };
}

describe('the connector catalog', () => {
  it('lists each connector with its auth type and operations, and nothing of its client or address', async () => {
    const response = await call('GET', '/connectors', { token: alice.token });
    expect(response.status).toBe(200);
    expect(response.body.value).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'shared_office365', authType: 'oauth2' }),
        expect.objectContaining({ id: 'shared_sharepointonline', authType: 'oauth2' }),
        {
          id: 'shared_sql',
          displayName: 'SQL Server',
          authType: 'apiKey',
          operations: [
            {
              id: 'ExecuteQuery',
              displayName: 'Execute a query',
              read: false,
              parameters: [
                {
                  name: 'query',
                  in: 'body',
                  type: 'string',
                  required: true,
                  maxLength: 10_000,
                  description: expect.stringContaining('SELECT'),
                },
              ],
            },
          ],
        },
      ]),
    );
    const office = response.body.value.find((c: { id: string }) => c.id === 'shared_office365');
    expect(office.operations.map((o: { id: string }) => o.id)).toEqual(['SendEmail', 'ListEmails', 'GetMyProfile']);
    expect(response.text).not.toMatch(/clientId|clientSecret|authority|local-development-only|baseUrl|X-API-Key/);
    expect(response.text).not.toContain(new URL(stack().providersUrl).host);
  });

  it('refuses a caller without a token', async () => {
    expectProblem(await call('GET', '/connectors'), 401, 'Unauthenticated');
  });
});

describe('API-key connections', () => {
  it('are Connected at once and never answer their key', async () => {
    const response = await createSql(alice);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      id: expect.any(String),
      connectorId: 'shared_sql',
      displayName: 'Prod DB',
      status: 'Connected',
      createdAt: expect.any(String),
    });
    expect(response.headers.get('location')).toBe(`/api/connections/${response.body.id}`);
    expect(response.headers.get('etag')).toMatch(/^".+"$/);
    const read = await call('GET', `/connections/${response.body.id}`, { token: alice.token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(response.body);
  });

  it("list only their owner's, oldest first, optionally of one connector", async () => {
    const owner = await person('lister');
    const first = (await createSql(owner, 'First')).body.id;
    const mail = (await createOffice(owner)).body.id;
    const second = (await createSql(owner, 'Second')).body.id;
    await createSql(bob, 'Not yours');

    const all = await call('GET', '/connections', { token: owner.token });
    expect(all.body.value.map((c: Body) => c.id)).toEqual([first, mail, second]);
    const sql = await call('GET', '/connections?connectorId=shared_sql', { token: owner.token });
    expect(sql.body.value.map((c: Body) => c.id)).toEqual([first, second]);
    const paged = await call('GET', '/connections?top=2', { token: owner.token });
    expect(paged.body.value).toHaveLength(2);
    expect((await call('GET', paged.body.nextLink, { token: owner.token })).body.value.map((c: Body) => c.id)).toEqual([
      second,
    ]);
    expect(all.text).not.toContain('consentUrl');
  });

  it('are deleted by their owner only', async () => {
    const id = (await createSql(alice)).body.id;
    expectProblem(await call('DELETE', `/connections/${id}`, { token: bob.token }), 404, 'NotFound');
    expect((await call('DELETE', `/connections/${id}`, { token: alice.token })).status).toBe(204);
    expectProblem(await call('GET', `/connections/${id}`, { token: alice.token }), 404, 'NotFound');
    expectProblem(await call('DELETE', `/connections/${id}`, { token: alice.token }), 404, 'NotFound');
  });

  it('stay Connected on refresh: there is nothing to ask', async () => {
    const id = (await createSql(alice)).body.id;
    const refreshed = await call('POST', `/connections/${id}/refresh`, { token: alice.token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.status).toBe('Connected');
  });
});

describe("another person's connection", () => {
  let id: string;
  beforeAll(async () => {
    id = (await createSql(alice)).body.id;
  });

  it.each([
    ['GET', ''],
    ['POST', '/refresh'],
    ['DELETE', ''],
  ])('is a 404 for %s %s, in the same tenant and in another', async (method, suffix) => {
    for (const who of [bob, aliceElsewhere]) {
      const response = await call(method, `/connections/${id}${suffix}`, { token: who.token });
      const missing = await call(method, `/connections/no-such-connection${suffix}`, { token: who.token });
      expectProblem(response, 404, 'NotFound');
      expect(response.body).toEqual(missing.body);
    }
    expect((await call('GET', `/connections/${id}`, { token: alice.token })).status).toBe(200);
  });

  it('is never listed', async () => {
    for (const who of [bob, aliceElsewhere]) {
      const listed = await call('GET', '/connections', { token: who.token });
      expect(listed.body.value.map((c: Body) => c.id)).not.toContain(id);
    }
  });

  it.each([
    ['GET', '/connections'],
    ['POST', '/connections'],
    ['GET', `/connections/x`],
    ['DELETE', `/connections/x`],
    ['POST', `/connections/x/refresh`],
  ])('%s %s refuses a caller without a token', async (method, path) => {
    expectProblem(await call(method, path, { body: method === 'POST' ? {} : undefined }), 401, 'Unauthenticated');
  });
});

describe('creating a connection with bad input', () => {
  it.each([
    ['an unknown connector', { connectorId: 'shared_nope', displayName: 'x' }, 'connectorId'],
    ['no key for an API-key connector', { connectorId: 'shared_sql', displayName: 'x' }, 'apiKey'],
    ['an empty key', { connectorId: 'shared_sql', displayName: 'x', apiKey: '' }, 'apiKey'],
    ['an oversized key', { connectorId: 'shared_sql', displayName: 'x', apiKey: 'k'.repeat(4097) }, 'apiKey'],
    ['a key for an OAuth connector', { connectorId: 'shared_office365', displayName: 'x', apiKey: 'k' }, 'apiKey'],
    ['an oversized name', { connectorId: 'shared_sql', displayName: 'n'.repeat(201), apiKey: 'k' }, 'displayName'],
    ['no name', { connectorId: 'shared_sql', apiKey: 'k' }, 'displayName'],
    ['a connector id storage cannot hold', { connectorId: 'a/b', displayName: 'x', apiKey: 'k' }, 'connectorId'],
    ['an unknown field', { connectorId: 'shared_sql', displayName: 'x', apiKey: 'k', shared: true }, 'shared'],
  ])('answers 400 for %s, naming the field', async (_why, body, field) => {
    const response = await call('POST', '/connections', { token: alice.token, body });
    expectProblem(response, 400, 'ValidationFailed');
    expect(response.body.errors.map((e: Body) => e.field)).toContain(field);
  });

  it('answers 400 for malformed JSON', async () => {
    expectProblem(
      await call('POST', '/connections', { token: alice.token, body: '{"connectorId":' }),
      400,
      'ValidationFailed',
    );
  });

  it.each(['a%2Fb', 'a%23b', 'x'.repeat(101)])('answers 400 for the connection id %s', async (id) => {
    expectProblem(await call('GET', `/connections/${id}`, { token: alice.token }), 400, 'ValidationFailed');
  });

  it('answers 400 for a bad connectorId filter', async () => {
    expectProblem(await call('GET', '/connections?connectorId=a%23b', { token: alice.token }), 400, 'ValidationFailed');
  });
});

describe('OAuth onboarding', () => {
  it("answers PendingConsent with a consent link to flowshare's own page", async () => {
    const created = await createOffice(alice);
    expect(created.body).toMatchObject({ connectorId: 'shared_office365', status: 'PendingConsent' });
    expect(created.body.consentUrl).toBe(`${stack().apiUrl}/connections/${created.body.id}/consent`);
  });

  it('sends the signed-in owner on to the provider with auth code and PKCE', async () => {
    const created = await createOffice(alice);
    const browser = await browserOf(alice);
    const page = await browser.navigate(created.body.consentUrl);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Continue to Office 365 Outlook');
    const form = Object.fromEntries(
      [...page.text.matchAll(/name="([^"]*)" value="([^"]*)"/g)].map(([, name, value]) => [name, value]),
    );
    const atProvider = await browser.request(created.body.consentUrl, { method: 'POST', form, from: page.url });
    expect(atProvider.status).toBe(302);
    const url = new URL(atProvider.headers.get('location')!);
    expect(url.origin).toBe(stack().issuerUrl);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toBeTruthy();
    expect(url.searchParams.get('state')!.length).toBeGreaterThanOrEqual(43);
    expect(url.searchParams.get('redirect_uri')).toBe(`${stack().apiUrl}/connections/oauth/callback`);
    expect(url.searchParams.get('scope')).toContain('Mail.Send');
  });

  it('connects once the owner consents, and records and shows the account that consented', async () => {
    const created = await createOffice(alice, 'Work mail');
    const mailbox = unique('mailbox');
    const page = await consent(alice, created.body.consentUrl, mailbox);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain(`is connected as ${mailbox}. You can close this window.`);
    const read = await call('GET', `/connections/${created.body.id}`, { token: alice.token });
    expect(read.body).toMatchObject({ status: 'Connected', displayName: 'Work mail', account: mailbox });
    expect(read.body).not.toHaveProperty('consentUrl');
  });

  it('refuses a replayed callback with a clear page and changes nothing', async () => {
    const created = await createOffice(alice);
    const browser = await browserOf(alice);
    const callbackUrl = await callbackFor(browser, created.body.consentUrl, unique('mailbox'));
    expect((await browser.navigate(callbackUrl)).status).toBe(200);
    const before = await call('GET', `/connections/${created.body.id}`, { token: alice.token });
    const replay = await browser.navigate(callbackUrl);
    expect(replay.status).toBe(400);
    expect(replay.headers.get('content-type')).toContain('text/html');
    expect(replay.text).toContain('not valid or has already been used');
    const after = await call('GET', `/connections/${created.body.id}`, { token: alice.token });
    expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
  });

  it('lets only one of two simultaneous callbacks with the same state through', async () => {
    const created = await createOffice(alice);
    const browser = await browserOf(alice);
    const callbackUrl = await callbackFor(browser, created.body.consentUrl, unique('mailbox'));
    const pages = await Promise.all([browser.request(callbackUrl), browser.request(callbackUrl)]);
    expect(pages.map((p) => p.status).sort()).toEqual([200, 400]);
  });

  it('refuses a forged or missing state with a 400 page', async () => {
    for (const query of ['?state=forged&code=abc', '?code=abc', '']) {
      const page = await call('GET', `/connections/oauth/callback${query}`);
      expect(page.status).toBe(400);
      expect(page.text).toContain('This link cannot be used');
    }
  });

  it('marks the connection Error with the reason when the person declines at the provider', async () => {
    const created = await createOffice(alice);
    const browser = await browserOf(alice);
    const callbackUrl = new URL(await callbackFor(browser, created.body.consentUrl, unique('mailbox')));
    const page = await browser.navigate(
      `${stack().apiUrl}/connections/oauth/callback?error=access_denied&error_description=${encodeURIComponent('<b>user said no</b>')}&state=${callbackUrl.searchParams.get('state')}`,
    );
    expect(page.status).toBe(200);
    expect(page.text).toContain('was declined');
    expect(page.text).not.toContain('<b>');
    const read = await call('GET', `/connections/${created.body.id}`, { token: alice.token });
    expect(read.body).toMatchObject({ status: 'Error', statusReason: 'consentDenied' });
  });

  it('checks the grant on refresh: Connected while it holds, Error reauthRequired once revoked', async () => {
    const { id, providerUser } = await connectedOffice(alice);
    const refreshed = await call('POST', `/connections/${id}/refresh`, { token: alice.token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ status: 'Connected' });
    expect(refreshed.body).not.toHaveProperty('statusReason');

    expect((await fetch(`${stack().issuerUrl}/dev/users/${providerUser}/revoke`, { method: 'POST' })).status).toBe(204);
    const failed = await call('POST', `/connections/${id}/refresh`, { token: alice.token });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ status: 'Error', statusReason: 'reauthRequired' });
  });

  it('refuses to refresh a connection still waiting for consent', async () => {
    const created = await createOffice(alice);
    expectProblem(
      await call('POST', `/connections/${created.body.id}/refresh`, { token: alice.token }),
      409,
      'Conflict',
    );
  });
});

describe('secrets', () => {
  let providerTokens: string[] = [];

  afterAll(() => {
    // Nothing else to clean: the stack is in memory.
    providerTokens = [];
  });

  it('never appear in a response, the log or a storage row', async () => {
    // Make sure this file's flows have run at least once even when run alone.
    await createSql(alice);
    await connectedOffice(alice);
    // Provider users, and the people who signed in: their ID tokens too.
    for (const user of new Set([...providerUsers, ...browsers.keys()])) {
      const issued = (await (await fetch(`${stack().issuerUrl}/dev/users/${user}/tokens`)).json()) as {
        tokens: string[];
      };
      providerTokens.push(...issued.tokens);
    }
    expect(providerTokens.length).toBeGreaterThan(0);
    const secrets = [...apiKeys, ...providerTokens];
    const log0 = readFileSync(stack().logFile, 'utf8');
    expect(callbackSecrets.length).toBeGreaterThan(0);
    for (const value of callbackSecrets)
      expect(log0.includes(value), 'the log holds an OAuth code or state').toBe(false);

    const rows: string[] = [];
    for await (const row of testStorage().connections.listEntities()) rows.push(JSON.stringify(row));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((row) => row.includes('"secret":"v1.'))).toBe(true);

    const log = readFileSync(stack().logFile, 'utf8');
    for (const secret of secrets) {
      // Tokens are JWTs or opaque ids; search for the part that makes each one secret.
      const needle = secret.includes('.') ? secret.split('.')[2]! : secret;
      for (const text of seen) expect(text.includes(needle), 'a response holds a secret').toBe(false);
      expect(log.includes(needle), 'the log holds a secret').toBe(false);
      for (const row of rows) expect(row.includes(needle), 'a storage row holds a secret in the clear').toBe(false);
    }
  });
});
