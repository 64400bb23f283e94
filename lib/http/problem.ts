// RFC 9457 problem details: the one place where errors become responses.
import { randomUUID } from 'node:crypto';
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { authenticatedCaller } from '../auth/authenticate';
import { IdentityProviderUnavailable } from '../auth/identityProvider';
import { DomainError, type ErrorCode } from '../domain/errors';
import { isStorageFault, outcomeUnknown } from '../storage/errors';
import { PROBLEM_STATUS, PROBLEM_TITLES } from './problemTypes';
import { stringify } from './response';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  [extension: string]: unknown;
}

export function problemTypeOf(code: ErrorCode): string {
  return `urn:flowshare:problem:${code}`;
}

export function problem(
  code: ErrorCode,
  detail: string,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): HttpResponseInit {
  const status = PROBLEM_STATUS[code];
  const body: ProblemDocument = {
    type: problemTypeOf(code),
    title: PROBLEM_TITLES[code],
    status,
    detail,
    code,
    ...extensions,
  };
  return {
    status,
    // A problem may carry a run, whose outputs are kept as the text they came in (RawJson).
    body: stringify(body),
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, 'Cache-Control': 'no-store', ...headers },
  };
}

/** RFC 6750: the challenge names no error when no token was sent at all. */
function bearerChallenge(tokenPresent: boolean): string {
  return tokenPresent ? 'Bearer realm="flowshare", error="invalid_token"' : 'Bearer realm="flowshare"';
}

export function problemFor(error: unknown, context: InvocationContext): HttpResponseInit {
  if (error instanceof DomainError) {
    const { tokenPresent, ...extensions } = error.extensions;
    const headers: Record<string, string> =
      error.code === 'Unauthenticated' ? { 'WWW-Authenticate': bearerChallenge(tokenPresent === true) } : {};
    return problem(error.code, error.message, extensions, headers);
  }
  if (error instanceof IdentityProviderUnavailable) {
    // Which URL failed and why is for the log; the caller learns only that it is not their token.
    context.warn('identity provider unavailable:', error.message);
    return problem(
      'IdentityProviderUnavailable',
      "The identity provider's signing keys cannot be fetched right now, so no token can be checked. Try again.",
      {},
      { 'Retry-After': '5' },
    );
  }
  if (isStorageFault(error)) {
    context.warn('storage unavailable:', describe(error));
    return problem(
      'StorageUnavailable',
      outcomeUnknown(error)
        ? 'Storage did not answer in time; whatever this request changes was changed in full or not at all. Read it back before trying again.'
        : 'Storage cannot be reached right now; nothing was changed. Try again.',
      {},
      {
        'Retry-After': '5',
      },
    );
  }
  // Unknown: the details go to the log only, the caller gets an id to quote.
  const errorId = randomUUID();
  context.error(`unhandled error ${errorId}:`, error instanceof Error ? (error.stack ?? error.message) : String(error));
  return problem('InternalError', `An unexpected error occurred; quote error id ${errorId}.`, { errorId });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${typeof code === 'string' ? ` ${code}` : ''}: ${error.message}`;
  }
  return String(error);
}

/**
 * Wraps a handler so that whatever it throws is answered as problem details,
 * and every request leaves one structured log line.
 */
export function withProblemDetails(handler: HttpHandler): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext) => {
    const started = Date.now();
    let response: HttpResponseInit;
    try {
      response = await handler(request, context);
    } catch (error) {
      response = problemFor(error, context);
    }
    logRequest(request, context, response, started);
    return response;
  };
}

/**
 * One JSON line per request: what ran, for whom, on which flow, how it went.
 * Never the query string or a body: they may hold an OAuth code or a key.
 */
export function logRequest(
  request: HttpRequest,
  context: InvocationContext,
  response: HttpResponseInit,
  started: number,
): void {
  const caller = authenticatedCaller(request);
  const status = response.status ?? 200;
  const code = status >= 400 ? problemCodeOf(response) : undefined;
  // Built in the order it is written, without an object per optional field.
  const fields: Record<string, unknown> = {
    event: 'request',
    function: context.functionName,
    invocationId: context.invocationId,
    method: request.method,
    path: pathOf(request.url),
  };
  if (caller) {
    fields.tenantId = caller.tenantId;
    fields.callerId = caller.principalId;
  }
  if (request.params.flowId) fields.flowId = request.params.flowId;
  fields.status = status;
  if (code) fields.code = code;
  fields.durationMs = Date.now() - started;
  const line = JSON.stringify(fields);
  if (status >= 500) context.error(line);
  else context.log(line);
}

/**
 * `new URL(url).pathname` for a URL as WHATWG serializes it (request.url is
 * one), without parsing it again on every request: the path starts at the
 * first "/" after "://" (a serialized host and user info hold none) and ends
 * at "?" or "#". Anything else is parsed.
 */
export function pathOf(url: string): string {
  const authority = url.indexOf('://');
  const start = authority < 0 ? -1 : url.indexOf('/', authority + 3);
  if (start < 0 || !/^https?:\/\//i.test(url)) return new URL(url).pathname;
  const query = url.indexOf('?', start);
  const fragment = url.indexOf('#', start);
  const end = Math.min(query < 0 ? url.length : query, fragment < 0 ? url.length : fragment);
  return url.slice(start, end);
}

function problemCodeOf(response: HttpResponseInit): string | undefined {
  try {
    return (JSON.parse(String(response.body)) as { code?: string }).code;
  } catch {
    return undefined;
  }
}
