import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { authenticate } from '../lib/auth/authenticate';
import { createConnectionBody, deleteConnectionQuery, listConnectionsQuery } from '../lib/domain/connections';
import { parseWith } from '../lib/domain/schemas';
import { htmlPage } from '../lib/http/page';
import { logRequest, problemFor, withProblemDetails } from '../lib/http/problem';
import { pageRequest, parseBody, pathId } from '../lib/http/request';
import { created, list, noContent, ok } from '../lib/http/response';
import { services } from '../lib/services';

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

export async function refreshConnection(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const connection = await services().connections.refresh(caller, pathId(request, 'connectionId'));
  return ok(connection.value, { etag: connection.etag });
}

/**
 * Where the provider sends the person back after consent. Anonymous: the
 * single-use `state` is what binds it to a connection and its owner. A
 * person reads the answer, so it is a page, not JSON.
 */
export async function oauthCallback(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const started = Date.now();
  const page = await consentPage(request, context);
  logRequest(request, context, page, started);
  return page;
}

async function consentPage(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const param = (name: string) => request.query.get(name) ?? undefined;
  let outcome;
  try {
    outcome = await services().connections.completeConsent({
      state: param('state'),
      code: param('code'),
      error: param('error'),
    });
  } catch (error) {
    const problem = problemFor(error, context);
    return htmlPage(
      problem.status ?? 500,
      'Something went wrong',
      'The connection could not be finished right now. Close this window and try again in a moment.',
    );
  }
  switch (outcome.kind) {
    case 'connected':
      return htmlPage(200, 'Connected', `"${outcome.connection.displayName}" is connected. You can close this window.`);
    case 'failed':
      return htmlPage(
        200,
        'Not connected',
        outcome.connection.statusReason === 'consentDenied'
          ? `Consent for "${outcome.connection.displayName}" was declined, so it is not connected. Create the connection again to retry.`
          : `The provider did not complete consent for "${outcome.connection.displayName}". Create the connection again to retry.`,
      );
    case 'invalidState':
      return htmlPage(
        400,
        'This link cannot be used',
        outcome.reason === 'expired'
          ? 'This consent link has expired. Create the connection again to get a new one.'
          : 'This consent link is not valid or has already been used. Nothing was changed.',
      );
  }
}

app.http('createConnection', {
  methods: ['POST'],
  route: 'connections',
  authLevel: 'anonymous',
  handler: withProblemDetails(createConnection),
});

app.http('listConnections', {
  methods: ['GET'],
  route: 'connections',
  authLevel: 'anonymous',
  handler: withProblemDetails(listConnections),
});

app.http('oauthCallback', {
  methods: ['GET'],
  route: 'connections/oauth/callback',
  authLevel: 'anonymous',
  handler: oauthCallback,
});

app.http('getConnection', {
  methods: ['GET'],
  route: 'connections/{connectionId}',
  authLevel: 'anonymous',
  handler: withProblemDetails(getConnection),
});

app.http('deleteConnection', {
  methods: ['DELETE'],
  route: 'connections/{connectionId}',
  authLevel: 'anonymous',
  handler: withProblemDetails(deleteConnection),
});

app.http('connectionUsage', {
  methods: ['GET'],
  route: 'connections/{connectionId}/usage',
  authLevel: 'anonymous',
  handler: withProblemDetails(connectionUsage),
});

app.http('refreshConnection', {
  methods: ['POST'],
  route: 'connections/{connectionId}/refresh',
  authLevel: 'anonymous',
  handler: withProblemDetails(refreshConnection),
});
