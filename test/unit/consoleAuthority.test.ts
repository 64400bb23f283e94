// `flowshare login --authority` (docs/cli.md, Signing in): which URLs it
// takes, and which it signs in at as Entra ID rather than as another OpenID
// Connect authority.
import { describe, expect, it } from 'vitest';
import { AuthError } from '@azure/msal-node';
import { authorityOf, ENTRA_AUTHORITY, isEntraAuthority, msalFailure } from '../../console/auth/entra';
import { UsageError } from '../../console/config';

describe('--authority', () => {
  it("is Entra ID's global cloud by default, its trailing slash dropped when given", () => {
    expect(authorityOf(undefined)).toBe(ENTRA_AUTHORITY);
    expect(authorityOf('https://login.microsoftonline.us/')).toBe('https://login.microsoftonline.us');
  });

  it('takes https, and http only for an issuer on this machine', () => {
    expect(authorityOf('http://localhost:7072')).toBe('http://localhost:7072');
    expect(authorityOf('http://127.0.0.1:7072')).toBe('http://127.0.0.1:7072');
    for (const refused of ['http://issuer.contoso.com', 'ftp://localhost', 'not a url', 'https://a.example/?x=1']) {
      expect(() => authorityOf(refused)).toThrow(UsageError);
    }
  });

  it("is Entra ID on the login hosts of Entra ID's clouds, another OpenID Connect authority elsewhere", () => {
    for (const entra of [ENTRA_AUTHORITY, 'https://login.microsoftonline.us', 'https://login.chinacloudapi.cn']) {
      expect(isEntraAuthority(entra)).toBe(true);
    }
    for (const other of [
      'http://localhost:7072',
      'https://login.microsoftonline.com.evil.example',
      'https://adfs.contoso.com/adfs',
    ]) {
      expect(isEntraAuthority(other)).toBe(false);
    }
  });
});

describe("MSAL's errors", () => {
  it('mean the identity provider is unreachable (exit code 5) only when MSAL could not reach it', () => {
    for (const code of ['network_error', 'endpoints_resolution_error']) {
      const failure = msalFailure(new AuthError(code, 'Network request failed'), 'Sign in again');
      expect(failure.unreachable, code).toBe(true);
    }
    for (const code of ['device_code_expired', 'invalid_grant', 'no_tokens_found']) {
      const failure = msalFailure(new AuthError(code, 'refused'), 'Sign in again');
      expect(failure.unreachable, code).toBe(false);
      expect(failure.message).toBe(`Sign in again (${code}).`);
    }
    expect(msalFailure(new Error('what'), 'Sign in again').unreachable).toBe(false);
  });
});
