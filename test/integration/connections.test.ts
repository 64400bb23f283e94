// Connection storage and consent state against a real Azurite: what is in the
// rows, single use of a state, and sealed values bound to their row.
import { odata } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { Sealer } from '../../lib/crypto/sealer';
import { ConnectionService } from '../../lib/services/connections';
import { OAuthClient } from '../../lib/oauth/msal';
import { ConnectionStore } from '../../lib/storage/connections';
import { FlowStore } from '../../lib/storage/flows';
import { principalPartitionKey } from '../../lib/storage/keys';
import { OAuthStateStore } from '../../lib/storage/oauthStates';
import { testServiceSettings, testStorage, unique } from '../support/stack';

const storage = testStorage();
const settings = testServiceSettings();
const store = new ConnectionStore(storage);
const states = new OAuthStateStore(storage);

function serviceAt(clock: { now: Date }) {
  return new ConnectionService(
    store,
    new FlowStore(storage),
    states,
    settings.connectors,
    new Sealer(settings.sealingKeys),
    new OAuthClient(() => undefined),
    settings.oauth,
    () => clock.now,
  );
}

describe('API-key connections at rest', () => {
  it('keep the key sealed in the row, and a sealed key copied to another row does not open there', async () => {
    const clock = { now: new Date() };
    const service = serviceAt(clock);
    const caller = { tenantId: unique('tenant'), principalId: 'alice' };
    const apiKey = `sk-${unique('key')}`;
    const first = await service.create(
      caller,
      { connectorId: 'shared_sql', displayName: 'A', apiKey },
      'http://localhost',
    );
    const second = await service.create(
      caller,
      { connectorId: 'shared_sql', displayName: 'B', apiKey: 'other' },
      'http://localhost',
    );

    const pk = principalPartitionKey(caller.tenantId, caller.principalId);
    const row = await storage.connections.getEntity<{ secret: string }>(pk, `conn|${first.value.id}`);
    expect(JSON.stringify(row)).not.toContain(apiKey);
    expect(row.secret).toMatch(/^v1\./);

    // Move A's sealed secret into B's row: B's credential no longer opens, so its check fails.
    await storage.connections.updateEntity(
      { partitionKey: pk, rowKey: `conn|${second.value.id}`, secret: row.secret },
      'Merge',
    );
    const moved = await service.refresh(caller, second.value.id);
    expect(moved.value).toMatchObject({ status: 'Error', statusReason: 'reauthRequired' });
    const untouched = await service.refresh(caller, first.value.id);
    expect(untouched.value.status).toBe('Connected');
  });
});

describe('consent state', () => {
  it('expires: a late callback changes nothing and the connection keeps waiting', async () => {
    const clock = { now: new Date() };
    const service = serviceAt(clock);
    const caller = { tenantId: unique('tenant'), principalId: 'alice' };
    const created = await service.create(
      caller,
      { connectorId: 'shared_office365', displayName: 'Mail' },
      'http://localhost',
    );
    const state = new URL(created.value.consentUrl!).searchParams.get('state')!;

    clock.now = new Date(clock.now.getTime() + (settings.oauth.stateTtlSeconds + 1) * 1000);
    expect(await service.completeConsent({ state, code: 'any' })).toEqual({ kind: 'invalidState', reason: 'expired' });
    expect((await service.get(caller, created.value.id)).value.status).toBe('PendingConsent');
    // And it is gone: the same state is unknown from now on.
    expect(await service.completeConsent({ state, code: 'any' })).toEqual({ kind: 'invalidState', reason: 'unknown' });
  });

  it('is stored by its hash only, with the PKCE verifier sealed', async () => {
    const clock = { now: new Date() };
    const service = serviceAt(clock);
    const caller = { tenantId: unique('tenant'), principalId: 'alice' };
    const created = await service.create(
      caller,
      { connectorId: 'shared_office365', displayName: 'Mail' },
      'http://localhost',
    );
    const state = new URL(created.value.consentUrl!).searchParams.get('state')!;
    const rows: string[] = [];
    for await (const row of storage.oauthStates.listEntities({
      queryOptions: { filter: odata`connectionId eq ${created.value.id}` },
    })) {
      rows.push(JSON.stringify(row));
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]).not.toContain(state);
    expect(rows[0]).toMatch(/"verifier":"v1\./);
  });
});
