// `npm start`: the local stack in one command. Ctrl-C stops all of it.
import { parseArgs } from 'node:util';
import type { LogLevel } from './functionsCore';
import { DEV_TENANT_ID } from './issuer';
import { localStateDir, projectRoot, readLocalSettings } from './project';
import { startStack } from './stack';

const USAGE = `npm start -- [flags]
  --port <n>          functions (default 7071, or local.settings.json Host.LocalHttpPort)
  --issuer-port <n>   local OpenID issuer (default 7072)
  --providers-port <n>  local provider APIs of the development connectors (default 7073)
  --blob-port, --queue-port, --table-port <n>   Azurite (default 10000, 10001, 10002)
  --in-memory         keep storage in memory instead of under .flowshare/azurite
  --state-dir <dir>   where local state lives (default .flowshare)
  --no-functions      only storage and the issuer, for \`func start\` to use
  --log-level <l>     trace, debug, information (default), warning, error
Port 0 picks a free port.`;

const LEVELS: LogLevel[] = ['trace', 'debug', 'information', 'warning', 'error', 'critical'];

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number, not "${value}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'issuer-port': { type: 'string' },
      'providers-port': { type: 'string' },
      'blob-port': { type: 'string' },
      'queue-port': { type: 'string' },
      'table-port': { type: 'string' },
      'in-memory': { type: 'boolean', default: false },
      'state-dir': { type: 'string' },
      'no-functions': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'information' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const root = projectRoot();
  const settings = readLocalSettings(root);
  const minLevel = LEVELS.indexOf(values['log-level'] as LogLevel);
  if (minLevel < 0) throw new Error(`--log-level must be one of ${LEVELS.join(', ')}`);

  const log = (level: LogLevel, message: string) => {
    if (LEVELS.indexOf(level) < minLevel) return;
    const line = `${new Date().toISOString()} ${level.padEnd(11)} ${message}`;
    if (level === 'error' || level === 'critical' || level === 'warning') console.error(line);
    else console.log(line);
  };

  const stack = await startStack({
    root,
    stateDir: values['state-dir'] ?? localStateDir(root),
    inMemory: values['in-memory'],
    httpPort: port(values.port, settings.Host?.LocalHttpPort ?? 7071, 'port'),
    issuerPort: port(values['issuer-port'], 7072, 'issuer-port'),
    providersPort: port(values['providers-port'], 7073, 'providers-port'),
    storagePorts: {
      blob: port(values['blob-port'], 10000, 'blob-port'),
      queue: port(values['queue-port'], 10001, 'queue-port'),
      table: port(values['table-port'], 10002, 'table-port'),
    },
    functions: !values['no-functions'],
    log,
  });

  const { info } = stack;
  const banner = [
    '',
    'flowshare local stack is running',
    ...(info.siteUrl ? [`  console     ${info.siteUrl}/   (sign in as any user name)`] : []),
    ...(info.apiUrl ? [`  functions   ${info.apiUrl}   (health: ${info.apiUrl}/health)`] : []),
    `  issuer      ${info.issuerUrl}   (OpenID configuration: ${info.issuerUrl}/.well-known/openid-configuration)`,
    `  providers   ${info.providersUrl}   (what they received: ${info.providersUrl}/dev/received)`,
    `  storage     Azurite blob ${info.storagePorts.blob}, queue ${info.storagePorts.queue}, table ${info.storagePorts.table}` +
      (values['in-memory'] ? ' (in memory)' : ' (data kept in .flowshare/azurite)'),
    ...(info.apiUrl ? [`  functions   ${info.functions.length} loaded: ${info.functions.join(', ')}`] : []),
    '',
    'Get a token (tenant defaults to ' + DEV_TENANT_ID + '):',
    '  TOKEN=$(npm run --silent token -- --user alice)',
    ...(info.apiUrl ? [`  curl -H "Authorization: Bearer $TOKEN" ${info.apiUrl}/flows`] : []),
    '',
    'Press Ctrl-C to stop.',
    '',
  ];
  console.log(banner.join('\n'));

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack...`);
    void stack.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`flowshare could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
