// Signing in to the local stack (`flowshare login --user <id>`): the
// authorization code flow with PKCE at the local OpenID issuer, over HTTP and
// without a browser, since that issuer asks no password and consents at once
// for the user named by `login_hint` (dev/issuer.ts). The access token is for
// the API (`<audience>/user_impersonation`); the refresh token renews it.
import { createHash, randomBytes } from 'node:crypto';
import { NotSignedIn } from './errors';

export const LOCAL_ISSUER = 'http://localhost:7072';
export const LOCAL_AUDIENCE = 'api://flowshare';
/** The command's client id at the local issuer; no redirect is ever served. */
const CLIENT_ID = 'flowshare-cli';
const REDIRECT_URI = 'http://localhost/flowshare-cli/signed-in';

export interface LocalSession {
  kind: 'local';
  issuer: string;
  scope: string;
  user: string;
  accessToken: string;
  refreshToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
}

const base64url = (bytes: Buffer) => bytes.toString('base64url');

export async function localSignIn(issuer: string, audience: string, user: string): Promise<LocalSession> {
  const scope = `${audience}/user_impersonation openid offline_access`;
  const verifier = base64url(randomBytes(32));
  const state = base64url(randomBytes(16));
  const authorize = new URL('/authorize', issuer);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope,
    state,
    login_hint: user,
    code_challenge: base64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  })) {
    authorize.searchParams.set(name, value);
  }
  const answer = await reach(issuer, () => fetch(authorize, { redirect: 'manual' }));
  const location = answer.headers.get('location');
  const back = location ? new URL(location, issuer) : undefined;
  const code = back?.searchParams.get('code');
  if (!code || back?.searchParams.get('state') !== state) {
    throw new NotSignedIn(`The issuer at ${issuer} did not sign ${user} in (${answer.status}).`);
  }
  const tokens = await tokenRequest(issuer, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
    scope,
  });
  return { kind: 'local', issuer, scope, user, ...tokens };
}

/** A new access token for the session, with the refresh token it holds (which then changes). */
export async function refreshLocal(session: LocalSession): Promise<LocalSession> {
  const tokens = await tokenRequest(session.issuer, {
    grant_type: 'refresh_token',
    refresh_token: session.refreshToken,
    client_id: CLIENT_ID,
    scope: session.scope,
  });
  return { ...session, ...tokens };
}

async function tokenRequest(
  issuer: string,
  form: Record<string, string>,
): Promise<Pick<LocalSession, 'accessToken' | 'refreshToken' | 'expiresAt'>> {
  const answer = await reach(issuer, () =>
    fetch(new URL('/token', issuer), { method: 'POST', body: new URLSearchParams(form) }),
  );
  const tokens = (await answer.json().catch(() => ({}))) as TokenAnswer;
  if (!answer.ok || !tokens.access_token || !tokens.refresh_token) {
    throw new NotSignedIn(`The issuer at ${issuer} refused (${tokens.error ?? answer.status}): sign in again.`);
  }
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: Date.now() + (tokens.expires_in ?? 3600) * 1000,
  };
}

async function reach(issuer: string, request: () => Promise<Response>): Promise<Response> {
  try {
    return await request();
  } catch {
    throw new NotSignedIn(
      `The issuer at ${issuer} could not be reached: is the local stack running (npm start)?`,
      true,
    );
  }
}
