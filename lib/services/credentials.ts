// What is sealed in a connection's row, the row it is bound to, and the one
// place that seals and opens it. A secret is opened only inside the use that
// needs it (a check, a connector call) and never kept, logged or answered.
import type { Sealer } from '../crypto/sealer';
import type { Connection } from '../domain/connections';
import type { Log } from '../log';
import type { OAuthGrant } from '../oauth/msal';

/** A connection's credential: an API key, or MSAL's token cache for an OAuth grant. */
export type Credential = { kind: 'apiKey'; apiKey: string } | ({ kind: 'oauth2' } & OAuthGrant);

/** The row a sealed credential belongs to: it opens there and nowhere else. */
export function connectionAad(connection: Pick<Connection, 'tenantId' | 'ownerId' | 'id'>): string {
  return JSON.stringify(['connection', connection.tenantId, connection.ownerId, connection.id]);
}

export class CredentialSealer {
  constructor(private readonly sealer: Sealer) {}

  seal(connection: Pick<Connection, 'tenantId' | 'ownerId' | 'id'>, credential: Credential): string {
    return this.sealer.seal(JSON.stringify(credential), connectionAad(connection));
  }

  /** The row's credential; undefined when it does not open here (moved, tampered, key gone). */
  open(
    connection: Pick<Connection, 'tenantId' | 'ownerId' | 'id'> & { sealedSecret?: string },
    log: Log,
  ): Credential | undefined {
    if (!connection.sealedSecret) return undefined;
    try {
      return JSON.parse(this.sealer.open(connection.sealedSecret, connectionAad(connection))) as Credential;
    } catch (error) {
      log.warn("a connection's secret does not open", { connectionId: connection.id, reason: (error as Error).name });
      return undefined;
    }
  }
}
