// A connection's row and how it maps to and from the domain (connections.ts
// holds the store).
import type { TableEntityResult } from '@azure/data-tables';
import type { CheckTimes, Connection, ConnectionStatus, StatusReason } from '../domain/connections';
import { CONNECTION_STATUSES, STATUS_REASONS } from '../domain/connections';

export type ConnectionRow = {
  tenantId: string;
  ownerId: string;
  connectionId: string;
  connectorId: string;
  displayName: string;
  status: string;
  statusReason?: string;
  account?: string;
  consentRequestedUntil?: string;
  createdAt: string;
  modifiedAt: string;
  /** The sealed credential (API key or MSAL token cache); absent while pending consent. */
  secret?: string;
  /** When the credential was last checked with its provider; written with the outcome. */
  checkedAt?: string;
  /** Set while a check asks the provider: others do not ask meanwhile. */
  checkingUntil?: string;
};

export interface StoredConnection extends Connection, CheckTimes {
  etag: string;
  sealedSecret?: string;
}

/** The columns of reads that need neither the secret nor the check times (lists, bound connections). */
export const LIST_COLUMNS = [
  'tenantId',
  'ownerId',
  'connectionId',
  'connectorId',
  'displayName',
  'status',
  'statusReason',
  'account',
  'consentRequestedUntil',
  'createdAt',
  'modifiedAt',
];

/**
 * Whether a row under an owner's key is theirs by what it says: ids that came
 * to share a key (say through a flaw in how keys are made) must not share rows.
 */
export function belongsTo(row: { tenantId?: string; ownerId?: string }, tenantId: string, ownerId: string): boolean {
  return row.tenantId === tenantId && row.ownerId === ownerId;
}

export function toRow(connection: Connection): ConnectionRow {
  return {
    tenantId: connection.tenantId,
    ownerId: connection.ownerId,
    connectionId: connection.id,
    connectorId: connection.connectorId,
    displayName: connection.displayName,
    status: connection.status,
    ...(connection.statusReason ? { statusReason: connection.statusReason } : {}),
    ...(connection.account ? { account: connection.account } : {}),
    ...(connection.consentRequestedUntil ? { consentRequestedUntil: connection.consentRequestedUntil } : {}),
    createdAt: connection.createdAt,
    modifiedAt: connection.modifiedAt,
  };
}

export function fromRow(row: TableEntityResult<ConnectionRow>): StoredConnection {
  const status = (CONNECTION_STATUSES as readonly string[]).includes(row.status)
    ? (row.status as ConnectionStatus)
    : 'Error';
  const statusReason =
    row.statusReason && row.statusReason in STATUS_REASONS ? (row.statusReason as StatusReason) : undefined;
  return {
    tenantId: row.tenantId,
    ownerId: row.ownerId,
    id: row.connectionId,
    connectorId: row.connectorId,
    displayName: row.displayName,
    status,
    ...(statusReason ? { statusReason } : {}),
    ...(row.account ? { account: row.account } : {}),
    ...(row.consentRequestedUntil ? { consentRequestedUntil: row.consentRequestedUntil } : {}),
    createdAt: row.createdAt,
    modifiedAt: row.modifiedAt,
    etag: row.etag,
    ...(row.secret ? { sealedSecret: row.secret } : {}),
    ...(row.checkedAt ? { checkedAt: row.checkedAt } : {}),
    ...(row.checkingUntil ? { checkingUntil: row.checkingUntil } : {}),
  };
}
