// The flowshare command's only way to the service: HTTP, through openapi-fetch
// typed by the client generated from the OpenAPI document
// (web/src/api/schema.d.ts), so it cannot call a route or read a field the
// API does not have. Three credentials, three clients: a person's token,
// a machine's key, a run's token (docs/api.md, Authentication).
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from '../web/src/api/schema';

export type Schemas = components['schemas'];
export type Flow = Schemas['Flow'];
export type Connector = Schemas['Connector'];
export type Connection = Schemas['Connection'];
export type RunPromptEntry = Schemas['RunPromptEntry'];
export type Lease = Schemas['Lease'];
export type Run = Schemas['Run'];
export type Problem = Schemas['Problem'];
export type Api = Client<paths>;

/** The service answered with a problem (docs/errors.md); `code` is what to act on. */
export class ApiProblem extends Error {
  readonly code: string;
  constructor(
    readonly status: number,
    readonly problem: (Problem & Record<string, unknown>) | undefined,
  ) {
    super(problem?.detail ? `${problem.detail} (${problem.code})` : `The service answered ${status}.`);
    this.code = problem?.code ?? `HTTP${status}`;
  }

  /** Whether trying again may help: the service said nothing was done (503), or a gateway in front of it failed. */
  get transient(): boolean {
    return this.status === 502 || this.status === 503 || this.status === 504 || this.status === 429;
  }
}

/** The service could not be reached, or did not answer in time. */
export class ServiceUnreachable extends Error {
  constructor(
    readonly url: string,
    override readonly cause: unknown,
    /** Whether the request surely never reached it (the connection was refused). */
    readonly notSent: boolean,
  ) {
    super(`The service at ${new URL(url).origin} could not be reached (${reasonOf(cause)}).`);
  }
}

function reasonOf(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string } })?.cause;
  if (inner?.code) return inner.code;
  if (cause instanceof Error && cause.name === 'TimeoutError') return 'no answer in time';
  return cause instanceof Error ? cause.message : String(cause);
}

const REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A client sending `credential()` as its bearer token; each request gives up after `timeoutMs`. */
export function apiClient(apiUrl: string, credential: () => Promise<string> | string, timeoutMs = 40_000): Api {
  const client = createClient<paths>({
    baseUrl: apiUrl,
    fetch: async (request: Request) => {
      try {
        // The caller's own signal (Ctrl-C) and the time limit, whichever comes first.
        return await fetch(request, { signal: AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]) });
      } catch (error) {
        const code = (error as { cause?: { code?: string } }).cause?.code;
        throw new ServiceUnreachable(request.url, error, code !== undefined && REFUSED.has(code));
      }
    },
  });
  client.use({
    async onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${await credential()}`);
      return request;
    },
  });
  return client;
}

/**
 * The data of a successful answer, else an ApiProblem. `await ok(api.GET(...))`
 * reads as what it does.
 */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T> | undefined> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiProblem(response.status, error as Problem & Record<string, unknown>);
  return data ?? undefined;
}

/** Like ok(), for answers that always carry a body. */
export async function body<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  const data = await ok(call);
  if (data === undefined) throw new Error('The service answered without a body.');
  return data;
}
