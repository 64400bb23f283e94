import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { authenticate } from '../lib/auth/authenticate';
import { withProblemDetails } from '../lib/http/problem';
import { ok } from '../lib/http/response';
import { services } from '../lib/services';

/** The connector catalog: what a connection can be made to, and how it signs in. */
export async function listConnectors(request: HttpRequest): Promise<HttpResponseInit> {
  await authenticate(request);
  return ok({ value: services().connections.catalog() });
}

app.http('listConnectors', {
  methods: ['GET'],
  route: 'connectors',
  authLevel: 'anonymous',
  handler: withProblemDetails(listConnectors),
});
