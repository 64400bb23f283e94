// The body limit at the host: a body past 1 MiB is refused before any of it
// is kept, whoever sends it, so that no caller (with a token or without) can
// make the host hold more than the limit. Raw sockets, because what matters
// is how much the host reads, which fetch hides.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { stack, tokenFor, unique } from '../support/stack';

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

interface Exchange {
  /** The status line, headers and body the host answered, if it did. */
  status?: number;
  headers: Record<string, string>;
  body: string;
  /** Body bytes written before the host answered (or the end, if it never did). */
  sentBeforeAnswer: number;
  /** The host closed the connection. */
  closed: boolean;
}

function parse(raw: string): Pick<Exchange, 'status' | 'headers' | 'body'> {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { headers: {}, body: '' };
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: raw.slice(end + 4) };
}

/**
 * POSTs to `path` on the host over a raw socket: the request head, then body
 * chunks (chunk-encoded when `chunked`) until the host answers or `upTo`
 * bytes are written; then waits for the host to close the connection.
 */
async function post(
  path: string,
  head: Record<string, string>,
  options: { chunked: boolean; upTo: number },
): Promise<Exchange> {
  const api = new URL(stack().apiUrl);
  const socket: Socket = connect(Number(api.port), api.hostname);
  let raw = '';
  let closed = false;
  let answered: () => void = () => {};
  const answer = new Promise<void>((resolve) => (answered = resolve));
  socket.on('data', (data: Buffer) => {
    raw += data.toString('latin1');
    if (raw.includes('\r\n\r\n')) answered();
  });
  // Writing after the host closed its side fails with EPIPE or ECONNRESET: that is the point.
  socket.on('error', () => {});
  // Not once(): it rejects on that error; 'close' follows it anyway.
  const gone = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      answered();
      resolve();
    }),
  );
  await once(socket, 'connect');

  const lines = Object.entries({ host: api.host, ...head }).map(([name, value]) => `${name}: ${value}`);
  socket.write(`POST ${api.pathname}${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  let sent = 0;
  let done = false;
  void answer.then(() => (done = true));
  while (!done && sent < options.upTo) {
    const data = CHUNK.subarray(0, Math.min(CHUNK.length, options.upTo - sent));
    const frame = options.chunked
      ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')])
      : data;
    sent += data.length;
    if (!socket.write(frame)) await Promise.race([new Promise((drained) => socket.once('drain', drained)), answer]);
  }
  const sentBeforeAnswer = sent;
  if (!done && options.chunked) socket.write('0\r\n\r\n');
  // A host that keeps the connection open after answering fails here rather than hanging.
  const timer = new Promise<void>((resolve) => setTimeout(resolve, 10_000));
  await Promise.race([gone, timer]);
  socket.destroy();
  return { ...parse(raw), sentBeforeAnswer, closed };
}

function expectPayloadTooLarge(exchange: Exchange) {
  expect(exchange.status).toBe(413);
  expect(exchange.headers['content-type']).toContain('application/problem+json');
  expect(JSON.parse(exchange.body)).toMatchObject({ status: 413, code: 'PayloadTooLarge', detail: expect.any(String) });
  // Said, so that no client sends another request on a connection that is closing.
  expect(exchange.headers.connection).toBe('close');
  expect(exchange.closed).toBe(true);
}

describe('the request body limit', () => {
  it.each([
    ['', {}],
    [' that asks to continue', { expect: '100-continue' }],
  ])('refuses a declared 90 MiB body%s at once, unread, before the token is checked', async (_why, expect100) => {
    const exchange = await post(
      '/flows',
      { 'content-type': 'application/json', 'content-length': String(90 * MiB), ...expect100 },
      // A few KB of body: the host must answer without waiting for the rest.
      { chunked: false, upTo: 4 * 1024 },
    );
    // The first answer is the refusal: no `100 Continue` invites the body first.
    expectPayloadTooLarge(exchange);
  });

  it('stops reading a chunked body as soon as it passes the limit', async () => {
    const token = await tokenFor(unique('chunked'));
    const exchange = await post(
      '/flows',
      { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      { chunked: true, upTo: 64 * MiB },
    );
    expectPayloadTooLarge(exchange);
    // The host answered while the client was still writing: it did not wait for (or keep) the rest.
    expect(exchange.sentBeforeAnswer).toBeLessThan(64 * MiB);
  });

  it('still takes a chunked body within the limit', async () => {
    const token = await tokenFor(unique('small'));
    const api = new URL(stack().apiUrl);
    const socket = connect(Number(api.port), api.hostname);
    await once(socket, 'connect');
    const body = JSON.stringify({ name: 'Chunked' });
    socket.write(
      `POST ${api.pathname}/flows HTTP/1.1\r\nhost: ${api.host}\r\nauthorization: Bearer ${token}\r\n` +
        `content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n` +
        `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    );
    let raw = '';
    socket.on('data', (data: Buffer) => (raw += data.toString('utf8')));
    await once(socket, 'close');
    const answer = parse(raw);
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.body)).toMatchObject({ name: 'Chunked' });
  });
});
