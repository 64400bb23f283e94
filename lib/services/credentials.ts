// What is sealed in a connection's row, and the row it is bound to.
import type { Connection } from '../domain/connections';
import type { OAuthGrant } from '../oauth/msal';

/** A connection's credential: an API key, or MSAL's token cache for an OAuth grant. */
export type Credential = { kind: 'apiKey'; apiKey: string } | ({ kind: 'oauth2' } & OAuthGrant);

/** The row a sealed credential belongs to: it opens there and nowhere else. */
export function connectionAad(connection: Pick<Connection, 'tenantId' | 'ownerId' | 'id'>): string {
  return JSON.stringify(['connection', connection.tenantId, connection.ownerId, connection.id]);
}
