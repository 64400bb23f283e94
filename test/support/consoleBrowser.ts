// People using the web console in Chromium: one browser context (cookies,
// storage) per person, every response it receives kept (for the no-token
// checks) and recorded for the suite-wide secret scan, what the page logs
// as errors collected, and the checks every page gets: an accessibility scan
// (axe-core) and a screenshot.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { recordReceived } from './secrets';
import { stack, testName } from './stack';

export const SCREENSHOT_DIR = join(__dirname, '..', '.screenshots');

/** What a page shows once it has caught up: polled, for longer than expect.poll's second, as the machine may be busy. */
export function eventually<T>(read: () => T | Promise<T>) {
  return expect.poll(read, { timeout: 15_000, interval: 100 });
}

export function siteUrl(): string {
  return new URL(stack().apiUrl).origin;
}

export interface ConsoleUser {
  name: string;
  context: BrowserContext;
  page: Page;
  /** Every response this browser received: URL, status, headers and body. */
  received: string[];
  /** What its pages logged as errors (CSP violations among them). */
  errors: string[];
  /** Resolves once every response received so far has been kept and recorded. */
  settled(): Promise<void>;
}

export async function openConsole(browser: Browser, name: string): Promise<ConsoleUser> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: siteUrl() });
  const received: string[] = [];
  const errors: string[] = [];
  const pending = new Set<Promise<void>>();
  context.on('response', (response) => {
    const keeping = (async () => {
      const headers = new Headers();
      for (const { name, value } of await response.headersArray()) headers.append(name, value);
      // Redirects have no body to read.
      const body = await response.text().catch(() => '');
      received.push(`${response.status()} ${response.url()}\n${JSON.stringify([...headers])}\n${body}`);
      recordReceived(
        `${testName()}: ${response.request().method()} ${response.url()} ${response.status()} (chromium)`,
        headers,
        body,
      );
    })();
    pending.add(keeping);
    void keeping.finally(() => pending.delete(keeping));
  });
  context.on('page', (page) => watch(page, errors));
  const page = await context.newPage();
  const settled = async () => {
    await Promise.allSettled([...pending]);
  };
  return { name, context, page, received, errors, settled };
}

function watch(page: Page, errors: string[]): void {
  page.on('console', (message) => {
    // The browser logs every answer of 400 or more; the tests check those answers themselves.
    if (message.type() === 'error' && !/^Failed to load resource: the server responded/.test(message.text())) {
      errors.push(message.text());
    }
  });
  page.on('pageerror', (error) => errors.push(error.message));
}

/** Signs in through the console's button and the local issuer's sign-in page. */
export async function signIn(user: ConsoleUser): Promise<void> {
  const { page } = user;
  await page.goto('/');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('User').fill(user.name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await eventually(() => page.getByRole('heading', { level: 1, name: 'Flows' }).isVisible()).toBe(true);
}

export async function signedInConsole(browser: Browser, name: string): Promise<ConsoleUser> {
  const user = await openConsole(browser, name);
  await signIn(user);
  return user;
}

/** No serious or critical accessibility violation on the page as it is now. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  // Colours are judged once the page has settled (a dialog fades in).
  await page.evaluate('Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined)))');
  // Evaluated through the debugging protocol, which the page's CSP does not govern.
  await page.evaluate(axe.source);
  const violations = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`,
  )) as { id: string; impact: string; help: string; nodes: string[] }[];
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${what}: accessibility violations`).toEqual([]);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Whether the element has the keyboard focus. */
export function isFocused(target: Locator): Promise<boolean> {
  return target.evaluate((element: unknown) => {
    const node = element as { ownerDocument: { activeElement: unknown } };
    return node.ownerDocument.activeElement === element;
  });
}

/** Presses Tab until `target` has the focus: it can be reached with the keyboard alone. */
export async function tabTo(page: Page, target: Locator, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await isFocused(target)) return;
  }
  throw new Error(`Tab never reached ${String(target)}`);
}

/** Opens the consent link of the dialog in a new tab, and continues to the provider from flowshare's consent page. */
export async function continueToProvider(user: ConsoleUser): Promise<Page> {
  const link = user.page.getByRole('link', { name: /^Continue to Office 365 Outlook/ });
  const [tab] = await Promise.all([user.context.waitForEvent('page'), link.click()]);
  await tab.getByRole('button', { name: 'Continue to Office 365 Outlook' }).click();
  await tab.getByLabel('User').waitFor();
  return tab;
}

/** At the provider's sign-in page: who consents; waits for the page the browser ends on. */
export async function consentAs(tab: Page, providerUser: string): Promise<void> {
  await tab.getByLabel('User').fill(providerUser);
  await tab.getByRole('button', { name: 'Sign in' }).click();
  await tab.getByRole('heading', { level: 1 }).waitFor();
}
