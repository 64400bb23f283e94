// Reading requests: bodies within the size limit, JSON, path and query values.
import type { HttpRequest } from '@azure/functions';
import type { z } from 'zod';
import { DomainError, validationFailed } from '../domain/errors';
import { DEFAULT_PAGE_SIZE, MAX_BODY_BYTES } from '../domain/limits';
import { parseId, parseWith } from '../domain/schemas';
import { isContinuationToken, type PageRequest } from '../storage/pages';
import { pageQuery } from './bodies';

/** The refusal of a body past the limit, by a handler or (locally) by the host before it. */
export function payloadTooLarge(): DomainError {
  return new DomainError('PayloadTooLarge', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
}

/**
 * Strictly: Buffer#toString would put U+FFFD for each invalid byte, and a
 * definition would then be kept other than it was sent. The byte order mark
 * is kept (ignoreBOM) so that it is refused by name: RFC 8259 forbids it on
 * the wire, and it was never accepted (JSON.parse refuses it).
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Buffer): string {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw validationFailed([{ field: '(body)', detail: 'is not valid UTF-8' }], 'The request body is not valid UTF-8.');
  }
  if (text.startsWith('\uFEFF')) {
    throw validationFailed(
      [{ field: '(body)', detail: 'starts with a byte order mark (U+FEFF), which JSON must not' }],
      'The request body starts with a byte order mark; send UTF-8 without one.',
    );
  }
  return text;
}

/** The body as JSON (and as its text), refused with 413 past the limit and 400 when not UTF-8 JSON. */
export async function readJson(
  request: HttpRequest,
  options: { optional?: boolean } = {},
): Promise<{ value: unknown; text: string }> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw payloadTooLarge();
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > MAX_BODY_BYTES) throw payloadTooLarge();
  if (bytes.length === 0) {
    if (options.optional) return { value: {}, text: '{}' };
    throw validationFailed([{ field: '(body)', detail: 'a JSON body is required' }]);
  }
  const text = decodeUtf8(bytes);
  try {
    return { value: JSON.parse(text) as unknown, text };
  } catch {
    throw validationFailed([{ field: '(body)', detail: 'is not valid JSON' }], 'The request body is not valid JSON.');
  }
}

/**
 * The body validated by `schema`. `text` is the body as sent, for values that
 * must be kept exactly as they came (see lib/domain/rawJson.ts). An optional
 * body that is empty is read as `{}`.
 */
export async function parseBody<T extends z.ZodType>(
  request: HttpRequest,
  schema: T,
  options: { optional?: boolean } = {},
): Promise<{ body: z.output<T>; text: string }> {
  const { value, text } = await readJson(request, options);
  return { body: parseWith(schema, value), text };
}

/** A path parameter that must be an id. */
export function pathId(request: HttpRequest, name: string): string {
  return parseId(request.params[name], name);
}

/** The query values `schema` names, validated by it (400 for a value that breaks its rule). */
export function parseQuery<T extends z.ZodObject>(request: HttpRequest, schema: T): z.output<T> {
  const values = Object.fromEntries(
    Object.keys(schema.shape).map((name) => [name, request.query.get(name) ?? undefined]),
  );
  return parseWith(schema, values);
}

export function pageRequest(request: HttpRequest): PageRequest {
  const query = parseWith(pageQuery, {
    top: request.query.get('top') ?? undefined,
    continuationToken: request.query.get('continuationToken') ?? undefined,
  });
  if (query.continuationToken !== undefined && !isContinuationToken(query.continuationToken)) {
    throw validationFailed([{ field: 'continuationToken', detail: 'is not a token this service gave out' }]);
  }
  return { top: query.top ?? DEFAULT_PAGE_SIZE, continuationToken: query.continuationToken };
}
