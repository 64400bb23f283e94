// Token verification against an issuer whose signing keys rotate: a JWKS
// server of its own, whose keys the test swaps.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../lib/auth/authenticate';

let server: Server;
let published: JWK[] = [];
let fetches = 0;
let issuer: string;

async function newKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

function sign(key: Awaited<ReturnType<typeof newKey>>, claims: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  // Claims given override the defaults (a setter after the payload would override them back).
  return new SignJWT({
    iss: issuer,
    aud: 'api://flowshare',
    iat: now,
    exp: now + 600,
    oid: 'alice',
    tid: 'contoso',
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .sign(key.privateKey);
}

beforeAll(async () => {
  server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function verifier(keyCache = { maxAgeMs: 10 * 60_000, cooldownMs: 0 }) {
  return new TokenVerifier(
    { issuers: [issuer], audiences: ['api://flowshare'], jwksUri: `${issuer}/keys`, clockToleranceSeconds: 0 },
    keyCache,
  );
}

describe('signing keys', () => {
  it('are fetched once and cached across tokens', async () => {
    const key = await newKey('k-cache');
    published = [key.jwk];
    fetches = 0;
    const v = verifier();
    for (let i = 0; i < 5; i++)
      await expect(v.verify(await sign(key))).resolves.toEqual({ tenantId: 'contoso', principalId: 'alice' });
    expect(fetches).toBe(1);
  });

  it('follow a rotation: a new key is fetched when a token names it, a retired one is refused', async () => {
    const [first, second] = await Promise.all([newKey('k1'), newKey('k2')]);
    published = [first.jwk];
    const v = verifier({ maxAgeMs: 0, cooldownMs: 0 });
    await expect(v.verify(await sign(first))).resolves.toMatchObject({ principalId: 'alice' });

    published = [first.jwk, second.jwk]; // the issuer publishes the next key
    await expect(v.verify(await sign(second))).resolves.toMatchObject({ principalId: 'alice' });

    published = [second.jwk]; // and retires the first
    await expect(v.verify(await sign(first))).rejects.toMatchObject({ code: 'Unauthenticated' });
    await expect(v.verify(await sign(second))).resolves.toMatchObject({ principalId: 'alice' });
  });

  it('refuse a token signed by a key the issuer never published', async () => {
    const [published1, rogue] = await Promise.all([newKey('k-pub'), newKey('k-pub')]);
    published = [published1.jwk];
    await expect(verifier().verify(await sign(rogue))).rejects.toMatchObject({ code: 'Unauthenticated' });
  });

  it('refuse expired, not-yet-valid, wrongly addressed and unsigned tokens', async () => {
    const key = await newKey('k-claims');
    published = [key.jwk];
    const v = verifier();
    const now = Math.floor(Date.now() / 1000);
    for (const claims of [
      { exp: now - 1 },
      { nbf: now + 600 },
      { aud: 'api://other' },
      { iss: 'https://elsewhere' },
      { tid: undefined },
    ]) {
      await expect(v.verify(await sign(key, claims))).rejects.toMatchObject({ code: 'Unauthenticated' });
    }
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ oid: 'a', tid: 't', iss: issuer, aud: 'api://flowshare', exp: now + 60 })).toString('base64url')}.`;
    await expect(v.verify(unsigned)).rejects.toMatchObject({ code: 'Unauthenticated' });
  });
});
