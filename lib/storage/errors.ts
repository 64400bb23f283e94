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

/** A storage request not answered in time; code ETIMEDOUT, as the network's own, so a storage fault. */
export class StorageTimeout extends Error {
  override name = 'StorageTimeout';
  readonly code = 'ETIMEDOUT';
  constructor(timeoutMs: number) {
    super(`Storage did not answer within ${timeoutMs} ms.`);
  }
}

/**
 * Runs a blob or queue request with a deadline. Their SDKs' tryTimeoutInMs
 * only asks the server to give up (the `timeout` query parameter); storage
 * that takes a request and never answers (a half-open connection) would hold
 * the caller for ever. Missing the deadline aborts the request: StorageTimeout.
 */
export async function withDeadline<T>(
  timeoutMs: number,
  request: (abortSignal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = new AbortController();
  // Cleared as soon as the request settles, and never what keeps the process alive.
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  timer.unref();
  try {
    return await request(deadline.signal);
  } catch (error) {
    if (deadline.signal.aborted) throw new StorageTimeout(timeoutMs);
    throw error;
  } finally {
    clearTimeout(timer);
  }
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

/**
 * Storage refused the request (a lost race, a 4xx): it was not applied.
 * Anything else (a timeout, a dropped connection, a 5xx) may have been.
 */
export function wasRefused(error: unknown): boolean {
  if (error instanceof ConcurrencyConflict) return true;
  const status = storageStatusOf(error);
  return status !== undefined && status >= 400 && status < 500 && status !== 408;
}

/** The request never reached storage: refused or unresolvable connections. */
const UNREACHED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * A storage fault after which the request may have been applied: its answer
 * was lost (a timeout, a reset connection) or storage failed on its side.
 */
export function outcomeUnknown(error: unknown): boolean {
  if (!isStorageFault(error)) return false;
  const code = asErrorLike(error)?.code;
  return !(typeof code === 'string' && UNREACHED_CODES.has(code));
}

/** Turns the statuses of a lost race into ConcurrencyConflict; rethrows the rest. */
export function rethrowConflict(error: unknown): never {
  const status = storageStatusOf(error);
  if (status === 409 || status === 412 || status === 404) throw new ConcurrencyConflict(status);
  throw error;
}
