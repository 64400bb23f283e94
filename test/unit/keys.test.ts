import { describe, expect, it } from 'vitest';
import { encodeKeyPart } from '../../lib/storage/keys';
import { isContinuationToken } from '../../lib/storage/pages';

describe('key parts', () => {
  it('keep ids as they are and encode anything else behind a ~ so two values never share a key', () => {
    expect(encodeKeyPart('flow-1.a_b')).toBe('flow-1.a_b');
    const odd = ['a/b', 'a#b', 'a?b', 'a\\b', 'é', 'a\u0001'];
    const encoded = odd.map(encodeKeyPart);
    for (const key of encoded) expect(key).toMatch(/^~[A-Za-z0-9_-]+$/);
    expect(new Set(encoded).size).toBe(odd.length);
  });

  it('refuse text that is not well-formed Unicode, which UTF-8 would make another id', () => {
    expect(encodeKeyPart('x\uFFFD')).toMatch(/^~/);
    expect(encodeKeyPart('x\u{1F600}')).toMatch(/^~/);
    for (const lone of ['x\uD800', 'x\uDFFF', '\uDC00\uD800']) expect(() => encodeKeyPart(lone)).toThrow();
  });
});

describe('continuation tokens', () => {
  it('accepts what the Tables SDK makes and refuses anything else', () => {
    const made = Buffer.from(JSON.stringify({ nextPartitionKey: 'p', nextRowKey: 'r' })).toString('base64');
    expect(isContinuationToken(made)).toBe(true);
    expect(isContinuationToken(Buffer.from('{"nextPartitionKey":"p"}').toString('base64'))).toBe(true);
    for (const bad of [
      '!!',
      Buffer.from('[]').toString('base64'),
      Buffer.from('{"nextRowKey":"r"}').toString('base64'),
      Buffer.from('{"nextPartitionKey":"p\\ud800"}').toString('base64'),
      Buffer.from('{"nextPartitionKey":"p","nextRowKey":"\\udc00r"}').toString('base64'),
    ]) {
      expect(isContinuationToken(bad)).toBe(false);
    }
  });
});
