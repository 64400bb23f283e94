// The person's sign-in for one API: kept per API URL in the configuration
// folder (sessions.json, owner-only), and a bearer token from it for each
// request, renewed when it is about to expire. FLOWSHARE_TOKEN, when set, is
// used as it is instead (for scripts that mint their own).
import { readConfigFile, removeConfigFile, writeConfigFile } from '../config';
import { entraSignOut, entraToken, MSAL_CACHE_FILE, type EntraSession } from './entra';
import { NotSignedIn } from './errors';
import { refreshLocal, type LocalSession } from './local';

export const SESSIONS_FILE = 'sessions.json';

export type Session = LocalSession | EntraSession;

function sessions(): Record<string, Session> {
  return readConfigFile<Record<string, Session>>(SESSIONS_FILE) ?? {};
}

export function saveSession(apiUrl: string, session: Session): void {
  const all = sessions();
  all[apiUrl] = session;
  writeConfigFile(SESSIONS_FILE, `${JSON.stringify(all, null, 2)}\n`);
}

export function sessionFor(apiUrl: string): Session | undefined {
  const all = sessions();
  return Object.hasOwn(all, apiUrl) ? all[apiUrl] : undefined;
}

/** Forgets the sign-in for this API; says whether there was one. */
export async function signOut(apiUrl: string): Promise<boolean> {
  const all = sessions();
  const session = Object.hasOwn(all, apiUrl) ? all[apiUrl] : undefined;
  if (!session) return false;
  if (session.kind === 'entra') await entraSignOut(session);
  delete all[apiUrl];
  if (Object.keys(all).length === 0) removeConfigFile(SESSIONS_FILE);
  else writeConfigFile(SESSIONS_FILE, `${JSON.stringify(all, null, 2)}\n`);
  // MSAL's cache serves every Entra ID sign-in: gone with the last of them.
  if (!Object.values(all).some((other) => other.kind === 'entra')) removeConfigFile(MSAL_CACHE_FILE);
  return true;
}

/** A function answering a bearer token for the API, renewing it when due; the first call checks there is one. */
export function personCredential(apiUrl: string): () => Promise<string> {
  // Requests made at once share one renewal: the issuer rotates refresh tokens, and refuses one used twice.
  let renewing: Promise<LocalSession> | undefined;
  return async () => {
    if (process.env.FLOWSHARE_TOKEN) return process.env.FLOWSHARE_TOKEN;
    const session = sessionFor(apiUrl);
    if (!session) throw new NotSignedIn(`You are not signed in to ${apiUrl}: run flowshare login.`);
    if (session.kind === 'entra') return entraToken(session);
    if (session.expiresAt - Date.now() > 60_000) return session.accessToken;
    renewing ??= refreshLocal(session)
      .then((renewed) => {
        saveSession(apiUrl, renewed);
        return renewed;
      })
      .finally(() => {
        renewing = undefined;
      });
    return (await renewing).accessToken;
  };
}
