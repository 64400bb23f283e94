// Pending OAuth consents, keyed by a hash of their `state` (the raw value is
// only ever in the consent link). Taking one deletes it with the ETag it was
// read with, so a state is used at most once even when replayed at once.
import type { TableEntity } from '@azure/data-tables';
import type { Storage } from './clients';
import { storageStatusOf } from './errors';

type StateRow = {
  tenantId: string;
  ownerId: string;
  connectionId: string;
  connectorId: string;
  redirectUri: string;
  /** The PKCE verifier, sealed. */
  verifier: string;
  expiresAt: string;
};

export interface PendingConsent {
  tenantId: string;
  ownerId: string;
  connectionId: string;
  connectorId: string;
  redirectUri: string;
  sealedVerifier: string;
  expiresAt: string;
}

export type TakenConsent = { kind: 'taken'; consent: PendingConsent } | { kind: 'unknown' } | { kind: 'expired' };

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
      expiresAt: consent.expiresAt,
    };
    await this.storage.oauthStates.createEntity(row);
  }

  /** Reads and deletes the pending consent; only one taker ever gets it. */
  async take(stateHash: string, now: Date): Promise<TakenConsent> {
    await this.storage.ensureReady();
    const { partitionKey, rowKey } = keysOf(stateHash);
    let row;
    try {
      row = await this.storage.oauthStates.getEntity<StateRow>(partitionKey, rowKey);
    } catch (error) {
      if (storageStatusOf(error) === 404) return { kind: 'unknown' };
      throw error;
    }
    try {
      await this.storage.oauthStates.deleteEntity(partitionKey, rowKey, { etag: row.etag });
    } catch (error) {
      const status = storageStatusOf(error);
      if (status === 404 || status === 412) return { kind: 'unknown' }; // someone else took it first
      throw error;
    }
    // Not after its expiry, and a time that does not parse counts as expired.
    if (!(Date.parse(row.expiresAt) > now.getTime())) return { kind: 'expired' };
    return {
      kind: 'taken',
      consent: {
        tenantId: row.tenantId,
        ownerId: row.ownerId,
        connectionId: row.connectionId,
        connectorId: row.connectorId,
        redirectUri: row.redirectUri,
        sealedVerifier: row.verifier,
        expiresAt: row.expiresAt,
      },
    };
  }
}
