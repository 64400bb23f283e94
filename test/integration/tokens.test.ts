// Token verification against an issuer whose signing keys rotate: a JWKS
// server of its own, whose keys the test swaps.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier, type TokenVerifierOptions } from '../../lib/auth/authenticate';

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

function verifier(keyCache = { maxAgeMs: 10 * 60_000, cooldownMs: 0 }, options: TokenVerifierOptions = {}) {
  return new TokenVerifier(
    { issuers: [issuer], audiences: ['api://flowshare'], jwksUri: `${issuer}/keys`, clockToleranceSeconds: 0 },
    { keyCache, ...options },
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

describe('verified tokens', () => {
  it('are remembered: the same token again is not checked again', async () => {
    const key = await newKey('k-remember');
    published = [key.jwk];
    const v = verifier();
    const token = await sign(key);
    for (let i = 0; i < 5; i++) await expect(v.verify(token)).resolves.toMatchObject({ principalId: 'alice' });
    expect(v.stats).toEqual({ verified: 1, remembered: 4 });
  });

  it('expire when the token does', async () => {
    const key = await newKey('k-expiry');
    published = [key.jwk];
    let now = Date.now();
    const v = verifier(undefined, { now: () => now });
    const token = await sign(key, { exp: Math.floor(now / 1000) + 60 });
    await expect(v.verify(token)).resolves.toMatchObject({ principalId: 'alice' });
    now += 61_000;
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'Unauthenticated', message: 'The token has expired.' });
  });

  it('are checked again once the keys are fetched again: a retired key is refused', async () => {
    const [first, second] = await Promise.all([newKey('k-old'), newKey('k-new')]);
    published = [first.jwk];
    const v = verifier({ maxAgeMs: 10 * 60_000, cooldownMs: 0 });
    const old = await sign(first);
    await expect(v.verify(old)).resolves.toMatchObject({ principalId: 'alice' });
    await expect(v.verify(old)).resolves.toMatchObject({ principalId: 'alice' });

    // A token naming the new key makes the verifier fetch the keys again; the old one is gone.
    published = [second.jwk];
    await expect(v.verify(await sign(second))).resolves.toMatchObject({ principalId: 'alice' });
    await expect(v.verify(old)).rejects.toMatchObject({
      code: 'Unauthenticated',
      message: 'The token is signed with a key the issuer does not publish.',
    });
  });

  it('are checked again when the keys grow old, and the keys fetched again', async () => {
    const [first, second] = await Promise.all([newKey('k-aging'), newKey('k-aging-next')]);
    published = [first.jwk];
    const v = verifier({ maxAgeMs: 200, cooldownMs: 0 });
    const old = await sign(first);
    await expect(v.verify(old)).resolves.toMatchObject({ principalId: 'alice' });
    published = [second.jwk];
    await new Promise((resolve) => setTimeout(resolve, 250));
    await expect(v.verify(old)).rejects.toMatchObject({ code: 'Unauthenticated' });
  });

  it('are bounded: the longest remembered is forgotten first', async () => {
    const key = await newKey('k-bound');
    published = [key.jwk];
    const v = verifier(undefined, { verifiedTokens: 2 });
    const tokens = await Promise.all(['a', 'b', 'c'].map((oid) => sign(key, { oid })));
    for (const token of tokens) await v.verify(token);
    await v.verify(tokens[2]!);
    await v.verify(tokens[0]!);
    expect(v.stats).toEqual({ verified: 4, remembered: 1 });
  });

  it('answer 401 when the issuer cannot be reached to find its keys', async () => {
    const key = await newKey('k-unreachable');
    // Port 9 (discard): nothing listens there, so OpenID discovery fails.
    const v = new TokenVerifier({
      issuers: ['http://127.0.0.1:9'],
      audiences: ['api://flowshare'],
      clockToleranceSeconds: 0,
    });
    await expect(v.verify(await sign(key, { iss: 'http://127.0.0.1:9' }))).rejects.toMatchObject({
      code: 'Unauthenticated',
    });
  });

  it('never remember a refused token', async () => {
    const key = await newKey('k-refused');
    published = [key.jwk];
    const v = verifier();
    const wrongAudience = await sign(key, { aud: 'api://other' });
    for (let i = 0; i < 2; i++)
      await expect(v.verify(wrongAudience)).rejects.toMatchObject({ code: 'Unauthenticated' });
    expect(v.stats).toEqual({ verified: 0, remembered: 0 });
  });
});
