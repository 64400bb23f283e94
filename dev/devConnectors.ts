// The connector catalog of the local stack. Its OAuth connectors use the local
// issuer as their provider, described to MSAL the way any non-Entra provider
// is: an https authority name that is never contacted, known to MSAL, with
// metadata that points at the issuer's endpoints.
import type { ConnectorDefinition, OAuthApp } from '../lib/domain/connectors';

export const DEV_AUTHORITY_HOST = 'flowshare-dev-provider.localhost';
/** The app setting holding the development clients' secret (the issuer does not check it). */
export const DEV_CLIENT_SECRET_SETTING = 'DEV_OAUTH_CLIENT_SECRET';

const DEV_AUTHORITY = `https://${DEV_AUTHORITY_HOST}/common`;
export const DEV_CLIENT_SECRET = 'local-development-only';

function devAuthorityMetadata(issuerUrl: string) {
  return {
    issuer: issuerUrl,
    authorization_endpoint: `${issuerUrl}/authorize`,
    token_endpoint: `${issuerUrl}/token`,
    jwks_uri: `${issuerUrl}/jwks`,
    end_session_endpoint: `${issuerUrl}/endsession`,
  };
}

/** The web app people sign in to flowshare's pages with, at the local issuer. */
export function devSignInApp(issuerUrl: string): OAuthApp {
  return {
    authority: DEV_AUTHORITY,
    clientId: 'flowshare-dev-web',
    clientSecret: DEV_CLIENT_SECRET,
    knownAuthorities: [DEV_AUTHORITY_HOST],
    authorityMetadata: devAuthorityMetadata(issuerUrl),
  };
}

/** The sign-in settings of the local stack, as app settings. */
export function devSignInSettings(issuerUrl: string): Record<string, string> {
  const app = devSignInApp(issuerUrl);
  return {
    SIGNIN_AUTHORITY: app.authority,
    SIGNIN_CLIENT_ID: app.clientId,
    SIGNIN_CLIENT_SECRET: app.clientSecret,
    SIGNIN_AUTHORITY_METADATA: JSON.stringify(app.authorityMetadata),
  };
}

export function devConnectorCatalog(issuerUrl: string): ConnectorDefinition[] {
  const oauth = (clientId: string, scopes: string[]) => ({
    authority: DEV_AUTHORITY,
    clientId,
    clientSecretSetting: DEV_CLIENT_SECRET_SETTING,
    scopes,
    knownAuthorities: [DEV_AUTHORITY_HOST],
    authorityMetadata: devAuthorityMetadata(issuerUrl),
  });
  return [
    {
      id: 'shared_office365',
      displayName: 'Office 365 Outlook',
      authType: 'oauth2',
      oauth: oauth('flowshare-dev-office365', ['Mail.Send', 'Mail.Read']),
    },
    {
      id: 'shared_sharepointonline',
      displayName: 'SharePoint',
      authType: 'oauth2',
      oauth: oauth('flowshare-dev-sharepoint', ['Sites.ReadWrite.All']),
    },
    { id: 'shared_sql', displayName: 'SQL Server', authType: 'apiKey' },
  ];
}
