// Starts the local stack once for every integration and end-to-end test: the
// compiled functions on the plain-Node host, a real in-memory Azurite and the
// local OpenID issuer, all on free ports, in a child process as `npm start`
// runs them. Its output goes to test/.logs/ so tests can search it.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startStackProcess, type StackProcess } from '../../dev/stackProcess';

const root = resolve(__dirname, '../..');
export const LOG_DIR = join(root, 'test', '.logs');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The host serves dist/, so the tests always run against freshly built code:
  // the production build and, on top of it, the local host in dist/dev/.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.dev.json', '--force'], {
    cwd: root,
    stdio: 'inherit',
  });
  mkdirSync(LOG_DIR, { recursive: true });
  const stateDir = mkdtempSync(join(tmpdir(), 'flowshare-test-'));
  const log = createWriteStream(join(LOG_DIR, 'stack.log'));
  let stack: StackProcess;
  try {
    stack = await startStackProcess({ root, stateDir, log });
  } catch (error) {
    log.end();
    throw error;
  }
  const { apiUrl } = stack.info;
  if (!apiUrl) throw new Error('the local stack started without its functions');
  project.provide('stack', { ...stack.info, apiUrl, stateDir, logFile: join(LOG_DIR, 'stack.log') });
  return async () => {
    await stack.stop();
    log.end();
    rmSync(stateDir, { recursive: true, force: true });
  };
}
