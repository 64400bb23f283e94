// Connection storage and consent state against a real Azurite: what is in the
// rows, consent states bound to the browser that started them, and sealed
// values bound to their row.
import { createHash } from 'node:crypto';
import { odata } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { Sealer } from '../../lib/crypto/sealer';
import { newSessionId } from '../../lib/auth/session';
import { CHECK_INTERVAL_MS, CHECK_LEASE_MS } from '../../lib/domain/connections';
import { ConnectionService } from '../../lib/services/connections';
import { ConsentService } from '../../lib/services/consent';
import { OAuthClient } from '../../lib/oauth/msal';
import { ConnectionStore } from '../../lib/storage/connections';
import { FlowStore } from '../../lib/storage/flows';
import { principalPartitionKey } from '../../lib/storage/keys';
import { OAuthStateStore } from '../../lib/storage/oauthStates';
import { SessionStore, type Session } from '../../lib/storage/sessions';
import { stack, testServiceSettings, testStorage, unique } from '../support/stack';

const storage = testStorage();
const settings = testServiceSettings();
const store = new ConnectionStore(storage);
const states = new OAuthStateStore(storage);
const sessions = new SessionStore(storage);

function serviceAt(clock: { now: Date }) {
  return new ConnectionService(
    store,
    new FlowStore(storage),
    settings.connectors,
    new Sealer(settings.sealingKeys),
    new OAuthClient(() => undefined),
    settings.oauth,
    () => clock.now,
  );
}

function consentAt(clock: { now: Date }) {
  return new ConsentService(
    store,
    states,
    sessions,
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

/** A signed-in browser of `caller`: a session row, as the sign-in callback writes it. */
async function sessionOf(caller: { tenantId: string; principalId: string }, clock: { now: Date }): Promise<Session> {
  const session: Session = {
    hash: newSessionId().hash,
    caller,
    name: caller.principalId,
    csrfToken: 'csrf',
    createdAt: clock.now.toISOString(),
    expiresAt: new Date(clock.now.getTime() + 3600_000).toISOString(),
  };
  await sessions.create(session);
  return session;
}

describe('consent state', () => {
  async function pendingConsent(clock: { now: Date }) {
    const caller = { tenantId: unique('tenant'), principalId: 'alice' };
    const created = await serviceAt(clock).create(
      caller,
      { connectorId: 'shared_office365', displayName: 'Mail' },
      'http://localhost',
    );
    const session = await sessionOf(caller, clock);
    const started = await consentAt(clock).start(session, created.value.id, 'http://localhost');
    if (started.kind !== 'redirect') throw new Error(`consent did not start: ${started.kind}`);
    const state = new URL(started.url).searchParams.get('state')!;
    return { caller, connectionId: created.value.id, session, state };
  }

  it('expires: a late callback changes nothing and the connection keeps waiting', async () => {
    const clock = { now: new Date() };
    const { caller, connectionId, session, state } = await pendingConsent(clock);
    clock.now = new Date(clock.now.getTime() + (settings.oauth.stateTtlSeconds + 1) * 1000);
    const consent = consentAt(clock);
    expect(await consent.complete({ state, code: 'any' }, session.hash)).toEqual({
      kind: 'invalidState',
      reason: 'expired',
    });
    expect((await serviceAt(clock).get(caller, connectionId)).value.status).toBe('PendingConsent');
    expect(await consent.complete({ state, code: 'any' }, session.hash)).toEqual({
      kind: 'invalidState',
      reason: 'expired',
    });
  });

  it('is stored by its hash only, bound to the session that started it, with the PKCE verifier sealed', async () => {
    const clock = { now: new Date() };
    const { connectionId, session, state } = await pendingConsent(clock);
    const rows: string[] = [];
    for await (const row of storage.oauthStates.listEntities({
      queryOptions: { filter: odata`connectionId eq ${connectionId}` },
    })) {
      rows.push(JSON.stringify(row));
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]).not.toContain(state);
    expect(rows[0]).toMatch(/"verifier":"v1\./);
    expect(JSON.parse(rows[0]!)).toMatchObject({ sessionHash: session.hash });
  });

  it('is used up by a callback from another browser, which leaves the connection as it was', async () => {
    const clock = { now: new Date() };
    const { caller, connectionId, session, state } = await pendingConsent(clock);
    const other = await sessionOf({ tenantId: caller.tenantId, principalId: 'mallory' }, clock);
    const consent = consentAt(clock);
    expect(await consent.complete({ state, code: 'any' }, other.hash)).toEqual({ kind: 'wrongBrowser' });
    expect((await serviceAt(clock).get(caller, connectionId)).value.status).toBe('PendingConsent');
    // The code that reached the wrong browser is never redeemed, not even carried back to the owner's.
    expect(await consent.complete({ state, code: 'any' }, session.hash)).toEqual({
      kind: 'invalidState',
      reason: 'unknown',
    });
  });

  it('is used up by a callback without a session', async () => {
    const clock = { now: new Date() };
    const { state } = await pendingConsent(clock);
    expect(await consentAt(clock).complete({ state, code: 'any' }, undefined)).toEqual({ kind: 'wrongBrowser' });
    const gone = await states.find(createHash('sha256').update(state).digest('hex'), clock.now);
    expect(gone.kind).toBe('unknown');
  });

  it('is not finished once the session that started it has signed out', async () => {
    const clock = { now: new Date() };
    const { session, state } = await pendingConsent(clock);
    await sessions.delete(session.hash);
    expect(await consentAt(clock).complete({ state, code: 'any' }, session.hash)).toEqual({ kind: 'wrongBrowser' });
  });
});

/** An OAuth connection the provider user consented to, through the local provider. */
async function connectedMail(service: ConnectionService, caller: { tenantId: string; principalId: string }) {
  const providerUser = unique('mailbox');
  const created = await service.create(
    caller,
    { connectorId: 'shared_office365', displayName: 'Mail' },
    'http://localhost',
  );
  const clock = { now: new Date() };
  const session = await sessionOf(caller, clock);
  const consent = consentAt(clock);
  const started = await consent.start(session, created.value.id, 'http://localhost', providerUser);
  if (started.kind !== 'redirect') throw new Error(`consent did not start: ${started.kind}`);
  const atProvider = await fetch(started.url, { redirect: 'manual' });
  const query = new URL(atProvider.headers.get('location')!).searchParams;
  const outcome = await consent.complete({ state: query.get('state')!, code: query.get('code')! }, session.hash);
  expect(outcome.kind).toBe('connected');
  return { id: created.value.id, providerUser };
}

/** How many times the provider user's refresh token was redeemed (each answer brings one new refresh token). */
async function redemptions(providerUser: string): Promise<number> {
  const response = await fetch(`${stack().issuerUrl}/dev/users/${providerUser}/tokens`);
  const { tokens } = (await response.json()) as { tokens: string[] };
  return tokens.filter((t) => !t.includes('.')).length - 1; // the first came with the consent
}

function later(clock: { now: Date }, ms: number): void {
  clock.now = new Date(clock.now.getTime() + ms);
}

describe('checking an OAuth connection', () => {
  it('asks the provider once per interval, however many checks come', async () => {
    const clock = { now: new Date() };
    const service = serviceAt(clock);
    const caller = { tenantId: unique('tenant'), principalId: 'alice' };
    const { id, providerUser } = await connectedMail(service, caller);

    expect(await service.checkForRun(caller.tenantId, 'alice', id)).toBe('Connected');
    later(clock, 1_000);
    expect(await service.checkForRun(caller.tenantId, 'alice', id)).toBe('Connected');
    expect(await redemptions(providerUser)).toBe(1);

    later(clock, CHECK_INTERVAL_MS);
    expect(await service.checkForRun(caller.tenantId, 'alice', id)).toBe('Connected');
    expect(await redemptions(providerUser)).toBe(2);
  });

  it('still finds a revoked grant once the interval has passed', async () => {
    const clock = { now: new Date() };
    const service = serviceAt(clock);
    const caller = { tenantId: unique('tenant'), principalId: 'alice' };
    const { id, providerUser } = await connectedMail(service, caller);
    expect(await service.checkForRun(caller.tenantId, 'alice', id)).toBe('Connected');

    await fetch(`${stack().issuerUrl}/dev/users/${providerUser}/revoke`, { method: 'POST' });
    later(clock, CHECK_INTERVAL_MS);
    expect(await service.checkForRun(caller.tenantId, 'alice', id)).toBe('Error');
    expect((await service.get(caller, id)).value).toMatchObject({ status: 'Error', statusReason: 'reauthRequired' });
  });

  it('shares one provider call among simultaneous refreshes and checks', async () => {
    const clock = { now: new Date() };
    const service = serviceAt(clock);
    const caller = { tenantId: unique('tenant'), principalId: 'alice' };
    const { id, providerUser } = await connectedMail(service, caller);
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => service.refresh(caller, id)),
      ...Array.from({ length: 5 }, () => service.checkForRun(caller.tenantId, 'alice', id)),
    ]);
    expect(answers.slice(0, 5).map((a) => (a as { value: { status: string } }).value.status)).toEqual(
      Array(5).fill('Connected'),
    );
    expect(answers.slice(5)).toEqual(Array(5).fill('Connected'));
    expect(await redemptions(providerUser)).toBe(1);
  });

  it('checks again when its owner asks for a refresh, even within the interval', async () => {
    const clock = { now: new Date() };
    const service = serviceAt(clock);
    const caller = { tenantId: unique('tenant'), principalId: 'alice' };
    const { id, providerUser } = await connectedMail(service, caller);
    expect(await service.checkForRun(caller.tenantId, 'alice', id)).toBe('Connected');
    await fetch(`${stack().issuerUrl}/dev/users/${providerUser}/revoke`, { method: 'POST' });
    later(clock, 1_000);
    expect((await service.refresh(caller, id)).value).toMatchObject({
      status: 'Error',
      statusReason: 'reauthRequired',
    });
  });

  it('is asked of the provider once when two instances check at the same moment', async () => {
    const clock = { now: new Date() };
    const [first, second] = [serviceAt(clock), serviceAt(clock)];
    const caller = { tenantId: unique('tenant'), principalId: 'alice' };
    const { id, providerUser } = await connectedMail(first, caller);
    const statuses = await Promise.all([
      first.checkForRun(caller.tenantId, 'alice', id),
      second.checkForRun(caller.tenantId, 'alice', id),
    ]);
    expect(statuses).toEqual(['Connected', 'Connected']);
    expect(await redemptions(providerUser)).toBe(1);
  });

  it('waits for the check another instance is making, and not beyond its lease', async () => {
    const clock = { now: new Date() };
    const service = serviceAt(clock);
    const caller = { tenantId: unique('tenant'), principalId: 'alice' };
    const { id, providerUser } = await connectedMail(service, caller);
    // Another instance took the lease to ask the provider, and then went away.
    const checkingUntil = new Date(clock.now.getTime() + CHECK_LEASE_MS).toISOString();
    await storage.connections.updateEntity(
      { partitionKey: principalPartitionKey(caller.tenantId, 'alice'), rowKey: `conn|${id}`, checkingUntil },
      'Merge',
    );
    expect(await service.checkForRun(caller.tenantId, 'alice', id)).toBe('Connected');
    expect(await redemptions(providerUser)).toBe(0);
    later(clock, CHECK_LEASE_MS);
    expect(await service.checkForRun(caller.tenantId, 'alice', id)).toBe('Connected');
    expect(await redemptions(providerUser)).toBe(1);
    expect(await store.get(caller.tenantId, 'alice', id)).not.toHaveProperty('checkingUntil');
  });
});

describe('a connection row under a key', () => {
  it('is not returned when it names another tenant or owner than the key was asked for', async () => {
    const clock = { now: new Date() };
    const service = serviceAt(clock);
    const caller = { tenantId: unique('tenant'), principalId: 'alice' };
    const sql = async (displayName: string) =>
      (await service.create(caller, { connectorId: 'shared_sql', displayName, apiKey: 'k' }, 'http://localhost')).value
        .id;
    const theirs = await sql('Theirs');
    const ours = await sql('Ours');
    const other = await service.create(
      caller,
      { connectorId: 'shared_sql', displayName: 'Other tenant', apiKey: 'k' },
      'http://localhost',
    );
    // Rows under alice's key that belong to someone else, as two ids sharing one key would leave them.
    const pk = principalPartitionKey(caller.tenantId, 'alice');
    await storage.connections.updateEntity({ partitionKey: pk, rowKey: `conn|${theirs}`, ownerId: 'mallory' }, 'Merge');
    await storage.connections.updateEntity(
      { partitionKey: pk, rowKey: `conn|${other.value.id}`, tenantId: unique('tenant') },
      'Merge',
    );

    for (const id of [theirs, other.value.id]) {
      expect(await store.get(caller.tenantId, 'alice', id)).toBeUndefined();
      await expect(service.get(caller, id)).rejects.toMatchObject({ code: 'NotFound' });
    }
    const ids = (found: { id: string }[]) => found.map((c) => c.id);
    expect(ids(await store.getMany(caller.tenantId, 'alice', [theirs, ours, other.value.id]))).toEqual([ours]);
    expect(
      ids(
        await store.getBound(caller.tenantId, [
          { ownerId: 'alice', connectionId: theirs },
          { ownerId: 'alice', connectionId: ours },
        ]),
      ),
    ).toEqual([ours]);
    expect(ids(await store.listAll(caller.tenantId, 'alice'))).toEqual([ours]);
    expect(ids((await store.list(caller.tenantId, 'alice', { top: 10 })).items)).toEqual([ours]);
    expect(await service.checkForRun(caller.tenantId, 'alice', theirs)).toBeUndefined();
  });
});
