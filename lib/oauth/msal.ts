// OAuth onboarding with MSAL: the consent link (auth code + PKCE), redeeming
// the code, and silent refresh. Each connection has its own MSAL token cache,
// serialized into the sealed secret, so every call builds a client around
// that one cache. Entra ID discovers its metadata; other providers (locally,
// the development issuer) are described by `authorityMetadata`.
import {
  ConfidentialClientApplication,
  CryptoProvider,
  InteractionRequiredAuthError,
  LogLevel,
  type Configuration,
} from '@azure/msal-node';
import type { Connector, OAuthApp } from '../domain/connectors';
import type { StatusReason } from '../domain/connections';
import { consoleLog } from '../log';

export type OAuthConnector = Extract<Connector, { authType: 'oauth2' }>;

/** What is sealed for an OAuth connection: MSAL's cache and whose account it holds. */
export interface OAuthGrant {
  tokenCache: string;
  homeAccountId: string;
}

/** A redeemed consent: the grant to seal, and the provider account that gave it (from the ID token). */
export interface RedeemedConsent {
  grant: OAuthGrant;
  account: string;
}

/** The ID token claims of a person who signed in, as the authority answered them to us directly. */
export type SignInClaims = {
  iss?: string;
  tid?: string;
  oid?: string;
  sub?: string;
  name?: string;
  preferred_username?: string;
};

/** The scopes of a sign-in: who the person is, nothing to call on their behalf. */
const SIGN_IN_SCOPES = ['openid', 'profile', 'email'];

/** An access token for a call, and the grant as it now is (MSAL refreshed it when it was about to expire). */
export type AccessOutcome =
  | { ok: true; accessToken: string; expiresOn: Date | undefined; grant: OAuthGrant; refreshed: boolean }
  | { ok: false; reason: StatusReason; detail: string };

export type RefreshOutcome = { ok: true; grant: OAuthGrant } | { ok: false; reason: StatusReason; detail: string };

export type OAuthLog = (message: string) => void;

export class OAuthClient {
  private readonly crypto = new CryptoProvider();

  constructor(private readonly log: OAuthLog = (message) => consoleLog.warn(message)) {}

  pkceCodes(): Promise<{ verifier: string; challenge: string }> {
    return this.crypto.generatePkceCodes();
  }

  async consentUrl(
    connector: OAuthConnector,
    request: { redirectUri: string; state: string; codeChallenge: string; loginHint?: string },
  ): Promise<string> {
    return this.app(connector.oauth).getAuthCodeUrl({
      scopes: connector.oauth.scopes,
      redirectUri: request.redirectUri,
      state: request.state,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: 'S256',
      // Whose account to connect: the one hinted, else the person picks one (MSAL drops a hint beside select_account).
      ...(request.loginHint ? { loginHint: request.loginHint } : { prompt: 'select_account' }),
    });
  }

  async redeem(
    connector: OAuthConnector,
    request: { code: string; codeVerifier: string; redirectUri: string },
  ): Promise<RedeemedConsent> {
    const app = this.app(connector.oauth);
    const result = await app.acquireTokenByCode({
      code: request.code,
      codeVerifier: request.codeVerifier,
      redirectUri: request.redirectUri,
      scopes: connector.oauth.scopes,
    });
    if (!result.account) throw new Error('the provider answered without an account');
    const claims = (result.idTokenClaims ?? {}) as SignInClaims & { email?: string; upn?: string };
    const account =
      claims.preferred_username ?? claims.email ?? claims.upn ?? result.account.username ?? claims.sub ?? 'unknown';
    return {
      grant: { tokenCache: app.getTokenCache().serialize(), homeAccountId: result.account.homeAccountId },
      account: account || 'unknown',
    };
  }

  /** Where a person signs in: the authority's page, asked for an ID token only. */
  signInUrl(
    app: OAuthApp,
    request: { redirectUri: string; state: string; nonce: string; codeChallenge: string; loginHint?: string },
  ): Promise<string> {
    return this.app(app).getAuthCodeUrl({
      scopes: SIGN_IN_SCOPES,
      redirectUri: request.redirectUri,
      state: request.state,
      nonce: request.nonce,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: 'S256',
      ...(request.loginHint ? { loginHint: request.loginHint } : {}),
    });
  }

  /**
   * Redeems a sign-in code for its ID token claims (MSAL checks the nonce).
   * The tokens came straight from the authority's token endpoint, so they are
   * taken as they are (OpenID Connect Core 3.1.3.7), used once and dropped.
   */
  async signInClaims(
    app: OAuthApp,
    request: { code: string; codeVerifier: string; redirectUri: string; nonce: string },
  ): Promise<SignInClaims> {
    const result = await this.app(app).acquireTokenByCode({
      code: request.code,
      codeVerifier: request.codeVerifier,
      redirectUri: request.redirectUri,
      nonce: request.nonce,
      scopes: SIGN_IN_SCOPES,
    });
    return (result.idTokenClaims ?? {}) as SignInClaims;
  }

  /**
   * An access token for calling the connector's provider: the cached one
   * while it has more than MSAL's renewal offset (5 minutes) to live, else a
   * new one redeemed with the refresh token (whose rotation, if the provider
   * rotates, lands in the grant answered). `forceRefresh` redeems now: after
   * the provider refused the cached one. The token is for this call only;
   * the caller never keeps or logs it.
   */
  async accessToken(connector: OAuthConnector, grant: OAuthGrant, forceRefresh = false): Promise<AccessOutcome> {
    const app = this.app(connector.oauth);
    const cache = app.getTokenCache();
    cache.deserialize(grant.tokenCache);
    const account = await cache.getAccountByHomeId(grant.homeAccountId);
    if (!account) return { ok: false, reason: 'reauthRequired', detail: 'the token cache holds no account' };
    try {
      const result = await app.acquireTokenSilent({ account, scopes: connector.oauth.scopes, forceRefresh });
      const refreshed = forceRefresh || !result.fromCache;
      return {
        ok: true,
        accessToken: result.accessToken,
        expiresOn: result.expiresOn ?? undefined,
        grant: refreshed ? { tokenCache: cache.serialize(), homeAccountId: grant.homeAccountId } : grant,
        refreshed,
      };
    } catch (error) {
      return refusalOf(error);
    }
  }

  /** Redeems the refresh token now (not from cache): proves the grant still holds. */
  async refresh(connector: OAuthConnector, grant: OAuthGrant): Promise<RefreshOutcome> {
    const app = this.app(connector.oauth);
    const cache = app.getTokenCache();
    cache.deserialize(grant.tokenCache);
    const account = await cache.getAccountByHomeId(grant.homeAccountId);
    if (!account) return { ok: false, reason: 'reauthRequired', detail: 'the token cache holds no account' };
    try {
      await app.acquireTokenSilent({ account, scopes: connector.oauth.scopes, forceRefresh: true });
      return { ok: true, grant: { tokenCache: cache.serialize(), homeAccountId: grant.homeAccountId } };
    } catch (error) {
      return refusalOf(error);
    }
  }

  private app(oauth: OAuthApp): ConfidentialClientApplication {
    const config: Configuration = {
      auth: {
        clientId: oauth.clientId,
        clientSecret: oauth.clientSecret,
        authority: oauth.authority,
        ...(oauth.knownAuthorities ? { knownAuthorities: oauth.knownAuthorities } : {}),
        ...(oauth.authorityMetadata ? { authorityMetadata: JSON.stringify(oauth.authorityMetadata) } : {}),
      },
      system: {
        loggerOptions: {
          // Never PII, only warnings and errors: MSAL's messages reach our logs.
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (_level, message, containsPii) => {
            if (!containsPii) this.log(`[msal] ${message}`);
          },
        },
      },
    };
    return new ConfidentialClientApplication(config);
  }
}

/** Why the provider would not give a token: the grant is gone (consent again), or the provider failed. */
function refusalOf(error: unknown): { ok: false; reason: StatusReason; detail: string } {
  const code = (error as { errorCode?: unknown }).errorCode;
  if (error instanceof InteractionRequiredAuthError || code === 'invalid_grant') {
    return { ok: false, reason: 'reauthRequired', detail: `provider refused the grant (${String(code)})` };
  }
  return { ok: false, reason: 'providerError', detail: `provider error (${String(code ?? (error as Error).name)})` };
}
