// Who is signed in in this browser. The session lives on the server; the
// page learns only who it is for and the CSRF token its changes carry.
import { createContext, useContext } from 'react';
import type { Session } from './api/client';

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

/** Where to sign in and come back to this page. */
export function signInHref(returnTo: string = window.location.pathname + window.location.search): string {
  return `/api/auth/signin?returnTo=${encodeURIComponent(returnTo)}`;
}
