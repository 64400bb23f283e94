import { z } from 'zod';
import { type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { noteCaller, sessionOf } from '../lib/auth/authenticate';
import {
  checkSameOrigin,
  clearSessionCookie,
  clearSignInCookie,
  readSignInCookie,
  sessionCookie,
  sessionHashOf,
  signInCookie,
} from '../lib/auth/session';
import { DomainError } from '../lib/domain/errors';
import { formFields, htmlPage, redirect, withPage } from '../lib/http/page';
import { withProblemDetails } from '../lib/http/problem';
import { noContent, ok } from '../lib/http/response';
import { requestLog } from '../lib/http/log';
import { services } from '../lib/services';
import { httpRoute, AUTHED } from '../lib/http/routes';

/** Sends the browser to the authority's sign-in page; `returnTo` (a path here) is where it comes back to. */
export async function signIn(request: HttpRequest): Promise<HttpResponseInit> {
  const started = await services().signIn.start(request.url, {
    returnTo: request.query.get('returnTo') ?? undefined,
    loginHint: request.query.get('loginHint') ?? undefined,
  });
  return redirect(started.redirectTo, [signInCookie(request.url, started.pending, started.maxAgeSeconds)]);
}

/** Where the authority sends the browser back: a session begins, only in the browser that started the sign-in. */
export async function signInCallback(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const outcome = await services().signIn.finish(
    request.url,
    readSignInCookie(request),
    {
      state: request.query.get('state') ?? undefined,
      code: request.query.get('code') ?? undefined,
      error: request.query.get('error') ?? undefined,
    },
    requestLog(request, context),
  );
  const clearPending = clearSignInCookie(request.url);
  if (outcome.kind === 'refused') {
    const why = {
      notStartedHere:
        'This sign-in was not started in this browser, or it took too long. Nothing was changed; start again.',
      declined: 'The sign-in was cancelled. Nothing was changed.',
      failed: 'The sign-in could not be completed. Nothing was changed; try again.',
      notAccepted: 'This account cannot use flowshare here. Nothing was changed.',
    }[outcome.reason];
    return htmlPage(400, 'Not signed in', why, { cookies: [clearPending] });
  }
  noteCaller(request, outcome.session.caller);
  const cookies = [clearPending, sessionCookie(request.url, outcome.session.id, outcome.maxAgeSeconds)];
  if (outcome.returnTo) return redirect(outcome.returnTo, cookies);
  return htmlPage(200, 'Signed in', `You are signed in to flowshare as ${outcome.session.name}.`, { cookies });
}

/** Who is signed in in this browser, and the token its pages send with changes. Never a provider token. */
export async function currentSession(request: HttpRequest): Promise<HttpResponseInit> {
  const session = await sessionOf(request);
  if (!session)
    throw new DomainError('Unauthenticated', 'Nobody is signed in in this browser.', { tokenPresent: false });
  noteCaller(request, session.caller);
  return ok({
    tenantId: session.caller.tenantId,
    principalId: session.caller.principalId,
    name: session.name,
    expiresAt: session.expiresAt,
    csrfToken: session.csrfToken,
  });
}

/**
 * Ends the session on the server and clears its cookie. A change made with
 * the cookie, so it must come from flowshare's own pages (a form of ours
 * carries the CSRF token as `csrfToken`).
 */
export async function signOut(request: HttpRequest): Promise<HttpResponseInit> {
  const session = await sessionOf(request);
  const form = await formFields(request);
  const cookies = [clearSessionCookie(request.url)];
  if (session) {
    checkSameOrigin(request, session.csrfToken, form.get('csrfToken') ?? undefined);
    noteCaller(request, session.caller);
    await services().signIn.signOut(session.hash);
  } else {
    const hash = sessionHashOf(request);
    // An expired session's row may linger; the cookie naming it is all it takes to forget it.
    if (hash) await services().signIn.signOut(hash);
  }
  if (form.has('csrfToken')) return htmlPage(200, 'Signed out', 'You are signed out of flowshare.', { cookies });
  return { ...noContent(), cookies };
}

httpRoute('signIn', {
  methods: ['GET'],
  route: 'auth/signin',
  handler: withPage(signIn),
  doc: {
    summary: "Sign in in a browser: redirects to the identity provider's page",
    who: 'anyone',
    anonymous: true,
    query: z.object({ returnTo: z.string().optional(), loginHint: z.string().optional() }),
    ok: { status: 302 },
    problems: [],
  },
});

httpRoute('signInCallback', {
  methods: ['GET'],
  route: 'auth/callback',
  handler: withPage(signInCallback),
  doc: {
    summary: 'Where the identity provider sends you back; starts the session (an HttpOnly cookie)',
    who: 'the browser that started the sign-in',
    anonymous: true,
    query: z.object({ state: z.string().optional(), code: z.string().optional(), error: z.string().optional() }),
    ok: { status: 302, html: true },
    problems: [],
  },
});

httpRoute('currentSession', {
  methods: ['GET'],
  route: 'auth/session',
  handler: withProblemDetails(currentSession),
  doc: {
    summary: 'Who is signed in in this browser, and the CSRF token its pages send with changes',
    who: 'a signed-in browser (session cookie)',
    ok: { status: 200, schema: 'Session' },
    problems: AUTHED,
  },
});

httpRoute('signOut', {
  methods: ['POST'],
  route: 'auth/signout',
  handler: withProblemDetails(signOut),
  doc: {
    summary: 'Sign out: ends the session on the server and clears its cookie',
    who: 'a signed-in browser (session cookie, with its CSRF token)',
    ok: { status: 204 },
    problems: ['CrossSiteRequestRefused', 'StorageUnavailable'],
  },
});
