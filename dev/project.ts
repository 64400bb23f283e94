// Where the project's files are, from the source tree or from dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding flowshare's package.json. */
export function projectRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'flowshare'
    ) {
      return dir;
    }
    if (dirname(dir) === dir) throw new Error(`flowshare's package.json not found above ${from}`);
  }
}

/** The git-ignored folder for local state: Azurite data, the dev issuer's key. */
export function localStateDir(root = projectRoot()): string {
  return join(root, '.flowshare');
}

export interface LocalSettings {
  Values?: Record<string, string>;
  Host?: { LocalHttpPort?: number };
}

export function readLocalSettings(root = projectRoot()): LocalSettings {
  const file = join(root, 'local.settings.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalSettings) : {};
}

/**
 * Puts local.settings.json's values into the environment, as Core Tools do:
 * a variable already set wins.
 */
export function applyLocalSettings(settings: LocalSettings, env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(settings.Values ?? {})) {
    if (env[name] === undefined) env[name] = value;
  }
}

export interface HostJson {
  extensions?: {
    http?: { routePrefix?: string };
    queues?: Record<string, unknown>;
  };
}

export function readHostJson(root = projectRoot()): HostJson {
  return JSON.parse(readFileSync(join(root, 'host.json'), 'utf8')) as HostJson;
}
