// The OpenAPI 3.1 description of every route, built from the same zod schemas
// that validate requests (z.toJSONSchema). Response shapes are described here
// in zod too, for the document only.
import { z } from 'zod';
import {
  CONNECTION_STATUSES,
  createConnectionBody,
  deleteConnectionQuery,
  listConnectionsQuery,
  STATUS_REASONS,
} from '../domain/connections';
import { AUTH_TYPES } from '../domain/connectors';
import { ERROR_STATUS, ERROR_TITLES, type ErrorCode } from '../domain/errors';
import { AUDIT_ACTIONS } from '../domain/flows';
import { patchReferenceBody, putReferenceBody } from '../domain/references';
import { ROLES } from '../domain/roles';
import { RUN_MODES, startRunBody } from '../domain/runs';
import { createFlowBody, idSchema, pageQuery, sharePermissionBody, updateFlowBody } from '../domain/schemas';

const timestamp = z.string().describe('ISO 8601 time');
const role = z.enum(ROLES);
const connectionStatus = z.enum(CONNECTION_STATUSES);

const schemas = {
  Flow: z.object({
    id: idSchema,
    name: z.string(),
    schemaVersion: z.union([z.literal(1), z.literal(2)]),
    ownerId: z.string(),
    role: role.describe("the caller's role"),
    definition: z.looseObject({ actions: z.array(z.looseObject({ type: z.string() })) }).optional(),
    createdAt: timestamp,
    modifiedAt: timestamp,
  }),
  Permission: z.object({ principalId: z.string(), role, grantedBy: z.string(), grantedAt: timestamp }),
  Connector: z.object({
    id: idSchema,
    displayName: z.string(),
    authType: z.enum(AUTH_TYPES),
    scopes: z.array(z.string()).optional(),
  }),
  Connection: z.object({
    id: idSchema,
    connectorId: idSchema,
    displayName: z.string(),
    status: connectionStatus,
    statusReason: z.enum(Object.keys(STATUS_REASONS) as [string, ...string[]]).optional(),
    account: z.string().optional().describe('the provider account that consented ("connected as ...")'),
    createdAt: timestamp,
    consentUrl: z
      .url()
      .optional()
      .describe(
        'when created or reauthorized, for oauth2 connectors: the flowshare page where the owner, signed in, gives consent',
      ),
  }),
  Session: z.object({
    tenantId: z.string(),
    principalId: z.string(),
    name: z.string(),
    expiresAt: timestamp,
    csrfToken: z.string().describe('send it as X-CSRF-Token with every change made with the session cookie'),
  }),
  ConnectionUsage: z.object({ flowId: idSchema, flowName: z.string(), logicalName: idSchema, embedded: z.boolean() }),
  ConnectionReference: z.object({
    logicalName: idSchema,
    connectorId: idSchema,
    ownerId: z.string(),
    embedded: z.boolean(),
    status: connectionStatus,
    connection: z.object({ id: idSchema, displayName: z.string() }).optional().describe('only for the reference owner'),
  }),
  RunPromptEntry: z.object({
    logicalName: idSchema,
    connectorId: idSchema,
    embedded: z.boolean(),
    candidates: z.array(
      z.object({
        id: idSchema,
        displayName: z.string(),
        status: connectionStatus,
        source: z.enum(['embedded', 'own']),
      }),
    ),
    defaultConnectionId: idSchema.nullable(),
  }),
  RunError: z.object({ code: z.string(), detail: z.string(), logicalName: idSchema.optional() }),
  Run: z.object({
    id: z.string(),
    flowId: idSchema,
    mode: z.enum(RUN_MODES),
    status: z.enum(['Queued', 'Dispatched', 'Rejected', 'Failed']),
    initiatedBy: z.string(),
    connections: z.record(idSchema, idSchema.nullable()),
    errors: z.array(z.object({ code: z.string(), detail: z.string(), logicalName: idSchema.optional() })).optional(),
    createdAt: timestamp,
    completedAt: timestamp.optional(),
  }),
  CloudReadiness: z.object({
    ready: z.boolean(),
    errors: z.array(z.object({ code: z.string(), detail: z.string(), logicalName: idSchema.optional() })),
  }),
  AuditEntry: z.object({
    id: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    actorId: z.string(),
    at: timestamp,
    subjectId: z.string().optional(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  }),
  Health: z.object({ status: z.literal('healthy'), checks: z.record(z.string(), z.string()) }),
  Problem: z.looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
    errors: z
      .array(z.object({ field: z.string(), detail: z.string() }))
      .optional()
      .describe('ValidationFailed: each invalid field'),
    missing: z
      .array(z.object({ logicalName: idSchema, connectorId: idSchema }))
      .optional()
      .describe('ConnectionRequired'),
  }),
} as const;

type SchemaName = keyof typeof schemas;

interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  operationId: string;
  summary: string;
  /** Who may call it, as the "who" column of docs/api.md says. */
  who: string;
  anonymous?: boolean;
  body?: z.ZodType;
  query?: z.ZodObject;
  /** The success answer: a schema name, a list of one, or none (204). */
  ok: { status: number; schema?: SchemaName; list?: boolean; html?: boolean; headers?: string[] };
  problems: ErrorCode[];
}

const AUTHED: ErrorCode[] = ['Unauthenticated', 'IdentityProviderUnavailable', 'StorageUnavailable'];
/** Changes made with a session cookie must come from flowshare's own pages. */
const CHANGE: ErrorCode[] = [...AUTHED, 'CrossSiteRequestRefused'];
const READ: ErrorCode[] = [...AUTHED, 'ValidationFailed', 'NotFound'];
const WRITE: ErrorCode[] = [...READ, 'Forbidden', 'PayloadTooLarge', 'CrossSiteRequestRefused'];
const flowId = '{flowId}';

export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    summary: 'Whether storage answers',
    who: 'anyone',
    anonymous: true,
    ok: { status: 200, schema: 'Health' },
    problems: ['StorageUnavailable'],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApi',
    summary: 'This document',
    who: 'anyone',
    anonymous: true,
    ok: { status: 200 },
    problems: [],
  },
  {
    method: 'get',
    path: '/connectors',
    operationId: 'listConnectors',
    summary: 'The connector catalog',
    who: 'any caller',
    ok: { status: 200, schema: 'Connector', list: true },
    problems: AUTHED,
  },
  {
    method: 'post',
    path: '/connections',
    operationId: 'createConnection',
    summary: 'Create a connection of your own',
    who: 'any caller',
    body: createConnectionBody,
    ok: { status: 201, schema: 'Connection', headers: ['ETag', 'Location'] },
    problems: [...CHANGE, 'ValidationFailed', 'PayloadTooLarge'],
  },
  {
    method: 'get',
    path: '/connections',
    operationId: 'listConnections',
    summary: 'Your own connections, oldest first',
    who: 'any caller',
    query: listConnectionsQuery.extend(pageQuery.shape),
    ok: { status: 200, schema: 'Connection', list: true },
    problems: [...AUTHED, 'ValidationFailed'],
  },
  {
    method: 'get',
    path: '/connections/oauth/callback',
    operationId: 'oauthCallback',
    summary: 'Where the OAuth provider sends you back; answers an HTML page',
    who: "the connection's owner, in the signed-in browser that started the consent",
    anonymous: true,
    query: z.object({ state: z.string().optional(), code: z.string().optional(), error: z.string().optional() }),
    ok: { status: 200, html: true },
    problems: [],
  },
  {
    method: 'get',
    path: '/connections/{connectionId}/consent',
    operationId: 'consentPage',
    summary: "A connection's consent page (its consentUrl): sign in, then continue to the provider",
    who: "the connection's owner, signed in in this browser (others are sent to sign in, or refused)",
    anonymous: true,
    query: z.object({ loginHint: z.string().optional() }),
    ok: { status: 200, html: true },
    problems: [],
  },
  {
    method: 'post',
    path: '/connections/{connectionId}/consent',
    operationId: 'startConsent',
    summary: "The consent page's form: starts the consent at the provider, bound to this browser's session",
    who: "the connection's owner, signed in, from the consent page (a form with its csrfToken)",
    anonymous: true,
    ok: { status: 302 },
    problems: [],
  },
  {
    method: 'post',
    path: '/connections/{connectionId}/reauthorize',
    operationId: 'reauthorizeConnection',
    summary: 'Ask for consent again for the same connection; answers its new consentUrl',
    who: 'its owner',
    ok: { status: 200, schema: 'Connection', headers: ['ETag'] },
    problems: [...READ, 'Conflict', 'CrossSiteRequestRefused'],
  },
  {
    method: 'get',
    path: '/auth/signin',
    operationId: 'signIn',
    summary: "Sign in in a browser: redirects to the identity provider's page",
    who: 'anyone',
    anonymous: true,
    query: z.object({ returnTo: z.string().optional(), loginHint: z.string().optional() }),
    ok: { status: 302 },
    problems: [],
  },
  {
    method: 'get',
    path: '/auth/callback',
    operationId: 'signInCallback',
    summary: 'Where the identity provider sends you back; starts the session (an HttpOnly cookie)',
    who: 'the browser that started the sign-in',
    anonymous: true,
    query: z.object({ state: z.string().optional(), code: z.string().optional(), error: z.string().optional() }),
    ok: { status: 302, html: true },
    problems: [],
  },
  {
    method: 'get',
    path: '/auth/session',
    operationId: 'currentSession',
    summary: 'Who is signed in in this browser, and the CSRF token its pages send with changes',
    who: 'a signed-in browser (session cookie)',
    ok: { status: 200, schema: 'Session' },
    problems: AUTHED,
  },
  {
    method: 'post',
    path: '/auth/signout',
    operationId: 'signOut',
    summary: 'Sign out: ends the session on the server and clears its cookie',
    who: 'a signed-in browser (session cookie, with its CSRF token)',
    ok: { status: 204 },
    problems: ['CrossSiteRequestRefused', 'StorageUnavailable'],
  },
  {
    method: 'get',
    path: '/connections/{connectionId}',
    operationId: 'getConnection',
    summary: 'One of your connections',
    who: 'its owner',
    ok: { status: 200, schema: 'Connection', headers: ['ETag'] },
    problems: READ,
  },
  {
    method: 'delete',
    path: '/connections/{connectionId}',
    operationId: 'deleteConnection',
    summary: 'Delete a connection; 409 while a flow embeds it unless force=true',
    who: 'its owner',
    query: deleteConnectionQuery,
    ok: { status: 204 },
    problems: [...READ, 'Conflict', 'CrossSiteRequestRefused'],
  },
  {
    method: 'post',
    path: '/connections/{connectionId}/refresh',
    operationId: 'refreshConnection',
    summary: 'Check the credential now',
    who: 'its owner',
    ok: { status: 200, schema: 'Connection', headers: ['ETag'] },
    problems: [...READ, 'Conflict', 'CrossSiteRequestRefused'],
  },
  {
    method: 'get',
    path: '/connections/{connectionId}/usage',
    operationId: 'connectionUsage',
    summary: 'Every flow and reference that binds it',
    who: 'its owner',
    ok: { status: 200, schema: 'ConnectionUsage', list: true },
    problems: READ,
  },
  {
    method: 'post',
    path: '/flows',
    operationId: 'createFlow',
    summary: 'Create a desktop flow; you own it',
    who: 'any caller',
    body: createFlowBody,
    ok: { status: 201, schema: 'Flow', headers: ['ETag', 'Location'] },
    problems: [...CHANGE, 'ValidationFailed', 'PayloadTooLarge'],
  },
  {
    method: 'get',
    path: '/flows',
    operationId: 'listFlows',
    summary: 'Flows you own or that are shared with you',
    who: 'any caller',
    query: pageQuery,
    ok: { status: 200, schema: 'Flow', list: true },
    problems: [...AUTHED, 'ValidationFailed'],
  },
  {
    method: 'get',
    path: `/flows/${flowId}`,
    operationId: 'getFlow',
    summary: 'A flow',
    who: 'all roles',
    ok: { status: 200, schema: 'Flow', headers: ['ETag'] },
    problems: READ,
  },
  {
    method: 'patch',
    path: `/flows/${flowId}`,
    operationId: 'updateFlow',
    summary: 'Rename it or replace its definition; honours If-Match',
    who: 'owner, co-owner',
    body: updateFlowBody,
    ok: { status: 200, schema: 'Flow', headers: ['ETag'] },
    problems: [...WRITE, 'PreconditionFailed', 'Conflict'],
  },
  {
    method: 'delete',
    path: `/flows/${flowId}`,
    operationId: 'deleteFlow',
    summary: 'Delete it; honours If-Match',
    who: 'owner',
    ok: { status: 204 },
    problems: [...WRITE, 'PreconditionFailed', 'Conflict'],
  },
  {
    method: 'post',
    path: `/flows/${flowId}/upgrade-schema`,
    operationId: 'upgradeFlowSchema',
    summary: 'Schema v1 to v2; idempotent',
    who: 'owner, co-owner',
    ok: { status: 200, schema: 'Flow', headers: ['ETag'] },
    problems: [...WRITE, 'Conflict'],
  },
  {
    method: 'get',
    path: `/flows/${flowId}/permissions`,
    operationId: 'listPermissions',
    summary: 'Who has which role',
    who: 'all roles',
    query: pageQuery,
    ok: { status: 200, schema: 'Permission', list: true },
    problems: READ,
  },
  {
    method: 'put',
    path: `/flows/${flowId}/permissions/{principalId}`,
    operationId: 'sharePermission',
    summary: "Share, or change someone's role (201 when new)",
    who: 'owner, co-owner',
    body: sharePermissionBody,
    ok: { status: 200, schema: 'Permission', headers: ['ETag'] },
    problems: [...WRITE, 'Conflict'],
  },
  {
    method: 'delete',
    path: `/flows/${flowId}/permissions/{principalId}`,
    operationId: 'removePermission',
    summary: "Remove someone's role; anyone may remove themselves",
    who: 'owner, co-owner; anyone for themselves',
    ok: { status: 204 },
    problems: [...WRITE, 'Conflict'],
  },
  {
    method: 'get',
    path: `/flows/${flowId}/connection-references`,
    operationId: 'listConnectionReferences',
    summary: "The flow's connection references",
    who: 'all roles',
    ok: { status: 200, schema: 'ConnectionReference', list: true },
    problems: READ,
  },
  {
    method: 'put',
    path: `/flows/${flowId}/connection-references/{logicalName}`,
    operationId: 'putConnectionReference',
    summary: 'Add (201) or rebind a reference to a connection of yours',
    who: 'owner, co-owner; rebind: reference owner',
    body: putReferenceBody,
    ok: { status: 200, schema: 'ConnectionReference', headers: ['ETag'] },
    problems: [...WRITE, 'NotReferenceOwner', 'ConnectionUnavailable', 'Conflict'],
  },
  {
    method: 'patch',
    path: `/flows/${flowId}/connection-references/{logicalName}`,
    operationId: 'patchConnectionReference',
    summary: 'Embed or unembed; embedding needs a Connected connection',
    who: 'reference owner',
    body: patchReferenceBody,
    ok: { status: 200, schema: 'ConnectionReference', headers: ['ETag'] },
    problems: [...WRITE, 'NotReferenceOwner', 'ConnectionUnavailable', 'Conflict'],
  },
  {
    method: 'delete',
    path: `/flows/${flowId}/connection-references/{logicalName}`,
    operationId: 'deleteConnectionReference',
    summary: 'Remove a reference',
    who: 'reference owner; the flow owner once the reference owner lost access',
    ok: { status: 204 },
    problems: [...WRITE, 'NotReferenceOwner', 'Conflict'],
  },
  {
    method: 'get',
    path: `/flows/${flowId}/run-prompt`,
    operationId: 'runPrompt',
    summary: 'For each reference: what you may pick, and the default',
    who: 'all roles',
    ok: { status: 200, schema: 'RunPromptEntry', list: true },
    problems: READ,
  },
  {
    method: 'post',
    path: `/flows/${flowId}/runs`,
    operationId: 'startRun',
    summary: 'An attended console run',
    who: 'all roles',
    body: startRunBody,
    ok: { status: 201, schema: 'Run', headers: ['Location'] },
    problems: [...WRITE, 'RunModeNotAllowed', 'ConnectionRequired', 'Conflict'],
  },
  {
    method: 'get',
    path: `/flows/${flowId}/runs`,
    operationId: 'listRuns',
    summary: 'Run history, newest first',
    who: 'owner, co-owner',
    query: pageQuery,
    ok: { status: 200, schema: 'Run', list: true },
    problems: [...READ, 'Forbidden'],
  },
  {
    method: 'get',
    path: `/flows/${flowId}/cloud-readiness`,
    operationId: 'cloudReadiness',
    summary: "The cloud-run processor's checks, run now",
    who: 'owner, co-owner',
    ok: { status: 200, schema: 'CloudReadiness' },
    problems: [...READ, 'Forbidden'],
  },
  {
    method: 'post',
    path: `/flows/${flowId}/cloud-runs`,
    operationId: 'requestCloudRun',
    summary: 'Queue a cloud run: 202, Location and Retry-After',
    who: 'owner, co-owner',
    ok: { status: 202, schema: 'Run', headers: ['Location', 'Retry-After'] },
    problems: [...WRITE, 'Conflict'],
  },
  {
    method: 'get',
    path: '/runs/{runId}',
    operationId: 'getRun',
    summary: '202 with Retry-After while queued, 200 once final',
    who: 'those who may read its flow',
    ok: { status: 200, schema: 'Run' },
    problems: READ,
  },
  {
    method: 'get',
    path: `/flows/${flowId}/audit`,
    operationId: 'listAudit',
    summary: 'The audit trail, newest first',
    who: 'owner, co-owner',
    query: pageQuery,
    ok: { status: 200, schema: 'AuditEntry', list: true },
    problems: [...READ, 'Forbidden'],
  },
];

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
  for (const route of ROUTES) {
    const responses: Record<string, unknown> = {};
    const headers = Object.fromEntries((route.ok.headers ?? []).map((h) => [h, { schema: { type: 'string' } }]));
    responses[String(route.ok.status)] = {
      description: route.ok.status === 204 ? 'Done' : 'Success',
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(route.ok.schema
        ? { content: { 'application/json': { schema: ref(route.ok.schema, route.ok.list) } } }
        : route.ok.html
          ? { content: { 'text/html': { schema: { type: 'string' } } } }
          : route.ok.status === 204
            ? {}
            : { content: { 'application/json': { schema: { type: 'object' } } } }),
    };
    if (route.operationId === 'getRun') {
      responses['202'] = {
        description: 'Still queued',
        headers: { 'Retry-After': { schema: { type: 'string' } } },
        content: { 'application/json': { schema: ref('Run') } },
      };
    }
    for (const code of route.problems) {
      const status = String(ERROR_STATUS[code]);
      const existing = responses[status] as { description: string } | undefined;
      const description = existing ? `${existing.description}; ${code}` : `${ERROR_TITLES[code]}: ${code}`;
      responses[status] = { description, content: { 'application/problem+json': { schema: ref('Problem') } } };
    }
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      description: `Who: ${route.who}.`,
      ...(route.anonymous ? { security: [] } : {}),
      parameters: [...pathParameters(route.path), ...queryParameters(route.query)],
      ...(route.body
        ? {
            requestBody: {
              required: route.operationId !== 'startRun',
              content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
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
      },
      schemas: Object.fromEntries(
        Object.entries(schemas).map(([name, schema]) => [name, jsonSchema(schema, 'output')]),
      ),
    },
  };
}
