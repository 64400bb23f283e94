// The OpenAPI 3.1 description of every route, built from the documentation
// each route is registered with (lib/http/routes.ts) and the same zod schemas
// that validate requests (z.toJSONSchema).
import { z } from 'zod';
import { idSchema } from '../domain/schemas';
import { documentedRoutes } from './routes';
import { schemas, type SchemaName } from './shapes';
import { PROBLEM_STATUS, PROBLEM_TITLES } from './problemTypes';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

function ref(name: SchemaName, list?: boolean): Record<string, unknown> {
  const one = { $ref: `#/components/schemas/${name}` };
  return list
    ? {
        type: 'object',
        properties: { value: { type: 'array', items: one }, nextLink: { type: 'string' } },
        required: ['value'],
      }
    : one;
}

function pathParameters(path: string) {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: jsonSchema(idSchema, 'input'),
  }));
}

function queryParameters(query: z.ZodObject | undefined) {
  if (!query) return [];
  return Object.entries(query.shape).map(([name, schema]) => ({
    name,
    in: 'query',
    required: !(schema as z.ZodType).safeParse(undefined).success,
    schema: jsonSchema(schema as z.ZodType, 'input'),
  }));
}

let cached: Record<string, unknown> | undefined;

export function openApiDocument(): Record<string, unknown> {
  cached ??= build();
  return cached;
}

function build(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { operationId, method, route, doc } of documentedRoutes()) {
    const path = `/${route}`;
    const responses: Record<string, unknown> = {};
    const headers = (names: string[] = []) =>
      names.length ? { headers: Object.fromEntries(names.map((h) => [h, { schema: { type: 'string' } }])) } : {};
    responses[String(doc.ok.status)] = {
      description: doc.ok.status === 204 ? 'Done' : doc.ok.status === 302 ? 'Redirect' : 'Success',
      ...headers(doc.ok.headers),
      ...(doc.ok.schema
        ? { content: { 'application/json': { schema: ref(doc.ok.schema, doc.ok.list) } } }
        : doc.ok.html
          ? { content: { 'text/html': { schema: { type: 'string' } } } }
          : doc.ok.status === 204 || doc.ok.status === 302
            ? {}
            : { content: { 'application/json': { schema: { type: 'object' } } } }),
    };
    if (doc.alsoOk) {
      responses[String(doc.alsoOk.status)] = {
        description: doc.alsoOk.description,
        ...headers(doc.alsoOk.headers),
        ...(doc.alsoOk.schema ? { content: { 'application/json': { schema: ref(doc.alsoOk.schema) } } } : {}),
      };
    }
    for (const code of doc.problems) {
      const status = String(PROBLEM_STATUS[code]);
      const existing = responses[status] as { description: string } | undefined;
      const description = existing ? `${existing.description}; ${code}` : `${PROBLEM_TITLES[code]}: ${code}`;
      responses[status] = { description, content: { 'application/problem+json': { schema: ref('Problem') } } };
    }
    paths[path] ??= {};
    paths[path]![method] = {
      operationId,
      summary: doc.summary,
      description: `Who: ${doc.who}.`,
      ...(doc.anonymous ? { security: [] } : doc.auth ? { security: [{ [doc.auth]: [] }] } : {}),
      parameters: [...pathParameters(path), ...queryParameters(doc.query)],
      ...(doc.body
        ? {
            requestBody: {
              // A body every field of which is optional may be left out.
              required: !doc.body.safeParse({}).success,
              content: { 'application/json': { schema: jsonSchema(doc.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'flowshare',
      version: '0.1.0',
      description: 'Share desktop flows that contain connector actions without leaking the connections behind them.',
    },
    servers: [{ url: '/api' }],
    security: [{ bearer: [] }, { session: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'flowshare-session',
          description:
            'A signed-in browser (`__Host-flowshare-session` over HTTPS). Changes also need the X-CSRF-Token header from GET /auth/session.',
        },
        machineKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'flowshare machine key (fsm_...)',
          description:
            "A registered machine's key, shown once by POST /machines or POST /machines/{machineId}/key. Machine routes only.",
        },
        runToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'flowshare run token (fsr_...)',
          description:
            "A run's token, in its lease: works for that run alone, while it is Running and its lease holds. Names no connection and holds no secret.",
        },
      },
      schemas: Object.fromEntries(
        Object.entries(schemas).map(([name, schema]) => [name, jsonSchema(schema, 'output')]),
      ),
    },
  };
}
