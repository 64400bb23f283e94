// Caller identity: tokens from the local issuer are verified against its JWKS
// exactly as Entra ID tokens are in Azure.
import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { call, expectProblem, stack, tokenFor, unique } from '../support/stack';

async function expectUnauthenticated(token: string | undefined, header?: string) {
  const headers: Record<string, string> = header ? { authorization: header } : {};
  const response = await call('GET', '/flows', { token, headers });
  expect(response.status).toBe(401);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="flowshare"/);
  expect(response.body).toMatchObject({ status: 401, code: 'Unauthenticated' });
  return response;
}

describe('verifying the caller', () => {
  it('accepts a token from the issuer and names the caller by oid', async () => {
    const user = unique('alice');
    const response = await call('POST', '/flows', { token: await tokenFor(user), body: { name: 'Mine' } });
    expect(response.status).toBe(201);
    expect(response.body.ownerId).toBe(user);
  });

  it('prefers oid over sub, and falls back to sub when there is no oid', async () => {
    const oid = unique('oid');
    const withBoth = await tokenFor('ignored-sub', { claims: { oid } });
    expect((await call('POST', '/flows', { token: withBoth, body: { name: 'A' } })).body.ownerId).toBe(oid);
    const sub = unique('sub');
    const subOnly = await tokenFor(sub, { claims: { oid: undefined } });
    expect((await call('POST', '/flows', { token: subOnly, body: { name: 'B' } })).body.ownerId).toBe(sub);
  });

  it('asks for a token without naming an error when none was sent', async () => {
    const response = await expectUnauthenticated(undefined);
    expect(response.headers.get('www-authenticate')).not.toContain('error=');
  });

  it.each([
    ['expired', { expiresInSeconds: -600 }],
    ['from another issuer', { issuer: 'https://login.example.com/other' }],
    ['for another audience', { audience: 'api://someone-else' }],
    ['without a tenant', { claims: { tid: undefined } }],
    ['not valid until tomorrow', { claims: { nbf: Math.floor(Date.now() / 1000) + 86_400 } }],
  ])('refuses a token %s', async (_why, options) => {
    const response = await expectUnauthenticated(await tokenFor(unique('u'), options));
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses a token signed with a key the issuer does not publish', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const kid = randomUUID();
    const forged = await new SignJWT({ oid: 'mallory', tid: 'anything' })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(stack().issuerUrl)
      .setAudience(stack().audience)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    await expectUnauthenticated(forged);
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const [header, , signature] = (await tokenFor('carol')).split('.');
    const payload = Buffer.from(
      JSON.stringify({ oid: 'admin', tid: 'x', iss: stack().issuerUrl, aud: stack().audience, exp: 9_999_999_999 }),
    ).toString('base64url');
    await expectUnauthenticated(`${header}.${payload}.${signature}`);
  });

  it('refuses an unsigned token (alg none)', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({ oid: 'mallory', tid: 'x', iss: stack().issuerUrl, aud: stack().audience, exp: 9_999_999_999 }),
    ).toString('base64url');
    await expectUnauthenticated(`${header}.${payload}.`);
  });

  it.each([
    ['another scheme', 'Basic YWxpY2U6c2VjcmV0'],
    ['an empty bearer', 'Bearer '],
    ['garbage', 'Bearer not-a-jwt'],
  ])('refuses an Authorization header with %s', async (_why, header) => {
    await expectUnauthenticated(undefined, header);
  });

  it('keeps the token out of the problem it answers', async () => {
    const token = await tokenFor(unique('u'), { audience: 'api://someone-else' });
    const response = await expectUnauthenticated(token);
    expect(response.text).not.toContain(token.split('.')[1]!);
  });

  it('refuses a caller named by a string that is not well-formed Unicode, which could stand for another', async () => {
    // UTF-8 turns a lone surrogate into U+FFFD: as storage keys, these two ids would be one.
    const base = unique('twin');
    const replaced = await tokenFor(`${base}\uFFFD`);
    const lone = await tokenFor('ignored', { claims: { oid: `${base}\uD800`, sub: `${base}\uD800` } });
    const created = await call('POST', '/connections', {
      token: replaced,
      body: { connectorId: 'shared_sql', displayName: 'Theirs', apiKey: 'k' },
    });
    expect(created.status).toBe(201);
    const listed = await call('GET', '/connections', { token: lone });
    expect(listed.text).not.toContain(created.body.id);
    expectProblem(listed, 401, 'Unauthenticated');
    await expectUnauthenticated(lone);

    const tenant = unique('tenant');
    const tenantTwin = await tokenFor(unique('u'), { tenant: `${tenant}\uD800` });
    expect(
      (await call('GET', '/flows', { token: await tokenFor(unique('u'), { tenant: `${tenant}\uFFFD` }) })).status,
    ).toBe(200);
    await expectUnauthenticated(tenantTwin);
  });
});
