import { type HttpResponseInit } from '@azure/functions';
import { openApiDocument } from '../lib/http/openapi';
import { ok } from '../lib/http/response';
import { httpRoute } from '../lib/http/routes';

/** The OpenAPI description of every route. Anonymous, like the health probe. */
export async function openApi(): Promise<HttpResponseInit> {
  return ok(openApiDocument());
}

httpRoute('openApi', {
  methods: ['GET'],
  route: 'openapi.json',
  handler: openApi,
  doc: {
    summary: 'This document',
    who: 'anyone',
    anonymous: true,
    ok: { status: 200 },
    problems: [],
  },
});
