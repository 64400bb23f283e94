// `npm run token -- --user <id> [--tenant <id>]`: prints only a bearer token
// the local stack accepts, signed with the local issuer's key (created here if
// the stack has not run yet, and picked up by the stack when it starts).
//
//   --state-dir <dir>   the stack's state folder (default .flowshare)
//   --expires-in <s>    lifetime in seconds (default 3600)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ID_PATTERN } from '../lib/domain/limits';
import { loadOrCreateSigningKey, mintToken } from './issuer';
import { localStateDir, projectRoot, readLocalSettings } from './project';
import { ISSUER_KEY_FILE, STACK_INFO_FILE, type StackInfo } from './stack';

function runningStack(stateDir: string): StackInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(stateDir, STACK_INFO_FILE), 'utf8')) as StackInfo;
    process.kill(info.pid, 0); // throws when that process is gone
    return info;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      user: { type: 'string' },
      tenant: { type: 'string' },
      'state-dir': { type: 'string' },
      'expires-in': { type: 'string', default: '3600' },
    },
  });
  if (!values.user || !ID_PATTERN.test(values.user)) {
    throw new Error('usage: npm run token -- --user <id> [--tenant <id>]  (ids: letters, digits, "-", "_", ".")');
  }
  if (values.tenant !== undefined && !ID_PATTERN.test(values.tenant)) throw new Error('--tenant must be an id');
  const expiresInSeconds = Number(values['expires-in']);
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1) throw new Error('--expires-in must be seconds');

  const root = projectRoot();
  const stateDir = values['state-dir'] ?? localStateDir(root);
  const settings = readLocalSettings(root).Values ?? {};
  // A running stack knows its issuer URL (its port may not be the default).
  const stack = runningStack(stateDir);
  const issuer = stack?.issuerUrl ?? process.env.AUTH_ISSUER ?? settings.AUTH_ISSUER ?? 'http://localhost:7072';
  const audience =
    stack?.audience ?? (process.env.AUTH_AUDIENCE ?? settings.AUTH_AUDIENCE ?? 'api://flowshare').split(',')[0]!;

  const key = await loadOrCreateSigningKey(join(stateDir, ISSUER_KEY_FILE));
  const token = await mintToken(key, {
    issuer: issuer.split(',')[0]!.trim(),
    audience: audience.trim(),
    user: values.user,
    tenant: values.tenant,
    expiresInSeconds,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
