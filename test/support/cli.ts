// The flowshare command as people and machines run it: the built launcher
// (console/bin/flowshare.cjs) in a child process, with pipes or in a real
// pseudo-terminal (node-pty), its configuration folder in a temporary home.
// Everything it prints goes to test/.logs/ so the suite-wide secret scan
// searches it; the files it writes can be searched for connection secrets.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn as spawnPty, type IPty } from 'node-pty';
import { afterAll, expect } from 'vitest';
import { LOG_DIR } from './secrets';
import { stack, testName } from './stack';

const root = resolve(__dirname, '../..');
export const LAUNCHER = join(root, 'console/bin/flowshare.cjs');

const homes: string[] = [];

/** A person's (or a machine's) own home: its configuration folder is theirs alone. Removed after the file's tests. */
export function tempHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'flowshare-home-'));
  homes.push(home);
  return home;
}

afterAll(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function environment(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    // The test process's own settings (the stack's, vitest's) are not the command's business.
    if (value !== undefined && !/^(FLOWSHARE_|VITEST|AUTH_|AzureWebJobs)/.test(name)) env[name] = value;
  }
  return { ...env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), FLOWSHARE_API: stack().apiUrl, ...extra };
}

/** What the command printed, kept for the secret scan. */
function keep(args: string[], text: string): void {
  mkdirSync(LOG_DIR, { recursive: true });
  appendFileSync(join(LOG_DIR, `cli-${process.pid}.log`), `--- ${testName()}: flowshare ${args.join(' ')}\n${text}\n`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  home: string;
  env?: Record<string, string>;
  /** Written to its standard input, which then closes. */
  stdin?: string;
}

/** A running command with pipes: its output so far, a wait for a line, its end. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly ended: Promise<CliResult>;

  constructor(
    readonly args: string[],
    readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.ended = new Promise((resolveEnd) =>
      child.once('close', (code, signal) => {
        keep(args, `${this.stdout}\n[stderr]\n${this.stderr}\n[exit ${code ?? signal}]`);
        resolveEnd({ code, signal, stdout: this.stdout, stderr: this.stderr });
      }),
    );
  }

  /** Waits until stdout and stderr together match. */
  async waitFor(pattern: RegExp, seconds = 20): Promise<void> {
    await expect.poll(() => `${this.stdout}${this.stderr}`, { timeout: seconds * 1000, interval: 50 }).toMatch(pattern);
  }
}

export function startCli(args: string[], options: CliOptions): CliProcess {
  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    env: environment(options.home, options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (options.stdin !== undefined) child.stdin!.write(options.stdin);
  child.stdin!.end();
  return new CliProcess(args, child);
}

export function cli(args: string[], options: CliOptions): Promise<CliResult> {
  return startCli(args, options).ended;
}

/** Signs `user` in at the local stack, as `flowshare login --user` does. */
export async function login(home: string, user: string): Promise<void> {
  const { issuerUrl, audience } = stack();
  const result = await cli(['login', '--user', user, '--issuer', issuerUrl, '--audience', audience], { home });
  expect(result.code, result.stderr).toBe(0);
}

// eslint-disable-next-line no-control-regex -- terminal escape sequences are control characters
const ESCAPES = /\u001b\[[0-9;?]*[A-Za-z]|\u001b[()][A-Z0-9]|\r/g;

/** The command in a pseudo-terminal, as a person at a terminal runs it. */
export class Terminal {
  private raw = '';
  readonly ended: Promise<number>;
  private readonly pty: IPty;

  constructor(
    readonly args: string[],
    home: string,
    env: Record<string, string> = {},
  ) {
    this.pty = spawnPty(process.execPath, [LAUNCHER, ...args], {
      name: 'xterm',
      cols: 160,
      rows: 50,
      env: environment(home, { TERM: 'xterm', ...env }),
    });
    this.pty.onData((data) => (this.raw += data));
    this.ended = new Promise((resolveEnd) =>
      this.pty.onExit(({ exitCode }) => {
        keep(args, `${this.raw}\n[exit ${exitCode}]`);
        resolveEnd(exitCode);
      }),
    );
  }

  /** What the screen showed, escape sequences removed. */
  get text(): string {
    return this.raw.replace(ESCAPES, '');
  }

  /** Everything it wrote to the terminal, as it came. */
  get written(): string {
    return this.raw;
  }

  async waitFor(pattern: RegExp, seconds = 20): Promise<void> {
    await expect.poll(() => this.text, { timeout: seconds * 1000, interval: 50 }).toMatch(pattern);
  }

  /** Types keys: `\r` is Enter, `\u001b[B` the down arrow, `\u0003` Ctrl-C. */
  type(keys: string): void {
    this.pty.write(keys);
  }
}

export const KEYS = { enter: '\r', down: '\u001b[B', ctrlC: '\u0003' } as const;

/** Every file under a folder, with its text. */
export function filesUnder(dir: string): Array<{ path: string; text: string; mode: number }> {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path, text: readFileSync(path, 'utf8'), mode: statSync(path).mode };
    });
}

/** Every key and token the local providers issued or received: connection secrets, none of which may reach a console. */
export async function connectionSecrets(): Promise<string[]> {
  const response = await fetch(`${stack().providersUrl}/dev/credentials`);
  const { apiKeys, tokens } = (await response.json()) as { apiKeys: string[]; tokens: string[] };
  return [...apiKeys, ...tokens].filter((secret) => secret.length >= 8);
}

/** Asserts that no connection secret is in any of these texts; answers how many secrets were searched for. */
export async function expectNoConnectionSecret(texts: Array<{ where: string; text: string }>): Promise<number> {
  const secrets = await connectionSecrets();
  const hits = secrets.flatMap((secret) => {
    const needle = secret.split('.').length === 3 ? secret.split('.')[2]! : secret;
    return texts.filter((t) => t.text.includes(needle)).map((t) => `${secret.slice(0, 6)}… in ${t.where}`);
  });
  expect(hits).toEqual([]);
  return secrets.length;
}
