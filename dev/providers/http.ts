// What the local providers share: reading a request, answering JSON, and
// the record of what each provider received and from whom.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request as a provider handles it: its route matched, its body read. */
export interface ReceivedRequest {
  method: string;
  /** The path below the provider's own prefix, e.g. `/me/messages`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The body parsed as JSON; undefined when empty, `INVALID_JSON` when not JSON. */
  body: unknown;
}

export const INVALID_JSON = Symbol('invalid JSON');

/** What a provider answers; `headers` adds to the content type. */
export interface ProviderAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Who a provider took a request to come from: never the credential itself. */
export type Identity =
  | { kind: 'user'; user: string; clientId: string }
  | { kind: 'apiKey'; fingerprint: string }
  | { kind: 'none'; reason: string };

export interface ReceivedEntry {
  at: string;
  provider: string;
  operation: string;
  method: string;
  path: string;
  identity: Identity;
  status: number;
  /** The request's JSON body, as received. */
  body?: unknown;
  /** Whether the request carried an Authorization header (said for downloads, which must never get one). */
  authorizationSent?: boolean;
}

/** A short, stable name for an API key that does not reveal it. */
export function fingerprintOf(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

export const MAX_BODY_BYTES = 1024 * 1024;

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return INVALID_JSON;
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

export function send(res: ServerResponse, answer: ProviderAnswer): void {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...answer.headers };
  if (answer.body === undefined) {
    res.writeHead(answer.status, headers).end();
    return;
  }
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  headers['Content-Type'] ??= typeof answer.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  res.writeHead(answer.status, headers).end(text);
}

/** An error answer in the shape Microsoft Graph uses: `{error: {code, message}}`. */
export function error(status: number, code: string, message: string, headers?: Record<string, string>): ProviderAnswer {
  return { status, body: { error: { code, message } }, headers };
}

/** A JSON object body's string members, or undefined when the body is not an object. */
export function objectBody(body: unknown): Record<string, unknown> | undefined {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined;
}
