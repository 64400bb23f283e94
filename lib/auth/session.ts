// The browser's side of a session: the cookie that names it, and the checks a
// change made with that cookie must pass. The session itself lives on the
// server (lib/storage/sessions.ts); the cookie holds only a random id, HttpOnly
// so no page script can read it, SameSite=Lax, and over HTTPS `Secure` with
// the `__Host-` prefix (no Domain, Path=/), so no other site or subdomain can
// set or read it.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Cookie } from '@azure/functions';
import { DomainError } from '../domain/errors';

export interface CookieRequest {
  url: string;
  method?: string;
  headers: { get(name: string): string | null };
}

const SESSION_COOKIE = 'flowshare-session';
const SIGN_IN_COOKIE = 'flowshare-signin';
/** The header page script sends its session's CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

function isHttps(url: string): boolean {
  return new URL(url).protocol === 'https:';
}

/** A cookie's name for this request's scheme: `__Host-` requires HTTPS. */
function cookieName(base: string, url: string): string {
  return isHttps(url) ? `__Host-${base}` : base;
}

/** The value of one cookie the browser sent; undefined when absent. */
export function readCookie(request: CookieRequest, base: string): string | undefined {
  const header = request.headers.get('cookie');
  if (!header) return undefined;
  const name = cookieName(base, request.url);
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function cookie(base: string, url: string, value: string, maxAgeSeconds: number): Cookie {
  return {
    name: cookieName(base, url),
    value,
    path: '/',
    httpOnly: true,
    secure: isHttps(url),
    sameSite: 'Lax',
    maxAge: maxAgeSeconds,
  };
}

/** A new session id for the cookie, and the hash the server keeps it under. */
export function newSessionId(): { id: string; hash: string } {
  const id = randomBytes(32).toString('base64url');
  return { id, hash: hashSessionId(id) };
}

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

/** The hash of the session the request's cookie names, if it names one (whether or not it still exists). */
export function sessionHashOf(request: CookieRequest): string | undefined {
  const id = readCookie(request, SESSION_COOKIE);
  // Our ids are 43 base64url characters; anything else was not made here.
  return id && /^[A-Za-z0-9_-]{43}$/.test(id) ? hashSessionId(id) : undefined;
}

export function sessionCookie(url: string, id: string, maxAgeSeconds: number): Cookie {
  return cookie(SESSION_COOKIE, url, id, maxAgeSeconds);
}

export function clearSessionCookie(url: string): Cookie {
  return cookie(SESSION_COOKIE, url, '', 0);
}

/** The sealed pending sign-in (state, nonce, PKCE verifier, where to go back), for the callback. */
export function signInCookie(url: string, sealed: string, maxAgeSeconds: number): Cookie {
  return cookie(SIGN_IN_COOKIE, url, sealed, maxAgeSeconds);
}

export function clearSignInCookie(url: string): Cookie {
  return cookie(SIGN_IN_COOKIE, url, '', 0);
}

export function readSignInCookie(request: CookieRequest): string | undefined {
  return readCookie(request, SIGN_IN_COOKIE);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSafeMethod(method: string | undefined): boolean {
  return SAFE_METHODS.has((method ?? 'GET').toUpperCase());
}

/**
 * A change made with the session cookie must come from this service's own
 * pages: the browser's Fetch metadata and Origin, when it sends them, must say
 * same origin, and the session's CSRF token must come back (in the
 * X-CSRF-Token header, or `csrfToken` of a form this service served). A site
 * that makes the browser send the cookie can do neither.
 */
export function checkSameOrigin(request: CookieRequest, csrfToken: string, formToken?: string): void {
  const site = request.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin' && site !== 'none') throw crossSite();
  const origin = request.headers.get('origin');
  if (origin !== null && origin !== new URL(request.url).origin) throw crossSite();
  const sent = request.headers.get(CSRF_HEADER) ?? formToken;
  if (sent === undefined || sent === null || !sameText(sent, csrfToken)) throw crossSite();
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function crossSite(): DomainError {
  return new DomainError(
    'CrossSiteRequestRefused',
    "A change made with the session cookie must come from flowshare itself, with the session's CSRF token (X-CSRF-Token).",
  );
}
