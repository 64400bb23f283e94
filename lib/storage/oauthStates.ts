// Pending OAuth consents, keyed by a hash of their `state` (the raw value is
// only ever in the provider's link). Each is bound to the browser session that
// started it. Taking one deletes it with the ETag it was read with, so a state
// is used at most once even when replayed at once.
import type { TableEntity } from '@azure/data-tables';
import type { Storage } from './clients';
import { storageStatusOf } from './errors';
import { deleteExpired } from './expiry';

type StateRow = {
  tenantId: string;
  ownerId: string;
  connectionId: string;
  connectorId: string;
  redirectUri: string;
  /** The PKCE verifier, sealed. */
  verifier: string;
  /** The session (its hash) of the owner's browser that started the consent. */
  sessionHash: string;
  expiresAt: string;
};

export interface PendingConsent {
  tenantId: string;
  ownerId: string;
  connectionId: string;
  connectorId: string;
  redirectUri: string;
  sealedVerifier: string;
  sessionHash: string;
  expiresAt: string;
}

export type FoundConsent =
  { kind: 'found'; consent: PendingConsent; etag: string } | { kind: 'unknown' } | { kind: 'expired' };

function keysOf(stateHash: string): { partitionKey: string; rowKey: string } {
  // Spread over partitions by the hash's first characters.
  return { partitionKey: stateHash.slice(0, 2), rowKey: stateHash };
}

export class OAuthStateStore {
  constructor(private readonly storage: Storage) {}

  async put(stateHash: string, consent: PendingConsent): Promise<void> {
    await this.storage.ensureReady();
    const row: TableEntity<StateRow> = {
      ...keysOf(stateHash),
      tenantId: consent.tenantId,
      ownerId: consent.ownerId,
      connectionId: consent.connectionId,
      connectorId: consent.connectorId,
      redirectUri: consent.redirectUri,
      verifier: consent.sealedVerifier,
      sessionHash: consent.sessionHash,
      expiresAt: consent.expiresAt,
    };
    await this.storage.oauthStates.createEntity(row);
  }

  /** Reads the pending consent without using it up: a callback from the wrong browser must change nothing. */
  async find(stateHash: string, now: Date): Promise<FoundConsent> {
    await this.storage.ensureReady();
    const { partitionKey, rowKey } = keysOf(stateHash);
    let row;
    try {
      row = await this.storage.oauthStates.getEntity<StateRow>(partitionKey, rowKey);
    } catch (error) {
      if (storageStatusOf(error) === 404) return { kind: 'unknown' };
      throw error;
    }
    // Not after its expiry, and a time that does not parse counts as expired.
    if (!(Date.parse(row.expiresAt) > now.getTime())) return { kind: 'expired' };
    return {
      kind: 'found',
      etag: row.etag,
      consent: {
        tenantId: row.tenantId,
        ownerId: row.ownerId,
        connectionId: row.connectionId,
        connectorId: row.connectorId,
        redirectUri: row.redirectUri,
        sealedVerifier: row.verifier,
        sessionHash: row.sessionHash,
        expiresAt: row.expiresAt,
      },
    };
  }

  /** Deletes the pending consent found with `etag`; false when someone else took it first. */
  async take(stateHash: string, etag: string): Promise<boolean> {
    const { partitionKey, rowKey } = keysOf(stateHash);
    try {
      await this.storage.oauthStates.deleteEntity(partitionKey, rowKey, { etag });
      return true;
    } catch (error) {
      const status = storageStatusOf(error);
      if (status === 404 || status === 412) return false;
      throw error;
    }
  }

  /** Deletes the rows past their time; answers how many. */
  async deleteExpired(now: Date): Promise<number> {
    await this.storage.ensureReady();
    return deleteExpired(this.storage.oauthStates, now);
  }
}
