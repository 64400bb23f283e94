// The OpenAPI document against the routes the host actually serves.
import { describe, expect, it } from 'vitest';
import { call, stack, type Body } from '../support/stack';

describe('the OpenAPI description', () => {
  it('is served to anyone and names the bearer scheme', async () => {
    const response = await call('GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      openapi: '3.1.0',
      servers: [{ url: '/api' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    });
  });

  it('documents every route the host serves, and no route it does not', async () => {
    const document = (await call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    // The API's routes are below `api/`; the one other route is the web console's (GET and HEAD).
    const served = stack()
      .routes.filter(({ route }) => route.startsWith('api/'))
      .map(({ method, route }) => `${method} /${route.slice('api/'.length)}`)
      .sort();
    expect(documented).toEqual(served);
    expect(stack().routes.filter(({ route }) => !route.startsWith('api/'))).toEqual([
      { method: 'GET', route: '{*path}' },
      { method: 'HEAD', route: '{*path}' },
    ]);
  });

  it('gives each operation its problems and each body its schema', async () => {
    const { paths } = (await call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, Body>> };
    const share = paths['/flows/{flowId}/permissions/{principalId}']!.put;
    expect(share.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      properties: { role: { enum: ['coOwner', 'user'] } },
      additionalProperties: false,
    });
    expect(Object.keys(share.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '409', '503']),
    );
    expect(share.responses['403'].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem');
    expect(paths['/health']!.get.security).toEqual([]);
  });
});
