// Sending a connector call's request to its provider, against real local
// HTTP servers: redirects answered as they are, time and size limits, and
// the address policy applied after name resolution (docs/limits.md,
// Connector calls).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../lib/domain/errors';
import { ConnectorEgress, type Resolver } from '../../lib/gateway/egress';
import type { ProviderRequest } from '../../lib/gateway/providerRequest';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local server answering each request with `answer`, keeping what it received. */
async function serve(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, port, origin: `http://localhost:${port}`, received };
}

const request = (url: string, extra: Partial<ProviderRequest> = {}): ProviderRequest => ({
  method: 'GET',
  url: new URL(url),
  headers: { Authorization: 'Bearer t0ken' },
  ...extra,
});

async function outcome(promise: Promise<unknown>): Promise<{ code: string; detail: string }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return { code: (error as DomainError).code, detail: (error as Error).message };
  }
  throw new Error('the call succeeded');
}

const servers: Server[] = [];
const egresses: ConnectorEgress[] = [];
function egress(options: ConstructorParameters<typeof ConnectorEgress>[0]): ConnectorEgress {
  const made = new ConnectorEgress(options);
  egresses.push(made);
  return made;
}

let provider: Awaited<ReturnType<typeof serve>>;
let elsewhere: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  elsewhere = await serve((_req, res) => res.writeHead(200).end('elsewhere'));
  provider = await serve((req, res) => {
    const path = req.url!.split('?')[0];
    if (path === '/redirect') {
      res.writeHead(302, { Location: `http://127.0.0.1:${elsewhere.port}/took-the-credential` }).end();
    } else if (path === '/slow') {
      setTimeout(() => res.writeHead(200).end('late'), 2000);
    } else if (path === '/trickle') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('a');
      setTimeout(() => res.end('b'), 2000);
    } else if (path === '/large') {
      res
        .writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': '2048' })
        .end(Buffer.alloc(2048));
    } else if (path === '/large-chunked') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      for (let i = 0; i < 8; i++) res.write(Buffer.alloc(256));
      res.end();
    } else if (path === '/error') {
      res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"boom"}');
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true }));
    }
  });
  servers.push(provider.server, elsewhere.server);
});

afterAll(async () => {
  for (const made of egresses) made.close();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('sending a connector call', () => {
  it('answers the status, content type and body, with only the headers the gateway sets', async () => {
    const sent = egress({ allowedLoopbackOrigins: [provider.origin] });
    const body = JSON.stringify({ to: 'x' });
    const answer = await sent.send(
      request(`${provider.origin}/items?top=1`, {
        method: 'POST',
        headers: { Authorization: 'Bearer t0ken', 'Content-Type': 'application/json' },
        body,
      }),
    );
    expect(answer).toEqual({ status: 200, contentType: 'application/json', body: Buffer.from('{"ok":true}') });
    const last = provider.received.at(-1)!;
    expect(last).toMatchObject({ method: 'POST', url: '/items?top=1', body });
    expect(Object.keys(last.headers).sort()).toEqual([
      'authorization',
      'connection',
      'content-length',
      'content-type',
      'host',
    ]);
    expect(last.headers.host).toBe(`localhost:${provider.port}`);
  });

  it("answers a provider's error as it is", async () => {
    const answer = await egress({ allowedLoopbackOrigins: [provider.origin] }).send(
      request(`${provider.origin}/error`),
    );
    expect(answer.status).toBe(500);
    expect(answer.body.toString()).toBe('{"error":"boom"}');
  });

  it('answers a redirect as it is, and never follows it with the credential', async () => {
    const before = elsewhere.received.length;
    const answer = await egress({ allowedLoopbackOrigins: [provider.origin] }).send(
      request(`${provider.origin}/redirect`),
    );
    expect(answer.status).toBe(302);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(elsewhere.received.length).toBe(before);
  });

  it('gives up on a provider that does not answer in time, or answers too slowly', async () => {
    const quick = egress({ allowedLoopbackOrigins: [provider.origin], timeoutMs: 300 });
    const started = Date.now();
    expect(await outcome(quick.send(request(`${provider.origin}/slow`)))).toMatchObject({ code: 'ConnectorTimeout' });
    expect(await outcome(quick.send(request(`${provider.origin}/trickle`)))).toMatchObject({
      code: 'ConnectorTimeout',
    });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('refuses an answer over the size limit, declared or streamed', async () => {
    const small = egress({ allowedLoopbackOrigins: [provider.origin], maxResponseBytes: 1024 });
    expect(await outcome(small.send(request(`${provider.origin}/large`)))).toMatchObject({ code: 'ResponseTooLarge' });
    expect(await outcome(small.send(request(`${provider.origin}/large-chunked`)))).toMatchObject({
      code: 'ResponseTooLarge',
    });
    // And the connection pool still works afterwards.
    expect((await small.send(request(`${provider.origin}/ok`))).status).toBe(200);
  });

  it('says a provider that cannot be reached could not be, and why in one word', async () => {
    const closed = await serve(() => undefined);
    closed.server.close();
    expect(
      await outcome(egress({ allowedLoopbackOrigins: [closed.origin] }).send(request(`${closed.origin}/`))),
    ).toEqual({
      code: 'ConnectorCallFailed',
      detail: 'The provider could not be reached (ECONNREFUSED).',
    });
  });
});

describe('the address policy', () => {
  const refused = { code: 'ConnectorCallFailed', detail: expect.stringMatching(/loopback, private, link-local/) };

  it('refuses loopback unless the origin is allowed it, checked after resolving the name', async () => {
    const before = provider.received.length;
    const strict = egress({ allowedLoopbackOrigins: [] });
    // https, so that only the address decides: localhost resolves to loopback.
    expect(await outcome(strict.send(request(`https://localhost:${provider.port}/`)))).toEqual(refused);
    expect(await outcome(strict.send(request(`${provider.origin}/`)))).toMatchObject({ code: 'ConnectorCallFailed' });
    // Another port of the same host is another origin.
    const other = egress({ allowedLoopbackOrigins: [`http://localhost:${elsewhere.port}`] });
    expect(await outcome(other.send(request(`https://localhost:${provider.port}/`)))).toEqual(refused);
    expect(provider.received.length).toBe(before);
  });

  it.each([
    'https://127.0.0.1/',
    'https://[::1]/',
    'https://10.0.0.1/',
    'https://169.254.169.254/latest/meta-data',
    'https://[::ffff:7f00:1]/',
    'https://0.0.0.0/',
    'https://2130706433/',
  ])('refuses the address %s without connecting', async (url) => {
    expect(await outcome(egress({ allowedLoopbackOrigins: [] }).send(request(url)))).toEqual(refused);
  });

  it('refuses a name that resolves to a private address, or to any refused one among others', async () => {
    const names: Record<string, Array<{ address: string; family: number }>> = {
      'intranet.example': [{ address: '10.0.0.5', family: 4 }],
      'metadata.example': [{ address: '169.254.169.254', family: 4 }],
      'mixed.example': [
        { address: '93.184.216.34', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
      'ula.example': [{ address: 'fd12::1', family: 6 }],
    };
    const resolve: Resolver = async (hostname) => names[hostname] ?? [];
    const strict = egress({ allowedLoopbackOrigins: [], resolve });
    for (const name of Object.keys(names)) {
      expect(await outcome(strict.send(request(`https://${name}/`)))).toEqual(refused);
    }
  });

  it('connects to the very address it checked, naming the provider in Host', async () => {
    const origin = `http://provider.test:${provider.port}`;
    const resolve: Resolver = async (hostname) =>
      hostname === 'provider.test' ? [{ address: '127.0.0.1', family: 4 }] : [];
    const allowed = egress({ allowedLoopbackOrigins: [origin], resolve });
    expect((await allowed.send(request(`${origin}/named`))).status).toBe(200);
    expect(provider.received.at(-1)).toMatchObject({
      url: '/named',
      headers: { host: `provider.test:${provider.port}` },
    });
    // Allowed loopback is loopback only: the same origin resolving inward elsewhere is refused.
    const rebound = egress({
      allowedLoopbackOrigins: [origin],
      resolve: async () => [{ address: '10.0.0.1', family: 4 }],
    });
    expect(await outcome(rebound.send(request(`${origin}/named`)))).toEqual(refused);
  });

  it('refuses plain http to an origin not allowed it', async () => {
    const resolve: Resolver = async () => [{ address: '93.184.216.34', family: 4 }];
    expect(await outcome(egress({ allowedLoopbackOrigins: [], resolve }).send(request('http://api.example/')))).toEqual(
      {
        code: 'ConnectorCallFailed',
        detail: 'A connector call goes over https only.',
      },
    );
  });
});
