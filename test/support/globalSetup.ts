// Starts the local stack once for every integration and end-to-end test: the
// compiled functions on the plain-Node host, a real in-memory Azurite and the
// local OpenID issuer and providers, all on free ports, in a child process as `npm start`
// runs them. Its output goes to test/.logs/ so tests can search it. When the
// run ends, every response, log line and console line is searched for every
// secret (test/support/secrets.ts); a hit fails the run.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startStackProcess, type StackProcess } from '../../dev/stackProcess';
import { clearRecords, LOG_DIR, scanForSecrets } from './secrets';

const root = resolve(__dirname, '../..');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The host serves dist/, so the tests always run against freshly built code:
  // the production build and, on top of it, the local host in dist/dev/.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.dev.json', '--force'], {
    cwd: root,
    stdio: 'inherit',
  });
  // The flowshare command (console/), on that production build: the tests run its launcher.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.console.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  // The web console the host serves at the root (npm run build:web).
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.mts', '--logLevel', 'warn'],
    { cwd: root, stdio: 'inherit' },
  );
  clearRecords();
  const stateDir = mkdtempSync(join(tmpdir(), 'flowshare-test-'));
  const logFile = join(LOG_DIR, 'stack.log');
  const log = createWriteStream(logFile);
  let stack: StackProcess;
  try {
    stack = await startStackProcess({ root, stateDir, log });
  } catch (error) {
    log.end();
    throw error;
  }
  const { apiUrl } = stack.info;
  if (!apiUrl) throw new Error('the local stack started without its functions');
  project.provide('stack', { ...stack.info, apiUrl, stateDir, logFile });
  return async () => {
    try {
      // Asked before the issuer and the providers stop with the stack.
      const issued = await Promise.all([
        issuedTokens(stack.info.issuerUrl),
        providerCredentials(stack.info.providersUrl),
      ])
        .then((lists) => lists.flat())
        .catch((error: unknown) => {
          const stopped = readFileSync(logFile, 'utf8').includes('stopping the local stack');
          return new Error(
            `The issuer and the providers could not be asked for the credentials they issued and received${stopped ? ' (the stack had been stopped from outside)' : ''}, so they were not searched for: ${String(error)}`,
          );
        });
      await stack.stop();
      log.end();
      await finished(log);
      rmSync(stateDir, { recursive: true, force: true });
      const scan = scanForSecrets(issued instanceof Error ? [] : issued);
      if (scan.hits.length > 0) {
        const more = scan.hits.length > 20 ? [`and ${scan.hits.length - 20} more`] : [];
        throw new Error(`A secret leaked:\n  ${[...scan.hits.slice(0, 20), ...more].join('\n  ')}`);
      }
      if (issued instanceof Error) throw issued;
      console.log(`Secret scan: ${scan.secrets} secrets, none in ${scan.texts} responses and logs.`);
    } catch (error) {
      // vitest prints a teardown's error but exits 0 for it: this makes the run fail.
      process.exitCode = 1;
      throw error;
    }
  };
}

async function issuedTokens(issuerUrl: string): Promise<{ what: string; value: string }[]> {
  const response = await fetch(`${issuerUrl}/dev/tokens`);
  if (!response.ok) throw new Error(`the issuer's /dev/tokens answered ${response.status}`);
  const { tokens } = (await response.json()) as { tokens: string[] };
  return tokens.map((value) => ({ what: 'a token the issuer issued', value }));
}

/** Every API key the local providers issued or received, and every bearer token they received. */
async function providerCredentials(providersUrl: string): Promise<{ what: string; value: string }[]> {
  const response = await fetch(`${providersUrl}/dev/credentials`);
  if (!response.ok) throw new Error(`the providers' /dev/credentials answered ${response.status}`);
  const { apiKeys, tokens } = (await response.json()) as { apiKeys: string[]; tokens: string[] };
  return [
    ...apiKeys.map((value) => ({ what: 'an API key a local provider issued or received', value })),
    ...tokens.map((value) => ({ what: 'a bearer token a local provider received', value })),
  ];
}
