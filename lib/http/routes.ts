// HTTP functions are registered here, each with its documentation beside it:
// one object feeds both the registration (app.http, exactly as the Functions
// host reads it) and the OpenAPI document (lib/http/openapi.ts), so a route
// cannot be served undocumented, nor documented without being served.
import { app, type HttpHandler, type HttpMethod } from '@azure/functions';
import type { z } from 'zod';
import type { ErrorCode } from '../domain/errors';
import type { SchemaName } from './shapes';

/** What the OpenAPI document says of one operation. */
export interface RouteDoc {
  summary: string;
  /** Who may call it (docs/api.md says the same, in words). */
  who: string;
  /** No caller is needed: no bearer token, no session. */
  anonymous?: boolean;
  /** The caller is a machine (its key) or a run's executor (its run token), never a person. */
  auth?: 'machineKey' | 'runToken';
  /** The JSON body, as validated. */
  body?: z.ZodType;
  query?: z.ZodObject;
  /** The success answer: a shape, a list of one, an HTML page, or nothing (204, 302). */
  ok: { status: number; schema?: SchemaName; list?: boolean; html?: boolean; headers?: string[] };
  /** Another success answer beside `ok` (a run still queued answers 202). */
  alsoOk?: { status: number; description: string; schema?: SchemaName; headers?: string[] };
  problems: ErrorCode[];
}

export interface DocumentedRoute {
  operationId: string;
  method: Lowercase<HttpMethod>;
  /** The route template below `/api` (API_PREFIX), as the OpenAPI document's paths are. */
  route: string;
  doc: RouteDoc;
}

/** Problems any caller can meet: no valid caller, or storage down. */
export const AUTHED: ErrorCode[] = ['Unauthenticated', 'IdentityProviderUnavailable', 'StorageUnavailable'];
/** A change: made with a session cookie it must come from flowshare's own pages. */
export const CHANGE: ErrorCode[] = [...AUTHED, 'CrossSiteRequestRefused'];
/** Reading something by id. */
export const READ: ErrorCode[] = [...AUTHED, 'ValidationFailed', 'NotFound'];
/** Changing a flow: a role may not allow it, a body may be too large. */
export const WRITE: ErrorCode[] = [...READ, 'Forbidden', 'PayloadTooLarge', 'CrossSiteRequestRefused'];
/** A call with a run token: refused, or too late (the run ended). */
export const RUN_TOKEN: ErrorCode[] = ['Unauthenticated', 'ValidationFailed', 'RunEnded', 'StorageUnavailable'];

/**
 * Every API route is served below `/api`. host.json's routePrefix is empty so
 * that the web console can have the site's root; the prefix is added here,
 * once, for every route. The OpenAPI document keeps `servers: [{url: '/api'}]`
 * and its paths without it.
 */
export const API_PREFIX = 'api';

const documented: DocumentedRoute[] = [];

/** Registers an anonymous-level HTTP function (callers are authenticated in code) and its documentation. */
export function httpRoute(
  name: string,
  options: { methods: [HttpMethod]; route: string; handler: HttpHandler; doc: RouteDoc },
): void {
  const [method] = options.methods;
  documented.push({
    operationId: name,
    method: method.toLowerCase() as Lowercase<HttpMethod>,
    route: options.route,
    doc: options.doc,
  });
  app.http(name, {
    methods: options.methods,
    route: `${API_PREFIX}/${options.route}`,
    authLevel: 'anonymous',
    handler: options.handler,
  });
}

/**
 * Registers a route of the web console's pages: outside `/api` and outside the
 * OpenAPI document, which describes the API alone.
 */
export function pageRoute(name: string, options: { methods: HttpMethod[]; route: string; handler: HttpHandler }): void {
  app.http(name, { methods: options.methods, route: options.route, authLevel: 'anonymous', handler: options.handler });
}

/** Every route registered so far, in registration order. */
export function documentedRoutes(): readonly DocumentedRoute[] {
  return documented;
}
