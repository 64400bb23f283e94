// Signing in with Entra ID (`flowshare login --tenant ... --client-id ...`):
// MSAL's device code flow for a public client, its token cache kept in the
// configuration folder owner-only (console/config.ts), and access tokens for
// the API's scope renewed silently from it.
import { PublicClientApplication, type ICachePlugin } from '@azure/msal-node';
import { readConfigFile, writeConfigFile } from '../config';
import { NotSignedIn } from './errors';

export const MSAL_CACHE_FILE = 'msal-cache.json';

export interface EntraSession {
  kind: 'entra';
  tenantId: string;
  clientId: string;
  scope: string;
  /** MSAL's id of the account in its cache. */
  homeAccountId: string;
  username?: string;
}

/** MSAL's cache, read from and written to the configuration folder. */
const cachePlugin: ICachePlugin = {
  beforeCacheAccess: async (context) => {
    const cached = readConfigFile<{ cache: string }>(MSAL_CACHE_FILE);
    if (cached) context.tokenCache.deserialize(cached.cache);
  },
  afterCacheAccess: async (context) => {
    if (context.cacheHasChanged)
      writeConfigFile(MSAL_CACHE_FILE, JSON.stringify({ cache: context.tokenCache.serialize() }));
  },
};

function application(tenantId: string, clientId: string): PublicClientApplication {
  return new PublicClientApplication({
    auth: { clientId, authority: `https://login.microsoftonline.com/${tenantId}` },
    cache: { cachePlugin },
  });
}

export async function entraSignIn(
  tenantId: string,
  clientId: string,
  scope: string,
  tell: (message: string) => void,
): Promise<EntraSession> {
  const result = await application(tenantId, clientId).acquireTokenByDeviceCode({
    scopes: [scope],
    deviceCodeCallback: (answer) => tell(answer.message),
  });
  if (!result?.account) throw new NotSignedIn('Entra ID did not sign you in.');
  return {
    kind: 'entra',
    tenantId,
    clientId,
    scope,
    homeAccountId: result.account.homeAccountId,
    ...(result.account.username ? { username: result.account.username } : {}),
  };
}

/** An access token for the API, from MSAL's cache (renewed with its refresh token when due). */
export async function entraToken(session: EntraSession): Promise<string> {
  const app = application(session.tenantId, session.clientId);
  const account = await app.getTokenCache().getAccountByHomeId(session.homeAccountId);
  if (!account) throw new NotSignedIn('Your Entra ID sign-in is gone: run flowshare login again.');
  try {
    const result = await app.acquireTokenSilent({ account, scopes: [session.scope] });
    return result.accessToken;
  } catch (error) {
    throw new NotSignedIn(`Entra ID needs you to sign in again (${(error as Error).name}): run flowshare login.`);
  }
}

export async function entraSignOut(session: EntraSession): Promise<void> {
  const app = application(session.tenantId, session.clientId);
  const account = await app.getTokenCache().getAccountByHomeId(session.homeAccountId);
  if (account) await app.getTokenCache().removeAccount(account);
}
