// The web console's files (web/, built by Vite to dist/web/), served by the
// Function App itself from the site's root: a file that exists is answered
// with its type, any other path without a file extension is a page of the
// console's own (client routing) and gets index.html. Every answer carries
// the console's security headers (docs/console.md, Security headers).
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { HttpResponseInit } from '@azure/functions';
import { API_PREFIX } from './routes';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * No inline script, nothing from elsewhere, no framing. Inline styles are
 * allowed: Fluent UI (Griffel) writes its atomic CSS into style elements at
 * run time. Page script reaches only this origin (`connect-src 'self'`).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const CONSOLE_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  // For browsers that predate frame-ancestors.
  'X-Frame-Options': 'DENY',
  // Not no-referrer: a same-origin POST would then carry `Origin: null`, which the CSRF check refuses.
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

/** Hashed file names (Vite's assets/) never change content: cache them for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function notFound(): HttpResponseInit {
  // As the host answers a path no function takes: an empty 404.
  return { status: 404, headers: { 'Content-Length': '0' } };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Answers `path` (below the site's root, without its leading slash) from the
 * built console in `root`.
 */
export async function serveWebFile(root: string, path: string | undefined): Promise<HttpResponseInit> {
  const relative = (path ?? '').replace(/^\/+/, '');
  // The API's paths belong to the API: one no function takes is the host's empty 404, not a page.
  const first = relative.split('/')[0]!.toLowerCase();
  if (first === API_PREFIX) return notFound();
  if (relative.includes('\0') || relative.split(/[\\/]/).some((segment) => segment === '..')) return notFound();

  const index = join(root, 'index.html');
  const file = normalize(join(root, relative));
  if (relative !== '' && file.startsWith(root + sep) && (await isFile(file))) {
    const type = TYPES[extname(file).toLowerCase()];
    if (!type) return notFound();
    return {
      status: 200,
      body: await readFile(file),
      headers: {
        ...CONSOLE_HEADERS,
        'Content-Type': type,
        'Cache-Control': relative.startsWith('assets/') ? IMMUTABLE : 'no-cache',
      },
    };
  }
  // A missing file is a 404; a path without an extension is one of the console's pages.
  if (extname(relative) !== '') return notFound();
  if (!(await isFile(index))) {
    return {
      status: 503,
      body: 'The web console has not been built: run `npm run build:web`.',
      headers: { ...CONSOLE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
    };
  }
  return {
    status: 200,
    body: await readFile(index),
    headers: { ...CONSOLE_HEADERS, 'Content-Type': TYPES['.html']!, 'Cache-Control': 'no-cache' },
  };
}
