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
import type { Connector } from '../domain/connectors';
import type { StatusReason } from '../domain/connections';

export type OAuthConnector = Extract<Connector, { authType: 'oauth2' }>;

/** What is sealed for an OAuth connection: MSAL's cache and whose account it holds. */
export interface OAuthGrant {
  tokenCache: string;
  homeAccountId: string;
}

export type RefreshOutcome = { ok: true; grant: OAuthGrant } | { ok: false; reason: StatusReason; detail: string };

export type OAuthLog = (message: string) => void;

export class OAuthClient {
  private readonly crypto = new CryptoProvider();

  constructor(private readonly log: OAuthLog = (message) => console.warn(message)) {}

  pkceCodes(): Promise<{ verifier: string; challenge: string }> {
    return this.crypto.generatePkceCodes();
  }

  async consentUrl(
    connector: OAuthConnector,
    request: { redirectUri: string; state: string; codeChallenge: string },
  ): Promise<string> {
    return this.app(connector).getAuthCodeUrl({
      scopes: connector.oauth.scopes,
      redirectUri: request.redirectUri,
      state: request.state,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: 'S256',
      prompt: 'select_account',
    });
  }

  async redeem(
    connector: OAuthConnector,
    request: { code: string; codeVerifier: string; redirectUri: string },
  ): Promise<OAuthGrant> {
    const app = this.app(connector);
    const result = await app.acquireTokenByCode({
      code: request.code,
      codeVerifier: request.codeVerifier,
      redirectUri: request.redirectUri,
      scopes: connector.oauth.scopes,
    });
    if (!result.account) throw new Error('the provider answered without an account');
    return { tokenCache: app.getTokenCache().serialize(), homeAccountId: result.account.homeAccountId };
  }

  /** Redeems the refresh token now (not from cache): proves the grant still holds. */
  async refresh(connector: OAuthConnector, grant: OAuthGrant): Promise<RefreshOutcome> {
    const app = this.app(connector);
    const cache = app.getTokenCache();
    cache.deserialize(grant.tokenCache);
    const account = await cache.getAccountByHomeId(grant.homeAccountId);
    if (!account) return { ok: false, reason: 'reauthRequired', detail: 'the token cache holds no account' };
    try {
      await app.acquireTokenSilent({ account, scopes: connector.oauth.scopes, forceRefresh: true });
      return { ok: true, grant: { tokenCache: cache.serialize(), homeAccountId: grant.homeAccountId } };
    } catch (error) {
      const code = (error as { errorCode?: unknown }).errorCode;
      if (error instanceof InteractionRequiredAuthError || code === 'invalid_grant') {
        return { ok: false, reason: 'reauthRequired', detail: `provider refused the grant (${String(code)})` };
      }
      return {
        ok: false,
        reason: 'providerError',
        detail: `provider error (${String(code ?? (error as Error).name)})`,
      };
    }
  }

  private app(connector: OAuthConnector): ConfidentialClientApplication {
    const { oauth } = connector;
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
