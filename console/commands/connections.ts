// `flowshare connections`, `flowshare connections add <connector>` and
// `flowshare connectors` (docs/cli.md). An API key is read without echo; an
// OAuth connection's consent link is shown, and the command waits until its
// owner has consented in their browser.
import { input, password } from '@inquirer/prompts';
import { setTimeout as sleep } from 'node:timers/promises';
import { body, type Api, type Connection, type Connector } from '../api';
import { UsageError } from '../config';
import { table, type Output } from '../output';

export async function connectors(api: Api): Promise<Connector[]> {
  return (await body(api.GET('/connectors'))).value;
}

export async function listConnections(api: Api, connectorId?: string): Promise<Connection[]> {
  const all: Connection[] = [];
  let token: string | undefined;
  do {
    const page = await body(
      api.GET('/connections', {
        params: {
          query: { top: 100, ...(connectorId ? { connectorId } : {}), ...(token ? { continuationToken: token } : {}) },
        },
      }),
    );
    all.push(...page.value);
    token = page.nextLink
      ? (new URL(page.nextLink, 'http://x').searchParams.get('continuationToken') ?? undefined)
      : undefined;
  } while (token);
  return all;
}

export function printConnections(out: Output, connections: Connection[]): void {
  if (out.json) return out.result({ value: connections });
  if (connections.length === 0)
    return out.line('You have no connections. Add one: flowshare connections add <connector>');
  out.line(
    table(
      ['NAME', 'CONNECTOR', 'STATUS', 'ID'],
      connections.map((c) => [
        c.displayName,
        c.connectorId,
        c.status + (c.statusReason ? ` (${c.statusReason})` : ''),
        c.id,
      ]),
    ),
  );
}

export interface AddOptions {
  displayName?: string;
  /** Prompts may be asked: a terminal, and not --yes. */
  interactive: boolean;
  /** How long to wait for an OAuth consent, in seconds. */
  waitSeconds?: number;
  signal?: AbortSignal;
}

/** Creates a connection of the caller's: the key asked for without echo, or the consent waited for. */
export async function addConnection(
  api: Api,
  out: Output,
  connectorId: string,
  options: AddOptions,
): Promise<Connection> {
  const connector = (await connectors(api)).find((c) => c.id === connectorId);
  if (!connector) throw new UsageError(`There is no connector ${connectorId}: see flowshare connectors.`);
  const context = { output: out.stream, ...(options.signal ? { signal: options.signal } : {}) };
  const displayName =
    options.displayName ??
    (options.interactive
      ? await input(
          { message: `A name for your ${connector.displayName} connection`, default: connector.displayName },
          context,
        )
      : connector.displayName);
  let apiKey: string | undefined;
  if (connector.authType === 'apiKey') {
    apiKey = options.interactive
      ? await password(
          {
            message: `The API key for ${connector.displayName} (not shown as you type)`,
            validate: (v) => v.length > 0 || 'an API key is needed',
          },
          context,
        )
      : await keyFromStdin(connector.displayName);
  }
  const created = await body(
    api.POST('/connections', { body: { connectorId, displayName, ...(apiKey ? { apiKey } : {}) } }),
  );
  if (created.status !== 'PendingConsent') {
    out.line(`Added ${created.displayName} (${created.connectorId}), ${created.status}: ${created.id}`);
    return created;
  }
  out.line(`Consent is needed: open this link in your browser, signed in to flowshare as yourself:`);
  out.line(`  ${created.consentUrl}`);
  out.line('Waiting until you have consented (Ctrl-C to stop waiting; the connection stays, pending)…');
  return waitForConsent(api, out, created, options);
}

async function waitForConsent(api: Api, out: Output, created: Connection, options: AddOptions): Promise<Connection> {
  const until = Date.now() + (options.waitSeconds ?? 600) * 1000;
  for (;;) {
    await sleep(1_000, undefined, options.signal ? { signal: options.signal } : {});
    const now = await body(api.GET('/connections/{connectionId}', { params: { path: { connectionId: created.id } } }));
    if (now.status === 'Connected') {
      out.line(
        `Connected${now.account ? ` as ${now.account}` : ''}: ${now.displayName} (${now.connectorId}) ${now.id}`,
      );
      return now;
    }
    if (now.status === 'Error')
      throw new ConsentFailed(`The consent did not succeed (${now.statusReason ?? 'Error'}).`);
    if (Date.now() > until)
      throw new ConsentFailed('No consent arrived in time; the connection stays pending (flowshare connections).');
  }
}

export class ConsentFailed extends Error {}

/** Without a terminal, the key comes on standard input (`... < key.txt`): never as an argument, which others may see. */
async function keyFromStdin(what: string): Promise<string> {
  if (process.stdin.isTTY)
    throw new UsageError(`The API key for ${what} is asked for in a terminal, or read from standard input.`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const key = Buffer.concat(chunks).toString('utf8').trim();
  if (!key) throw new UsageError(`No API key for ${what} arrived on standard input.`);
  return key;
}
