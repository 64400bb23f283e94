// How storage failures are told apart: unreachable storage (503), and the
// optimistic-concurrency outcomes that callers retry or report as 412.

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'REQUEST_SEND_ERROR',
  'UND_ERR_SOCKET',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  cause?: unknown;
}

function asErrorLike(error: unknown): ErrorLike | undefined {
  return typeof error === 'object' && error !== null ? (error as ErrorLike) : undefined;
}

export function storageStatusOf(error: unknown): number | undefined {
  const statusCode = asErrorLike(error)?.statusCode;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

/** True when storage could not be reached or failed on its side. */
export function isStorageFault(error: unknown): boolean {
  const e = asErrorLike(error);
  if (!e) return false;
  const status = storageStatusOf(error);
  if (status !== undefined) return status >= 500 || status === 408;
  if (e.name === 'RestError' || (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code))) return true;
  return e.cause !== undefined && e.cause !== error && isStorageFault(e.cause);
}

/**
 * The write lost a race: the row was changed (412), created (409) or deleted
 * (404) by someone else since it was read.
 */
export class ConcurrencyConflict extends Error {
  override name = 'ConcurrencyConflict';
  constructor(readonly status: number) {
    super(`Storage reported a concurrent change (${status}).`);
  }
}

/** Turns the statuses of a lost race into ConcurrencyConflict; rethrows the rest. */
export function rethrowConflict(error: unknown): never {
  const status = storageStatusOf(error);
  if (status === 409 || status === 412 || status === 404) throw new ConcurrencyConflict(status);
  throw error;
}
