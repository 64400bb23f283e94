// The small HTML pages a person sees in their browser around sign-in and
// OAuth consent: what happened, and what to do next. Everything shown is
// escaped; the pages run no script.
import type { Cookie, HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { logRequest, problemFor } from './problem';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A form posting back to this service, with its hidden fields and one button. */
export interface PageForm {
  action: string;
  fields: Record<string, string>;
  button: string;
}

export interface PageOptions {
  form?: PageForm;
  cookies?: Cookie[];
}

export function htmlPage(
  status: number,
  title: string,
  message: string | string[],
  options: PageOptions = {},
): HttpResponseInit {
  const paragraphs = (Array.isArray(message) ? message : [message]).map((p) => `<p>${escapeHtml(p)}</p>`).join('');
  const form = options.form
    ? `<form method="post" action="${escapeHtml(options.form.action)}">${Object.entries(options.form.fields)
        .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
        .join('')}<button type="submit">${escapeHtml(options.form.button)}</button></form>`
    : '';
  const body = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} - flowshare</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}button{font:inherit;padding:.4rem 1rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>${paragraphs}${form}</body>
</html>
`;
  return {
    status,
    body,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      // Text and a form only: no scripts, no frames, no referrer leaking a code to another
      // site. Not no-referrer: a browser then posts the page's form with `Origin: null`, which
      // the same-origin check of a change made with the session cookie refuses.
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      'Referrer-Policy': 'same-origin',
      'X-Content-Type-Options': 'nosniff',
    },
    ...(options.cookies ? { cookies: options.cookies } : {}),
  };
}

/** A redirect of the browser, with the cookies to set on the way. */
export function redirect(location: string, cookies: Cookie[] = []): HttpResponseInit {
  return {
    status: 302,
    headers: { Location: location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' },
    ...(cookies.length > 0 ? { cookies } : {}),
  };
}

/**
 * Wraps a handler whose answer a person reads: whatever it throws becomes a
 * page (a storage fault says to try again; the detail goes to the log only),
 * and every request leaves its log line as API requests do.
 */
export function withPage(handler: HttpHandler): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext) => {
    const started = Date.now();
    let response: HttpResponseInit;
    try {
      response = (await handler(request, context)) as HttpResponseInit;
    } catch (error) {
      const problem = problemFor(error, context);
      const status = problem.status ?? 500;
      response = htmlPage(
        status,
        status === 503 ? 'Please try again' : 'Something went wrong',
        status === 503
          ? 'flowshare cannot reach its storage right now. Nothing was changed; try again in a moment.'
          : 'This could not be finished. Nothing was changed; try again in a moment.',
      );
    }
    logRequest(request, context, response, started);
    return response;
  };
}

/** The fields of a form the browser posted (application/x-www-form-urlencoded). */
export async function formFields(request: HttpRequest): Promise<URLSearchParams> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return new URLSearchParams();
  return new URLSearchParams(await request.text());
}
