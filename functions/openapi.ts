import { app, type HttpResponseInit } from '@azure/functions';
import { openApiDocument } from '../lib/http/openapi';
import { ok } from '../lib/http/response';

/** The OpenAPI description of every route. Anonymous, like the health probe. */
export async function openApi(): Promise<HttpResponseInit> {
  return ok(openApiDocument());
}

app.http('openApi', {
  methods: ['GET'],
  route: 'openapi.json',
  authLevel: 'anonymous',
  handler: openApi,
});
