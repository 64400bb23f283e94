// Where the flowshare command keeps what it must remember (docs/cli.md,
// Files): the user's configuration folder, owner-only. It holds the person's
// own sign-in (their tokens for flowshare's API), never a connection's secret.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The local stack's API, unless --api or FLOWSHARE_API says otherwise. */
export const DEFAULT_API_URL = 'http://localhost:7071/api';

/**
 * The configuration folder: `$XDG_CONFIG_HOME/flowshare`, else
 * `%APPDATA%\flowshare` on Windows, else `~/.config/flowshare`.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'flowshare');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'flowshare');
  return join(env.HOME || homedir(), '.config', 'flowshare');
}

/** The API's base URL as given: `http://host:port` means its `/api`. */
export function apiUrlOf(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const text = given ?? env.FLOWSHARE_API ?? DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--api: "${text}" is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('--api must be an http(s) URL.');
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/api';
  return url.toString().replace(/\/+$/, '');
}

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {}

/** Reads a JSON file of the configuration folder; undefined when there is none. */
export function readConfigFile<T>(name: string): T | undefined {
  try {
    return JSON.parse(readFileSync(join(configDir(), name), 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Writes a file of the configuration folder readable by its owner alone: the
 * folder 0700, the file 0600, written whole to a temporary name and renamed
 * over the old one, so no reader ever sees half of it.
 */
export function writeConfigFile(name: string, text: string): void {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700); // a folder made earlier by something else, more open
  const file = join(dir, name);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

export function removeConfigFile(name: string): void {
  rmSync(join(configDir(), name), { force: true });
}
