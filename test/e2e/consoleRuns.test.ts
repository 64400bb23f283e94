// The web console's runtime pages in a real browser (Debian's Chromium
// through playwright-core) against the local stack: Alice registers a
// machine (its key shown once, never again), tries an action through her
// Office 365 reference, starts cloud runs that a test machine leases and
// completes, and cancels them; Bob (co-owner) sees the runs and tries an
// action through her embedded reference, and why not once it is not;
// Carol (a user) sees no runs, no try-action and no cancel of others' runs,
// and cancels her own. Accessibility, the keyboard alone, screenshots.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedIn } from '../support/browser';
import { launchChromium } from '../support/chromium';
import {
  consentAs,
  continueToProvider,
  eventually,
  expectAccessible,
  isFocused,
  screenshot,
  signedInConsole,
  tabTo,
  type ConsoleUser,
} from '../support/consoleBrowser';
import { complete, heartbeat, lease, leaseNext, succeeded } from '../support/machines';
import { recordSecret } from '../support/secrets';
import { call, tokenFor, unique, type Body } from '../support/stack';

const STEP = 90_000;

let browser: Browser;
let alice: ConsoleUser;
let bob: ConsoleUser;
let carol: ConsoleUser;
const names = { alice: unique('alice'), bob: unique('bob'), carol: unique('carol'), mail: unique('alice-mail') };
let flowId = '';
let flowUrl = '';
/** The machine Alice registers on the page, and its key as the page showed it. */
const machine = { name: 'Build agent', key: '' };
/** Every key the page showed, and every run token a lease handed the test machine. */
const keysShown: string[] = [];
const runTokens: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  for (const user of [alice, bob, carol]) await user?.settled();
  await browser?.close();
});

const runRows = (page: Page) => page.locator('tr[data-run]');
const runRow = (page: Page, runId: string) => page.locator(`tr[data-run="${runId}"]`);
const statusOf = (page: Page, runId: string) =>
  runRow(page, runId).locator('[data-run-status]').getAttribute('data-run-status');
const referenceRow = (page: Page, logicalName: string) => page.locator(`tr[data-reference="${logicalName}"]`);
const tryButton = (page: Page, logicalName: string) =>
  page.getByRole('button', { name: `Try an action through ${logicalName}` });

async function openFlow(user: ConsoleUser): Promise<void> {
  await user.page.goto(flowUrl);
  await eventually(() => user.page.getByRole('heading', { level: 1, name: 'Payroll' }).isVisible()).toBe(true);
}

/** The key in the dialog that shows it once. */
async function shownKey(page: Page): Promise<string> {
  const field = page.getByRole('dialog').getByLabel('Machine key');
  await field.waitFor();
  const key = await field.inputValue();
  expect(key).toMatch(/^fsm_/);
  // A credential flowshare hands out in one answer: it must reach no log.
  recordSecret('a machine key the console showed', key, { logsOnly: true });
  keysShown.push(key);
  return key;
}

/** The responses this browser received that carry `secret`: method-less "status URL" lines. */
async function responsesWith(user: ConsoleUser, secret: string): Promise<string[]> {
  await user.settled();
  return user.received.filter((text) => text.includes(secret)).map((text) => text.split('\n')[0]!);
}

/** The runs the flow's page lists, once it has loaded them, newest first. */
async function listedRuns(page: Page): Promise<string[]> {
  const loaded = page.getByRole('table', { name: 'Runs' }).or(page.getByText('This flow has not run yet.'));
  await eventually(() => loaded.count()).toBeGreaterThan(0);
  return runRows(page).evaluateAll((rows) =>
    rows.map((row) => (row as unknown as { getAttribute(name: string): string }).getAttribute('data-run')),
  );
}

/** Starts a cloud run on the page on the named machine; answers its id once it is listed. */
async function startCloudRun(page: Page, machineName: string, inputs?: string): Promise<string> {
  const before = await listedRuns(page);
  await page.getByLabel('On my machine').selectOption({ label: machineName });
  if (inputs !== undefined) await page.getByLabel('Inputs (JSON, optional)').fill(inputs);
  await page.getByRole('button', { name: 'Start cloud run' }).click();
  return newRun(page, before);
}

/** The run listed now that was not `before`, newest first. */
async function newRun(page: Page, before: string[]): Promise<string> {
  await eventually(async () => (await listedRuns(page)).filter((id) => !before.includes(id)).length).toBe(1);
  return (await listedRuns(page)).find((id) => !before.includes(id))!;
}

/** Leases the next run on Alice's machine and checks it is `runId`. */
async function leaseRun(runId: string): Promise<Body> {
  const leased = await leaseNext(machine);
  expect(leased.run.id).toBe(runId);
  runTokens.push(leased.token);
  return leased;
}

describe('the web console: machines, runs and design-time calls', { timeout: STEP }, () => {
  it('lets Alice register a machine and shows its key once, never again', async () => {
    alice = await signedInConsole(browser, names.alice);
    const { page } = alice;
    await alice.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByRole('link', { name: 'Machines' }).click();
    await eventually(() => page.getByText('You have no machines yet.').isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Register machine' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill(machine.name);
    await dialog.getByRole('button', { name: 'Register' }).click();
    machine.key = await shownKey(page);
    await expect(dialog.textContent()).resolves.toContain('it is shown this once');
    await dialog.getByRole('button', { name: 'Copy key' }).click();
    await eventually(() => dialog.getByRole('status').textContent()).toContain('Copied');
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(machine.key);
    await expectAccessible(page, 'the machine key dialog');
    await screenshot(page, 'machine-key');

    await dialog.getByRole('button', { name: 'Done' }).click();
    const row = page.locator(`tr[data-machine="${machine.name}"]`);
    await row.waitFor();
    await expect(page.getByRole('dialog').count()).resolves.toBe(0);
    expect(await page.content()).not.toContain(machine.key);
    await page.reload();
    await row.waitFor();
    expect(await page.content()).not.toContain(machine.key);
    await expectAccessible(page, 'the machines page');
    await screenshot(page, 'machines');

    // The one answer that handed it out carried it; nothing the page asked for since did.
    const carriers = await responsesWith(alice, machine.key);
    expect(carriers).toHaveLength(1);
    expect(carriers[0]).toMatch(/^201 .*\/api\/machines$/);
    // And it is the machine's: it may ask for work.
    expect((await lease(machine)).status).toBe(204);
  });

  it('lets Alice get a flow ready: her Office 365 connection consented through the page, bound and embedded', async () => {
    const token = await tokenFor(names.alice);
    const created = await call('POST', '/flows', {
      token,
      body: {
        name: 'Payroll',
        schemaVersion: 2,
        definition: { actions: [{ type: 'connector', connectionReference: 'mail', operation: 'SendEmail' }] },
      },
    });
    expect(created.status, created.text).toBe(201);
    flowId = created.body.id;
    flowUrl = `/flows/${encodeURIComponent(flowId)}`;
    for (const [who, role] of [
      [names.bob, 'coOwner'],
      [names.carol, 'user'],
    ] as const) {
      const shared = await call('PUT', `/flows/${flowId}/permissions/${who}`, { token, body: { role } });
      expect(shared.status, shared.text).toBe(201);
    }

    const { page } = alice;
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Connector').selectOption('shared_office365');
    await dialog.getByLabel('Name').fill('Alice mail');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const tab = await continueToProvider(alice);
    await consentAs(tab, names.mail);
    await tab.close();
    await eventually(() => dialog.textContent()).toContain(`connected as ${names.mail}`);
    await dialog.getByRole('button', { name: 'Done' }).click();

    await openFlow(alice);
    await referenceRow(page, 'mail').getByRole('button', { name: 'Bind mail' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Bind', exact: true }).click();
    await eventually(() => referenceRow(page, 'mail').textContent()).toContain('Alice mail');
    await referenceRow(page, 'mail').getByRole('switch').click();
    await eventually(() => page.getByTestId('cloud-startable').textContent()).toBe('Cloud-startable');
    await expect(page.getByRole('table', { name: 'Runs' }).count()).resolves.toBe(0);
    await expect(page.getByText('This flow has not run yet.').isVisible()).resolves.toBe(true);
  });

  it("lets Alice try a read through her reference, with a form made from the operation's parameters", async () => {
    const { page } = alice;
    await tryButton(page, 'mail').click();
    const dialog = page.getByRole('dialog');
    const operation = dialog.getByLabel('Operation');
    const offered = await operation
      .locator('option')
      .evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value));
    // Reads alone: SendEmail is no read.
    expect(offered.sort()).toEqual(['GetMyProfile', 'ListEmails']);

    await operation.selectOption('GetMyProfile');
    await expect(dialog.getByText('It takes no parameters.').isVisible()).resolves.toBe(true);
    await dialog.getByRole('button', { name: 'Run' }).click();
    await eventually(() => dialog.getByTestId('provider-status').textContent()).toBe('200');
    // Through her connection: the provider account she consented as.
    await expect(dialog.getByLabel("The provider's answer").textContent()).resolves.toContain(names.mail);

    await operation.selectOption('ListEmails');
    const top = dialog.getByLabel('top');
    await expect(top.getAttribute('type')).resolves.toBe('number');
    await top.fill('0');
    await dialog.getByRole('button', { name: 'Run' }).click();
    // The provider's own refusal is its answer, shown as it came.
    await eventually(() => dialog.getByTestId('provider-status').textContent()).toBe('400');
    await expect(dialog.getByLabel("The provider's answer").textContent()).resolves.toContain('top must be');
    await top.fill('5');
    await dialog.getByRole('button', { name: 'Run' }).click();
    await eventually(() => dialog.getByTestId('provider-status').textContent()).toBe('200');
    await expect(dialog.getByLabel("The provider's answer").textContent()).resolves.toContain('"value"');
    await expectAccessible(page, 'the try-an-action dialog');
    await screenshot(page, 'try-action');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect(page.getByRole('dialog').count()).resolves.toBe(0);
  });

  it('starts a cloud run from the page; a test machine leases and completes it; its status and results show', async () => {
    const { page } = alice;
    // Inputs are a JSON object: anything else is said on the page, and nothing is asked of the API.
    const before = await listedRuns(page);
    await page.getByLabel('Inputs (JSON, optional)').fill('[1, 2]');
    await page.getByRole('button', { name: 'Start cloud run' }).click();
    await eventually(() => page.getByText('The inputs must be a JSON object').isVisible()).toBe(true);
    await expect(listedRuns(page)).resolves.toEqual(before);

    const runId = await startCloudRun(page, machine.name, '{"invoice": 42}');
    await expect(page.getByRole('status').filter({ hasText: 'A cloud run on' }).textContent()).resolves.toMatch(
      new RegExp(`^A cloud run on ${machine.name} is (queued|dispatched): it shows under Runs\\.$`),
    );
    await expect(statusOf(page, runId)).resolves.toMatch(/^(Queued|Dispatched)$/);
    const leased = await leaseRun(runId);
    expect(leased.inputs).toEqual({ invoice: 42 });
    await eventually(() => statusOf(page, runId)).toBe('Running');

    const done = await complete(runId, leased.token, {
      status: 'Succeeded',
      outputs: { sent: 1, to: 'payroll@example.com' },
      actions: [
        succeeded('Look up'),
        { name: 'Send', status: 'Succeeded', startedAt: new Date().toISOString(), durationMs: 1500 },
      ],
    });
    expect(done.status, done.text).toBe(200);
    await eventually(() => statusOf(page, runId)).toBe('Succeeded');
    const row = runRow(page, runId);
    const text = await row.textContent();
    expect(text).toContain(`${names.alice} (you)`);
    expect(text).toContain('Cloud');
    expect(text).toContain(machine.name);
    expect(text).toContain('2 succeeded');

    await row.getByRole('button', { name: /^Details of the run/ }).click();
    const details = page.locator(`tr[data-run-details="${runId}"]`);
    const results = details.getByRole('table', { name: /^Action results/ });
    await expect(results.locator('tr[data-action="Look up"]').textContent()).resolves.toContain('12 ms');
    await expect(results.locator('tr[data-action="Send"]').textContent()).resolves.toContain('1.5 s');
    await expect(details.getByLabel('Outputs').textContent()).resolves.toContain('"to": "payroll@example.com"');
    await expectAccessible(page, 'the runs of a flow, as its owner');
    await screenshot(page, 'flow-runs');

    // Its own page says the same.
    await row.getByRole('link').click();
    await eventually(() => page.getByRole('heading', { level: 1, name: 'Run of Payroll' }).isVisible()).toBe(true);
    await expect(page.locator('tr[data-action="Send"]').count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: /^Cancel run/ }).count()).resolves.toBe(0);
    await expectAccessible(page, "a run's page");
    await screenshot(page, 'run');
  });

  it('cancels a run from the page: at once before it runs, and at its next heartbeat while it runs', async () => {
    await openFlow(alice);
    const { page } = alice;

    const waiting = await startCloudRun(page, machine.name);
    await runRow(page, waiting)
      .getByRole('button', { name: /^Cancel run/ })
      .click();
    await eventually(() => statusOf(page, waiting)).toBe('Cancelled');
    // Its machine never gets it.
    expect((await lease(machine, 1)).status).toBe(204);

    const running = await startCloudRun(page, machine.name);
    const leased = await leaseRun(running);
    await eventually(() => statusOf(page, running)).toBe('Running');
    await runRow(page, running)
      .getByRole('button', { name: /^Cancel run/ })
      .click();
    await eventually(() => runRow(page, running).textContent()).toContain('cancel requested');
    await expect(
      runRow(page, running)
        .getByRole('button', { name: /^Cancel run/ })
        .count(),
    ).resolves.toBe(0);
    const beat = await heartbeat(running, leased.token);
    expect(beat.body.cancelRequested).toBe(true);
    await complete(running, leased.token, {
      status: 'Succeeded',
      actions: [{ name: 'Send', status: 'Cancelled', startedAt: new Date().toISOString(), durationMs: 3 }],
    });
    await eventually(() => statusOf(page, running)).toBe('Cancelled');
    // Ended: nothing left to cancel.
    await expect(page.getByRole('button', { name: /^Cancel run/ }).count()).resolves.toBe(0);
  });

  it("shows Bob, a co-owner, the runs and lets him try a read through Alice's embedded reference", async () => {
    bob = await signedInConsole(browser, names.bob);
    await openFlow(bob);
    const { page } = bob;
    await eventually(() => runRows(page).count()).toBe(3);
    const newest = runRows(page).first();
    await expect(newest.textContent()).resolves.toContain(names.alice);
    await expect(newest.textContent()).resolves.not.toContain('(you)');
    // Alice's machine is hers alone: Bob learns whose it is, nothing more.
    await expect(newest.textContent()).resolves.toContain(`${names.alice}'s machine`);
    await expect(newest.textContent()).resolves.not.toContain(machine.name);

    await tryButton(page, 'mail').click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.textContent()).resolves.toContain(`${names.alice}'s connection, embedded in this flow`);
    await dialog.getByLabel('Operation').selectOption('GetMyProfile');
    await dialog.getByRole('button', { name: 'Run' }).click();
    await eventually(() => dialog.getByTestId('provider-status').textContent()).toBe('200');
    await expect(dialog.getByLabel("The provider's answer").textContent()).resolves.toContain(names.mail);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expectAccessible(page, "a flow's runs and references, as a co-owner");
  });

  it("tells Bob why he cannot try an action once Alice's reference is not embedded", async () => {
    await openFlow(alice);
    await referenceRow(alice.page, 'mail').getByRole('switch').click();
    await eventually(() => referenceRow(alice.page, 'mail').getByRole('switch').isChecked()).toBe(false);
    // Still hers to try.
    await expect(tryButton(alice.page, 'mail').isEnabled()).resolves.toBe(true);

    await openFlow(bob);
    const { page } = bob;
    await eventually(() => tryButton(page, 'mail').isDisabled()).toBe(true);
    await expect(referenceRow(page, 'mail').textContent()).resolves.toContain(
      `Only ${names.alice}, the reference owner, can try actions through it until they embed it.`,
    );
    // The reason is what the button says to assistive technology, and the keyboard reaches it.
    await expect(tryButton(page, 'mail').getAttribute('aria-describedby')).resolves.toBe('try-why-mail');
    await tryButton(page, 'mail').focus();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('dialog').count()).resolves.toBe(0);
    // And the API refuses it the same way.
    const refused = await call('POST', `/flows/${flowId}/connection-references/mail/calls`, {
      token: await tokenFor(names.bob),
      body: { operationId: 'GetMyProfile' },
    });
    expect(refused.status).toBe(403);
    await expectAccessible(page, 'the disabled try-an-action, as a co-owner');
    await screenshot(page, 'flow-runs-coowner');
  });

  it("shows Carol, a user, no runs, no try-action and no cancel of another's run; she cancels her own", async () => {
    // Alice's run, running on her machine.
    await openFlow(alice);
    await referenceRow(alice.page, 'mail').getByRole('switch').click();
    await eventually(() => alice.page.getByTestId('cloud-startable').textContent()).toBe('Cloud-startable');
    const alicesRun = await startCloudRun(alice.page, machine.name);
    const leased = await leaseRun(alicesRun);

    carol = await signedInConsole(browser, names.carol);
    await openFlow(carol);
    const { page } = carol;
    await referenceRow(page, 'mail').waitFor();
    await expect(page.getByRole('heading', { name: 'Runs' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: /^Try an action/ }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Start cloud run' }).count()).resolves.toBe(0);

    // Alice's run, by its address: its status, and no way to cancel it.
    const own = alicesRun.slice(flowId.length + 1);
    await page.goto(`${flowUrl}/runs/${own}`);
    await eventually(() => page.getByRole('heading', { level: 1, name: 'Run of Payroll' }).isVisible()).toBe(true);
    await eventually(() => page.locator('[data-run-status]').first().getAttribute('data-run-status')).toBe('Running');
    await expect(page.getByRole('button', { name: /^Cancel run/ }).count()).resolves.toBe(0);
    await complete(alicesRun, leased.token, {
      status: 'Succeeded',
      outputs: { secretish: 'payslips' },
      actions: [succeeded()],
    });
    await eventually(() => page.locator('[data-run-status]').first().getAttribute('data-run-status')).toBe('Succeeded');
    // What it did is the initiator's and the makers'.
    await expect(page.getByText('What it did is shown only to').isVisible()).resolves.toBe(true);
    expect(await page.content()).not.toContain('payslips');
    await expectAccessible(page, "another's run, as a user");
    await screenshot(page, 'run-user');

    // Her own attended run (as her console would start it, with her own Office 365 connection): she may cancel it.
    const token = await tokenFor(names.carol);
    const mail = await call('POST', '/connections', {
      token,
      body: { connectorId: 'shared_office365', displayName: 'Carol mail' },
    });
    const consent = await (await signedIn(names.carol)).consent(mail.body.consentUrl, unique('carol-mail'));
    expect(consent.status).toBe(200);
    const started = await call('POST', `/flows/${flowId}/runs`, { token, body: {} });
    expect(started.status, started.text).toBe(201);
    runTokens.push(started.body.token);
    const hers = started.body.run.id as string;
    await page.goto(`${flowUrl}/runs/${hers.slice(flowId.length + 1)}`);
    await eventually(() => page.getByRole('button', { name: /^Cancel run/ }).isVisible()).toBe(true);
    await expect(page.getByText(`${names.carol} (you)`).isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: /^Cancel run/ }).click();
    await eventually(() => page.locator('[data-run-status]').first().textContent()).toContain('cancel requested');
    await complete(hers, started.body.token, { status: 'Succeeded', actions: [] });
    await eventually(() => page.locator('[data-run-status]').first().getAttribute('data-run-status')).toBe('Cancelled');
  });

  it('rotates a machine key from the page (shown once; the old one stops at once), and deletes the machine', async () => {
    const { page } = alice;
    await page.goto('/machines');
    const row = page.locator(`tr[data-machine="${machine.name}"]`);
    await row.getByRole('button', { name: `Rotate key of ${machine.name}` }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.textContent()).resolves.toContain('Its old key stops working at once');
    await expectAccessible(page, 'the rotate-key dialog');
    await dialog.getByRole('button', { name: 'Rotate key' }).click();
    const old = machine.key;
    machine.key = await shownKey(page);
    expect(machine.key).not.toBe(old);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByRole('dialog').count()).resolves.toBe(0);
    expect(await page.content()).not.toContain(machine.key);
    expect((await lease({ key: old })).status).toBe(401);
    expect((await lease(machine)).status).toBe(204);
    const carriers = await responsesWith(alice, machine.key);
    expect(carriers).toHaveLength(1);
    expect(carriers[0]).toMatch(/^200 .*\/api\/machines\/[^/]+\/key$/);

    await row.getByRole('button', { name: `Delete ${machine.name}` }).click();
    await expectAccessible(page, 'the delete-machine dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await eventually(() => row.count()).toBe(0);
    expect((await lease(machine)).status).toBe(401);
  });

  it('can be used with the keyboard alone: register a machine, start and cancel a run, try an action', async () => {
    const { page } = alice;
    await page.goto('/');
    await page.getByRole('heading', { level: 1, name: 'Flows' }).waitFor();

    await tabTo(page, page.getByRole('link', { name: 'Machines' }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('button', { name: 'Register machine' }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('dialog').getByLabel('Name'));
    await page.keyboard.type('Keyboard agent');
    await page.keyboard.press('Enter');
    await shownKey(page);
    await tabTo(page, page.getByRole('dialog').getByRole('button', { name: 'Done' }));
    await page.keyboard.press('Enter');
    await page.locator('tr[data-machine="Keyboard agent"]').waitFor();

    await tabTo(page, page.getByRole('link', { name: 'Flows', exact: true }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('link', { name: 'Payroll' }));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Payroll' }).waitFor();
    await eventually(() => page.getByTestId('cloud-startable').textContent()).toBe('Cloud-startable');

    const before = await listedRuns(page);
    await tabTo(page, page.getByLabel('On my machine'));
    await page.keyboard.type('Keyboard');
    await tabTo(page, page.getByRole('button', { name: 'Start cloud run' }));
    await page.keyboard.press('Enter');
    const runId = await newRun(page, before);
    await expect(runRow(page, runId).textContent()).resolves.toContain('Keyboard agent');
    await tabTo(page, runRow(page, runId).getByRole('button', { name: /^Cancel run/ }));
    await page.keyboard.press('Enter');
    await eventually(() => statusOf(page, runId)).toBe('Cancelled');
    // The cancel button went: the focus stays on the run's row, on its details.
    const details = runRow(page, runId).getByRole('button', { name: /^Details of the run/ });
    await expect(isFocused(details)).resolves.toBe(true);
    await page.keyboard.press('Enter');
    await page.locator(`tr[data-run-details="${runId}"]`).waitFor();

    await tabTo(page, tryButton(page, 'mail'));
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await tabTo(page, dialog.getByLabel('Operation'));
    await page.keyboard.type('Get my');
    await tabTo(page, dialog.getByRole('button', { name: 'Run' }));
    await page.keyboard.press('Enter');
    await eventually(() => dialog.getByTestId('provider-status').textContent()).toBe('200');
    await page.keyboard.press('Escape');
    await eventually(() => page.getByRole('dialog').count()).toBe(0);
  });

  it('never let a machine key, a run token or any issued token reach a page but where the key is handed out', async () => {
    expect(keysShown.length).toBe(3);
    for (const user of [alice, bob, carol]) {
      await user.settled();
      for (const key of keysShown) {
        const carriers = user.received.filter((text) => text.includes(key));
        expect(carriers.length, `${user.name}'s browser and a machine key`).toBeLessThanOrEqual(user === alice ? 1 : 0);
      }
      for (const token of runTokens) {
        expect(
          user.received.some((text) => text.includes(token)),
          `${user.name}'s browser got a run token`,
        ).toBe(false);
      }
    }
    expect(runTokens.length).toBeGreaterThanOrEqual(4);
  });

  it('ran without a script error or a content security policy violation', () => {
    for (const user of [alice, bob, carol]) expect(user.errors, user.name).toEqual([]);
  });
});
