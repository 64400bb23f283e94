// Connections in Table storage: one partition per owner (so "my connections"
// is one query, oldest first by id), one row per connection holding its
// sealed secret. Nothing here opens a secret.
import { odata, type TableEntity } from '@azure/data-tables';
import type { CheckTimes, Connection, ConnectionStatus, StatusReason } from '../domain/connections';
import type { Storage } from './clients';
import { belongsTo, fromRow, LIST_COLUMNS, toRow, type ConnectionRow, type StoredConnection } from './connectionRows';
import { rethrowConflict, storageStatusOf } from './errors';
import { principalPartitionKey, rangeFilter } from './keys';
import { queryPage, type Page, type PageRequest } from './pages';

export type { StoredConnection } from './connectionRows';

/** A new state of the row; check times not given are cleared (a new status is not a checked one). */
export interface ConnectionChanges extends CheckTimes {
  status: ConnectionStatus;
  statusReason?: StatusReason;
  sealedSecret?: string;
  /** The account that consented; kept as it is when absent. */
  account?: string;
  /** A new consent window; null closes it, absent keeps it as it is. */
  consentRequestedUntil?: string | null;
  modifiedAt: string;
}

type UsageRow = {
  /** Whose connection it is; rows written before these were recorded lack them and are read unchecked. */
  tenantId?: string;
  ownerId?: string;
  connectionId: string;
  flowId: string;
  logicalName: string;
  addedAt: string;
};

/** Where a connection may be bound: a hint, checked against the flow's reference when read. */
export interface ConnectionUse {
  flowId: string;
  logicalName: string;
}

const CONNECTION_PREFIX = 'conn|';
const USAGE_PREFIX = 'use|';
/** The RowKey range of an owner's connection rows (exported for the benchmark's raw requests). */
export const CONNECTION_RANGE = { from: CONNECTION_PREFIX, to: 'conn}' };

function rowKey(connectionId: string): string {
  return CONNECTION_PREFIX + connectionId;
}

function usageRowKey(use: { connectionId: string } & ConnectionUse): string {
  return `${USAGE_PREFIX}${use.connectionId}|${use.flowId}|${use.logicalName}`;
}

export class ConnectionStore {
  constructor(private readonly storage: Storage) {}

  async create(connection: Connection, sealedSecret?: string): Promise<StoredConnection> {
    await this.storage.ensureReady();
    const row: TableEntity<ConnectionRow> = {
      partitionKey: principalPartitionKey(connection.tenantId, connection.ownerId),
      rowKey: rowKey(connection.id),
      ...toRow(connection),
      ...(sealedSecret ? { secret: sealedSecret } : {}),
    };
    const { etag } = await this.storage.connections.createEntity(row);
    return { ...connection, etag: etag ?? '', sealedSecret };
  }

  /** The caller's own connection, or undefined: another person's is never found. */
  async get(tenantId: string, ownerId: string, connectionId: string): Promise<StoredConnection | undefined> {
    await this.storage.ensureReady();
    try {
      const row = await this.storage.connections.getEntity<ConnectionRow>(
        principalPartitionKey(tenantId, ownerId),
        rowKey(connectionId),
      );
      return belongsTo(row, tenantId, ownerId) && row.connectionId === connectionId ? fromRow(row) : undefined;
    } catch (error) {
      if (storageStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Several of one owner's connections, in one query; those that do not exist are left out. */
  async getMany(tenantId: string, ownerId: string, connectionIds: readonly string[]): Promise<StoredConnection[]> {
    const ids = [...new Set(connectionIds)];
    if (ids.length === 0) return [];
    await this.storage.ensureReady();
    // A Table filter holds at most 15 comparisons: the partition and 14 row keys.
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += 14) chunks.push(ids.slice(i, i + 14));
    const found = await Promise.all(
      chunks.map(async (chunk) => {
        const rowFilters = chunk.map((id) => odata`RowKey eq ${rowKey(id)}`);
        const filter = `${odata`PartitionKey eq ${principalPartitionKey(tenantId, ownerId)}`} and (${rowFilters.join(' or ')})`;
        const rows: StoredConnection[] = [];
        const query = this.storage.connections.listEntities<ConnectionRow>({
          queryOptions: { filter, select: LIST_COLUMNS },
        });
        for await (const row of query) if (belongsTo(row, tenantId, ownerId)) rows.push(fromRow(row));
        return rows;
      }),
    );
    return found.flat();
  }

  /** The connections these bindings name, whoever owns them: one query per owner, in parallel. */
  async getBound(
    tenantId: string,
    bindings: ReadonlyArray<{ ownerId: string; connectionId: string }>,
  ): Promise<StoredConnection[]> {
    const byOwner = new Map<string, string[]>();
    for (const b of bindings) byOwner.set(b.ownerId, [...(byOwner.get(b.ownerId) ?? []), b.connectionId]);
    const found = await Promise.all([...byOwner].map(([ownerId, ids]) => this.getMany(tenantId, ownerId, ids)));
    return found.flat();
  }

  /** Notes that a flow's reference may bind the connection; written before the binding. */
  async addUse(tenantId: string, ownerId: string, connectionId: string, use: ConnectionUse, at: string): Promise<void> {
    await this.storage.ensureReady();
    const row: TableEntity<UsageRow> = {
      partitionKey: principalPartitionKey(tenantId, ownerId),
      rowKey: usageRowKey({ connectionId, ...use }),
      tenantId,
      ownerId,
      connectionId,
      flowId: use.flowId,
      logicalName: use.logicalName,
      addedAt: at,
    };
    await this.storage.connections.upsertEntity(row, 'Replace');
  }

  /** Forgets a use; written after the binding went. */
  async removeUse(tenantId: string, ownerId: string, connectionId: string, use: ConnectionUse): Promise<void> {
    try {
      await this.storage.connections.deleteEntity(
        principalPartitionKey(tenantId, ownerId),
        usageRowKey({ connectionId, ...use }),
      );
    } catch (error) {
      if (storageStatusOf(error) !== 404) throw error;
    }
  }

  /** Where the connection may be bound, as noted. */
  async listUses(tenantId: string, ownerId: string, connectionId: string): Promise<ConnectionUse[]> {
    await this.storage.ensureReady();
    const from = `${USAGE_PREFIX}${connectionId}|`;
    const filter = odata`PartitionKey eq ${principalPartitionKey(tenantId, ownerId)} and RowKey ge ${from} and RowKey lt ${`${USAGE_PREFIX}${connectionId}}`}`;
    const uses: ConnectionUse[] = [];
    for await (const row of this.storage.connections.listEntities<UsageRow>({ queryOptions: { filter } })) {
      const theirs = row.tenantId === undefined || belongsTo(row, tenantId, ownerId);
      if (theirs && row.connectionId === connectionId) uses.push({ flowId: row.flowId, logicalName: row.logicalName });
    }
    return uses;
  }

  /** All of an owner's connections, oldest first: one query, paged through. */
  async listAll(tenantId: string, ownerId: string): Promise<StoredConnection[]> {
    await this.storage.ensureReady();
    const filter = rangeFilter(principalPartitionKey(tenantId, ownerId), CONNECTION_RANGE);
    const all: StoredConnection[] = [];
    for await (const row of this.storage.connections.listEntities<ConnectionRow>({
      queryOptions: { filter, select: LIST_COLUMNS },
    })) {
      if (belongsTo(row, tenantId, ownerId)) all.push(fromRow(row));
    }
    return all;
  }

  /** One page of an owner's connections, oldest first, optionally of one connector. */
  async list(
    tenantId: string,
    ownerId: string,
    request: PageRequest,
    connectorId?: string,
  ): Promise<Page<StoredConnection>> {
    await this.storage.ensureReady();
    let filter = rangeFilter(principalPartitionKey(tenantId, ownerId), CONNECTION_RANGE);
    if (connectorId) filter += ` and ${odata`connectorId eq ${connectorId}`}`;
    const page = await queryPage<ConnectionRow>(this.storage.connections, filter, request, LIST_COLUMNS);
    return {
      items: page.items.filter((row) => belongsTo(row, tenantId, ownerId)).map(fromRow),
      continuationToken: page.continuationToken,
    };
  }

  /** Writes a status (and a new sealed secret) if the row still has `etag`; else ConcurrencyConflict. */
  async update(connection: StoredConnection, changes: ConnectionChanges): Promise<StoredConnection> {
    const next: Connection = {
      ...connection,
      status: changes.status,
      statusReason: changes.statusReason,
      account: changes.account ?? connection.account,
      consentRequestedUntil:
        changes.consentRequestedUntil === undefined
          ? connection.consentRequestedUntil
          : (changes.consentRequestedUntil ?? undefined),
      modifiedAt: changes.modifiedAt,
    };
    const sealedSecret = changes.sealedSecret ?? connection.sealedSecret;
    const row: TableEntity<ConnectionRow> = {
      partitionKey: principalPartitionKey(connection.tenantId, connection.ownerId),
      rowKey: rowKey(connection.id),
      ...toRow(next),
      ...(sealedSecret ? { secret: sealedSecret } : {}),
      ...(changes.checkedAt ? { checkedAt: changes.checkedAt } : {}),
      ...(changes.checkingUntil ? { checkingUntil: changes.checkingUntil } : {}),
    };
    try {
      const { etag } = await this.storage.connections.updateEntity(row, 'Replace', { etag: connection.etag });
      const { checkedAt, checkingUntil } = changes;
      return { ...next, etag: etag ?? '', sealedSecret, checkedAt, checkingUntil };
    } catch (error) {
      rethrowConflict(error);
    }
  }

  /** Deletes the row if it still has `etag`; else ConcurrencyConflict. */
  async delete(connection: StoredConnection): Promise<void> {
    try {
      await this.storage.connections.deleteEntity(
        principalPartitionKey(connection.tenantId, connection.ownerId),
        rowKey(connection.id),
        { etag: connection.etag },
      );
    } catch (error) {
      rethrowConflict(error);
    }
  }
}
