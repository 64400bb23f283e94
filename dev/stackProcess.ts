// Runs `node dist/dev/start.js` on free ports as a child process (for
// tests and benchmarks)
// and waits until it has written its stack.json.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StackInfo } from './stack';

export interface StackProcess {
  info: StackInfo;
  stop(): Promise<void>;
}

export async function startStackProcess(options: {
  root: string;
  stateDir: string;
  log: Writable;
  extraEnv?: Record<string, string>;
  logLevel?: string;
  /** Flags for the stack's own node process (e.g. `--cpu-prof`); not passed on to Azurite. */
  nodeArgs?: string[];
}): Promise<StackProcess> {
  const args = [
    ...(options.nodeArgs ?? []),
    join(options.root, 'dist/dev/start.js'),
    '--in-memory',
    '--state-dir',
    options.stateDir,
    '--log-level',
    options.logLevel ?? 'trace',
    ...['--port', '--issuer-port', '--providers-port', '--blob-port', '--queue-port', '--table-port'].flatMap(
      (flag) => [flag, '0'],
    ),
  ];
  const child = spawn(process.execPath, args, {
    cwd: options.root,
    env: { ...process.env, ...options.extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(options.log, { end: false });
  child.stderr.pipe(options.log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const infoFile = join(options.stateDir, 'stack.json');
  const deadline = Date.now() + 60_000;
  while (!existsSync(infoFile)) {
    if (child.exitCode !== null) throw new Error(`the local stack exited with ${child.exitCode}; see its log`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the local stack did not start within 60 s');
    }
    await sleep(50);
  }
  const info = JSON.parse(readFileSync(infoFile, 'utf8')) as StackInfo;
  return {
    info,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
