// Checking a connection's credential, bounded: an OAuth check redeems the
// refresh token, and a provider that rotates refresh tokens and detects reuse
// revokes a grant redeemed too often. So concurrent callers in this process
// share one check, an outcome recorded within CHECK_INTERVAL_MS answers
// without asking, and a lease written on the row (conditionally, on its ETag)
// keeps other instances from asking while one does.
import {
  CHECK_LEASE_MS,
  checkedRecently,
  checkInProgress,
  type ConnectionStatus,
  type StatusReason,
} from '../domain/connections';
import type { Connector } from '../domain/connectors';
import { notFound } from '../domain/errors';
import type { OAuthClient, OAuthConnector, OAuthGrant } from '../oauth/msal';
import type { ConnectionStore, StoredConnection } from '../storage/connections';
import { consoleLog, type Log } from '../log';
import type { Credential } from './credentials';
import { retryOnConflict } from './retry';

/** A check's answer: the connection as recorded (undefined when gone), and whether its credential was checked just now. */
export interface Checked {
  connection?: StoredConnection;
  checkedNow: boolean;
}

/** How a row's credential is opened and sealed again (the service's sealer). */
export interface CredentialSeal {
  open(connection: StoredConnection, log: Log): Credential | undefined;
  seal(connection: StoredConnection, credential: Credential): string;
}

/** What a check learned; `checkedAt` when the provider was asked. */
interface Outcome {
  credential?: Credential;
  reason?: StatusReason;
  checkedAt?: string;
}

type Step =
  | { answer: Checked }
  | { record: StoredConnection; outcome: Outcome }
  | { ask: StoredConnection; connector: OAuthConnector; grant: OAuthGrant; at: Date };

export class ConnectionChecks {
  /** Checks running in this process, by connection. */
  private readonly running = new Map<string, Promise<Checked>>();

  constructor(
    private readonly store: ConnectionStore,
    private readonly connectors: ReadonlyMap<string, Connector>,
    private readonly oauth: OAuthClient,
    private readonly credentials: CredentialSeal,
    private readonly now: () => Date,
  ) {}

  /**
   * Checks the connection, or joins the check of it already running here.
   * Unless `force`, an outcome recorded within the interval answers.
   */
  check(
    tenantId: string,
    ownerId: string,
    connectionId: string,
    force: boolean,
    log: Log = consoleLog,
  ): Promise<Checked> {
    const key = JSON.stringify([tenantId, ownerId, connectionId]);
    let check = this.running.get(key);
    if (!check) {
      check = this.checkOnce(tenantId, ownerId, connectionId, force, log).finally(() => this.running.delete(key));
      this.running.set(key, check);
    }
    return check;
  }

  private async checkOnce(
    tenantId: string,
    ownerId: string,
    connectionId: string,
    force: boolean,
    log: Log,
  ): Promise<Checked> {
    const step = await retryOnConflict(() => this.decide(tenantId, ownerId, connectionId, force, log));
    if ('answer' in step) return step.answer;
    if ('record' in step) return { connection: await this.record(step.record, step.outcome), checkedNow: true };
    const refreshed = await this.oauth.refresh(step.connector, step.grant);
    const checkedAt = step.at.toISOString();
    if (!refreshed.ok)
      log.warn('a connection failed its refresh', { connectionId: step.ask.id, detail: refreshed.detail });
    const outcome: Outcome = refreshed.ok
      ? { credential: { kind: 'oauth2', ...refreshed.grant }, checkedAt }
      : { reason: refreshed.reason, checkedAt };
    return { connection: await this.record(step.ask, outcome), checkedNow: true };
  }

  /**
   * Reads the connection and decides: answer what is recorded, check what
   * needs no provider, or take the lease to ask the provider (a lease lost to
   * another writer is a ConcurrencyConflict: read and decide again).
   */
  private async decide(
    tenantId: string,
    ownerId: string,
    connectionId: string,
    force: boolean,
    log: Log,
  ): Promise<Step> {
    const connection = await this.store.get(tenantId, ownerId, connectionId);
    if (!connection || connection.status === 'PendingConsent') return { answer: { connection, checkedNow: true } };
    const at = this.now();
    if (!force && checkedRecently(connection, at)) return { answer: { connection, checkedNow: false } };
    const connector = this.connectors.get(connection.connectorId);
    const credential = connection.sealedSecret ? this.credentials.open(connection, log) : undefined;
    if (!connector || !credential) {
      return { record: connection, outcome: { reason: connection.statusReason ?? 'reauthRequired' } };
    }
    // An API key has nothing to ask.
    if (credential.kind === 'apiKey') return { record: connection, outcome: { credential } };
    // Another instance is asking the provider now: the outcome recorded last answers until it records its own.
    if (checkInProgress(connection, at)) return { answer: { connection, checkedNow: false } };
    const leased = await this.store.update(connection, {
      status: connection.status,
      statusReason: connection.statusReason,
      modifiedAt: connection.modifiedAt,
      checkedAt: connection.checkedAt,
      checkingUntil: new Date(at.getTime() + CHECK_LEASE_MS).toISOString(),
    });
    const { kind: _kind, ...grant } = credential;
    return { ask: leased, connector: connector as OAuthConnector, grant, at };
  }

  /**
   * Writes a check's outcome (and ends its lease). Only the write is retried
   * on a concurrent change: the provider is never asked twice.
   */
  private async record(connection: StoredConnection, outcome: Outcome): Promise<StoredConnection> {
    // A refreshed grant is sealed again, under the current key.
    const sealedSecret =
      outcome.credential?.kind === 'oauth2' ? this.credentials.seal(connection, outcome.credential) : undefined;
    const status: ConnectionStatus = outcome.credential ? 'Connected' : 'Error';
    // Nothing asked and nothing learned (an API key still usable, an error
    // already recorded): no write, so runs sharing a connection do not contend for its row.
    if (
      !outcome.checkedAt &&
      !sealedSecret &&
      connection.status === status &&
      connection.statusReason === outcome.reason
    ) {
      return connection;
    }
    let current: StoredConnection | undefined = connection;
    return retryOnConflict(async () => {
      current ??= await this.store.get(connection.tenantId, connection.ownerId, connection.id);
      if (!current) throw notFound('The connection');
      const attempt = current;
      current = undefined; // a retry reads it again
      // The credential was replaced meanwhile (a consent completed, another
      // check refreshed it): this outcome is about the old one, so it is dropped.
      if (attempt.sealedSecret !== connection.sealedSecret) return attempt;
      return this.store.update(attempt, {
        status,
        statusReason: outcome.reason,
        sealedSecret,
        modifiedAt: this.now().toISOString(),
        checkedAt: outcome.checkedAt,
      });
    });
  }
}
