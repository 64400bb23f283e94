import { z } from 'zod';
import { type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { authenticate, noteCaller, sessionOf } from '../lib/auth/authenticate';
import { checkSameOrigin, sessionHashOf } from '../lib/auth/session';
import { parseWith } from '../lib/domain/schemas';
import { formFields, htmlPage, redirect, withPage } from '../lib/http/page';
import { withProblemDetails } from '../lib/http/problem';
import { pageRequest, parseBody, pathId } from '../lib/http/request';
import { created, list, noContent, ok } from '../lib/http/response';
import { requestLog } from '../lib/http/log';
import { services } from '../lib/services';
import type { ConsentPage } from '../lib/services/consent';
import { SIGN_IN_PATH } from '../lib/services/signIn';
import { httpRoute, AUTHED, CHANGE, READ } from '../lib/http/routes';
import { createConnectionBody, deleteConnectionQuery, listConnectionsQuery, pageQuery } from '../lib/http/bodies';

export async function createConnection(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const { body } = await parseBody(request, createConnectionBody);
  const connection = await services().connections.create(caller, body, request.url);
  return created(connection.value, `/api/connections/${connection.value.id}`, connection.etag);
}

export async function listConnections(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const { connectorId } = parseWith(listConnectionsQuery, {
    connectorId: request.query.get('connectorId') ?? undefined,
  });
  return list(request, await services().connections.list(caller, pageRequest(request), connectorId));
}

export async function getConnection(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const connection = await services().connections.get(caller, pathId(request, 'connectionId'));
  return ok(connection.value, { etag: connection.etag });
}

export async function deleteConnection(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const { force } = parseWith(deleteConnectionQuery, { force: request.query.get('force') ?? undefined });
  await services().connections.delete(caller, pathId(request, 'connectionId'), force === 'true');
  return noContent();
}

export async function connectionUsage(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return ok({ value: await services().connections.usage(caller, pathId(request, 'connectionId')) });
}

export async function refreshConnection(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const connection = await services().connections.refresh(
    caller,
    pathId(request, 'connectionId'),
    requestLog(request, context),
  );
  return ok(connection.value, { etag: connection.etag });
}

export async function reauthorizeConnection(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const connection = await services().consent.reauthorize(caller, pathId(request, 'connectionId'), request.url);
  return ok(connection.value, { etag: connection.etag });
}

/**
 * The consent link: a page only the connection's owner, signed in in this
 * browser, gets anything from. Anyone else is sent to sign in, or told the
 * link is not theirs; nobody learns whose it is.
 */
export async function consentPage(request: HttpRequest): Promise<HttpResponseInit> {
  const session = await sessionOf(request);
  if (!session) return signInFirst(request);
  noteCaller(request, session.caller);
  const page = await services().consent.page(session, request.params.connectionId ?? '');
  if (page.kind !== 'ready') return consentRefusal(page);
  const loginHint = request.query.get('loginHint');
  return htmlPage(
    200,
    `Connect ${page.connection.displayName}`,
    [
      `You are signed in as ${session.name}.`,
      `Continue to ${page.connectorName} to give consent for your connection "${page.connection.displayName}". ` +
        'Only you can complete it, in this browser.',
    ],
    {
      form: {
        action: new URL(request.url).pathname,
        fields: { csrfToken: session.csrfToken, ...(loginHint ? { loginHint } : {}) },
        button: `Continue to ${page.connectorName}`,
      },
    },
  );
}

/** The consent page's button: the consent starts at the provider, bound to this browser's session. */
export async function startConsent(request: HttpRequest): Promise<HttpResponseInit> {
  const session = await sessionOf(request);
  if (!session) return signInFirst(request);
  const form = await formFields(request);
  checkSameOrigin(request, session.csrfToken, form.get('csrfToken') ?? undefined);
  noteCaller(request, session.caller);
  const started = await services().consent.start(
    session,
    request.params.connectionId ?? '',
    request.url,
    form.get('loginHint') || undefined,
  );
  return started.kind === 'redirect' ? redirect(started.url) : consentRefusal(started);
}

function signInFirst(request: HttpRequest): HttpResponseInit {
  const url = new URL(request.url);
  const signIn = new URL(SIGN_IN_PATH, url);
  signIn.searchParams.set('returnTo', `${url.pathname}${url.search}`);
  return redirect(`${signIn.pathname}${signIn.search}`);
}

function consentRefusal(page: Exclude<ConsentPage, { kind: 'ready' }>): HttpResponseInit {
  if (page.kind === 'notYours') {
    return htmlPage(
      404,
      'This consent link is not for you',
      'Only the person who created this connection can give consent for it, signed in as themselves. Nothing was changed.',
    );
  }
  return htmlPage(
    409,
    'No consent is asked for',
    `"${page.connection.displayName}" is not waiting for consent: it was given, or this link is too old. ` +
      'To consent again, reauthorize the connection (POST /api/connections/{id}/reauthorize) and open its new link.',
  );
}

/**
 * Where the provider sends the person back after consent. It only finishes
 * a consent in the browser that started it (its session is what the state
 * is bound to); from anywhere else it changes nothing. A person reads the
 * answer, so it is a page, not JSON.
 */
export async function oauthCallback(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const param = (name: string) => request.query.get(name) ?? undefined;
  const outcome = await services().consent.complete(
    { state: param('state'), code: param('code'), error: param('error') },
    sessionHashOf(request),
    requestLog(request, context),
  );
  switch (outcome.kind) {
    case 'connected':
      return htmlPage(200, 'Connected', [
        `"${outcome.connection.displayName}" is connected as ${outcome.connection.account ?? 'an unnamed account'}. You can close this window.`,
        ...(outcome.previousAccount ? [`Before, it was connected as ${outcome.previousAccount}.`] : []),
      ]);
    case 'failed':
      return htmlPage(
        200,
        'Not connected',
        outcome.connection.status === 'Connected'
          ? `Consent was not given, so "${outcome.connection.displayName}" keeps the grant it had.`
          : outcome.reason === 'consentDenied'
            ? `Consent for "${outcome.connection.displayName}" was declined, so it is not connected. Reauthorize it to try again.`
            : `The provider did not complete consent for "${outcome.connection.displayName}". Reauthorize it to try again.`,
      );
    case 'wrongBrowser':
      return htmlPage(
        403,
        'This consent cannot be finished here',
        'This consent was started by someone else, or in another browser. Only the owner of the connection, ' +
          'signed in to flowshare in the browser where they started it, can finish it. Nothing was changed; ' +
          'the owner has to open the consent link again.',
      );
    case 'invalidState':
      return htmlPage(
        400,
        'This link cannot be used',
        outcome.reason === 'expired'
          ? "This consent has expired. Open the connection's consent link again to start a new one."
          : 'This consent link is not valid or has already been used. Nothing was changed.',
      );
  }
}

httpRoute('createConnection', {
  methods: ['POST'],
  route: 'connections',
  handler: withProblemDetails(createConnection),
  doc: {
    summary: 'Create a connection of your own',
    who: 'any caller',
    body: createConnectionBody,
    ok: { status: 201, schema: 'Connection', headers: ['ETag', 'Location'] },
    problems: [...CHANGE, 'ValidationFailed', 'PayloadTooLarge'],
  },
});

httpRoute('listConnections', {
  methods: ['GET'],
  route: 'connections',
  handler: withProblemDetails(listConnections),
  doc: {
    summary: 'Your own connections, oldest first',
    who: 'any caller',
    query: listConnectionsQuery.extend(pageQuery.shape),
    ok: { status: 200, schema: 'Connection', list: true },
    problems: [...AUTHED, 'ValidationFailed'],
  },
});

httpRoute('oauthCallback', {
  methods: ['GET'],
  route: 'connections/oauth/callback',
  handler: withPage(oauthCallback),
  doc: {
    summary: 'Where the OAuth provider sends you back; answers an HTML page',
    who: "the connection's owner, in the signed-in browser that started the consent",
    anonymous: true,
    query: z.object({ state: z.string().optional(), code: z.string().optional(), error: z.string().optional() }),
    ok: { status: 200, html: true },
    problems: [],
  },
});

httpRoute('consentPage', {
  methods: ['GET'],
  route: 'connections/{connectionId}/consent',
  handler: withPage(consentPage),
  doc: {
    summary: "A connection's consent page (its consentUrl): sign in, then continue to the provider",
    who: "the connection's owner, signed in in this browser (others are sent to sign in, or refused)",
    anonymous: true,
    query: z.object({ loginHint: z.string().optional() }),
    ok: { status: 200, html: true },
    problems: [],
  },
});

httpRoute('startConsent', {
  methods: ['POST'],
  route: 'connections/{connectionId}/consent',
  handler: withPage(startConsent),
  doc: {
    summary: "The consent page's form: starts the consent at the provider, bound to this browser's session",
    who: "the connection's owner, signed in, from the consent page (a form with its csrfToken)",
    anonymous: true,
    ok: { status: 302 },
    problems: [],
  },
});

httpRoute('reauthorizeConnection', {
  methods: ['POST'],
  route: 'connections/{connectionId}/reauthorize',
  handler: withProblemDetails(reauthorizeConnection),
  doc: {
    summary: 'Ask for consent again for the same connection; answers its new consentUrl',
    who: 'its owner',
    ok: { status: 200, schema: 'Connection', headers: ['ETag'] },
    problems: [...READ, 'Conflict', 'CrossSiteRequestRefused'],
  },
});

httpRoute('getConnection', {
  methods: ['GET'],
  route: 'connections/{connectionId}',
  handler: withProblemDetails(getConnection),
  doc: {
    summary: 'One of your connections',
    who: 'its owner',
    ok: { status: 200, schema: 'Connection', headers: ['ETag'] },
    problems: READ,
  },
});

httpRoute('deleteConnection', {
  methods: ['DELETE'],
  route: 'connections/{connectionId}',
  handler: withProblemDetails(deleteConnection),
  doc: {
    summary: 'Delete a connection; 409 while a flow embeds it unless force=true',
    who: 'its owner',
    query: deleteConnectionQuery,
    ok: { status: 204 },
    problems: [...READ, 'Conflict', 'CrossSiteRequestRefused'],
  },
});

httpRoute('connectionUsage', {
  methods: ['GET'],
  route: 'connections/{connectionId}/usage',
  handler: withProblemDetails(connectionUsage),
  doc: {
    summary: 'Every flow and reference that binds it',
    who: 'its owner',
    ok: { status: 200, schema: 'ConnectionUsage', list: true },
    problems: READ,
  },
});

httpRoute('refreshConnection', {
  methods: ['POST'],
  route: 'connections/{connectionId}/refresh',
  handler: withProblemDetails(refreshConnection),
  doc: {
    summary: 'Check the credential now',
    who: 'its owner',
    ok: { status: 200, schema: 'Connection', headers: ['ETag'] },
    problems: [...READ, 'Conflict', 'CrossSiteRequestRefused'],
  },
});
