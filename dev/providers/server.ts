// The local providers: small APIs for the development connectors, served on
// one port beside the issuer, checking credentials as the real services do
// (docs/domain.md, Local providers). Their data is kept in memory: they
// start empty. Development endpoints show what they hold:
//   GET  /dev/received[?provider=office365|sharepoint|sql|download]
//            every request each provider received, with the identity it
//            took it to come from (provider user, or an API key's
//            fingerprint) and its answer's status; never a credential
//   GET  /dev/mailboxes/{user}     the user's inbox, oldest first
//   POST /dev/sql/keys [{key}]     a new SQL API key (or `key`, registered)
//   GET  /dev/credentials          every API key and bearer token the
//                                  providers issued or received, for the
//                                  test suite's secret scan
//   GET|POST /dev/latency [{ms}]   the delay before every provider answer
//                                  (0 at start), as a provider a network hop
//                                  away would have; for the benchmark
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEV_CLIENTS, DEV_SQL_KEY_HEADER } from '../devConnectors';
import { BearerCheck } from './bearer';
import { error, INVALID_JSON, objectBody, readJsonBody, send, type ReceivedRequest, type ReceivedEntry } from './http';
import { Office365Provider, type Handled } from './office365';
import { SharePointProvider } from './sharepoint';
import { SqlProvider } from './sql';

export interface ProvidersOptions {
  port: number;
  /** The local issuer, whose tokens the Microsoft-style providers accept. */
  issuerUrl: string;
  jwksUri: string;
}

export interface RunningProviders {
  /** The base of every provider: `<url>/office365/v1.0`, `<url>/sharepoint`, `<url>/sql`. */
  url: string;
  stop(): Promise<void>;
}

export async function startProviders(options: ProvidersOptions): Promise<RunningProviders> {
  const received: ReceivedEntry[] = [];
  const tokens = new Set<string>();
  const bearer = (realm: string) =>
    new BearerCheck({ issuerUrl: options.issuerUrl, jwksUri: options.jwksUri, realm }, (token) => tokens.add(token));
  let downloadOrigin = '';
  /** Milliseconds every provider answer waits (POST /dev/latency): a timer, so no CPU is spent. */
  let latencyMs = 0;
  const office365 = new Office365Provider(bearer('office365'), DEV_CLIENTS.office365);
  const sharepoint = new SharePointProvider(
    bearer('sharepoint'),
    DEV_CLIENTS.sharepoint,
    (file) => `${downloadOrigin}/downloads/${encodeURIComponent(file)}`,
  );
  const sql = new SqlProvider(DEV_SQL_KEY_HEADER);
  const providers: Record<string, { prefix: string; handle: (r: ReceivedRequest) => Promise<Handled> }> = {
    office365: { prefix: '/office365/v1.0', handle: (r) => office365.handle(r) },
    sharepoint: { prefix: '/sharepoint', handle: (r) => sharepoint.handle(r) },
    sql: { prefix: '/sql', handle: (r) => sql.handle(r) },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/dev/')) {
      await devEndpoint(method, url, req, res);
      return;
    }
    if (latencyMs > 0) await sleep(latencyMs);
    const download = /^\/downloads\/([^/]+)$/.exec(url.pathname);
    if (download && method === 'GET') {
      const authorizationSent = req.headers.authorization !== undefined;
      received.push({
        at: new Date().toISOString(),
        provider: 'download',
        operation: 'Download',
        method,
        path: url.pathname,
        identity: { kind: 'none', reason: 'downloads need no credential' },
        status: 200,
        authorizationSent,
      });
      send(res, { status: 200, body: `The content of ${decodeURIComponent(download[1]!)}.` });
      return;
    }
    const [name, provider] =
      Object.entries(providers).find(([, p]) => url.pathname === p.prefix || url.pathname.startsWith(`${p.prefix}/`)) ??
      [];
    if (!name || !provider) {
      send(res, error(404, 'NotFound', 'No such provider.'));
      return;
    }
    const body = await readJsonBody(req);
    if (body === INVALID_JSON) {
      send(res, error(400, 'InvalidRequest', 'The body must be JSON, up to 1 MiB.'));
      return;
    }
    const path = url.pathname.slice(provider.prefix.length) || '/';
    const handled = await provider.handle({ method, path, query: url.searchParams, headers: req.headers, body });
    received.push({
      at: new Date().toISOString(),
      provider: name,
      operation: handled.operation,
      method,
      path: url.pathname + url.search,
      identity: handled.identity,
      status: handled.answer.status,
      ...(body === undefined ? {} : { body }),
    });
    send(res, handled.answer);
  };

  const devEndpoint = async (method: string, url: URL, req: IncomingMessage, res: ServerResponse) => {
    const mailbox = /^\/dev\/mailboxes\/([^/]+)$/.exec(url.pathname);
    if (url.pathname === '/dev/received' && method === 'GET') {
      const provider = url.searchParams.get('provider');
      send(res, { status: 200, body: { value: received.filter((e) => !provider || e.provider === provider) } });
    } else if (mailbox && method === 'GET') {
      send(res, { status: 200, body: { value: office365.inbox(decodeURIComponent(mailbox[1]!)) } });
    } else if (url.pathname === '/dev/sql/keys' && method === 'POST') {
      const body = await readJsonBody(req);
      const key = objectBody(body)?.key;
      if (key !== undefined && (typeof key !== 'string' || !/^[\x21-\x7e]{8,4096}$/.test(key))) {
        send(res, error(400, 'InvalidRequest', 'key must be 8 to 4096 visible ASCII characters.'));
      } else {
        send(res, { status: 201, body: sql.issue(key as string | undefined) });
      }
    } else if (url.pathname === '/dev/latency' && method === 'GET') {
      send(res, { status: 200, body: { ms: latencyMs } });
    } else if (url.pathname === '/dev/latency' && method === 'POST') {
      const ms = objectBody(await readJsonBody(req))?.ms;
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > 60_000) {
        send(res, error(400, 'InvalidRequest', 'ms must be a whole number of milliseconds, 0 to 60000.'));
      } else {
        latencyMs = ms;
        send(res, { status: 200, body: { ms } });
      }
    } else if (url.pathname === '/dev/credentials' && method === 'GET') {
      send(res, { status: 200, body: { apiKeys: [...sql.keys], tokens: [...tokens] } });
    } else {
      send(res, error(404, 'NotFound', 'No such development endpoint.'));
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      console.error(`[providers] ${(e as Error).message}`);
      if (!res.headersSent) send(res, error(500, 'InternalError', 'The provider failed.'));
      else res.destroy();
    });
  });
  // Loopback only, like the issuer.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // The API is reached as localhost, downloads as 127.0.0.1: another origin, as a CDN is.
  downloadOrigin = `http://127.0.0.1:${port}`;
  return {
    url: `http://localhost:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
