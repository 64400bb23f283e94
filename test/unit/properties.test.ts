// Property-based checks of validators, key encoding and exact JSON: any input
// is either refused as invalid or kept exactly.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { DomainError } from '../../lib/domain/errors';
import { memberText, RawJson } from '../../lib/domain/rawJson';
import { parseId } from '../../lib/domain/schemas';
import { pathOf } from '../../lib/http/problem';
import { stringify } from '../../lib/http/response';
import { fromHttpEtag, toHttpEtag } from '../../lib/http/etags';
import { encodeKeyPart, flowPartitionKey } from '../../lib/storage/keys';

// Thousands of runs each: slow on a machine busy with other work, not wrong.
vi.setConfig({ testTimeout: 60_000 });

// Characters Table Storage keys forbid.
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const FORBIDDEN_IN_KEYS = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

describe('ids', () => {
  it('are either refused with ValidationFailed or accepted exactly as given', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (value) => {
        try {
          expect(parseId(value, 'id')).toBe(value);
          expect(value).not.toMatch(FORBIDDEN_IN_KEYS);
        } catch (error) {
          expect(error).toBeInstanceOf(DomainError);
          expect((error as DomainError).code).toBe('ValidationFailed');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('key encoding', () => {
  it('never yields a character storage keys forbid', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (tenant, id) => {
        expect(flowPartitionKey(tenant, id)).not.toMatch(FORBIDDEN_IN_KEYS);
      }),
      { numRuns: 2000 },
    );
  });

  it('never gives two different values the same key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        fc.pre(a !== b);
        expect(encodeKeyPart(a)).not.toBe(encodeKeyPart(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps partitions of different tenants and flows apart', () => {
    fc.assert(
      fc.property(fc.tuple(fc.string(), fc.string()), fc.tuple(fc.string(), fc.string()), (x, y) => {
        fc.pre(x[0] !== y[0] || x[1] !== y[1]);
        expect(flowPartitionKey(...x)).not.toBe(flowPartitionKey(...y));
      }),
    );
  });

  it('maps any storage ETag (non-empty ASCII, as storage gives them) to an HTTP one and back', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (etag) => {
        expect(fromHttpEtag(toHttpEtag(etag))).toBe(etag);
      }),
    );
  });
});

describe('exact JSON', () => {
  it('finds any member value as it was written, however the JSON is spaced', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.integer({ min: 0, max: 4 }), (definition, other, indent) => {
        const text = JSON.stringify({ before: other, definition, after: other }, null, indent);
        const found = memberText(text, 'definition');
        expect(found).toBeDefined();
        expect(JSON.parse(found!)).toEqual(JSON.parse(JSON.stringify(definition)));
      }),
      { numRuns: 1000 },
    );
  });

  it('writes raw JSON back byte for byte inside any response', () => {
    fc.assert(
      fc.property(fc.json(), fc.dictionary(fc.string(), fc.string()), (raw, around) => {
        const out = stringify({ ...around, definition: new RawJson(raw) });
        expect(out).toContain(`"definition":${raw}`);
        expect(JSON.parse(out).definition).toEqual(JSON.parse(raw));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the path a request log line names', () => {
  it('is what new URL(url).pathname answers, for any URL as a request carries it', () => {
    const anyText = fc.string({ unit: 'grapheme', maxLength: 20 });
    fc.assert(
      fc.property(
        fc.webUrl({
          authoritySettings: { withIPv4: true, withIPv6: true, withPort: true, withUserInfo: true },
          withQueryParameters: true,
          withFragments: true,
        }),
        anyText,
        anyText,
        (url, path, query) => {
          // Serialized as a Request's url is: percent-encoded, dot segments resolved.
          for (const href of [new URL(url).href, new URL(`${url}/${path}?${query}`).href]) {
            expect(pathOf(href)).toBe(new URL(href).pathname);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
