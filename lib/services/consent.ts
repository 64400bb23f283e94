// OAuth consent for a connection, only ever in its owner's signed-in browser.
// The consent link a program is given is a flowshare page: it needs the
// owner's session, and the provider's `state` it starts is bound to that
// session, so a link forwarded to someone else (the page's or the provider's)
// gets them nowhere, and a callback arriving without its binding changes
// nothing. Reauthorizing opens a new consent for the same connection: its id,
// references and embeddings stay as they are.
import { createHash, randomBytes } from 'node:crypto';
import type { Sealer } from '../crypto/sealer';
import type { Caller } from '../domain/caller';
import {
  afterConsent,
  checkReauthorizable,
  connectionView,
  consentOpen,
  type ConnectionView,
  type StatusReason,
} from '../domain/connections';
import type { Connector } from '../domain/connectors';
import { notFound } from '../domain/errors';
import type { OAuthClient, OAuthConnector } from '../oauth/msal';
import type { ConnectionStore, StoredConnection } from '../storage/connections';
import type { OAuthStateStore } from '../storage/oauthStates';
import type { Session, SessionStore } from '../storage/sessions';
import { CredentialSealer, type Credential } from './credentials';
import type { Tagged } from './flows';
import { consoleLog, type Log } from '../log';
import { retryOnConflict } from './retry';

export const CALLBACK_PATH = '/api/connections/oauth/callback';

export interface ConsentSettings {
  /** Where providers send people back; when unset, this service's own callback URL. */
  redirectUri?: string;
  /** How long a consent may be started after it was asked for, and finished after it was started. */
  stateTtlSeconds: number;
}

/** The flowshare page where the owner of `connectionId` gives consent. */
export function consentPageUrl(serviceUrl: string, connectionId: string): string {
  return new URL(`/api/connections/${encodeURIComponent(connectionId)}/consent`, serviceUrl).toString();
}

/** What the consent page shows the signed-in person. */
export type ConsentPage =
  | { kind: 'ready'; connection: ConnectionView; connectorName: string }
  /** Not a connection of the signed-in person (or none at all): they learn nothing more. */
  | { kind: 'notYours' }
  /** Theirs, but no consent is asked for now (it was given, or the link is too old). */
  | { kind: 'closed'; connection: ConnectionView };

export type ConsentOutcome =
  | { kind: 'connected'; connection: ConnectionView; previousAccount?: string }
  | { kind: 'failed'; connection: ConnectionView; reason: StatusReason }
  | { kind: 'invalidState'; reason: 'unknown' | 'expired' }
  /** The state was started in another browser, or by another person: the connection is unchanged, the state used up. */
  | { kind: 'wrongBrowser' };

export class ConsentService {
  private readonly connectors: Map<string, Connector>;

  constructor(
    private readonly store: ConnectionStore,
    private readonly states: OAuthStateStore,
    private readonly sessions: SessionStore,
    catalog: Connector[],
    private readonly sealer: Sealer,
    private readonly oauth: OAuthClient,
    private readonly settings: ConsentSettings,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.connectors = new Map(catalog.map((connector) => [connector.id, connector]));
  }

  /** Until when a consent asked for now may be started. */
  windowFromNow(): string {
    return new Date(this.now().getTime() + this.settings.stateTtlSeconds * 1000).toISOString();
  }

  async page(session: Session, connectionId: string): Promise<ConsentPage> {
    const connection = await this.store.get(session.caller.tenantId, session.caller.principalId, connectionId);
    const connector = connection && this.connectors.get(connection.connectorId);
    if (!connection || connector?.authType !== 'oauth2') return { kind: 'notYours' };
    if (!consentOpen(connection, this.now())) return { kind: 'closed', connection: connectionView(connection) };
    return { kind: 'ready', connection: connectionView(connection), connectorName: connector.displayName };
  }

  /**
   * Starts the consent at the provider for the signed-in owner: a single-use
   * state bound to this browser's session, and PKCE. Answers where to send
   * the browser, or the page to show instead.
   */
  async start(
    session: Session,
    connectionId: string,
    serviceUrl: string,
    loginHint?: string,
  ): Promise<{ kind: 'redirect'; url: string } | Exclude<ConsentPage, { kind: 'ready' }>> {
    const page = await this.page(session, connectionId);
    if (page.kind !== 'ready') return page;
    const connector = this.connectors.get(page.connection.connectorId) as OAuthConnector;
    const state = randomBytes(32).toString('base64url');
    const stateHash = hashState(state);
    const { verifier, challenge } = await this.oauth.pkceCodes();
    const redirectUri = this.settings.redirectUri ?? new URL(CALLBACK_PATH, serviceUrl).toString();
    await this.states.put(stateHash, {
      tenantId: session.caller.tenantId,
      ownerId: session.caller.principalId,
      connectionId,
      connectorId: connector.id,
      redirectUri,
      sealedVerifier: this.sealer.seal(verifier, stateAad(stateHash)),
      sessionHash: session.hash,
      expiresAt: this.windowFromNow(),
    });
    const url = await this.oauth.consentUrl(connector, { redirectUri, state, codeChallenge: challenge, loginHint });
    return { kind: 'redirect', url };
  }

  /**
   * Finishes a consent the provider sent back, in the browser that started
   * it only: from anywhere else the connection is left as it is. The state
   * is taken (deleted) either way, so a replay finds nothing.
   */
  async complete(
    query: { state?: string; code?: string; error?: string },
    sessionHash: string | undefined,
    log: Log = consoleLog,
  ): Promise<ConsentOutcome> {
    if (!query.state) return { kind: 'invalidState', reason: 'unknown' };
    const stateHash = hashState(query.state);
    const found = await this.states.find(stateHash, this.now());
    if (found.kind !== 'found') return { kind: 'invalidState', reason: found.kind };
    const { consent } = found;
    const session = sessionHash === consent.sessionHash ? await this.sessions.get(sessionHash, this.now()) : undefined;
    // Signed out since it started, or another browser: it no longer speaks for the owner.
    const bound = session?.caller.tenantId === consent.tenantId && session.caller.principalId === consent.ownerId;
    // The state is used up either way: a code that reached another browser is
    // never redeemed, even if it is carried back to the owner's.
    if (!(await this.states.take(stateHash, found.etag))) return { kind: 'invalidState', reason: 'unknown' };
    if (!bound) return { kind: 'wrongBrowser' };

    const connector = this.connectors.get(consent.connectorId);
    const connection = await this.store.get(consent.tenantId, consent.ownerId, consent.connectionId);
    if (!connection || connector?.authType !== 'oauth2') return { kind: 'invalidState', reason: 'unknown' };

    let outcome:
      { connected: true; account: string; credential: Credential } | { connected: false; reason: StatusReason };
    if (query.error) {
      outcome = { connected: false, reason: query.error === 'access_denied' ? 'consentDenied' : 'consentFailed' };
    } else if (!query.code) {
      outcome = { connected: false, reason: 'consentFailed' };
    } else {
      try {
        const codeVerifier = this.sealer.open(consent.sealedVerifier, stateAad(stateHash));
        const redeemed = await this.oauth.redeem(connector, {
          code: query.code,
          codeVerifier,
          redirectUri: consent.redirectUri,
        });
        outcome = { connected: true, account: redeemed.account, credential: { kind: 'oauth2', ...redeemed.grant } };
      } catch (error) {
        log.warn('a consent could not be redeemed', { connectionId: connection.id, reason: errorCode(error) });
        outcome = { connected: false, reason: 'consentFailed' };
      }
    }

    const sealedSecret = outcome.connected
      ? new CredentialSealer(this.sealer).seal(connection, outcome.credential)
      : undefined;
    // The consent is used up either way; the write retries on a concurrent change.
    let before: StoredConnection | undefined;
    const updated = await retryOnConflict(async () => {
      const current = await this.store.get(consent.tenantId, consent.ownerId, consent.connectionId);
      if (!current) return undefined;
      before = current;
      return this.store.update(current, {
        ...afterConsent(current, outcome),
        sealedSecret,
        consentRequestedUntil: null,
        modifiedAt: this.now().toISOString(),
      });
    });
    if (!updated) return { kind: 'invalidState', reason: 'unknown' };
    const view = connectionView(updated);
    if (!outcome.connected) return { kind: 'failed', connection: view, reason: outcome.reason };
    const previousAccount =
      before?.account !== undefined && before.account !== updated.account ? before.account : undefined;
    return { kind: 'connected', connection: view, ...(previousAccount ? { previousAccount } : {}) };
  }

  /**
   * Asks for consent again for the same connection (a revoked grant, a lost
   * link, another account): it keeps its id, so references stay bound and
   * embedded ones stay embedded; its grant is replaced only when the new
   * consent succeeds.
   */
  async reauthorize(caller: Caller, connectionId: string, serviceUrl: string): Promise<Tagged<ConnectionView>> {
    const updated = await retryOnConflict(async () => {
      const connection = await this.store.get(caller.tenantId, caller.principalId, connectionId);
      if (!connection) throw notFound('The connection');
      checkReauthorizable(this.connectors.get(connection.connectorId));
      return this.store.update(connection, {
        status: connection.status,
        statusReason: connection.statusReason,
        consentRequestedUntil: this.windowFromNow(),
        modifiedAt: this.now().toISOString(),
      });
    });
    return {
      value: connectionView(updated, consentPageUrl(serviceUrl, updated.id)),
      etag: updated.etag,
    };
  }
}

function stateAad(stateHash: string): string {
  return JSON.stringify(['oauthState', stateHash]);
}

function hashState(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

function errorCode(error: unknown): string {
  const code = (error as { errorCode?: unknown })?.errorCode;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
}
