// The local OpenID Connect issuer (oauth2-mock-server): it publishes the JWKS
// and OpenID configuration that token verification reads, exactly as Entra ID
// does in Azure. Its signing key is kept in a git-ignored file so that tokens
// minted by `npm run token` stay valid across restarts of the stack.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server';
import { DEVICE_CODE_GRANTS, DeviceCodes, escapeHtml, readForm } from './deviceCode';

/** The tenant a token is for when none is asked for. */
export const DEV_TENANT_ID = '00000000-0000-4000-8000-000000000001';
export const SIGNING_ALGORITHM = 'RS256';

export type SigningKey = JWK & { kid: string; alg: string };

/** Reads the issuer's private signing key, creating it on first use. */
export async function loadOrCreateSigningKey(file: string): Promise<SigningKey> {
  const existing = readKey(file);
  if (existing) return existing;
  const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
  const key: SigningKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: SIGNING_ALGORITHM, use: 'sig' };
  mkdirSync(dirname(file), { recursive: true });
  try {
    // 'wx': when two processes race to create it, the first one's key wins.
    writeFileSync(file, JSON.stringify(key, null, 2), { flag: 'wx', mode: 0o600 });
    return key;
  } catch (error) {
    const winner = (error as NodeJS.ErrnoException).code === 'EEXIST' ? readKey(file) : undefined;
    if (winner) return winner;
    throw error;
  }
}

function readKey(file: string): SigningKey | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SigningKey;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export interface TokenRequest {
  issuer: string;
  audience: string;
  /** Becomes both `oid` and `sub`. */
  user: string;
  tenant?: string;
  expiresInSeconds?: number;
  /** Extra or overriding claims, for tests of unusual tokens. */
  claims?: Record<string, unknown>;
}

/** A caller token as the issuer signs it: `oid` and `sub` are the user, `tid` the tenant. */
export async function mintToken(key: SigningKey, request: TokenRequest): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const privateKey = await importJWK(key, key.alg);
  return new SignJWT({
    iss: request.issuer,
    aud: request.audience,
    sub: request.user,
    oid: request.user,
    tid: request.tenant ?? DEV_TENANT_ID,
    iat: now,
    nbf: now,
    exp: now + (request.expiresInSeconds ?? 3600),
    ...request.claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .sign(privateKey);
}

export interface IssuerOptions {
  port: number;
  keyFile: string;
}

export interface RunningIssuer {
  /** The `iss` of its tokens and the base of its endpoints. */
  url: string;
  jwksUri: string;
  key: SigningKey;
  stop(): Promise<void>;
}

/**
 * Starts the issuer. Besides signing caller tokens it is where people sign in
 * to flowshare's pages, and the OAuth provider of the development connectors:
 * its authorize endpoint asks who is signing in (a user name, no password)
 * unless `login_hint` says so, consents at once and redirects back with a
 * code (PKCE checked at the token endpoint). On top of oauth2-mock-server it
 * keeps track of which user each grant belongs to, so that, as a real
 * provider does, it refuses refresh tokens it never issued or that were
 * revoked. Development endpoints stand in for a provider's own pages:
 *   POST /dev/users/{user}/revoke   the user revokes every grant they gave
 *   GET  /dev/users/{user}/tokens   every token issued to them, so tests can
 *                                   prove none of them ever leaves flowshare
 *   GET  /dev/tokens                every token issued to anyone (the test
 *                                   suite's secret scan)
 *   GET  /dev/users/{user}/token-requests
 *                                   how many token requests came for them,
 *                                   per client: codes, refreshes, refused
 *   POST /dev/clients/{clientId}/token-lifetime  {seconds}
 *                                   access tokens issued to that client from
 *                                   now on expire after `seconds` (`null`:
 *                                   the default hour again)
 * It also offers the device authorization grant that `flowshare login`
 * uses with Entra ID (dev/deviceCode.ts): /devicecode, and /device where a
 * user approves a code.
 */
export async function startIssuer(options: IssuerOptions): Promise<RunningIssuer> {
  const key = await loadOrCreateSigningKey(options.keyFile);
  const issuer = new OAuth2Issuer();
  await issuer.keys.add(key);
  const service = new OAuth2Service(issuer);
  const grants = new ProviderGrants(service);
  const devices = new DeviceCodes(() => url);

  const server = createServer((req, res) => {
    if (grants.handleDevRequest(req, res) || devices.handle(req, res) || signInForm(req, res)) return;
    if (req.method === 'POST' && (req.url ?? '').split('?')[0] === '/token') {
      void tokenRequest(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_request' }));
      });
      return;
    }
    service.requestHandler(req, res);
  });
  /**
   * Token requests are read here first, for the grant oauth2-mock-server does
   * not know: an approved device code is redeemed as a code of the user who
   * approved it, so its tokens are that user's, like the other grants' (the
   * mock's body parser leaves a body already read as it is).
   */
  async function tokenRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let form = await readForm(req);
    if (DEVICE_CODE_GRANTS.has(form.grant_type ?? '')) {
      const user = devices.redeem(form, res);
      if (user === undefined) return;
      form = {
        grant_type: 'authorization_code',
        code: grants.codeFor(user),
        client_id: form.client_id!,
        scope: form.scope ?? '',
      };
    }
    Object.assign(req, { body: form });
    service.requestHandler(req, res);
  }
  // Loopback only: this issuer signs whatever it is asked to.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const url: string = `http://localhost:${(server.address() as AddressInfo).port}`;
  issuer.url = url;
  return {
    url,
    jwksUri: `${url}/jwks`,
    key,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const DEFAULT_PROVIDER_USER = 'dev-user';

/**
 * The issuer's sign-in page: an authorize request that does not say who is
 * signing in (`login_hint`) is answered with a form asking for a user name,
 * which comes back to the same authorize request with it. There is no
 * password: this issuer is for a developer's own machine.
 */
function signInForm(req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' || url.pathname !== '/authorize' || url.searchParams.get('login_hint')) return false;
  const hidden = [...url.searchParams]
    .filter(([name]) => name !== 'login_hint')
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - local provider</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;line-height:1.5}input,button{font:inherit;padding:.3rem .5rem}</style></head>
<body><h1>Sign in</h1><p>The local provider of flowshare's development stack. Sign in as any user name; there is no password.</p>
<form method="get" action="/authorize">${hidden}<label>User <input name="login_hint" required autofocus pattern="[A-Za-z0-9._@\\-]{1,100}"></label>
<button type="submit">Sign in</button></form></body></html>
`;
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    // The form's answer redirects to the client's redirect URI (flowshare, on another local
    // port), and browsers hold that redirect to form-action too.
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://localhost:* http://127.0.0.1:*; frame-ancestors 'none'",
  });
  res.end(body);
  return true;
}

/** Scopes that say who signs in, not what a token may do: never in an access token's `scp`. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** Token-endpoint requests of one user with one client, by outcome. */
interface TokenRequestCount {
  authorization_code: number;
  refresh_token: number;
  refused: number;
}

/**
 * Which provider user each code and refresh token belongs to, and who
 * revoked. Refresh tokens rotate: each refresh answers a new one and the one
 * it used stops working, as providers with rotation do. Access tokens name
 * the client they were issued to (`azp`), the scopes asked for (`scp`) and the
 * user (`sub`, `oid`), which the local providers check (dev/providers/).
 */
class ProviderGrants {
  private readonly codeUser = new Map<string, string>();
  private readonly refreshUser = new Map<string, string>();
  /** Refresh tokens replaced by a newer one: refused, and counted under their user. */
  private readonly retired = new Map<string, string>();
  private readonly revoked = new Set<string>();
  private readonly issued = new Map<string, string[]>();
  /** Access token lifetime per client, when a test asked for another than the default hour. */
  private readonly lifetimes = new Map<string, number>();
  private readonly requests = new Map<string, Map<string, TokenRequestCount>>();

  constructor(service: OAuth2Service) {
    service.on(
      'beforeAuthorizeRedirect',
      (redirect: { url: URL }, req: IncomingMessage & { query?: Record<string, unknown> }) => {
        const code = redirect.url.searchParams.get('code');
        const hint = req.query?.login_hint;
        if (code) this.codeUser.set(code, typeof hint === 'string' && hint ? hint : DEFAULT_PROVIDER_USER);
      },
    );
    service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }, req: TokenEndpointRequest) => {
      const user = this.userOf(req.body);
      if (!user) return;
      token.payload.sub = user;
      if (!('scope' in token.payload)) {
        // The ID token (the one without a scope) says who signed in, as Entra ID's
        // does: the same oid and tid a caller token of theirs carries.
        Object.assign(token.payload, { oid: user, tid: DEV_TENANT_ID, preferred_username: user, name: user });
        return;
      }
      // The access token: for whom, by which client, to do what, as Entra ID's v2 tokens say it.
      const clientId = clientIdOf(req);
      const scopes = String(token.payload.scope ?? '')
        .split(' ')
        .filter((scope) => scope && !OIDC_SCOPES.has(scope));
      // A scope of an API (`api://flowshare/user_impersonation`, as the flowshare command asks)
      // makes the token that API's, as Entra ID does: its audience the API, its scp the permission.
      const api = scopes.map((scope) => /^(api:\/\/[^/]+)\/(.+)$/.exec(scope)).find((match) => match !== null);
      Object.assign(token.payload, {
        oid: user,
        tid: DEV_TENANT_ID,
        azp: clientId,
        scp: api ? api[2] : scopes.join(' '),
        ...(api ? { aud: api[1] } : {}),
      });
      const lifetime = clientId ? this.lifetimes.get(clientId) : undefined;
      if (lifetime !== undefined) token.payload.exp = Number(token.payload.iat) + lifetime;
    });
    service.on(
      'beforeResponse',
      (response: { statusCode: number; body: Record<string, unknown> | '' }, req: TokenEndpointRequest) => {
        const body = req.body;
        if (body.grant_type !== 'authorization_code' && body.grant_type !== 'refresh_token') return;
        const user = this.userOf(body);
        const clientId = clientIdOf(req) ?? '(none)';
        if (body.grant_type === 'authorization_code' && body.code) this.codeUser.delete(body.code);
        if (!user || this.revoked.has(user)) {
          const retiredUser = body.refresh_token ? this.retired.get(body.refresh_token) : undefined;
          const counted = user ?? retiredUser;
          if (counted) this.count(counted, clientId).refused += 1;
          response.statusCode = 400;
          response.body = {
            error: 'invalid_grant',
            error_description:
              'The grant is unknown, was replaced by a newer refresh token, or was revoked by the user.',
          };
          return;
        }
        this.count(user, clientId)[body.grant_type] += 1;
        if (body.grant_type === 'refresh_token' && body.refresh_token) {
          this.refreshUser.delete(body.refresh_token);
          this.retired.set(body.refresh_token, user);
        }
        if (typeof response.body === 'object') {
          const lifetime = this.lifetimes.get(clientId);
          if (lifetime !== undefined) response.body.expires_in = lifetime;
          const { access_token, id_token, refresh_token } = response.body;
          if (typeof refresh_token === 'string') this.refreshUser.set(refresh_token, user);
          const tokens = [access_token, id_token, refresh_token].filter((t): t is string => typeof t === 'string');
          this.issued.set(user, [...(this.issued.get(user) ?? []), ...tokens]);
        }
      },
    );
  }

  /** A code of `user`'s that the token endpoint redeems once, without PKCE: for a device code they approved. */
  codeFor(user: string): string {
    const code = randomUUID();
    this.codeUser.set(code, user);
    return code;
  }

  private userOf(body: TokenBody): string | undefined {
    if (body.grant_type === 'authorization_code' && body.code) return this.codeUser.get(body.code);
    if (body.grant_type === 'refresh_token' && body.refresh_token) return this.refreshUser.get(body.refresh_token);
    return undefined;
  }

  private count(user: string, clientId: string): TokenRequestCount {
    const byClient = this.requests.get(user) ?? new Map<string, TokenRequestCount>();
    this.requests.set(user, byClient);
    const count = byClient.get(clientId) ?? { authorization_code: 0, refresh_token: 0, refused: 0 };
    byClient.set(clientId, count);
    return count;
  }

  /** Serves the development endpoints; false for every other request. */
  handleDevRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '').split('?')[0]!;
    if (path === '/dev/tokens') {
      if (req.method !== 'GET') res.writeHead(405).end();
      else json(res, { tokens: [...this.issued.values()].flat() });
      return true;
    }
    const lifetime = /^\/dev\/clients\/([^/]+)\/token-lifetime$/.exec(path);
    if (lifetime) {
      if (req.method !== 'POST') res.writeHead(405).end();
      else void this.setLifetime(decodeURIComponent(lifetime[1]!), req, res);
      return true;
    }
    const match = /^\/dev\/users\/([^/]+)\/(revoke|tokens|token-requests)$/.exec(path);
    if (!match) return false;
    const user = decodeURIComponent(match[1]!);
    if (match[2] === 'revoke' && req.method === 'POST') {
      this.revoked.add(user);
      res.writeHead(204).end();
    } else if (match[2] === 'tokens' && req.method === 'GET') {
      json(res, { tokens: this.issued.get(user) ?? [] });
    } else if (match[2] === 'token-requests' && req.method === 'GET') {
      const byClient = Object.fromEntries(this.requests.get(user) ?? []);
      const count = Object.values(byClient).reduce((n, c) => n + c.authorization_code + c.refresh_token + c.refused, 0);
      json(res, { count, byClient });
    } else {
      res.writeHead(405).end();
    }
    return true;
  }

  /** `{seconds}`: the lifetime of the access tokens issued to the client from now on; `{seconds: null}` resets it. */
  private async setLifetime(clientId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let seconds: unknown;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      seconds = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { seconds?: unknown }).seconds;
    } catch {
      seconds = undefined;
    }
    if (seconds === null) {
      this.lifetimes.delete(clientId);
    } else if (Number.isInteger(seconds) && (seconds as number) >= 1 && (seconds as number) <= 86_400) {
      this.lifetimes.set(clientId, seconds as number);
    } else {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'seconds must be an integer from 1 to 86400, or null' }));
      return;
    }
    res.writeHead(204).end();
  }
}

/** The client a token request comes from: HTTP Basic credentials, else `client_id` in the body. */
function clientIdOf(req: TokenEndpointRequest): string | undefined {
  const basic = /^Basic (.+)$/i.exec(req.headers?.authorization ?? '');
  if (basic) return decodeURIComponent(Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0]!);
  return typeof req.body.client_id === 'string' ? req.body.client_id : undefined;
}

function json(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
}

interface TokenBody {
  grant_type?: string;
  code?: string;
  refresh_token?: string;
  client_id?: unknown;
}

/** The token request as oauth2-mock-server hands it to its events (an Express request). */
interface TokenEndpointRequest {
  body: TokenBody;
  headers?: IncomingMessage['headers'];
}
