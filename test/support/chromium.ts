// Debian's Chromium driven by playwright-core, for the web console's tests.
// `.ci/run` installs it when missing; CHROMIUM_PATH names another. It starts
// headless (playwright adds --headless) with a fresh profile (playwright makes
// a new --user-data-dir for every launch and deletes it after), and without
// the background traffic (updates, sync, QUIC probes) that would try to reach
// the internet, which tests never do.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export async function launchChromium(): Promise<Browser> {
  if (!chromiumInstalled()) {
    throw new Error(`Chromium is not at ${CHROMIUM_PATH}: apt-get install chromium, or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
