// Browser sign-in and the consent bound to it, driven as a person would with
// a real HTTP client that keeps cookies: the session lives on the server and
// the browser holds only an HttpOnly cookie; changes made with it must come
// from flowshare itself; a consent link forwarded to anyone else gets them
// nowhere; reauthorizing keeps the connection, its references and embeds.
import { odata } from '@azure/data-tables';
import { afterAll, describe, expect, it } from 'vitest';
import { hashSessionId, newSessionId } from '../../lib/auth/session';
import { SessionStore } from '../../lib/storage/sessions';
import { Browser, signedIn } from '../support/browser';
import { call, expectProblem, stack, testStorage, unique } from '../support/stack';
import { person, type Person } from './people';

const browsers: Browser[] = [];
/** Everyone who signed in or gave consent at the local provider here. */
const issuedTo = new Set<string>();

async function browserFor(who: Person): Promise<Browser> {
  const browser = await signedIn(who.id);
  browsers.push(browser);
  issuedTo.add(who.id);
  return browser;
}

function sessionCookieOf(browser: Browser): string {
  const cookie = browser.cookie('localhost', 'flowshare-session');
  if (!cookie) throw new Error('no session cookie');
  return cookie.value;
}

async function office(who: Person, displayName = 'Mail') {
  const created = await call('POST', '/connections', {
    token: who.token,
    body: { connectorId: 'shared_office365', displayName },
  });
  expect(created.status).toBe(201);
  return { id: created.body.id as string, consentUrl: created.body.consentUrl as string };
}

describe('signing in in a browser', () => {
  it('starts a server-side session held by an HttpOnly, SameSite=Lax cookie', async () => {
    const alice = await person('alice');
    const browser = new Browser();
    browsers.push(browser);
    issuedTo.add(alice.id);
    const page = await browser.signIn(alice.id);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`signed in to flowshare as ${alice.id}`);
    const setCookie = browser.received.find((text) => text.includes('flowshare-session='))!;
    expect(setCookie).toMatch(/flowshare-session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax/);
    expect(browser.cookie('localhost', 'flowshare-session')?.httpOnly).toBe(true);
    // The signed-in person is the same caller their bearer token names.
    const session = await browser.api('GET', '/auth/session');
    expect(JSON.parse(session.text)).toMatchObject({ principalId: alice.id, name: alice.id });
    const csrf = await browser.csrfToken();
    const created = await browser.api('POST', '/flows', { name: 'Made in a browser' }, { 'x-csrf-token': csrf });
    expect(created.status).toBe(201);
    const listed = await call('GET', '/flows', { token: alice.token });
    expect(listed.body.value.map((f: { name: string }) => f.name)).toContain('Made in a browser');
  });

  it('keeps only the id hash on the server, never the cookie value', async () => {
    const alice = await person('alice');
    const browser = await browserFor(alice);
    const id = sessionCookieOf(browser);
    const rows: string[] = [];
    for await (const row of testStorage().sessions.listEntities()) rows.push(JSON.stringify(row));
    expect(rows.some((row) => row.includes(hashSessionId(id)))).toBe(true);
    expect(rows.some((row) => row.includes(id))).toBe(false);
  });

  it('comes back only to a path of this service', async () => {
    const alice = await person('alice');
    issuedTo.add(alice.id);
    const browser = new Browser();
    browsers.push(browser);
    for (const returnTo of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', '/x\r\nSet-Cookie: a=b']) {
      const page = await browser.signIn(alice.id, returnTo);
      expect(page.url.startsWith(`${stack().apiUrl}/auth/callback?`), returnTo).toBe(true);
      expect(page.status, returnTo).toBe(200);
    }
    const back = await browser.signIn(alice.id, '/api/auth/session');
    expect(back.url).toBe(`${stack().apiUrl}/auth/session`);
  });

  it('refuses a sign-in callback that arrives in a browser which did not start it', async () => {
    const alice = await person('alice');
    issuedTo.add(alice.id);
    const starter = new Browser();
    const form = await starter.navigate(`${stack().apiUrl}/auth/signin`);
    const atIssuer = await starter.request(`${form.url}&login_hint=${alice.id}`);
    const callbackUrl = atIssuer.headers.get('location')!;
    const other = new Browser();
    browsers.push(starter, other);
    const page = await other.navigate(callbackUrl);
    expect(page.status).toBe(400);
    expect(page.text).toContain('not started in this browser');
    expect(other.cookie('localhost', 'flowshare-session')).toBeUndefined();
  });

  it('answers 401 without a session, and after sign-out, for the very cookie that was signed out', async () => {
    const alice = await person('alice');
    const browser = await browserFor(alice);
    const id = sessionCookieOf(browser);
    expect((await browser.api('GET', '/flows')).status).toBe(200);
    const csrf = await browser.csrfToken();
    expect((await browser.api('POST', '/auth/signout', undefined, { 'x-csrf-token': csrf })).status).toBe(204);
    expect(browser.cookie('localhost', 'flowshare-session')).toBeUndefined();
    // The cookie kept somewhere else (a copy, another tab) is worth nothing now.
    const replayed = await call('GET', '/flows', { headers: { cookie: `flowshare-session=${id}` } });
    expectProblem(replayed, 401, 'Unauthenticated');
    expectProblem(await call('GET', '/auth/session'), 401, 'Unauthenticated');
  });

  it('ends a session when it expires', async () => {
    const { id, hash } = newSessionId();
    await new SessionStore(testStorage()).create({
      hash,
      caller: { tenantId: 'any', principalId: unique('late') },
      name: 'late',
      csrfToken: 'x',
      createdAt: new Date(Date.now() - 7200_000).toISOString(),
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    expectProblem(
      await call('GET', '/flows', { headers: { cookie: `flowshare-session=${id}` } }),
      401,
      'Unauthenticated',
    );
  });
});

describe('changes made with the session cookie', () => {
  it('are refused unless they come from flowshare itself with the CSRF token', async () => {
    const alice = await person('alice');
    const browser = await browserFor(alice);
    const csrf = await browser.csrfToken();
    const attempts: Array<[string, Record<string, string>]> = [
      ['another site, with the token', { origin: 'https://evil.example', 'x-csrf-token': csrf }],
      ['fetch metadata says cross-site', { 'sec-fetch-site': 'cross-site', 'x-csrf-token': csrf }],
      ['no token', {}],
      ['a wrong token', { 'x-csrf-token': `${csrf}x` }],
    ];
    for (const [what, headers] of attempts) {
      const response = await browser.api('POST', '/flows', { name: `Forged: ${what}` }, headers);
      expect(response.status, what).toBe(403);
      expect(JSON.parse(response.text).code, what).toBe('CrossSiteRequestRefused');
    }
    const listed = await call('GET', '/flows', { token: alice.token });
    expect(listed.body.value.filter((f: { name: string }) => f.name.startsWith('Forged'))).toEqual([]);
    // A form another site posts to sign the person out is refused as well.
    const signOut = await browser.request(`${stack().apiUrl}/auth/signout`, {
      method: 'POST',
      form: { csrfToken: 'guess' },
      from: 'https://evil.example/',
    });
    expect(signOut.status).toBe(403);
    expect((await browser.api('GET', '/flows')).status).toBe(200);
  });

  it('need no token for reads, and a bearer token still works as before beside them', async () => {
    const alice = await person('alice');
    const browser = await browserFor(alice);
    expect((await browser.api('GET', '/connections')).status).toBe(200);
    expect((await call('POST', '/flows', { token: alice.token, body: { name: 'By program' } })).status).toBe(201);
  });
});

describe('consent bound to the signed-in owner', () => {
  it("sends someone who is not signed in to sign in first, then refuses a stranger's session", async () => {
    const [owner, stranger] = await Promise.all([person('owner'), person('stranger')]);
    issuedTo.add(stranger.id);
    const { id, consentUrl } = await office(owner);
    const browser = new Browser();
    browsers.push(browser);
    const first = await browser.request(consentUrl);
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe(
      `/api/auth/signin?returnTo=${encodeURIComponent(new URL(consentUrl).pathname)}`,
    );
    // Signing in there as someone else leads back to the link, which refuses them.
    const form = await browser.navigate(consentUrl);
    const page = await browser.submit(form, { login_hint: stranger.id });
    expect(page.status).toBe(404);
    expect(page.text).toContain('This consent link is not for you');
    expect(page.text).not.toContain(owner.id);
    const read = await call('GET', `/connections/${id}`, { token: owner.token });
    expect(read.body).toMatchObject({ status: 'PendingConsent' });
  });

  it("refuses a second person's session on the owner's link, and their post of its form", async () => {
    const [owner, bob] = await Promise.all([person('owner'), person('bob')]);
    const { id, consentUrl } = await office(owner);
    const [ownerBrowser, bobBrowser] = await Promise.all([browserFor(owner), browserFor(bob)]);
    const bobPage = await bobBrowser.navigate(consentUrl);
    expect(bobPage.status).toBe(404);
    // Bob cannot post the owner's form either: not with his own session's token, and not with the owner's.
    for (const csrfToken of [await bobBrowser.csrfToken(), await ownerBrowser.csrfToken()]) {
      const posted = await bobBrowser.request(consentUrl, { method: 'POST', form: { csrfToken }, from: consentUrl });
      expect([403, 404]).toContain(posted.status);
      expect(posted.headers.get('location')).toBeNull();
    }
    let rows = 0;
    for await (const row of testStorage().oauthStates.listEntities({
      queryOptions: { filter: odata`connectionId eq ${id}` },
    })) {
      rows += row ? 1 : 0;
    }
    expect(rows, 'no consent was started').toBe(0);
    expect((await call('GET', `/connections/${id}`, { token: owner.token })).body.status).toBe('PendingConsent');
  });

  it("refuses the provider's link forwarded to someone else: their consent never lands in the owner's connection", async () => {
    const [mallory, victim] = await Promise.all([person('mallory'), person('victim')]);
    const { id, consentUrl } = await office(mallory);
    const malloryBrowser = await browserFor(mallory);
    // The victim, signed in to flowshare or not, consents there as themselves.
    for (const victimBrowser of [await browserFor(victim), new Browser()]) {
      browsers.push(victimBrowser);
      // Mallory starts the consent and forwards the provider's page instead of finishing it.
      const atProvider = await malloryBrowser.submit(await malloryBrowser.navigate(consentUrl));
      expect(atProvider.url.startsWith(`${stack().issuerUrl}/authorize?`)).toBe(true);
      issuedTo.add(`${victim.id}-mail`);
      const landed = await victimBrowser.navigate(
        `${atProvider.url}&login_hint=${encodeURIComponent(`${victim.id}-mail`)}`,
      );
      expect(landed.url.startsWith(`${stack().apiUrl}/connections/oauth/callback?`)).toBe(true);
      expect(landed.status).toBe(403);
      expect(landed.text).toContain('cannot be finished here');
      // Carried back to Mallory's own browser, the code is worth nothing either.
      const carried = await malloryBrowser.navigate(landed.url);
      expect(carried.status).toBe(400);
    }
    const read = await call('GET', `/connections/${id}`, { token: mallory.token });
    expect(read.body.status).toBe('PendingConsent');
    expect(read.body).not.toHaveProperty('account');
  });

  it("is completed in the owner's own browser, and says which account consented", async () => {
    const owner = await person('owner');
    const { id, consentUrl } = await office(owner);
    const browser = await browserFor(owner);
    const mailbox = `${owner.id}-mail`;
    issuedTo.add(mailbox);
    const page = await browser.consent(consentUrl, mailbox);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`connected as ${mailbox}`);
    expect((await call('GET', `/connections/${id}`, { token: owner.token })).body).toMatchObject({
      status: 'Connected',
      account: mailbox,
    });
    // Used once: the same link has nothing more to ask for.
    const again = await browser.navigate(consentUrl);
    expect(again.status).toBe(409);
  });
});

describe('reauthorizing a connection', () => {
  it('keeps its id, its references and embeds, and takes the new account', async () => {
    const owner = await person('owner');
    const browser = await browserFor(owner);
    const { id, consentUrl } = await office(owner);
    const first = `${owner.id}-first`;
    const second = `${owner.id}-second`;
    issuedTo.add(first).add(second);
    expect((await browser.consent(consentUrl, first)).status).toBe(200);
    const flow = await call('POST', '/flows', {
      token: owner.token,
      body: {
        name: 'Mailer',
        definition: { actions: [{ type: 'connector', connectionReference: 'mail', operation: 'SendEmail' }] },
      },
    });
    const flowId = flow.body.id as string;
    const ref = `/flows/${flowId}/connection-references/mail`;
    expect(
      (await call('PUT', ref, { token: owner.token, body: { connectorId: 'shared_office365', connectionId: id } }))
        .status,
    ).toBe(201);
    expect((await call('PATCH', ref, { token: owner.token, body: { embedded: true } })).status).toBe(200);

    // The grant is revoked at the provider; a refresh finds out.
    await fetch(`${stack().issuerUrl}/dev/users/${first}/revoke`, { method: 'POST' });
    const failed = await call('POST', `/connections/${id}/refresh`, { token: owner.token });
    expect(failed.body).toMatchObject({ status: 'Error', statusReason: 'reauthRequired' });

    const reauthorized = await call('POST', `/connections/${id}/reauthorize`, { token: owner.token });
    expect(reauthorized.status).toBe(200);
    expect(reauthorized.body).toMatchObject({ id, status: 'Error', consentUrl });
    const page = await browser.consent(reauthorized.body.consentUrl, second);
    expect(page.text).toContain(`connected as ${second}`);
    expect(page.text).toContain(`Before, it was connected as ${first}`);

    expect((await call('GET', `/connections/${id}`, { token: owner.token })).body).toMatchObject({
      id,
      status: 'Connected',
      account: second,
    });
    const references = await call('GET', `/flows/${flowId}/connection-references`, { token: owner.token });
    expect(references.body.value).toEqual([
      expect.objectContaining({
        logicalName: 'mail',
        embedded: true,
        status: 'Connected',
        connection: { id, displayName: 'Mail' },
      }),
    ]);
    expect((await call('GET', `/flows/${flowId}/cloud-readiness`, { token: owner.token })).body).toMatchObject({
      ready: true,
    });
  });

  it('is for the owner of an OAuth connection only', async () => {
    const [owner, stranger] = await Promise.all([person('owner'), person('stranger')]);
    const { id } = await office(owner);
    expectProblem(await call('POST', `/connections/${id}/reauthorize`, { token: stranger.token }), 404, 'NotFound');
    expectProblem(await call('POST', `/connections/${id}/reauthorize`), 401, 'Unauthenticated');
    const sql = await call('POST', '/connections', {
      token: owner.token,
      body: { connectorId: 'shared_sql', displayName: 'DB', apiKey: `k-${unique('key')}` },
    });
    expectProblem(
      await call('POST', `/connections/${sql.body.id}/reauthorize`, { token: owner.token }),
      409,
      'Conflict',
    );
  });
});

afterAll(async () => {
  // No token the provider issued (sign-in ID tokens, access and refresh tokens) ever reached a browser.
  const tokens: string[] = [];
  for (const user of issuedTo) {
    const issued = (await (await fetch(`${stack().issuerUrl}/dev/users/${user}/tokens`)).json()) as {
      tokens: string[];
    };
    tokens.push(...issued.tokens);
  }
  expect(tokens.length).toBeGreaterThan(0);
  const received = browsers.flatMap((b) => b.received);
  for (const token of tokens) {
    const needle = token.includes('.') ? token.split('.')[2]! : token;
    for (const text of received) expect(text.includes(needle), 'a browser received a provider token').toBe(false);
  }
});
