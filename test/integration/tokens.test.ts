// Token verification against an issuer whose signing keys rotate: a JWKS
// server of its own, whose keys the test swaps.
import { createServer, type Server } from 'node:http';
import { InvocationContext, type HttpResponseInit } from '@azure/functions';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier, type TokenVerifierOptions } from '../../lib/auth/authenticate';
import { problemFor } from '../../lib/http/problem';

let server: Server;
let published: JWK[] = [];
let fetches = 0;
let issuer: string;
/** How the key set endpoint fails, when a test makes it. */
let failing: undefined | 'status500' | 'notJson' | 'notKeySet' | 'reset';

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
  server = createServer((req, res) => {
    fetches++;
    if (failing === 'reset') return void req.socket.destroy();
    if (failing === 'status500') return void res.writeHead(500).end();
    const body =
      failing === 'notJson'
        ? '<html>'
        : JSON.stringify(failing === 'notKeySet' ? { keys: 'none' } : { keys: published });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  failing = undefined;
});

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

/** What a request with this token would be answered, as problem details. */
async function answerTo(v: TokenVerifier, token: string): Promise<HttpResponseInit> {
  try {
    await v.verify(token);
    return { status: 200 };
  } catch (error) {
    return problemFor(error, new InvocationContext({ logHandler: () => undefined }));
  }
}

function expectProviderUnavailable(answer: HttpResponseInit) {
  expect(answer.status).toBe(503);
  expect(answer.headers).toMatchObject({ 'Retry-After': expect.stringMatching(/^\d+$/) });
  expect(answer.headers).not.toHaveProperty('WWW-Authenticate');
  expect(JSON.parse(String(answer.body))).toMatchObject({ status: 503, code: 'IdentityProviderUnavailable' });
}

describe('an issuer whose keys cannot be fetched', () => {
  // The service cannot tell a good token from a bad one without the keys: its fault, not the caller's.
  it('answers 503 with Retry-After when the issuer cannot be reached to discover its keys', async () => {
    const key = await newKey('k-unreachable');
    // Port 9 (discard): nothing listens there, so OpenID discovery fails.
    const v = new TokenVerifier({
      issuers: ['http://127.0.0.1:9'],
      audiences: ['api://flowshare'],
      clockToleranceSeconds: 0,
    });
    expectProviderUnavailable(await answerTo(v, await sign(key, { iss: 'http://127.0.0.1:9' })));
  });

  it.each(['status500', 'notJson', 'notKeySet', 'reset'] as const)(
    'answers 503 when the key set endpoint fails (%s) on the first fetch',
    async (how) => {
      const key = await newKey(`k-first-${how}`);
      published = [key.jwk];
      failing = how;
      expectProviderUnavailable(await answerTo(verifier(), await sign(key)));
    },
  );

  it('answers 503 when keys grown old cannot be fetched again', async () => {
    const key = await newKey('k-old-keys');
    published = [key.jwk];
    const v = verifier({ maxAgeMs: 200, cooldownMs: 0 });
    await expect(v.verify(await sign(key, { oid: 'first' }))).resolves.toMatchObject({ principalId: 'first' });
    await new Promise((resolve) => setTimeout(resolve, 250));
    failing = 'status500';
    expectProviderUnavailable(await answerTo(v, await sign(key, { oid: 'second' })));
  });

  it('answers 503 when a token names a key not yet fetched and fetching again fails', async () => {
    const [known, next] = await Promise.all([newKey('k-known'), newKey('k-next')]);
    published = [known.jwk];
    const v = verifier({ maxAgeMs: 10 * 60_000, cooldownMs: 0 });
    await expect(v.verify(await sign(known))).resolves.toMatchObject({ principalId: 'alice' });
    published = [known.jwk, next.jwk];
    failing = 'status500';
    const before = fetches;
    expectProviderUnavailable(await answerTo(v, await sign(next)));
    expect(fetches).toBeGreaterThan(before);
  });

  it('still answers 401 when fetching again succeeds and the key is not there', async () => {
    const [known, unknown] = await Promise.all([newKey('k-listed'), newKey('k-never-listed')]);
    published = [known.jwk];
    const v = verifier({ maxAgeMs: 10 * 60_000, cooldownMs: 0 });
    await expect(v.verify(await sign(known))).resolves.toMatchObject({ principalId: 'alice' });
    const before = fetches;
    const answer = await answerTo(v, await sign(unknown));
    expect(fetches).toBe(before + 1);
    expect(answer.status).toBe(401);
    expect(JSON.parse(String(answer.body))).toMatchObject({
      code: 'Unauthenticated',
      detail: 'The token is signed with a key the issuer does not publish.',
    });
  });

  it('answers a valid token from the keys it holds while the endpoint is down, and 401 for a bad one', async () => {
    const key = await newKey('k-held');
    published = [key.jwk];
    const v = verifier({ maxAgeMs: 10 * 60_000, cooldownMs: 30_000 });
    await expect(v.verify(await sign(key, { oid: 'before' }))).resolves.toMatchObject({ principalId: 'before' });
    failing = 'status500';
    await expect(v.verify(await sign(key, { oid: 'during' }))).resolves.toMatchObject({ principalId: 'during' });
    expect((await answerTo(v, await sign(key, { aud: 'api://other' }))).status).toBe(401);
  });
});
