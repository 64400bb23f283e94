// Browser sign-in: OpenID Connect with the authorization code and PKCE
// through MSAL, against Entra ID in Azure and the local issuer on a laptop.
// What the sign-in needs between leaving and coming back (state, nonce, PKCE
// verifier, where to return) is sealed into a short-lived cookie of the
// browser that started it, so nothing is stored until a session begins. The
// session is a row on the server; the browser holds only its random id.
import { randomBytes } from 'node:crypto';
import { callerOf } from '../auth/authenticate';
import { newSessionId } from '../auth/session';
import type { Sealer } from '../crypto/sealer';
import type { Caller } from '../domain/caller';
import type { OAuthApp } from '../domain/connectors';
import type { OAuthClient, SignInClaims } from '../oauth/msal';
import { consoleLog, type Log } from '../log';
import type { Session, SessionStore } from '../storage/sessions';

export const SIGN_IN_PATH = '/api/auth/signin';
export const SIGN_IN_CALLBACK_PATH = '/api/auth/callback';
/** How long a person may take at the authority's sign-in page. */
export const PENDING_SIGN_IN_SECONDS = 600;

export interface SignInSettings {
  app: OAuthApp;
  /** Where the authority sends people back; this service's callback when unset. */
  redirectUri?: string;
  sessionTtlSeconds: number;
  /** The token issuers the API accepts: a sign-in must come from one of them too. */
  issuers: string[];
}

/** What the sign-in cookie holds, sealed. */
interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  returnTo?: string;
  expiresAt: string;
}

export type SignInOutcome =
  | {
      kind: 'signedIn';
      session: { id: string; name: string; caller: Caller };
      returnTo?: string;
      maxAgeSeconds: number;
    }
  | { kind: 'refused'; reason: 'notStartedHere' | 'declined' | 'failed' | 'notAccepted' };

const SIGN_IN_AAD = JSON.stringify(['signIn']);

export class SignInService {
  constructor(
    private readonly sessions: SessionStore,
    private readonly sealer: Sealer,
    private readonly oauth: OAuthClient,
    private readonly settings: SignInSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The authority's sign-in page to send the browser to, and the sealed cookie to set on it. */
  async start(
    serviceUrl: string,
    request: { returnTo?: string; loginHint?: string },
  ): Promise<{ redirectTo: string; pending: string; maxAgeSeconds: number }> {
    const { verifier, challenge } = await this.oauth.pkceCodes();
    const pending: PendingSignIn = {
      state: randomBytes(32).toString('base64url'),
      nonce: randomBytes(32).toString('base64url'),
      verifier,
      ...(request.returnTo && isLocalPath(request.returnTo) ? { returnTo: request.returnTo } : {}),
      expiresAt: new Date(this.now().getTime() + PENDING_SIGN_IN_SECONDS * 1000).toISOString(),
    };
    const redirectTo = await this.oauth.signInUrl(this.settings.app, {
      redirectUri: this.redirectUri(serviceUrl),
      state: pending.state,
      nonce: pending.nonce,
      codeChallenge: challenge,
      loginHint: request.loginHint,
    });
    return {
      redirectTo,
      pending: this.sealer.seal(JSON.stringify(pending), SIGN_IN_AAD),
      maxAgeSeconds: PENDING_SIGN_IN_SECONDS,
    };
  }

  /**
   * Finishes a sign-in the authority sent back: only in the browser that
   * started it (its sealed cookie holds the state), and only for someone the
   * API would accept a token from. A session begins; nothing else changes.
   */
  async finish(
    serviceUrl: string,
    sealedPending: string | undefined,
    query: { state?: string; code?: string; error?: string },
    log: Log = consoleLog,
  ): Promise<SignInOutcome> {
    const pending = sealedPending ? this.openPending(sealedPending) : undefined;
    if (!pending || !query.state || query.state !== pending.state) return { kind: 'refused', reason: 'notStartedHere' };
    if (!(Date.parse(pending.expiresAt) > this.now().getTime())) return { kind: 'refused', reason: 'notStartedHere' };
    if (query.error) return { kind: 'refused', reason: query.error === 'access_denied' ? 'declined' : 'failed' };
    if (!query.code) return { kind: 'refused', reason: 'failed' };

    let claims: SignInClaims;
    try {
      claims = await this.oauth.signInClaims(this.settings.app, {
        code: query.code,
        codeVerifier: pending.verifier,
        redirectUri: this.redirectUri(serviceUrl),
        nonce: pending.nonce,
      });
    } catch (error) {
      log.warn('a sign-in could not be redeemed', { reason: errorCode(error) });
      return { kind: 'refused', reason: 'failed' };
    }
    const caller = this.acceptedCaller(claims);
    if (!caller) return { kind: 'refused', reason: 'notAccepted' };

    const now = this.now();
    const { id, hash } = newSessionId();
    const name = claims.name ?? claims.preferred_username ?? caller.principalId;
    const session: Session = {
      hash,
      caller,
      name,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.settings.sessionTtlSeconds * 1000).toISOString(),
    };
    await this.sessions.create(session);
    return {
      kind: 'signedIn',
      session: { id, name, caller },
      ...(pending.returnTo ? { returnTo: pending.returnTo } : {}),
      maxAgeSeconds: this.settings.sessionTtlSeconds,
    };
  }

  /** Ends the session on the server: its cookie is worth nothing from now on, wherever it is. */
  signOut(sessionHash: string): Promise<void> {
    return this.sessions.delete(sessionHash);
  }

  /** The same person a bearer token from this issuer would name, or undefined. */
  private acceptedCaller(claims: SignInClaims): Caller | undefined {
    if (!claims.iss || !this.settings.issuers.includes(claims.iss)) return undefined;
    try {
      return callerOf(claims);
    } catch {
      return undefined;
    }
  }

  private redirectUri(serviceUrl: string): string {
    return this.settings.redirectUri ?? new URL(SIGN_IN_CALLBACK_PATH, serviceUrl).toString();
  }

  private openPending(sealed: string): PendingSignIn | undefined {
    try {
      return JSON.parse(this.sealer.open(sealed, SIGN_IN_AAD)) as PendingSignIn;
    } catch {
      return undefined;
    }
  }
}

/**
 * A path on this service to go back to after sign-in: never another origin
 * (`//host`, `/\host` or a scheme would make the sign-in an open redirect).
 */
export function isLocalPath(path: string): boolean {
  // eslint-disable-next-line no-control-regex -- the point is to refuse control characters
  return /^\/(?![/\\])/.test(path) && path.length <= 2048 && !/[\u0000-\u001f\u007f\\]/.test(path);
}

function errorCode(error: unknown): string {
  const code = (error as { errorCode?: unknown })?.errorCode;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
}
