// The pure parts of browser sessions and consent: cookies by scheme, the
// same-origin checks of a change made with the cookie, where a sign-in may go
// back to, and what a finished consent leaves.
import { describe, expect, it } from 'vitest';
import {
  checkSameOrigin,
  hashSessionId,
  newSessionId,
  readCookie,
  sessionCookie,
  sessionHashOf,
} from '../../lib/auth/session';
import { loadConfig } from '../../lib/config';
import { afterConsent, consentOpen, type Connection } from '../../lib/domain/connections';
import { DomainError } from '../../lib/domain/errors';
import { isLocalPath } from '../../lib/services/signIn';

function request(url: string, headers: Record<string, string> = {}, method = 'POST') {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { url, method, headers: { get: (name: string) => lower[name.toLowerCase()] ?? null } };
}

function refusal(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof DomainError ? error.code : String(error);
  }
}

describe('the session cookie', () => {
  it('is HttpOnly and SameSite=Lax, and over HTTPS Secure with the __Host- prefix', () => {
    expect(sessionCookie('http://localhost:7071/api/auth/callback', 'id', 60)).toMatchObject({
      name: 'flowshare-session',
      httpOnly: true,
      sameSite: 'Lax',
      secure: false,
      path: '/',
    });
    const https = sessionCookie('https://app.example/api/auth/callback', 'id', 60);
    expect(https).toMatchObject({ name: '__Host-flowshare-session', secure: true, path: '/', httpOnly: true });
    expect(https.domain).toBeUndefined();
  });

  it('is read by the name for the scheme only: an HTTPS request ignores a cookie without the prefix', () => {
    const { id } = newSessionId();
    const cookie = `other=1; flowshare-session=${id}`;
    expect(readCookie(request('http://localhost/api/x', { cookie }), 'flowshare-session')).toBe(id);
    expect(readCookie(request('https://app.example/api/x', { cookie }), 'flowshare-session')).toBeUndefined();
    expect(sessionHashOf(request('http://localhost/api/x', { cookie }))).toBe(hashSessionId(id));
    expect(sessionHashOf(request('http://localhost/api/x', { cookie: 'flowshare-session=short' }))).toBeUndefined();
  });
});

describe('a change made with the session cookie', () => {
  const url = 'https://app.example/api/flows';
  it('passes from our own origin with the CSRF token, in the header or a form field', () => {
    expect(
      refusal(() => checkSameOrigin(request(url, { origin: 'https://app.example', 'x-csrf-token': 't' }), 't')),
    ).toBe(undefined);
    expect(refusal(() => checkSameOrigin(request(url, { 'sec-fetch-site': 'same-origin' }), 't', 't'))).toBe(undefined);
  });

  it.each([
    ['another origin', { origin: 'https://evil.example', 'x-csrf-token': 't' }],
    ['an opaque origin', { origin: 'null', 'x-csrf-token': 't' }],
    ['another site by fetch metadata', { 'sec-fetch-site': 'cross-site', 'x-csrf-token': 't' }],
    ['a sibling site by fetch metadata', { 'sec-fetch-site': 'same-site', 'x-csrf-token': 't' }],
    ['no token', { origin: 'https://app.example' }],
    ['a wrong token', { origin: 'https://app.example', 'x-csrf-token': 'u' }],
    ['a longer token', { origin: 'https://app.example', 'x-csrf-token': 'tt' }],
  ])('is refused from %s', (_what, headers) => {
    expect(refusal(() => checkSameOrigin(request(url, headers), 't'))).toBe('CrossSiteRequestRefused');
  });
});

describe('where a sign-in goes back to', () => {
  it.each(['/', '/api/connections/x/consent', '/api/connections/x/consent?loginHint=a'])('may be %s', (path) => {
    expect(isLocalPath(path)).toBe(true);
  });
  it.each(['//evil.example', '/\\evil.example', 'https://evil.example', 'evil', '/a\r\nb', '/a\\b', ''])(
    'may not be %j',
    (path) => {
      expect(isLocalPath(path)).toBe(false);
    },
  );
});

describe('a finished consent', () => {
  const base: Connection = {
    tenantId: 't',
    ownerId: 'o',
    id: 'c',
    connectorId: 'shared_office365',
    displayName: 'Mail',
    status: 'PendingConsent',
    createdAt: '2026-01-01T00:00:00Z',
    modifiedAt: '2026-01-01T00:00:00Z',
  };

  it('connects with the account that consented', () => {
    expect(
      afterConsent(
        { ...base, status: 'Error', statusReason: 'reauthRequired', account: 'a' },
        { connected: true, account: 'b' },
      ),
    ).toEqual({
      status: 'Connected',
      statusReason: undefined,
      account: 'b',
    });
  });

  it('leaves a working connection as it was when consent is not given again', () => {
    expect(
      afterConsent({ ...base, status: 'Connected', account: 'a' }, { connected: false, reason: 'consentDenied' }),
    ).toEqual({
      status: 'Connected',
      statusReason: undefined,
      account: 'a',
    });
  });

  it('puts one without a working grant in Error with the reason', () => {
    expect(afterConsent(base, { connected: false, reason: 'consentDenied' })).toMatchObject({
      status: 'Error',
      statusReason: 'consentDenied',
    });
  });

  it('may be started only within its window', () => {
    const now = new Date('2026-01-01T00:10:00Z');
    expect(consentOpen({ ...base, consentRequestedUntil: '2026-01-01T00:10:01Z' }, now)).toBe(true);
    expect(consentOpen({ ...base, consentRequestedUntil: '2026-01-01T00:10:00Z' }, now)).toBe(false);
    expect(consentOpen(base, now)).toBe(false);
  });
});

describe('the sign-in settings', () => {
  const env = {
    AUTH_ISSUER: 'https://issuer',
    AUTH_AUDIENCE: 'api://x',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    CONNECTOR_CATALOG: '[{"id":"x","displayName":"X","authType":"apiKey"}]',
    SECRET_SEALING_KEYS: `k:${Buffer.alloc(32).toString('base64')}`,
    SIGNIN_AUTHORITY: 'https://login.example/tenant',
    SIGNIN_CLIENT_ID: 'web',
    SIGNIN_CLIENT_SECRET: 'secret',
  };

  it('describe an Entra ID authority by its URL alone', () => {
    expect(loadConfig(env).signIn).toEqual({
      app: { authority: 'https://login.example/tenant', clientId: 'web', clientSecret: 'secret' },
      redirectUri: undefined,
      sessionTtlSeconds: 8 * 3600,
    });
  });

  it('take the metadata of another authority, which MSAL then knows', () => {
    const metadata = {
      issuer: 'http://localhost:7072',
      authorization_endpoint: 'http://localhost:7072/authorize',
      token_endpoint: 'http://localhost:7072/token',
      jwks_uri: 'http://localhost:7072/jwks',
    };
    const config = loadConfig({ ...env, SIGNIN_AUTHORITY_METADATA: JSON.stringify(metadata) });
    expect(config.signIn.app).toMatchObject({ authorityMetadata: metadata, knownAuthorities: ['login.example'] });
  });

  it('stop the start with their name when missing or malformed', () => {
    expect(() => loadConfig({ ...env, SIGNIN_CLIENT_ID: undefined })).toThrow(/SIGNIN_CLIENT_ID/);
    expect(() => loadConfig({ ...env, SIGNIN_AUTHORITY: 'http://login.example' })).toThrow(/SIGNIN_AUTHORITY/);
    expect(() => loadConfig({ ...env, SIGNIN_AUTHORITY_METADATA: '{"issuer":1}' })).toThrow(
      /SIGNIN_AUTHORITY_METADATA/,
    );
  });
});
