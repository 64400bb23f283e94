// The console's only way to the API: openapi-fetch typed by the generated
// schema (schema.d.ts, from the OpenAPI document), so a page cannot call a
// route or read a field the API does not have. The browser holds no token:
// requests carry the HttpOnly session cookie, and changes the session's CSRF
// token in X-CSRF-Token (docs/api.md, The session cookie).
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Flow = Schemas['Flow'];
export type Permission = Schemas['Permission'];
export type Connector = Schemas['Connector'];
export type Connection = Schemas['Connection'];
export type ConnectionUsage = Schemas['ConnectionUsage'];
export type ConnectionReference = Schemas['ConnectionReference'];
export type RunPromptEntry = Schemas['RunPromptEntry'];
export type CloudReadiness = Schemas['CloudReadiness'];
export type AuditEntry = Schemas['AuditEntry'];
export type Run = Schemas['Run'];
export type RunStatus = Run['status'];
export type Machine = Schemas['Machine'];
export type MachineWithKey = Schemas['MachineWithKey'];
export type ConnectorOperation = Connector['operations'][number];
export type OperationParameter = ConnectorOperation['parameters'][number];
export type ConnectorCallAnswer = Schemas['ConnectorCallAnswer'];
export type Session = Schemas['Session'];
export type Problem = Schemas['Problem'];
export type Role = Flow['role'];

let csrfToken: string | undefined;

/** The session's CSRF token, from GET /api/auth/session; sent with every change. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

const csrf: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method) && csrfToken) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
};

/** Told to the page when the API no longer knows the session (it ended, or was ended elsewhere). */
export const SIGNED_OUT_EVENT = 'flowshare:signed-out';

const sessionGone: Middleware = {
  onResponse({ request, response }) {
    if (response.status === 401 && !new URL(request.url).pathname.endsWith('/auth/session')) {
      window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '/api', credentials: 'same-origin' });
api.use(csrf, sessionGone);

/** What the API answered instead of success, in words and with its stable `code`. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem ? `${problem.title}: ${problem.detail}` : `The service answered ${status}.`);
  }

  get code(): string {
    return this.problem?.code ?? `HTTP ${this.status}`;
  }
}

function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'code' in value && 'title' in value;
}

/** The data of a successful answer; anything else is thrown as an ApiProblem. */
export async function ask<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await pending;
  if (response.ok) return data as T;
  throw new ApiProblem(response.status, isProblem(error) ? error : undefined);
}

/** A list's next page: the continuation token its nextLink carries. */
export function continuationOf(nextLink: string | undefined): string | undefined {
  if (!nextLink) return undefined;
  return new URL(nextLink, window.location.origin).searchParams.get('continuationToken') ?? undefined;
}

/**
 * Every item of a paged list, page after page (at most `maxPages` of them: a
 * person's flows, connections, machines or a flow's permissions fit a few).
 */
export async function allPages<T>(
  page: (continuationToken: string | undefined) => Promise<{ value: T[]; nextLink?: string }>,
  maxPages = 20,
): Promise<T[]> {
  const items: T[] = [];
  let continuationToken: string | undefined;
  for (let n = 0; n < maxPages; n++) {
    const answer = await page(continuationToken);
    items.push(...answer.value);
    continuationToken = continuationOf(answer.nextLink);
    if (!continuationToken) break;
  }
  return items;
}
