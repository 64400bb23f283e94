// Signing in with Entra ID (`flowshare login --tenant ... --client-id ...`):
// MSAL's device code flow for a public client, its token cache kept in the
// configuration folder owner-only (console/config.ts), and access tokens for
// the API's scope renewed silently from it. `--authority` picks Entra ID's
// cloud (a sovereign cloud's login host), or another OpenID Connect authority
// (locally, the development issuer), which MSAL is told about as the service's
// browser sign-in does (lib/oauth/msal.ts): its OpenID configuration as
// `authorityMetadata`, its host among `knownAuthorities`.
import { PublicClientApplication, type Configuration, type ICachePlugin } from '@azure/msal-node';
import { readConfigFile, UsageError, writeConfigFile } from '../config';
import { NotSignedIn } from './errors';

export const MSAL_CACHE_FILE = 'msal-cache.json';
export const ENTRA_AUTHORITY = 'https://login.microsoftonline.com';

/**
 * The login hosts of Entra ID's clouds (MSAL's own instance discovery
 * metadata, msal-common's AuthorityMetadata): an authority on one of them is
 * signed in at `<authority>/<tenant>`, and MSAL discovers the rest itself.
 */
const ENTRA_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
  'login.partner.microsoftonline.cn',
  'login.chinacloudapi.cn',
  'login.microsoftonline.us',
  'login.usgovcloudapi.net',
  'login-us.microsoftonline.com',
  'login.microsoftonline.de',
  'login.sovcloud-identity.fr',
  'login.sovcloud-identity.de',
  'login.sovcloud-identity.sg',
]);

/** The endpoints MSAL needs of an authority that is not Entra ID, from its OpenID configuration. */
export interface AuthorityMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
}

export interface EntraSession {
  kind: 'entra';
  /** The directory signed in to at Entra ID; another authority needs none. */
  tenantId?: string;
  clientId: string;
  scope: string;
  /** `--authority` as given; absent: Entra ID's global cloud. */
  authority?: string;
  /** Of an authority that is not Entra ID: its OpenID configuration, read at sign-in. */
  authorityMetadata?: AuthorityMetadata;
  /** MSAL's id of the account in its cache. */
  homeAccountId: string;
  username?: string;
}

/** `--authority` (or FLOWSHARE_AUTHORITY) as the command takes it: an https URL, or http on this machine only. */
export function authorityOf(given: string | undefined): string {
  const text = given ?? ENTRA_AUTHORITY;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--authority: "${text}" is not a URL.`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new UsageError('--authority must be an https URL (http only for an issuer on this machine).');
  }
  if (url.search || url.hash) throw new UsageError('--authority takes no query or fragment.');
  return url.toString().replace(/\/+$/, '');
}

export function isEntraAuthority(authority: string): boolean {
  return ENTRA_HOSTS.has(new URL(authority).hostname);
}

/** Reads an OpenID Connect authority's configuration (`<authority>/.well-known/openid-configuration`). */
export async function discoverAuthority(authority: string): Promise<AuthorityMetadata> {
  const where = `${authority}/.well-known/openid-configuration`;
  let answer: Response;
  try {
    answer = await fetch(where, { signal: AbortSignal.timeout(15_000) });
  } catch {
    throw new NotSignedIn(`The authority at ${authority} could not be reached.`, true);
  }
  const metadata = (await answer.json().catch(() => undefined)) as Partial<AuthorityMetadata> | undefined;
  const endpoints = ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const;
  if (!answer.ok || !metadata || endpoints.some((name) => typeof metadata[name] !== 'string')) {
    throw new NotSignedIn(`${where} answered ${answer.status} without an OpenID configuration.`);
  }
  // OpenID Connect Discovery 1.0, 4.3: the configuration is that of the issuer asked, or it is not used.
  if (metadata.issuer!.replace(/\/+$/, '') !== authority) {
    throw new NotSignedIn(`${where} names another issuer (${metadata.issuer}) than ${authority}.`);
  }
  return {
    issuer: metadata.issuer!,
    authorization_endpoint: metadata.authorization_endpoint!,
    token_endpoint: metadata.token_endpoint!,
    jwks_uri: metadata.jwks_uri!,
    ...(typeof metadata.end_session_endpoint === 'string'
      ? { end_session_endpoint: metadata.end_session_endpoint }
      : {}),
  };
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

type Where = Pick<EntraSession, 'tenantId' | 'clientId' | 'authority' | 'authorityMetadata'>;

function application(where: Where): PublicClientApplication {
  const authority = where.authority ?? ENTRA_AUTHORITY;
  let auth: Configuration['auth'];
  if (!where.authorityMetadata) {
    if (!where.tenantId) throw new UsageError('Entra ID needs --tenant: your directory (tenant) id.');
    auth = { clientId: where.clientId, authority: `${authority}/${where.tenantId}` };
  } else {
    // MSAL takes https authorities only, and contacts none whose metadata it is given: an issuer on
    // this machine served over http (the local stack's) is named as https, its endpoints as they are.
    const named = authority.replace(/^http:/, 'https:');
    auth = {
      clientId: where.clientId,
      authority: named,
      knownAuthorities: [new URL(named).host],
      authorityMetadata: JSON.stringify(where.authorityMetadata),
    };
  }
  return new PublicClientApplication({ auth, cache: { cachePlugin } });
}

export async function entraSignIn(
  where: { tenantId?: string; clientId: string; authority?: string },
  scope: string,
  tell: (message: string) => void,
): Promise<EntraSession> {
  const authority = where.authority && where.authority !== ENTRA_AUTHORITY ? where.authority : undefined;
  const authorityMetadata = authority && !isEntraAuthority(authority) ? await discoverAuthority(authority) : undefined;
  const session: Where = {
    clientId: where.clientId,
    ...(where.tenantId ? { tenantId: where.tenantId } : {}),
    ...(authority ? { authority } : {}),
    ...(authorityMetadata ? { authorityMetadata } : {}),
  };
  const result = await application(session)
    .acquireTokenByDeviceCode({ scopes: [scope], deviceCodeCallback: (answer) => tell(answer.message) })
    .catch((error: unknown) => {
      throw msalFailure(error, 'The authority did not sign you in');
    });
  if (!result?.account) throw new NotSignedIn('The authority did not sign you in.');
  return {
    kind: 'entra',
    ...session,
    scope,
    homeAccountId: result.account.homeAccountId,
    ...(result.account.username ? { username: result.account.username } : {}),
  };
}

/** An access token for the API, from MSAL's cache (renewed with its refresh token when due). */
export async function entraToken(session: EntraSession): Promise<string> {
  const app = application(session);
  const account = await app.getTokenCache().getAccountByHomeId(session.homeAccountId);
  if (!account) throw new NotSignedIn('Your Entra ID sign-in is gone: run flowshare login again.');
  try {
    const result = await app.acquireTokenSilent({ account, scopes: [session.scope] });
    return result.accessToken;
  } catch (error) {
    throw msalFailure(error, 'Entra ID needs you to sign in again: run flowshare login');
  }
}

export async function entraSignOut(session: EntraSession): Promise<void> {
  const app = application(session);
  const account = await app.getTokenCache().getAccountByHomeId(session.homeAccountId);
  if (account) await app.getTokenCache().removeAccount(account);
}

/** MSAL's codes for an identity provider it could not reach or could not read its endpoints from. */
const UNREACHABLE_CODES = new Set(['network_error', 'endpoints_resolution_error']);

/**
 * What an MSAL error means for the command: the identity provider could not
 * be reached (exit code 5: the sign-in itself may be fine), or the person is
 * not signed in (4), with MSAL's error code for the curious.
 */
export function msalFailure(error: unknown, notSignedIn: string): NotSignedIn {
  const code = typeof error === 'object' && error !== null ? (error as { errorCode?: unknown }).errorCode : undefined;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
    return new NotSignedIn(`The identity provider could not be reached (${code}).`, true);
  }
  return new NotSignedIn(`${notSignedIn} (${typeof code === 'string' && code ? code : 'sign-in failed'}).`);
}
