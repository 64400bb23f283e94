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

/** The OAuth clients of the development connectors: the local providers accept tokens minted for them alone. */
export const DEV_CLIENTS = {
  office365: 'flowshare-dev-office365',
  sharepoint: 'flowshare-dev-sharepoint',
} as const;

/** The header the local SQL provider takes its API key in. */
export const DEV_SQL_KEY_HEADER = 'X-API-Key';

/**
 * The development catalog: OAuth connectors whose provider is the local
 * issuer, and every connector's operations served by the local providers
 * (dev/providers/) at `providersUrl`.
 */
export function devConnectorCatalog(issuerUrl: string, providersUrl: string): ConnectorDefinition[] {
  const oauth = (clientId: string, scopes: string[]) => ({
    authority: DEV_AUTHORITY,
    clientId,
    clientSecretSetting: DEV_CLIENT_SECRET_SETTING,
    scopes,
    knownAuthorities: [DEV_AUTHORITY_HOST],
    authorityMetadata: devAuthorityMetadata(issuerUrl),
  });
  const list = { name: 'list', in: 'path', type: 'string', maxLength: 100, description: 'the list' } as const;
  return [
    {
      id: 'shared_office365',
      displayName: 'Office 365 Outlook',
      authType: 'oauth2',
      oauth: oauth(DEV_CLIENTS.office365, ['Mail.Send', 'Mail.Read']),
      baseUrl: `${providersUrl}/office365/v1.0`,
      operations: [
        {
          id: 'SendEmail',
          displayName: 'Send an email',
          method: 'POST',
          path: '/me/sendMail',
          read: false,
          scopes: ['Mail.Send'],
          parameters: [
            { name: 'to', in: 'body', type: 'string', required: true, maxLength: 320, description: 'the recipient' },
            { name: 'subject', in: 'body', type: 'string', required: true, maxLength: 255 },
            { name: 'body', in: 'body', type: 'string', required: true, maxLength: 100_000 },
          ],
        },
        {
          id: 'ListEmails',
          displayName: 'List the emails in my inbox',
          method: 'GET',
          path: '/me/messages',
          read: true,
          scopes: ['Mail.Read'],
          parameters: [{ name: 'top', in: 'query', type: 'integer', description: 'at most this many, newest first' }],
        },
        { id: 'GetMyProfile', displayName: 'Get my profile', method: 'GET', path: '/me', read: true, parameters: [] },
      ],
    },
    {
      id: 'shared_sharepointonline',
      displayName: 'SharePoint',
      authType: 'oauth2',
      oauth: oauth(DEV_CLIENTS.sharepoint, ['Sites.ReadWrite.All']),
      baseUrl: `${providersUrl}/sharepoint`,
      operations: [
        {
          id: 'GetItems',
          displayName: 'Get the items of a list',
          method: 'GET',
          path: '/lists/{list}/items',
          read: true,
          scopes: ['Sites.ReadWrite.All'],
          parameters: [list],
        },
        {
          id: 'CreateItem',
          displayName: 'Create an item in a list',
          method: 'POST',
          path: '/lists/{list}/items',
          read: false,
          scopes: ['Sites.ReadWrite.All'],
          parameters: [
            list,
            { name: 'title', in: 'body', type: 'string', required: true, maxLength: 255 },
            { name: 'fields', in: 'body', type: 'object', description: 'more columns, by name' },
          ],
        },
        {
          // Answered with a redirect to a download address elsewhere, as SharePoint and OneDrive do.
          id: 'GetFileContent',
          displayName: 'Get the content of a file',
          method: 'GET',
          path: '/lists/{list}/files/{file}/content',
          read: true,
          scopes: ['Sites.ReadWrite.All'],
          parameters: [list, { name: 'file', in: 'path', type: 'string', maxLength: 200 }],
        },
      ],
    },
    {
      id: 'shared_sql',
      displayName: 'SQL Server',
      authType: 'apiKey',
      apiKey: { in: 'header', name: DEV_SQL_KEY_HEADER },
      baseUrl: `${providersUrl}/sql`,
      operations: [
        {
          id: 'ExecuteQuery',
          displayName: 'Execute a query',
          method: 'POST',
          path: '/query',
          read: false,
          parameters: [
            {
              name: 'query',
              in: 'body',
              type: 'string',
              required: true,
              maxLength: 10_000,
              description: "SELECT * FROM t [WHERE c = 'v'] or INSERT INTO t (c, ...) VALUES ('v', ...)",
            },
          ],
        },
      ],
    },
  ];
}
