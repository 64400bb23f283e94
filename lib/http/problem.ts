// RFC 9457 problem details: the one place where errors become responses.
import { randomUUID } from 'node:crypto';
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { DomainError, ERROR_STATUS, ERROR_TITLES, type ErrorCode } from '../domain/errors';
import { isStorageFault } from '../storage/errors';

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
  const status = ERROR_STATUS[code];
  const body: ProblemDocument = {
    type: problemTypeOf(code),
    title: ERROR_TITLES[code],
    status,
    detail,
    code,
    ...extensions,
  };
  return {
    status,
    body: JSON.stringify(body),
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
  if (isStorageFault(error)) {
    context.warn('storage unavailable:', describe(error));
    return problem(
      'StorageUnavailable',
      'Storage cannot be reached right now; nothing was changed. Try again.',
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

/** Wraps a handler so that whatever it throws is answered as problem details. */
export function withProblemDetails(handler: HttpHandler): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext) => {
    try {
      return await handler(request, context);
    } catch (error) {
      return problemFor(error, context);
    }
  };
}
