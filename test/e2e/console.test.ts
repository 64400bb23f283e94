// The web console in a real browser (Debian's Chromium through playwright-core)
// against the local stack: a maker's day, told in order. Alice signs in,
// creates a flow, shares it, adds connections through the pages, binds and
// embeds its references; Bob (co-owner) and Carol (user) see what their roles
// allow; consent links and callbacks misused are refused; a cross-site POST
// is refused; no token ever reaches the page.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium';
import {
  consentAs,
  continueToProvider,
  eventually,
  expectAccessible,
  openConsole,
  screenshot,
  signedInConsole,
  signIn,
  siteUrl,
  tabTo,
  type ConsoleUser,
} from '../support/consoleBrowser';
import { recordSecret } from '../support/secrets';
import { call, stack, tokenFor, unique } from '../support/stack';

const STEP = 90_000;

let browser: Browser;
let alice: ConsoleUser;
let bob: ConsoleUser;
let carol: ConsoleUser;
const names = { alice: unique('alice'), bob: unique('bob'), carol: unique('carol'), mail: unique('alice-mail') };
const apiKey = `sql-key-${unique('k')}`;
let flowUrl = '';

beforeAll(async () => {
  browser = await launchChromium();
  recordSecret('an API key typed into the console', apiKey);
}, 60_000);

afterAll(async () => {
  // Everything the browsers received is recorded for the suite-wide secret scan before they go.
  for (const user of [alice, bob, carol]) await user?.settled();
  await browser?.close();
});

/** The flow page's row for a connection reference. */
const referenceRow = (page: Page, logicalName: string) => page.locator(`tr[data-reference="${logicalName}"]`);
const connectionRow = (page: Page, displayName: string) => page.locator(`tr[data-connection="${displayName}"]`);
const badge = (page: Page) => page.getByTestId('cloud-startable');

async function openFlow(user: ConsoleUser): Promise<void> {
  await user.page.goto(flowUrl);
  await eventually(() => user.page.getByRole('heading', { level: 1, name: 'Invoices' }).isVisible()).toBe(true);
}

async function bearer(user: string): Promise<string> {
  return tokenFor(user);
}

describe('the web console', { timeout: STEP }, () => {
  it('asks whoever is not signed in to sign in, and nothing else', async () => {
    const visitor = await openConsole(browser, 'visitor');
    await visitor.page.goto('/');
    await eventually(() => visitor.page.getByRole('heading', { name: 'Sign in to flowshare' }).isVisible()).toBe(true);
    await expect(visitor.page.getByRole('navigation').count()).resolves.toBe(0);
    await expectAccessible(visitor.page, 'the sign-in page');
    await screenshot(visitor.page, 'signed-out');
    await visitor.settled();
    await visitor.context.close();
  });

  it('serves its page with a policy that allows no inline script and no framing', async () => {
    for (const path of ['/', '/flows/some-flow', '/connections']) {
      const response = await fetch(`${siteUrl()}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = response.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await response.text()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
    const head = await fetch(`${siteUrl()}/flows/some-flow`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await head.text()).toBe('');
    const missing = await fetch(`${siteUrl()}/assets/nothing.js`);
    expect(missing.status).toBe(404);
    // The API's own paths stay the API's: an unknown one is the host's empty 404, not the console.
    const unknownApi = await fetch(`${siteUrl()}/api/nowhere`);
    expect(unknownApi.status).toBe(404);
    expect(await unknownApi.text()).toBe('');
  });

  it('lets Alice sign in and create a flow', async () => {
    alice = await signedInConsole(browser, names.alice);
    const { page } = alice;
    await eventually(() => page.getByText(`Signed in as ${names.alice}`).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'New flow' }).click();
    const dialog = page.getByRole('dialog');
    await expectAccessible(page, 'the new-flow dialog');
    await dialog.getByLabel('Name').fill('Invoices');
    await dialog.getByLabel('Schema version').selectOption('1');
    await dialog.getByLabel('Definition (JSON)').fill(
      JSON.stringify({
        actions: [
          { type: 'connector', connectionReference: 'db', operation: 'ExecuteQuery' },
          { type: 'connector', connectionReference: 'mail', operation: 'SendEmail' },
        ],
      }),
    );
    await dialog.getByRole('button', { name: 'Create' }).click();
    await eventually(() => page.getByRole('heading', { level: 1, name: 'Invoices' }).isVisible()).toBe(true);
    flowUrl = new URL(page.url()).pathname;
    expect(flowUrl).toMatch(/^\/flows\/.+/);
    await eventually(() => badge(page).textContent()).toBe('Not cloud-startable');
    const reasons = await page.getByRole('list', { name: 'Why it is not cloud-startable' }).textContent();
    expect(reasons).toContain('FlowSchemaNotV2');
    expect(reasons).toContain('ConnectionReferenceMissing');

    await page.getByRole('link', { name: 'Flows', exact: true }).click();
    await eventually(() => page.getByRole('link', { name: 'Invoices' }).isVisible()).toBe(true);
    await expectAccessible(page, 'the flows page');
    await screenshot(page, 'flows');
  });

  it('lets Alice share it with Bob as co-owner and Carol as user', async () => {
    await openFlow(alice);
    const { page } = alice;
    for (const [who, role] of [
      [names.bob, 'coOwner'],
      [names.carol, 'user'],
    ] as const) {
      await page.getByLabel('Person (user id)').fill(who);
      await page.getByLabel('As', { exact: true }).selectOption(role);
      await page.getByRole('button', { name: 'Share', exact: true }).click();
      await page.locator(`tr[data-principal="${who}"]`).waitFor();
    }
    await expect(page.getByLabel(`Role of ${names.bob}`).inputValue()).resolves.toBe('coOwner');
    await expect(page.getByLabel(`Role of ${names.carol}`).inputValue()).resolves.toBe('user');
    // The owner's role is fixed: no control changes it.
    await expect(page.getByLabel(`Role of ${names.alice}`).count()).resolves.toBe(0);
  });

  it('lets Alice add an API-key connection; the key is never shown again', async () => {
    const { page } = alice;
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Connector').selectOption('shared_sql');
    await dialog.getByLabel('Name').fill('Finance DB');
    await dialog.getByLabel('API key').fill(apiKey);
    await expectAccessible(page, 'the add-connection dialog');
    await screenshot(page, 'add-connection');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await connectionRow(page, 'Finance DB').waitFor();
    await expect(connectionRow(page, 'Finance DB').textContent()).resolves.toContain('Connected');
    expect(await page.content()).not.toContain(apiKey);
  });

  it("refuses Alice's consent link in Bob's browser, and leaves her connection as it was", async () => {
    const { page } = alice;
    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Connector').selectOption('shared_office365');
    await dialog.getByLabel('Name').fill('Alice mail');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const link = page.getByRole('link', { name: /^Continue to Office 365 Outlook/ });
    const consentUrl = (await link.getAttribute('href'))!;
    expect(consentUrl).toMatch(/\/api\/connections\/[^/]+\/consent$/);
    await expectAccessible(page, 'the consent dialog');
    await screenshot(page, 'consent-dialog');

    bob = await signedInConsole(browser, names.bob);
    const notYours = await bob.page.goto(consentUrl);
    expect(notYours?.status()).toBe(404);
    await expect(bob.page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'This consent link is not for you',
    );

    // The provider's page, reached from Alice's consent, carried to Bob's browser: refused at the callback.
    const tab = await continueToProvider(alice);
    const providerUrl = tab.url();
    await tab.close();
    await bob.page.goto(providerUrl);
    await consentAs(bob.page, unique('bob-mail'));
    await expect(bob.page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'This consent cannot be finished here',
    );

    await page.getByRole('button', { name: 'Close' }).click();
    await eventually(() => connectionRow(page, 'Alice mail').textContent()).toContain('Waiting for consent');
  });

  it('lets Alice consent in her own browser, then refuses the same callback again', async () => {
    const { page } = alice;
    await connectionRow(page, 'Alice mail').getByRole('button', { name: 'Consent Alice mail' }).click();
    const tab = await continueToProvider(alice);
    await consentAs(tab, names.mail);
    await expect(tab.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Connected');
    const callback = tab.url();
    expect(callback).toContain('/api/connections/oauth/callback?');
    await eventually(() => page.getByRole('dialog').textContent()).toContain(
      `Alice mail is connected as ${names.mail}`,
    );

    const replayed = await tab.goto(callback);
    expect(replayed?.status()).toBe(400);
    await expect(tab.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This link cannot be used');
    await tab.close();

    await page.getByRole('button', { name: 'Done' }).click();
    await eventually(() => connectionRow(page, 'Alice mail').textContent()).toContain(names.mail);
  });

  it('lets Alice bind and embed the references; the badge turns ready only after the embed and the schema upgrade', async () => {
    await openFlow(alice);
    const { page } = alice;
    for (const [logicalName, connection, connector] of [
      ['db', 'Finance DB', 'SQL Server'],
      ['mail', 'Alice mail', 'Office 365 Outlook'],
    ] as const) {
      await referenceRow(page, logicalName)
        .getByRole('button', { name: `Bind ${logicalName}` })
        .click();
      const dialog = page.getByRole('dialog');
      if (logicalName === 'db') await expectAccessible(page, 'the bind dialog');
      await dialog
        .getByLabel('One of your connections')
        .selectOption({ label: `${connection} (${connector}, Connected)` });
      await dialog.getByRole('button', { name: 'Bind', exact: true }).click();
      await eventually(() => referenceRow(page, logicalName).textContent()).toContain(connection);
    }
    await eventually(() => badge(page).textContent()).toBe('Not cloud-startable');

    for (const logicalName of ['db', 'mail']) {
      // The switch shows what the service holds: it turns once the service has embedded the reference.
      await referenceRow(page, logicalName).getByRole('switch').click();
      await eventually(() => referenceRow(page, logicalName).getByRole('switch').isChecked()).toBe(true);
    }
    // Embedded, but schema v1: still not startable, for that one reason.
    const reasons = page.getByRole('list', { name: 'Why it is not cloud-startable' });
    await eventually(() => reasons.textContent()).not.toContain('ConnectionReferenceNotEmbedded');
    await expect(reasons.textContent()).resolves.toContain('FlowSchemaNotV2');
    await expect(badge(page).textContent()).resolves.toBe('Not cloud-startable');

    await page.getByRole('button', { name: 'Upgrade schema to v2' }).click();
    await eventually(() => badge(page).textContent()).toBe('Cloud-startable');
    // The flow and its readiness are read again apart: the button goes when the flow's read answers.
    await eventually(() => page.getByRole('button', { name: 'Upgrade schema to v2' }).count()).toBe(0);
    await eventually(() => page.getByRole('table', { name: 'Audit trail' }).textContent()).toContain('embedded');
    await expectAccessible(page, "a flow's page, as its owner");
    await screenshot(page, 'flow-owner');
  });

  it("shows Bob the switch on Alice's references disabled, and why", async () => {
    await openFlow(bob);
    const { page } = bob;
    for (const logicalName of ['db', 'mail']) {
      const row = referenceRow(page, logicalName);
      await expect(row.getByRole('switch').isDisabled()).resolves.toBe(true);
      await expect(row.getByRole('switch').isChecked()).resolves.toBe(true);
      await expect(row.textContent()).resolves.toContain(`Only ${names.alice}, the reference owner, can change this.`);
      // He sees that the reference is Alice's, never her connection.
      await expect(row.textContent()).resolves.not.toContain('Finance DB');
      await expect(row.getByRole('button', { name: /Rebind|Remove/ }).count()).resolves.toBe(0);
    }
    await eventually(() => page.getByRole('heading', { name: 'Audit' }).isVisible()).toBe(true);
    await expectAccessible(page, "a flow's page, as a co-owner");
    await screenshot(page, 'flow-coowner');
  });

  it('shows Carol, a user, no audit and no switch', async () => {
    carol = await signedInConsole(browser, names.carol);
    await openFlow(carol);
    const { page } = carol;
    await referenceRow(page, 'db').waitFor();
    await expect(page.getByRole('switch').count()).resolves.toBe(0);
    await expect(page.getByRole('heading', { name: 'Audit' }).count()).resolves.toBe(0);
    await expect(page.getByRole('heading', { name: 'Cloud runs' }).count()).resolves.toBe(0);
    await expect(page.getByLabel('Person (user id)').count()).resolves.toBe(0);
    await eventually(() => page.getByRole('button', { name: 'Leave this flow' }).isVisible()).toBe(true);
    await expectAccessible(page, "a flow's page, as a user");
    await screenshot(page, 'flow-user');
  });

  it('fixes a revoked connection with the same id, its references still bound and embedded', async () => {
    const token = await bearer(names.alice);
    const before = (await call('GET', '/connections', { token })).body.value as { id: string; displayName: string }[];
    const mailId = before.find((c) => c.displayName === 'Alice mail')!.id;

    const revoked = await fetch(`${stack().issuerUrl}/dev/users/${encodeURIComponent(names.mail)}/revoke`, {
      method: 'POST',
    });
    expect(revoked.status).toBe(204);
    const { page } = alice;
    await page.getByRole('link', { name: 'Connections' }).click();
    await connectionRow(page, 'Alice mail').getByRole('button', { name: 'Check Alice mail' }).click();
    await eventually(() => connectionRow(page, 'Alice mail').textContent()).toContain('reauthRequired');

    await connectionRow(page, 'Alice mail').getByRole('button', { name: 'Fix Alice mail' }).click();
    const tab = await continueToProvider(alice);
    const fixedAs = unique('alice-mail2');
    await consentAs(tab, fixedAs);
    await tab.close();
    await eventually(() => page.getByRole('dialog').textContent()).toContain(`connected as ${fixedAs}`);
    await page.getByRole('button', { name: 'Done' }).click();
    await expectAccessible(page, 'the connections page');
    await screenshot(page, 'connections');

    const after = (await call('GET', `/connections/${mailId}`, { token })).body;
    expect(after).toMatchObject({ id: mailId, status: 'Connected', account: fixedAs });
    await openFlow(alice);
    await eventually(() => referenceRow(page, 'mail').textContent()).toContain('Alice mail');
    await expect(referenceRow(page, 'mail').getByRole('switch').isChecked()).resolves.toBe(true);
    await eventually(() => badge(page).textContent()).toBe('Cloud-startable');
  });

  it("refuses a cross-site POST made with Alice's cookie", async () => {
    const target = `${siteUrl()}/api/flows`;
    const attacker = await startAttacker(target);
    try {
      const answers: number[] = [];
      const listener = (response: { url(): string; request(): { method(): string }; status(): number }) => {
        if (response.url() === target && response.request().method() === 'POST') answers.push(response.status());
      };
      alice.context.on('response', listener);
      const page = await alice.context.newPage();
      // Same site (localhost), another origin: the SameSite=Lax cookie goes along, the check refuses it.
      await page.goto(`http://localhost:${attacker.port}/`);
      await expect.poll(() => answers.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
      alice.context.off('response', listener);
      expect(answers.every((status) => status === 403)).toBe(true);
      await page.close();
    } finally {
      attacker.server.close();
    }
    const flows = (await call('GET', '/flows', { token: await bearer(names.alice) })).body.value as { name: string }[];
    expect(flows.map((f) => f.name)).toEqual(['Invoices']);
  });

  it('never lets a token reach the page: not in its storage, its readable cookies or any response', async () => {
    const issued = ((await (await fetch(`${stack().issuerUrl}/dev/tokens`)).json()) as { tokens: string[] }).tokens;
    // The provider and sign-in tokens of this very story are among them.
    const mine = (
      (await (await fetch(`${stack().issuerUrl}/dev/users/${encodeURIComponent(names.mail)}/tokens`)).json()) as {
        tokens: string[];
      }
    ).tokens;
    expect(mine.length).toBeGreaterThan(0);
    for (const user of [alice, bob, carol]) {
      const { page } = user;
      await page.goto('/connections');
      await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
      const storage = (await page.evaluate(
        'JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } })',
      )) as string;
      const readableCookies = (await page.evaluate('document.cookie')) as string;
      await user.settled();
      expect(readableCookies, 'the session cookie is HttpOnly').not.toContain('flowshare-session');
      const everything = [storage, readableCookies, ...user.received];
      expect(user.received.length).toBeGreaterThan(5);
      for (const token of issued) {
        for (const text of everything) expect(text.includes(token), `${user.name}'s browser holds a token`).toBe(false);
      }
      for (const secret of [apiKey]) {
        for (const text of everything)
          expect(text.includes(secret), `${user.name}'s browser got the API key`).toBe(false);
      }
    }
  });

  it('shows where a connection is embedded before deleting it, and deletes it only with force', async () => {
    const { page } = alice;
    await page.goto('/connections');
    const row = connectionRow(page, 'Finance DB');
    await eventually(() => row.textContent()).toContain('(embedded)');
    await row.getByRole('button', { name: 'Delete Finance DB' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.getByRole('list', { name: 'Where it is used' }).textContent()).resolves.toContain(
      'Invoices: db',
    );
    await expectAccessible(page, 'the delete-connection dialog');
    await screenshot(page, 'delete-connection');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await eventually(() => dialog.getByRole('alert').textContent()).toContain('(Conflict)');
    await dialog.getByLabel('Unembed it there, then delete it').check();
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await eventually(() => row.count()).toBe(0);

    await openFlow(alice);
    await eventually(() => badge(page).textContent()).toBe('Not cloud-startable');
  });

  it('lets only the owner delete the flow', async () => {
    await bob.page.goto('/');
    await bob.page.getByRole('link', { name: 'Invoices' }).waitFor();
    await expect(bob.page.getByRole('button', { name: 'Delete Invoices' }).count()).resolves.toBe(0);

    const { page } = alice;
    await page.goto('/');
    await page.getByRole('button', { name: 'Delete Invoices' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await eventually(() => page.getByText('You own no flows yet.').isVisible()).toBe(true);
    await expect(page.getByRole('link', { name: 'Invoices' }).count()).resolves.toBe(0);
    await expectAccessible(page, 'the flows page');
  });

  it('ran without a script error or a content security policy violation', () => {
    for (const user of [alice, bob, carol]) expect(user.errors, user.name).toEqual([]);
  });

  it('can be used with the keyboard alone', async () => {
    const dave = await openConsole(browser, unique('dave'));
    const { page } = dave;
    await page.goto('/');
    await tabTo(page, page.getByRole('link', { name: 'Sign in' }));
    await page.keyboard.press('Enter');
    await page.getByLabel('User').waitFor();
    await page.keyboard.type(dave.name); // the issuer's field has the focus
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Flows' }).waitFor();

    // A connection first: Connections, Add connection, the form, Enter.
    await tabTo(page, page.getByRole('link', { name: 'Connections' }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('button', { name: 'Add connection' }));
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await tabTo(page, dialog.getByLabel('Connector'));
    await page.keyboard.type('SQL');
    await tabTo(page, dialog.getByLabel('Name'));
    await page.keyboard.type('Dave DB');
    await tabTo(page, dialog.getByLabel('API key'));
    await page.keyboard.type(`dave-key-${unique('k')}`);
    await page.keyboard.press('Enter');
    await connectionRow(page, 'Dave DB').waitFor();

    // A flow: Flows, New flow, a name, Enter.
    await tabTo(page, page.getByRole('link', { name: 'Flows', exact: true }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('button', { name: 'New flow' }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('dialog').getByLabel('Name'));
    await page.keyboard.type('Keyboard flow');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Keyboard flow' }).waitFor();

    // Bind its reference and embed it.
    await tabTo(page, page.getByRole('button', { name: 'Bind db' }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('dialog').getByRole('button', { name: 'Bind', exact: true }));
    await page.keyboard.press('Enter');
    await eventually(() => referenceRow(page, 'db').textContent()).toContain('Dave DB');
    const embed = referenceRow(page, 'db').getByRole('switch');
    await tabTo(page, embed);
    await page.keyboard.press('Space');
    await eventually(() => embed.isChecked()).toBe(true);

    // Share it, then sign out.
    await tabTo(page, page.getByLabel('Person (user id)'));
    await page.keyboard.type(names.carol);
    await page.keyboard.press('Enter');
    await page.locator(`tr[data-principal="${names.carol}"]`).waitFor();
    await tabTo(page, page.getByRole('button', { name: 'Sign out' }));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Sign in to flowshare' }).waitFor();
    expect(dave.errors).toEqual([]);
    await dave.settled();
    await dave.context.close();
  });

  it('signs out: the session ends on the server, and every open page of it asks to sign in again', async () => {
    const { page } = carol;
    await page.goto('/');
    await page.getByRole('heading', { level: 1, name: 'Flows' }).waitFor();
    const other = await carol.context.newPage();
    await other.goto('/connections');
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.getByRole('heading', { name: 'Sign in to flowshare' }).waitFor();
    // The first page learns it at its next request.
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('heading', { name: 'Sign in to flowshare' }).waitFor();
    await other.close();
    await page.goto('/');
    await eventually(() => page.getByRole('heading', { name: 'Sign in to flowshare' }).isVisible()).toBe(true);
    // And signing in again brings her back where she was.
    await signIn(carol);
  });
});

/** A page on another origin of the same site that makes Alice's browser POST to flowshare, as a form and as fetch. */
async function startAttacker(target: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(`<!doctype html><html><body>
<iframe name="sink" title="sink"></iframe>
<form id="f" method="post" action="${target}" enctype="text/plain" target="sink"><input name='{"name":"Stolen","x":"' value='"}'></form>
<script>
fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: '{"name":"Stolen"}' });
document.getElementById('f').submit();
</script></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
