// The local OpenID Connect issuer (oauth2-mock-server): it publishes the JWKS
// and OpenID configuration that token verification reads, exactly as Entra ID
// does in Azure. Its signing key is kept in a git-ignored file so that tokens
// minted by `npm run token` stay valid across restarts of the stack.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { OAuth2Server } from 'oauth2-mock-server';

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
  server: OAuth2Server;
  stop(): Promise<void>;
}

export async function startIssuer(options: IssuerOptions): Promise<RunningIssuer> {
  const key = await loadOrCreateSigningKey(options.keyFile);
  const server = new OAuth2Server();
  await server.issuer.keys.add(key);
  // Loopback only: this issuer signs whatever it is asked to.
  await server.start(options.port, '127.0.0.1');
  const url = `http://localhost:${server.address().port}`;
  server.issuer.url = url;
  return { url, jwksUri: `${url}/jwks`, key, server, stop: () => server.stop() };
}
