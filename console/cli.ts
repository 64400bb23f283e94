// The `flowshare` command (docs/cli.md): sign in, list flows and connections,
// add a connection, run a shared flow on this machine with the connections
// you bring, and run an unattended machine's agent. It talks to the service
// over HTTP only.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { runAgent } from './agent';
import { apiClient, ApiProblem, ServiceUnreachable, type Api } from './api';
import { authorityOf, entraSignIn, isEntraAuthority } from './auth/entra';
import { NotSignedIn } from './auth/errors';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, localSignIn } from './auth/local';
import { personCredential, saveSession, signOut } from './auth/session';
import { apiUrlOf, UsageError } from './config';
import { addConnection, ConsentFailed, connectors, listConnections, printConnections } from './commands/connections';
import { listFlows, runFlow } from './commands/run';
import { EXIT } from './exitCodes';
import { output, table } from './output';

/** flowshare's version, from its package.json above this file (built or not). */
function packageVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'flowshare' && manifest.version) return manifest.version;
    } catch {
      // not here: one folder up
    }
  }
  return 'unknown';
}

interface Globals {
  api?: string;
}

function program(): { command: Command; exitCode: () => number } {
  let exitCode: number = EXIT.ok;
  const command = new Command('flowshare')
    .description('Run shared desktop flows on this machine with your own connections, and run an unattended machine.')
    .addOption(new Option('--api <url>', 'the flowshare API (default: the local stack)').env('FLOWSHARE_API'))
    .version(packageVersion(), '--version', 'the version of flowshare')
    .showHelpAfterError('(flowshare --help shows how to use it)')
    .exitOverride();
  const apiOf = () => apiUrlOf((command.opts() as Globals).api);
  const person = (): { api: Api; apiUrl: string } => {
    const apiUrl = apiOf();
    return { api: apiClient(apiUrl, personCredential(apiUrl)), apiUrl };
  };

  command
    .command('login')
    .description('sign in: to the local stack as --user, or to Entra ID (or --authority) with the device code flow')
    .option('--user <id>', 'local stack: the user to sign in as')
    .option('--issuer <url>', 'local stack: its OpenID issuer', LOCAL_ISSUER)
    .option('--audience <uri>', "local stack: the API's audience", LOCAL_AUDIENCE)
    .addOption(new Option('--tenant <id>', 'Entra ID: your directory (tenant) id').env('FLOWSHARE_TENANT_ID'))
    .addOption(new Option('--client-id <id>', "Entra ID: the flowshare command's app id").env('FLOWSHARE_CLIENT_ID'))
    .addOption(new Option('--scope <scope>', "Entra ID: the API's scope").env('FLOWSHARE_SCOPE'))
    .addOption(
      new Option(
        '--authority <url>',
        "Entra ID's cloud (default https://login.microsoftonline.com), or another OpenID Connect authority",
      ).env('FLOWSHARE_AUTHORITY'),
    )
    .action(
      async (o: {
        user?: string;
        issuer: string;
        audience: string;
        tenant?: string;
        clientId?: string;
        scope?: string;
        authority?: string;
      }) => {
        const apiUrl = apiOf();
        const out = output(false);
        if (o.user !== undefined) {
          saveSession(apiUrl, await localSignIn(o.issuer, o.audience, o.user));
          out.line(`Signed in to ${apiUrl} as ${o.user}.`);
          return;
        }
        const authority = authorityOf(o.authority);
        // Another authority than Entra ID has no directory to name.
        const tenant = o.tenant ?? (isEntraAuthority(authority) ? undefined : '');
        if (tenant === undefined || !o.clientId || !o.scope) {
          throw new UsageError(
            'login takes --user <id> (local stack), or --tenant, --client-id and --scope (Entra ID; --authority for another cloud or authority).',
          );
        }
        const session = await entraSignIn(
          { clientId: o.clientId, authority, ...(tenant ? { tenantId: tenant } : {}) },
          o.scope,
          (message) => out.line(message),
        );
        saveSession(apiUrl, session);
        out.line(`Signed in to ${apiUrl}${session.username ? ` as ${session.username}` : ''}.`);
      },
    );

  command
    .command('logout')
    .description('forget your sign-in to this API')
    .action(async () => {
      const apiUrl = apiOf();
      output(false).line((await signOut(apiUrl)) ? `Signed out of ${apiUrl}.` : `You were not signed in to ${apiUrl}.`);
    });

  command
    .command('flows')
    .description('the flows you own or that are shared with you')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const out = output(Boolean(o.json));
      const flows = await listFlows(person().api);
      if (out.json) return out.result({ value: flows });
      if (flows.length === 0) return out.line('No flows are yours or shared with you.');
      out.line(
        table(
          ['NAME', 'ROLE', 'SCHEMA', 'ID'],
          flows.map((f) => [f.name, f.role, `v${f.schemaVersion}`, f.id]),
        ),
      );
    });

  command
    .command('connectors')
    .description('the connectors you may make connections of')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const out = output(Boolean(o.json));
      const list = await connectors(person().api);
      if (out.json) return out.result({ value: list });
      out.line(
        table(
          ['ID', 'NAME', 'AUTH'],
          list.map((c) => [c.id, c.displayName, c.authType]),
        ),
      );
    });

  const connections = command
    .command('connections')
    .description('your connections; `connections add <connector>` makes one')
    .option('--connector <id>', "only this connector's")
    .option('--json', 'print JSON')
    .action(async (o: { connector?: string; json?: boolean }) => {
      printConnections(output(Boolean(o.json)), await listConnections(person().api, o.connector));
    });
  connections
    .command('add <connector>')
    .description('make a connection: an API key is read without echo; an OAuth connection waits for your consent')
    .option('--name <name>', 'its display name')
    .option('--wait-seconds <s>', 'how long to wait for an OAuth consent', toInteger('--wait-seconds', 1), 600)
    .option('--json', 'print JSON')
    .action(async (connectorId: string, o: { name?: string; waitSeconds: number; json?: boolean }) => {
      const out = output(Boolean(o.json));
      const interactive = Boolean(process.stdin.isTTY && out.stream.isTTY);
      const created = await addConnection(person().api, out, connectorId, {
        interactive,
        waitSeconds: o.waitSeconds,
        ...(o.name ? { displayName: o.name } : {}),
      });
      if (out.json) out.result(created);
    });

  command
    .command('run <flow>')
    .description('run a flow (its id or name) on this machine with your connections')
    .option('--input <name=value>', "one of the flow's inputs (repeatable)", collect, [])
    .option('--connection <reference=connectionId>', 'the connection for a reference (repeatable)', collect, [])
    .option('--yes', 'ask nothing: take the default connection of each reference')
    .option('--json', 'print the result as JSON (the lines go to stderr)')
    .action(async (flow: string, o: { input: string[]; connection: string[]; yes?: boolean; json?: boolean }) => {
      const { api, apiUrl } = person();
      exitCode = await runFlow(api, apiUrl, output(Boolean(o.json)), flow, {
        input: o.input,
        connection: o.connection,
        yes: Boolean(o.yes),
        json: Boolean(o.json),
      });
    });

  command
    .command('agent')
    .description("run this machine's cloud runs: lease, execute, report; SIGTERM stops it cleanly")
    .requiredOption('--machine-key-file <file>', 'the file holding the machine key (POST /api/machines)')
    .option('--concurrency <n>', 'runs at a time', toInteger('--concurrency', 1, 32), 1)
    .option(
      '--grace-seconds <s>',
      'after SIGTERM, how long runs in hand may go on',
      toInteger('--grace-seconds', 0),
      30,
    )
    .option('--wait-seconds <s>', 'how long each lease request waits for a run', toInteger('--wait-seconds', 0, 30), 20)
    .option(
      '--heartbeat-seconds <s>',
      "how often a run's lease is renewed and a cancellation heard (default: a third of the lease)",
      toInteger('--heartbeat-seconds', 1),
    )
    .action(
      async (o: {
        machineKeyFile: string;
        concurrency: number;
        graceSeconds: number;
        waitSeconds: number;
        heartbeatSeconds?: number;
      }) => {
        exitCode = await runAgent({
          apiUrl: apiOf(),
          keyFile: o.machineKeyFile,
          concurrency: o.concurrency,
          graceSeconds: o.graceSeconds,
          waitSeconds: o.waitSeconds,
          ...(o.heartbeatSeconds ? { heartbeatSeconds: o.heartbeatSeconds } : {}),
        });
      },
    );

  return { command, exitCode: () => exitCode };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function toInteger(option: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`${option} must be a whole number from ${min}.`);
    return n;
  };
}

/** Which exit code an error ends the command with (docs/cli.md, Exit codes). */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof NotSignedIn) return error.unreachable ? EXIT.unreachable : EXIT.auth;
  if (error instanceof ApiProblem)
    return error.status === 401 ? EXIT.auth : error.transient ? EXIT.unreachable : EXIT.failed;
  if (error instanceof ServiceUnreachable) return EXIT.unreachable;
  // Ctrl-C at a prompt (@inquirer's ExitPromptError).
  if ((error as Error)?.name === 'ExitPromptError') return EXIT.cancelled;
  if (error instanceof ConsentFailed) return EXIT.failed;
  if ((error as Error)?.name === 'AbortError') return EXIT.cancelled;
  return EXIT.failed;
}

export async function main(argv: string[]): Promise<number> {
  const { command, exitCode } = program();
  try {
    await command.parseAsync(argv);
    return exitCode();
  } catch (error) {
    const code = exitCodeOf(error);
    // Commander has already said what was wrong with the arguments.
    if (!(error instanceof CommanderError)) {
      const message =
        error instanceof ApiProblem && error.status === 401
          ? 'The service refused your sign-in: run flowshare login.'
          : messageOf(error);
      process.stderr.write(`flowshare: ${code === EXIT.cancelled ? 'stopped.' : message}\n`);
    }
    return code;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
