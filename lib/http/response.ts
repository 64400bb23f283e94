// Success responses of docs/api.md, Conventions: resources with their ETag, lists
// with a nextLink, 201 on create, 204 on delete.
import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { withRawJsonAs } from '../domain/rawJson';
import type { Page } from '../storage/pages';
import { toHttpEtag } from './etags';

/** JSON.stringify, with RawJson values written as their original text. */
export function stringify(value: unknown): string {
  const raws: string[] = [];
  // A fresh nonce per call: no string in the value can pose as a placeholder.
  const nonce = randomUUID();
  const text = withRawJsonAs(
    (raw) => `${nonce}:${raws.push(raw) - 1}`,
    () => JSON.stringify(value),
  );
  // The placeholders `"<nonce>:<i>"` stand in the text in the order they were written.
  let out = '';
  let from = 0;
  raws.forEach((raw, i) => {
    const placeholder = `"${nonce}:${i}"`;
    const at = text.indexOf(placeholder, from);
    // Only if a toJSON of someone's stringified a RawJson itself: never answer broken JSON.
    if (at < 0) throw new Error('stringify: a RawJson was serialized outside its place in the value');
    out += text.slice(from, at) + raw;
    from = at + placeholder.length;
  });
  return from === 0 ? text : out + text.slice(from);
}

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };

/** `etag` is the resource's storage version; it is answered as its HTTP ETag. */
export function ok(
  body: unknown,
  options: { etag?: string; status?: number; location?: string } = {},
): HttpResponseInit {
  return {
    status: options.status ?? 200,
    body: stringify(body),
    headers: {
      ...JSON_HEADERS,
      ...(options.etag !== undefined ? { ETag: toHttpEtag(options.etag) } : {}),
      ...(options.location ? { Location: options.location } : {}),
    },
  };
}

export function created(body: unknown, location: string, etag?: string): HttpResponseInit {
  return ok(body, { status: 201, location, etag });
}

export function noContent(): HttpResponseInit {
  return { status: 204 };
}

/**
 * A list page; `nextLink` repeats the request with the continuation token. It
 * is relative, like Location, so the Host header a request came with does not
 * end up in it (the one exception is the run outcome's Location, which Power
 * Automate's connector gateway must see absolute: functions/runs.ts).
 */
export function list<T>(request: HttpRequest, page: Page<T>): HttpResponseInit {
  const body: { value: T[]; nextLink?: string } = { value: page.items };
  if (page.continuationToken) {
    const next = new URL(request.url);
    next.searchParams.set('continuationToken', page.continuationToken);
    body.nextLink = `${next.pathname}${next.search}`;
  }
  return ok(body);
}
