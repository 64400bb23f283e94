// ETags over HTTP. Services answer a resource with its storage version (the
// row's ETag); here, at the edge, it becomes the ETag header, and an If-Match
// header becomes the condition a write checks that version against.
import type { HttpRequest } from '@azure/functions';
import type { IfMatch } from '../services/flows';

// Table ETags are weak (W/"datetime'...'"), and If-Match compares strongly, so
// over HTTP the service's ETag is shown as an opaque strong one that maps back.
export function toHttpEtag(storageEtag: string): string {
  return `"${Buffer.from(storageEtag, 'utf8').toString('base64url')}"`;
}

/** The storage ETag behind an HTTP one, or undefined when it cannot be one of ours. */
export function fromHttpEtag(httpEtag: string): string | undefined {
  const match = /^"([A-Za-z0-9_-]+)"$/.exec(httpEtag.trim());
  if (!match?.[1]) return undefined;
  return Buffer.from(match[1], 'base64url').toString('utf8');
}

/**
 * Whether an If-Match header names the current version (RFC 9110: a list of
 * ETags compared strongly, so a weak `W/"..."` never matches; `*` matches).
 */
export function ifMatchAllows(header: string, storageEtag: string): boolean {
  return header.split(',').some((tag) => tag.trim() === '*' || fromHttpEtag(tag) === storageEtag);
}

/** The request's If-Match, or undefined when any version will do (none, or `*`). */
export function ifMatch(request: HttpRequest): IfMatch | undefined {
  const header = request.headers.get('if-match') ?? undefined;
  if (header === undefined || header.trim() === '*') return undefined;
  return { allows: (version) => ifMatchAllows(header, version) };
}
