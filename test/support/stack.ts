// What tests need from the running local stack: tokens from its issuer, HTTP
// calls to its functions, and storage clients on its Azurite.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, inject } from 'vitest';
import { DEFAULT_NAMES } from '../../lib/config';
import { parseCatalog } from '../../lib/domain/connectors';
import { devConnectorCatalog, devSignInApp } from '../../dev/devConnectors';
import type { ServiceSettings } from '../../lib/services';
import { createStorage, type Storage } from '../../lib/storage/clients';
import { DEV_TENANT_ID, mintToken, type SigningKey, type TokenRequest } from '../../dev/issuer';
import type { StackInfo } from '../../dev/stack';
import { recordReceived, recordSecret, recordSecretsIn } from './secrets';

export interface TestStack extends StackInfo {
  apiUrl: string;
  stateDir: string;
  logFile: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: TestStack;
  }
}

export function stack(): TestStack {
  return inject('stack');
}

let key: SigningKey | undefined;
export function issuerKey(): SigningKey {
  key ??= JSON.parse(readFileSync(join(stack().stateDir, 'issuer-key.json'), 'utf8')) as SigningKey;
  return key;
}

/** A token from the local issuer for `user` (in the development tenant unless told). */
export function tokenFor(user: string, options: Partial<TokenRequest> = {}): Promise<string> {
  const { issuerUrl, audience } = stack();
  return mintToken(issuerKey(), { issuer: issuerUrl, audience, user, tenant: DEV_TENANT_ID, ...options });
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  body: T;
}

export interface CallOptions {
  token?: string;
  /** A value to send as JSON, or a string to send as it is. */
  body?: unknown;
  headers?: Record<string, string>;
}

// Response bodies are read field by field in assertions; typing each shape
// would only restate what the assertions check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

/**
 * Calls the local host; `path` is below /api (`/flows`) or a full URL. The
 * token and API key it sends, and the response, are recorded for the
 * suite-wide secret scan (test/support/secrets.ts).
 */
export async function call<T = Body>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  // A full URL, a path from the site root (`/api/...`, as nextLink and Location are), or one below /api.
  const api = new URL(stack().apiUrl);
  const url = path.startsWith('http')
    ? path
    : path.startsWith(`${api.pathname}/`)
      ? `${api.origin}${path}`
      : `${stack().apiUrl}${path}`;
  // Machine keys and run tokens are handed out by flowshare in one answer each: they must reach no log.
  const handedOut = options.token?.startsWith('fsm_') || options.token?.startsWith('fsr_');
  recordSecret(handedOut ? 'a machine key or run token' : 'a caller token', options.token, { logsOnly: handedOut });
  recordSecretsIn(options.body);
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  recordReceived(`${testName()}: ${method} ${url} ${response.status}`, response.headers, text);
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed as T };
}

/** The test running now, to say where a response was received. */
export function testName(): string {
  const { testPath, currentTestName } = expect.getState();
  return `${testPath?.split('/test/').pop() ?? '?'} > ${currentTestName ?? '(outside a test)'}`;
}

/** Storage clients on the stack's Azurite, with the tables the functions use. */
export function testStorage(): Storage {
  return createStorage({ kind: 'connectionString', connectionString: stack().storageConnectionString }, DEFAULT_NAMES);
}

let counter = 0;
/** A name no other test uses, for people and tenants. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** Asserts an RFC 9457 problem with this status and stable code. */
export function expectProblem(response: ApiResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.body).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
  });
}

/** Settings for services built in a test process, on the stack's storage and dev catalog. */
export function testServiceSettings(): ServiceSettings {
  const env = { DEV_OAUTH_CLIENT_SECRET: 'local-development-only' };
  return {
    connectors: parseCatalog(JSON.stringify(devConnectorCatalog(stack().issuerUrl, stack().providersUrl)), env, {
      httpOrigins: [stack().providersUrl],
    }),
    sealingKeys: [{ id: 'test', key: randomBytes(32) }],
    oauth: { redirectUri: `${stack().apiUrl}/connections/oauth/callback`, stateTtlSeconds: 600 },
    signIn: { app: devSignInApp(stack().issuerUrl), sessionTtlSeconds: 3600 },
    auth: { issuers: [stack().issuerUrl] },
    cloudRuns: { maxDequeueCount: 5 },
    gateway: { allowedLoopbackOrigins: [stack().providersUrl] },
  };
}
