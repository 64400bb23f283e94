// Success responses of SPEC.md "Shapes": resources with their ETag, lists
// with a nextLink, 201 on create, 204 on delete.
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Page } from '../storage/pages';

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };

export function ok(
  body: unknown,
  options: { etag?: string; status?: number; location?: string } = {},
): HttpResponseInit {
  return {
    status: options.status ?? 200,
    body: JSON.stringify(body),
    headers: {
      ...JSON_HEADERS,
      ...(options.etag ? { ETag: options.etag } : {}),
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

/** A list page; `nextLink` repeats the request with the continuation token. */
export function list<T>(request: HttpRequest, page: Page<T>): HttpResponseInit {
  const body: { value: T[]; nextLink?: string } = { value: page.items };
  if (page.continuationToken) {
    const next = new URL(request.url);
    next.searchParams.set('continuationToken', page.continuationToken);
    body.nextLink = next.toString();
  }
  return ok(body);
}
