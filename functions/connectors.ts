import { type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { authenticate } from '../lib/auth/authenticate';
import { withProblemDetails } from '../lib/http/problem';
import { ok } from '../lib/http/response';
import { services } from '../lib/services';
import { httpRoute, AUTHED } from '../lib/http/routes';

/** The connector catalog: what a connection can be made to, how it signs in, and what a call may ask of it. */
export async function listConnectors(request: HttpRequest): Promise<HttpResponseInit> {
  await authenticate(request);
  return ok({ value: services().connections.catalog() });
}

httpRoute('listConnectors', {
  methods: ['GET'],
  route: 'connectors',
  handler: withProblemDetails(listConnectors),
  doc: {
    summary: "The connector catalog, with each connector's operations and their parameters",
    who: 'any caller',
    ok: { status: 200, schema: 'Connector', list: true },
    problems: AUTHED,
  },
});
