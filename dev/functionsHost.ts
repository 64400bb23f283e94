// A plain-Node host for the registered functions: it loads the compiled
// `dist/functions/*.js` (package.json "main") with `@azure/functions-core`
// provided, routes HTTP requests by method and route template as the
// Functions host does, and calls each handler with real HttpRequest and
// InvocationContext objects.
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { format } from 'node:util';
import { HttpRequest, HttpResponse, InvocationContext, type Cookie, type HttpResponseInit } from '@azure/functions';
import { MAX_BODY_BYTES } from '../lib/domain/limits';
import { problem } from '../lib/http/problem';
import { payloadTooLarge } from '../lib/http/request';
import { installFunctionsCore, type BindingMetadata, type LogLevel, type RegisteredFunction } from './functionsCore';

/**
 * The host refuses a body past the service's limit before any handler runs,
 * as the Functions host does in Azure with FUNCTIONS_REQUEST_BODY_SIZE_LIMIT
 * (infra/app/api.bicep): no route takes more, and reading a larger body
 * first would let anyone, token or not, make the host hold it.
 */
const MAX_REQUEST_BYTES = MAX_BODY_BYTES;
const NO_BODY = Buffer.alloc(0);
/** How long the host reads on (discarding) after refusing a body, before it drops the connection. */
const LINGER_MS = 2_000;

export type HostLog = (level: LogLevel, message: string) => void;

export interface HttpRoute {
  functionName: string;
  methods: Set<string>;
  template: string;
  pattern: RegExp;
  paramNames: string[];
  trigger: BindingMetadata;
  handler: RegisteredFunction['handler'];
}

export interface LoadedFunctions {
  functions: RegisteredFunction[];
  httpRoutes: HttpRoute[];
}

/** Loads every compiled function file once and collects the registrations. */
export function loadFunctions(distFunctionsDir: string, log: HostLog): LoadedFunctions {
  const registry = installFunctionsCore((level, category, message) => log(level, `[${category}] ${message}`));
  if (registry.functions.length === 0) {
    const files = readdirSync(distFunctionsDir).filter((file) => file.endsWith('.js'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded by path, as the worker loads "main"
    for (const file of files.sort()) require(join(distFunctionsDir, file));
  }
  return { functions: registry.functions, httpRoutes: httpRoutesOf(registry.functions) };
}

/** The HTTP-triggered functions as routes, most specific first. */
export function httpRoutesOf(functions: RegisteredFunction[]): HttpRoute[] {
  return functions
    .flatMap((fn) => {
      const trigger = Object.values(fn.metadata.bindings).find((b) => b.type === 'httpTrigger');
      return trigger ? [toRoute(fn, trigger)] : [];
    })
    .sort(bySpecificity);
}

function toRoute(fn: RegisteredFunction, trigger: BindingMetadata): HttpRoute {
  const template = (trigger.route ?? fn.metadata.name).replace(/^\/+|\/+$/g, '');
  const paramNames: string[] = [];
  // `{name}` and `{name?}`, with an optional `:constraint` the host would check,
  // and a last `{*name}` taking the rest of the path, none of it included.
  const source = template
    .split('/')
    .map((segment) => {
      const catchAll = /^\{\*([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(segment);
      if (catchAll) {
        paramNames.push(catchAll[1]!);
        return '(?:/(.*))?';
      }
      const param = /^\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]+)?(\?)?\}$/.exec(segment);
      if (!param) return segment === '' ? '' : `/${escapeRegExp(segment)}`;
      paramNames.push(param[1]!);
      return param[2] ? '(?:/([^/]+))?' : '/([^/]+)';
    })
    .join('');
  const methods = new Set((trigger.methods ?? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).map((m) => m.toUpperCase()));
  return {
    functionName: fn.metadata.name,
    methods,
    template,
    pattern: new RegExp(`^${source}$`, 'i'),
    paramNames,
    trigger,
    handler: fn.handler,
  };
}

/**
 * As ASP.NET routing ranks templates: segment by segment, a literal before a
 * parameter, so `connections/oauth/callback` wins over `connections/{id}/...`,
 * and a catch-all (`{*path}`) after everything else.
 */
function bySpecificity(a: HttpRoute, b: HttpRoute): number {
  const sa = a.template.split('/');
  const sb = b.template.split('/');
  for (let i = 0; i < Math.max(sa.length, sb.length); i++) {
    const rank = (segment: string | undefined) =>
      segment === undefined ? 2 : segment.startsWith('{*') ? 3 : segment.startsWith('{') ? 1 : 0;
    const diff = rank(sa[i]) - rank(sb[i]);
    if (diff !== 0) return diff;
  }
  return 0;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface FunctionsHostOptions {
  routes: HttpRoute[];
  routePrefix: string;
  log: HostLog;
}

/** Finds the route for a method and a path after the prefix (`/flows/x`), with its params. */
export function matchRoute(
  routes: HttpRoute[],
  method: string,
  path: string,
): { route: HttpRoute; params: Record<string, string> } | 'methodNotAllowed' | undefined {
  let pathMatched = false;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (!route.methods.has(method)) continue;
    const params: Record<string, string> = {};
    route.paramNames.forEach((name, i) => {
      const raw = match[i + 1];
      if (raw !== undefined) params[name] = safeDecode(raw);
    });
    return { route, params };
  }
  return pathMatched ? 'methodNotAllowed' : undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function createFunctionsServer(options: FunctionsHostOptions): Server {
  const prefix = `/${options.routePrefix.replace(/^\/+|\/+$/g, '')}`;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void serve(req, res, options, prefix).catch((error: unknown) => {
      // The path only, as every other line here: a query string may hold an OAuth code.
      options.log(
        'error',
        `local host failed to answer ${req.method} ${(req.url ?? '').split(/[?#]/)[0]}: ${String(error)}`,
      );
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  const server = createServer(listener);
  // `Expect: 100-continue` is answered by `serve`, once it knows it will read the body.
  server.on('checkContinue', listener);
  // Kestrel's keep-alive (130 s) rather than Node's 5 s, so a client pausing
  // between calls does not write into a connection the host just closed.
  server.keepAliveTimeout = 130_000;
  return server;
}

async function serve(req: IncomingMessage, res: ServerResponse, options: FunctionsHostOptions, prefix: string) {
  const method = (req.method ?? 'GET').toUpperCase();
  let url: URL;
  try {
    url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  } catch {
    res.writeHead(400, { 'Content-Length': '0' }).end();
    return;
  }

  const path = url.pathname;
  const inPrefix =
    prefix === '/'
      ? path
      : path.toLowerCase().startsWith(`${prefix.toLowerCase()}/`)
        ? path.slice(prefix.length)
        : undefined;
  const found =
    inPrefix === undefined ? undefined : matchRoute(options.routes, method, `/${inPrefix.replace(/^\/+|\/+$/g, '')}`);
  if (found === undefined || found === 'methodNotAllowed') {
    // The Functions host answers an unknown route, or a method no function takes, with an empty 404.
    res.writeHead(404, { 'Content-Length': '0' }).end();
    return;
  }

  // A declared length past the limit is refused unread; a chunked body is cut
  // off as soon as it passes it.
  if (Number(req.headers['content-length'] ?? 0) > MAX_REQUEST_BYTES) return refuseTooLarge(req, res, url, options);
  if (/^100-continue$/i.test(req.headers.expect ?? '')) res.writeContinue();
  // A request with neither Content-Length nor Transfer-Encoding has no body
  // (RFC 9112, 6.3): nothing to wait for (the worker is handed bytes in Azure).
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  const body = hasBody ? await readBody(req, MAX_REQUEST_BYTES) : NO_BODY;
  if (body === 'tooLarge') return refuseTooLarge(req, res, url, options);

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const request = new HttpRequest({
    method,
    url: url.toString(),
    headers,
    params: found.params,
    ...(body.length > 0 ? { body: { bytes: body } } : {}),
  });
  const invocationId = randomUUID();
  const { route } = found;
  const context = new InvocationContext({
    invocationId,
    functionName: route.functionName,
    options: { trigger: { ...route.trigger, name: route.trigger.name ?? 'httpTrigger', type: route.trigger.type } },
    logHandler: (level, ...args) => options.log(level, `${route.functionName} (${invocationId}) ${format(...args)}`),
  });

  const started = Date.now();
  let result: unknown;
  try {
    result = await route.handler(request, context);
  } catch (error) {
    // As the Functions host does: the error goes to the log, the caller gets a bare 500.
    context.error('unhandled:', error instanceof Error ? (error.stack ?? error.message) : String(error));
    res.writeHead(500, { 'Content-Length': '0' });
    res.end();
    return;
  }
  const response = result instanceof HttpResponse ? result : new HttpResponse((result ?? {}) as HttpResponseInit);
  await send(res, response);
  options.log(
    'debug',
    `${method} ${url.pathname} -> ${response.status} in ${Date.now() - started} ms (${route.functionName})`,
  );
}

async function send(res: ServerResponse, response: HttpResponse) {
  const bytes = Buffer.from(await response.arrayBuffer());
  const outHeaders: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => (outHeaders[name] = value));
  // As the worker does: the response's cookies become Set-Cookie headers, one each.
  const setCookies = [...response.headers.getSetCookie(), ...response.cookies.map(serializeCookie)];
  if (setCookies.length > 0) outHeaders['set-cookie'] = setCookies;
  if (bytes.length > 0 || ![204, 304].includes(response.status)) outHeaders['content-length'] = String(bytes.length);
  res.writeHead(response.status, outHeaders);
  res.end(bytes);
}

/**
 * 413 with the problem a handler would answer, and `Connection: close`, then
 * the connection ends, so the client can neither go on sending into it nor
 * send another request on it (a pooled connection reused after a 413 would
 * meet the close). Node dumps an unread body, keeping none of it.
 */
async function refuseTooLarge(req: IncomingMessage, res: ServerResponse, url: URL, options: FunctionsHostOptions) {
  const { socket } = req;
  // The answer says the connection closes, so no client sends another request
  // on it; Node then closes it with destroySoon, which resets a client still
  // sending before it reads the 413. Closed gently instead: this side ends,
  // what still arrives is read and dropped, for LINGER_MS at most.
  socket.destroySoon = () => {
    socket.end();
    const linger = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('close', () => clearTimeout(linger));
  };
  const refusal = payloadTooLarge();
  await send(res, new HttpResponse(problem(refusal.code, refusal.message, {}, { Connection: 'close' })));
  options.log(
    'information',
    `${req.method} ${url.pathname} -> 413: the body is larger than ${MAX_REQUEST_BYTES} bytes`,
  );
}

/** The body, or 'tooLarge' as soon as it passes `limit`, keeping nothing past it. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'tooLarge'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (outcome: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.pause();
      settle(() => resolve('tooLarge'));
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks)));
    const onError = (error: Error) => settle(() => reject(error));
    // The client went away before the body ended: there is no one to answer.
    const onClose = () => {
      if (!req.complete) settle(() => reject(new Error('the client closed the connection before its body ended')));
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** A cookie as a Set-Cookie header value (RFC 6265 attributes). */
export function serializeCookie(cookie: Cookie): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain) parts.push(`Domain=${cookie.domain}`);
  if (cookie.path) parts.push(`Path=${cookie.path}`);
  if (cookie.expires !== undefined) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}
