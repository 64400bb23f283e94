// What tests need from the local providers (dev/providers/) and from the
// local issuer as their OAuth server: provider tokens got the way a client
// gets them (authorization code with PKCE, then refresh), SQL API keys, and
// what each provider received.
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { call, stack, type Body } from './stack';

export interface ProviderTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

const REDIRECT_URI = 'http://localhost/test-client-callback';

/** Posts to the issuer's token endpoint; answers its status and JSON. */
async function tokenRequest(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack().issuerUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function tokensOf(body: Record<string, unknown>): ProviderTokens {
  return {
    accessToken: body.access_token as string,
    refreshToken: body.refresh_token as string,
    expiresIn: body.expires_in as number,
  };
}

/** `user` consents to `clientId` for `scopes` at the issuer, and the client redeems the code. */
export async function consentTokens(clientId: string, user: string, scopes: string[]): Promise<ProviderTokens> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const scope = ['openid', 'offline_access', ...scopes].join(' ');
  const authorize = new URL(`${stack().issuerUrl}/authorize`);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope,
    state: 's',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    login_hint: user,
  })) {
    authorize.searchParams.set(name, value);
  }
  const redirect = await fetch(authorize, { redirect: 'manual' });
  const code = new URL(redirect.headers.get('location')!).searchParams.get('code');
  if (!code) throw new Error(`the issuer answered its authorize request with ${redirect.status} and no code`);
  const { status, body } = await tokenRequest({
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope,
  });
  if (status !== 200) throw new Error(`the issuer refused the code: ${status} ${JSON.stringify(body)}`);
  return tokensOf(body);
}

/** A refresh grant; answers the issuer's status and, when it is 200, the new tokens. */
export async function refreshTokens(
  clientId: string,
  refreshToken: string,
  scopes: string[],
): Promise<{ status: number; tokens?: ProviderTokens; error?: unknown }> {
  const { status, body } = await tokenRequest({
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: clientId,
    scope: ['openid', 'offline_access', ...scopes].join(' '),
  });
  return status === 200 ? { status, tokens: tokensOf(body) } : { status, error: body.error };
}

/** Sets (or, with null, resets) the lifetime of the access tokens the issuer issues to a client from now on. */
export async function setTokenLifetime(clientId: string, seconds: number | null): Promise<void> {
  const response = await fetch(`${stack().issuerUrl}/dev/clients/${encodeURIComponent(clientId)}/token-lifetime`, {
    method: 'POST',
    body: JSON.stringify({ seconds }),
  });
  if (response.status !== 204) throw new Error(`token-lifetime answered ${response.status}`);
}

export async function tokenRequestCounts(user: string): Promise<{
  count: number;
  byClient: Record<string, { authorization_code: number; refresh_token: number; refused: number }>;
}> {
  return (await (
    await fetch(`${stack().issuerUrl}/dev/users/${encodeURIComponent(user)}/token-requests`)
  ).json()) as never;
}

/** A new API key issued by the local SQL provider. */
export async function issueSqlKey(): Promise<string> {
  const response = await fetch(`${stack().providersUrl}/dev/sql/keys`, { method: 'POST' });
  return ((await response.json()) as { key: string }).key;
}

/** A SQL connection of `who` with a key the provider issued (its tables are that key's). */
export async function sqlConnection(who: { token: string }, displayName: string): Promise<{ id: string; key: string }> {
  const key = await issueSqlKey();
  const created = await call('POST', '/connections', {
    token: who.token,
    body: { connectorId: 'shared_sql', displayName, apiKey: key },
  });
  expect(created.status, created.text).toBe(201);
  return { id: created.body.id, key };
}

/** What the SQL provider holds in a table, for the connection with this key. */
export async function sqlRows(key: string, table: string): Promise<Body[]> {
  const response = await fetch(`${stack().providersUrl}/sql/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ query: `SELECT * FROM ${table}` }),
  });
  return ((await response.json()) as { rows?: Body[] }).rows ?? [];
}

export interface ReceivedEntry {
  at: string;
  provider: string;
  operation: string;
  method: string;
  path: string;
  identity:
    | { kind: 'user'; user: string; clientId: string }
    | { kind: 'apiKey'; fingerprint: string }
    | { kind: 'none'; reason: string };
  status: number;
  body?: unknown;
  authorizationSent?: boolean;
}

/** What the providers received, oldest first (one provider's, when named). */
export async function received(provider?: string): Promise<ReceivedEntry[]> {
  const query = provider ? `?provider=${provider}` : '';
  return ((await (await fetch(`${stack().providersUrl}/dev/received${query}`)).json()) as { value: ReceivedEntry[] })
    .value;
}

export interface MailMessage {
  id: string;
  from: string;
  to: string;
  subject: string;
  body: string;
  sentAt: string;
}

/** A provider user's inbox at the local Office 365 provider, oldest first. */
export async function mailbox(user: string): Promise<MailMessage[]> {
  const response = await fetch(`${stack().providersUrl}/dev/mailboxes/${encodeURIComponent(user)}`);
  return ((await response.json()) as { value: MailMessage[] }).value;
}
