// The connector catalog of the local stack. Its OAuth connectors use the local
// issuer as their provider, described to MSAL the way any non-Entra provider
// is: an https authority name that is never contacted, known to MSAL, with
// metadata that points at the issuer's endpoints.
import type { ConnectorDefinition } from '../domain/connectors';

export const DEV_AUTHORITY_HOST = 'flowshare-dev-provider.localhost';
/** The app setting holding the development clients' secret (the issuer does not check it). */
export const DEV_CLIENT_SECRET_SETTING = 'DEV_OAUTH_CLIENT_SECRET';

export function devConnectorCatalog(issuerUrl: string): ConnectorDefinition[] {
  const oauth = (clientId: string, scopes: string[]) => ({
    authority: `https://${DEV_AUTHORITY_HOST}/common`,
    clientId,
    clientSecretSetting: DEV_CLIENT_SECRET_SETTING,
    scopes,
    knownAuthorities: [DEV_AUTHORITY_HOST],
    authorityMetadata: {
      issuer: issuerUrl,
      authorization_endpoint: `${issuerUrl}/authorize`,
      token_endpoint: `${issuerUrl}/token`,
      jwks_uri: `${issuerUrl}/jwks`,
      end_session_endpoint: `${issuerUrl}/endsession`,
    },
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
