import { describe, expect, it } from 'vitest';
import { fromHttpEtag, ifMatchAllows, toHttpEtag } from '../../lib/http/etags';

const storageEtag = `W/"datetime'2026-11-25T19%3A12%3A00.7291308Z'"`;

describe('ETags over HTTP', () => {
  it('map a storage ETag to a strong HTTP one and back', () => {
    const http = toHttpEtag(storageEtag);
    expect(http).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(fromHttpEtag(http)).toBe(storageEtag);
  });

  it.each([
    ['the current ETag', () => toHttpEtag(storageEtag), true],
    ['*', () => '*', true],
    ['a list holding the current ETag', () => `"old", ${toHttpEtag(storageEtag)}`, true],
    ['the current ETag marked weak', () => `W/${toHttpEtag(storageEtag)}`, false],
    ['another ETag', () => toHttpEtag('W/"other"'), false],
    ['garbage', () => 'garbage', false],
  ])('If-Match with %s matches: %s', (_why, header, expected) => {
    expect(ifMatchAllows(header(), storageEtag)).toBe(expected);
  });
});
