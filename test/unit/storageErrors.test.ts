import { describe, expect, it } from 'vitest';
import {
  ConcurrencyConflict,
  isStorageFault,
  outcomeUnknown,
  StorageTimeout,
  wasRefused,
  withDeadline,
} from '../../lib/storage/errors';

const restError = (fields: { statusCode?: number; code?: string }) =>
  Object.assign(new Error('storage said no'), { name: 'RestError', ...fields });

describe('storage errors', () => {
  it('tell a refused request, which was not applied, from one that may have been', () => {
    expect(wasRefused(new ConcurrencyConflict(412))).toBe(true);
    expect(wasRefused(restError({ statusCode: 400 }))).toBe(true);
    for (const error of [
      new StorageTimeout(10),
      restError({ statusCode: 408 }),
      restError({ statusCode: 503 }),
      restError({ code: 'ECONNRESET' }),
      new Error('not storage'),
    ]) {
      expect(wasRefused(error), String(error)).toBe(false);
    }
  });

  it('count a timeout as a storage fault whose outcome is unknown, and a refused connection as one that never landed', () => {
    expect(isStorageFault(new StorageTimeout(10))).toBe(true);
    expect(outcomeUnknown(new StorageTimeout(10))).toBe(true);
    expect(outcomeUnknown(restError({ code: 'ECONNRESET' }))).toBe(true);
    expect(outcomeUnknown(restError({ statusCode: 500 }))).toBe(true);
    expect(isStorageFault(restError({ code: 'ECONNREFUSED' }))).toBe(true);
    expect(outcomeUnknown(restError({ code: 'ECONNREFUSED' }))).toBe(false);
    expect(outcomeUnknown(new ConcurrencyConflict(412))).toBe(false);
    expect(outcomeUnknown(new Error('not storage'))).toBe(false);
  });

  it('abort a request that misses its deadline, and answer StorageTimeout', async () => {
    let aborted = false;
    const hanging = (signal: AbortSignal) =>
      new Promise<never>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        });
      });
    await expect(withDeadline(20, hanging)).rejects.toBeInstanceOf(StorageTimeout);
    expect(aborted).toBe(true);
  });

  it('leave an answer in time, or a failure of its own, alone', async () => {
    await expect(withDeadline(1_000, () => Promise.resolve('answer'))).resolves.toBe('answer');
    const own = restError({ statusCode: 404 });
    await expect(withDeadline(1_000, () => Promise.reject(own))).rejects.toBe(own);
  });
});
