// Connections as the domain sees them: one person's link to an external
// system, its status, and the rules for creating one. Pure: no I/O.
import type { Connector } from './connectors';
import { DomainError, validationFailed } from './errors';

export const CONNECTION_STATUSES = ['PendingConsent', 'Connected', 'Error'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** Why a connection is in `Error`: stable values a client may act on. */
export const STATUS_REASONS = {
  /** The person declined consent at the provider (`error=access_denied`). */
  consentDenied: 'consentDenied',
  /** The provider answered the consent with another error, or the code could not be redeemed. */
  consentFailed: 'consentFailed',
  /** The provider no longer honours the grant (revoked, expired, password changed): consent again. */
  reauthRequired: 'reauthRequired',
  /** The provider refused or could not be reached while checking the credential. */
  providerError: 'providerError',
} as const;
export type StatusReason = keyof typeof STATUS_REASONS;

export interface Connection {
  tenantId: string;
  ownerId: string;
  id: string;
  connectorId: string;
  displayName: string;
  status: ConnectionStatus;
  statusReason?: StatusReason;
  /** The provider account that consented, from the provider's ID token (OAuth only). */
  account?: string;
  /**
   * Until when the owner may start a consent for it on its consent page: set
   * when it is created and when it is reauthorized, cleared once a consent ends.
   */
  consentRequestedUntil?: string;
  createdAt: string;
  modifiedAt: string;
}

/** A connection as its owner sees it (docs/shapes.md, Connection). Never its secret. */
export interface ConnectionView {
  id: string;
  connectorId: string;
  displayName: string;
  status: ConnectionStatus;
  statusReason?: StatusReason;
  /** "Connected as ...": the provider account that consented. */
  account?: string;
  createdAt: string;
  /** The flowshare page where its owner, signed in, gives consent. */
  consentUrl?: string;
}

export function connectionView(connection: Connection, consentUrl?: string): ConnectionView {
  return {
    id: connection.id,
    connectorId: connection.connectorId,
    displayName: connection.displayName,
    status: connection.status,
    ...(connection.statusReason ? { statusReason: connection.statusReason } : {}),
    ...(connection.account ? { account: connection.account } : {}),
    createdAt: connection.createdAt,
    ...(consentUrl ? { consentUrl } : {}),
  };
}

export const MAX_API_KEY_LENGTH = 4096;

/** What a person asks for when they create a connection (lib/http/bodies.ts validates it). */
export interface NewConnection {
  connectorId: string;
  displayName: string;
  apiKey?: string;
}

/** The connector a new connection is for, checked against what the body brings. */
export function checkNewConnection(connector: Connector | undefined, body: NewConnection): Connector {
  if (!connector) {
    throw validationFailed([
      { field: 'connectorId', detail: 'is not a connector of the catalog (GET /api/connectors)' },
    ]);
  }
  if (connector.authType === 'apiKey' && body.apiKey === undefined) {
    throw validationFailed([{ field: 'apiKey', detail: `is required for ${connector.id}` }]);
  }
  if (connector.authType === 'oauth2' && body.apiKey !== undefined) {
    throw validationFailed([{ field: 'apiKey', detail: `is not taken by ${connector.id}, which uses OAuth consent` }]);
  }
  return connector;
}

/** A refresh checks a credential that exists; one still waiting for consent has none. */
export function checkRefreshable(connection: Connection): void {
  if (connection.status === 'PendingConsent') {
    throw new DomainError('Conflict', 'The connection is still waiting for consent; follow its consent link first.');
  }
}

/** Only an OAuth connection has a consent to give again; an API key is replaced by a new connection. */
export function checkReauthorizable(connector: Connector | undefined): void {
  if (connector?.authType !== 'oauth2') {
    throw new DomainError(
      'Conflict',
      'Only an OAuth connection can be reauthorized; an API-key connection has no consent.',
    );
  }
}

/** Whether the owner may start a consent for the connection now (see Connection.consentRequestedUntil). */
export function consentOpen(connection: Connection, now: Date): boolean {
  return connection.consentRequestedUntil !== undefined && Date.parse(connection.consentRequestedUntil) > now.getTime();
}

/**
 * The status a finished consent leaves. A new grant connects it; a consent
 * that failed leaves a working connection as it was (the owner keeps the
 * grant they had), and puts one without a working grant in Error.
 */
export function afterConsent(
  connection: Connection,
  outcome: { connected: true; account: string } | { connected: false; reason: StatusReason },
): Pick<Connection, 'status' | 'statusReason' | 'account'> {
  if (outcome.connected) return { status: 'Connected', statusReason: undefined, account: outcome.account };
  if (connection.status === 'Connected') {
    return { status: 'Connected', statusReason: undefined, account: connection.account };
  }
  return { status: 'Error', statusReason: outcome.reason, account: connection.account };
}

/**
 * A credential checked this recently is not checked again: its recorded status
 * answers. So however many readiness checks and cloud runs ask, a connection's
 * refresh token is redeemed at most once per interval (a provider that rotates
 * refresh tokens and detects reuse would revoke the grant), and a revocation
 * shows at the latest this long after it happened.
 */
export const CHECK_INTERVAL_MS = 60_000;

/** How long one check holds a connection (it is asking the provider) before another may ask. */
export const CHECK_LEASE_MS = 30_000;

/** When a connection's credential was last checked, and until when a check is asking its provider. */
export interface CheckTimes {
  checkedAt?: string;
  checkingUntil?: string;
}

/** Milliseconds from `now` to `at` (negative when past); NaN when absent or malformed. */
function untilTime(at: string | undefined, now: Date): number {
  return at === undefined ? NaN : Date.parse(at) - now.getTime();
}

/**
 * Checked within the interval: its recorded status answers. A time ahead of
 * this clock by more than the interval (another clock, or a bad value) is not
 * trusted, so it cannot stop checks for good.
 */
export function checkedRecently(connection: CheckTimes, now: Date): boolean {
  const age = -untilTime(connection.checkedAt, now);
  return age < CHECK_INTERVAL_MS && age > -CHECK_INTERVAL_MS;
}

/** Another check is asking the provider now: its lease has not run out (nor is it implausibly long). */
export function checkInProgress(connection: CheckTimes, now: Date): boolean {
  const left = untilTime(connection.checkingUntil, now);
  return left > 0 && left < 2 * CHECK_LEASE_MS;
}
