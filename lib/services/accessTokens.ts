// Access tokens for connector calls, one refresh at a time per connection
// (docs/gateway.md). A provider that rotates refresh tokens refuses the old
// one once the new is out, so a refresh must never run twice on one grant:
// - in this process, callers of one connection share one acquisition, and a
//   token got a moment ago is used again while it has time to live;
// - across processes, the refreshed grant is written back on the ETag read;
//   a writer that loses reads the winner's grant and uses that, and a refresh
//   the provider refuses is tried again on the grant as stored now, if
//   another process replaced it meanwhile.
// A rotated refresh token is always kept: it is in the grant written back.
import { hash } from 'node:crypto';
import { DomainError } from '../domain/errors';
import type { Log } from '../log';
import type { OAuthClient, OAuthConnector, OAuthGrant } from '../oauth/msal';
import type { ConnectionStore, StoredConnection } from '../storage/connections';
import { ConcurrencyConflict } from '../storage/errors';
import type { CredentialSealer } from './credentials';

/** A token with less than this to live is not handed out again from memory: MSAL is asked. */
const REUSE_MARGIN_MS = 60_000;
/** How many connections' tokens this process remembers. */
const REMEMBERED = 10_000;

interface Remembered {
  accessToken: string;
  expiresAt: number;
}

export class AccessTokens {
  private readonly running = new Map<string, Promise<string>>();
  private readonly remembered = new Map<string, Remembered>();

  constructor(
    private readonly store: ConnectionStore,
    private readonly oauth: OAuthClient,
    private readonly seal: CredentialSealer,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * An access token for a call through `connection` (as read for this call).
   * `renew` after the provider refused one: the token in memory is dropped and
   * a new one redeemed, still once however many callers ask.
   */
  token(connection: StoredConnection, connector: OAuthConnector, log: Log, renew = false): Promise<string> {
    const key = grantKey(connection);
    if (renew) this.remembered.delete(key);
    const known = this.remembered.get(key);
    if (known && known.expiresAt - REUSE_MARGIN_MS > this.now().getTime()) return Promise.resolve(known.accessToken);
    let acquiring = this.running.get(key);
    if (!acquiring) {
      acquiring = this.acquire(key, connection, connector, log, renew).finally(() => this.running.delete(key));
      this.running.set(key, acquiring);
    }
    return acquiring;
  }

  /** Forgets what this process remembers of a connection (its grant was replaced or revoked). */
  forget(connection: Pick<StoredConnection, 'tenantId' | 'ownerId' | 'id' | 'sealedSecret'>): void {
    this.remembered.delete(grantKey(connection));
  }

  private async acquire(
    key: string,
    connection: StoredConnection,
    connector: OAuthConnector,
    log: Log,
    renew: boolean,
  ): Promise<string> {
    let current = connection;
    for (let attempt = 0; ; attempt++) {
      const grant = this.grantOf(current, log);
      const outcome = await this.oauth.accessToken(connector, grant, renew && attempt === 0);
      if (!outcome.ok) {
        // Refused: perhaps another process refreshed (and rotated) it since this grant was read.
        const stored = await this.store.get(current.tenantId, current.ownerId, current.id);
        if (attempt === 0 && stored && stored.sealedSecret !== current.sealedSecret) {
          current = stored;
          continue;
        }
        throw new AccessRefused(outcome.reason, outcome.detail);
      }
      let holder = current;
      if (outcome.refreshed) {
        const written = await this.writeBack(current, outcome.grant);
        if (written === 'lost' && attempt === 0) {
          // Another process wrote its own refresh first: use the grant it stored.
          current = (await this.store.get(current.tenantId, current.ownerId, current.id)) ?? current;
          continue;
        }
        // The token is the refreshed grant's, which the next reads of the row will hold.
        if (written !== 'lost') holder = { ...current, sealedSecret: written.sealedSecret };
      }
      // Under the grant as the caller read it too: calls that read the row before the write-back
      // must not redeem its rotated-away refresh token (the provider would refuse it).
      this.remember(key, outcome.accessToken, outcome.expiresOn);
      const holderKey = grantKey(holder);
      if (holderKey !== key) this.remember(holderKey, outcome.accessToken, outcome.expiresOn);
      return outcome.accessToken;
    }
  }

  private grantOf(connection: StoredConnection, log: Log): OAuthGrant {
    const credential = connection.sealedSecret ? this.seal.open(connection, log) : undefined;
    if (credential?.kind !== 'oauth2') throw new AccessRefused('reauthRequired', 'the connection holds no OAuth grant');
    const { kind: _kind, ...grant } = credential;
    return grant;
  }

  /** Writes the refreshed grant over the row as read; 'lost' when another writer changed it first. */
  private async writeBack(connection: StoredConnection, grant: OAuthGrant): Promise<{ sealedSecret: string } | 'lost'> {
    const sealedSecret = this.seal.seal(connection, { kind: 'oauth2', ...grant });
    try {
      await this.store.update(connection, {
        status: 'Connected',
        statusReason: undefined,
        sealedSecret,
        modifiedAt: this.now().toISOString(),
        checkedAt: connection.checkedAt,
      });
      return { sealedSecret };
    } catch (error) {
      if (error instanceof ConcurrencyConflict) return 'lost';
      throw error;
    }
  }

  private remember(key: string, accessToken: string, expiresOn: Date | undefined): void {
    if (!expiresOn) return;
    this.remembered.delete(key);
    if (this.remembered.size >= REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(key, { accessToken, expiresAt: expiresOn.getTime() });
  }
}

/**
 * What a remembered token is remembered by: the connection and the grant it
 * holds now. A reauthorized connection (perhaps consented as another account)
 * or a grant refreshed elsewhere is another grant, so no token of the one it
 * replaced is handed out for it. The grant is named by a digest of its sealed
 * form (each sealing has its own random IV), so no part of a secret is a key.
 */
function grantKey(connection: Pick<StoredConnection, 'tenantId' | 'ownerId' | 'id' | 'sealedSecret'>): string {
  const grant = connection.sealedSecret ? hash('sha256', connection.sealedSecret, 'base64url') : '';
  return JSON.stringify([connection.tenantId, connection.ownerId, connection.id, grant]);
}

/** The provider would not give an access token: its grant is gone (consent again), or it failed. */
export class AccessRefused extends Error {
  override name = 'AccessRefused';
  constructor(
    readonly reason: 'reauthRequired' | 'providerError' | 'consentDenied' | 'consentFailed',
    readonly detail: string,
  ) {
    super(detail);
  }

  toDomainError(): DomainError {
    return this.reason === 'reauthRequired'
      ? new DomainError(
          'ConnectionReauthRequired',
          'The provider no longer honours this connection: its owner must reauthorize it.',
        )
      : new DomainError('ConnectorCallFailed', 'The provider could not give an access token for this call.');
  }
}
