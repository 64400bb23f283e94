// Browser sessions, kept on the server: the browser holds only a random
// session id in an HttpOnly cookie; the row is keyed by the id's SHA-256, so
// the table never holds a value a cookie could be made from. Signing out
// deletes the row, which ends the session everywhere at once.
import type { TableEntity } from '@azure/data-tables';
import type { Caller } from '../domain/caller';
import type { Storage } from './clients';
import { storageStatusOf } from './errors';
import { deleteExpired } from './expiry';

type SessionRow = {
  tenantId: string;
  principalId: string;
  /** What the person is called, from the ID token, for pages to greet them. */
  name: string;
  /** Sent back with every change made with the cookie (see lib/auth/session.ts). */
  csrfToken: string;
  createdAt: string;
  expiresAt: string;
};

export interface Session {
  /** SHA-256 of the session id, hex: what consents started in this browser are bound to. */
  hash: string;
  caller: Caller;
  name: string;
  csrfToken: string;
  createdAt: string;
  expiresAt: string;
}

function keysOf(hash: string): { partitionKey: string; rowKey: string } {
  // Spread over partitions by the hash's first characters.
  return { partitionKey: hash.slice(0, 2), rowKey: hash };
}

export class SessionStore {
  constructor(private readonly storage: Storage) {}

  async create(session: Session): Promise<void> {
    await this.storage.ensureReady();
    const row: TableEntity<SessionRow> = {
      ...keysOf(session.hash),
      tenantId: session.caller.tenantId,
      principalId: session.caller.principalId,
      name: session.name,
      csrfToken: session.csrfToken,
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
    };
    await this.storage.sessions.createEntity(row);
  }

  /** The session, while it has not expired; undefined once it has, or after sign-out. */
  async get(hash: string, now: Date): Promise<Session | undefined> {
    await this.storage.ensureReady();
    const { partitionKey, rowKey } = keysOf(hash);
    let row;
    try {
      row = await this.storage.sessions.getEntity<SessionRow>(partitionKey, rowKey);
    } catch (error) {
      if (storageStatusOf(error) === 404) return undefined;
      throw error;
    }
    // A time that does not parse counts as expired.
    if (!(Date.parse(row.expiresAt) > now.getTime())) return undefined;
    return {
      hash,
      caller: { tenantId: row.tenantId, principalId: row.principalId },
      name: row.name,
      csrfToken: row.csrfToken,
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
    };
  }

  /** Ends the session; ending one already gone is not an error. */
  async delete(hash: string): Promise<void> {
    await this.storage.ensureReady();
    const { partitionKey, rowKey } = keysOf(hash);
    try {
      await this.storage.sessions.deleteEntity(partitionKey, rowKey);
    } catch (error) {
      if (storageStatusOf(error) !== 404) throw error;
    }
  }

  /** Deletes the rows past their time; answers how many. */
  async deleteExpired(now: Date): Promise<number> {
    await this.storage.ensureReady();
    return deleteExpired(this.storage.sessions, now);
  }
}
