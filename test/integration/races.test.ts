// Interleavings of reference and permission changes, made to happen in a set
// order: a FlowStore that runs another change just before its first commit.
import { describe, expect, it } from 'vitest';
import { Sealer } from '../../lib/crypto/sealer';
import { OAuthClient } from '../../lib/oauth/msal';
import { ConnectionService } from '../../lib/services/connections';
import { FlowService } from '../../lib/services/flows';
import { PermissionService } from '../../lib/services/permissions';
import { Unembeddings } from '../../lib/services/unembeddings';
import { ReferenceService } from '../../lib/services/references';
import { ConnectionStore, type ConnectionChanges, type StoredConnection } from '../../lib/storage/connections';
import { FlowStore } from '../../lib/storage/flows';
import { PendingWork } from '../../lib/storage/pendingWork';
import { PrincipalIndex } from '../../lib/storage/principalIndex';
import { InterruptedStore } from '../support/interrupted';
import { testServiceSettings, testStorage, unique } from '../support/stack';

const storage = testStorage();
const settings = testServiceSettings();
const flowStore = new FlowStore(storage);
const connectionStore = new ConnectionStore(storage);
const index = new PrincipalIndex(storage);
const flows = new FlowService(flowStore, index);
const unembeddings = new Unembeddings(flowStore, new PendingWork(storage, 'unembed'));
const permissions = new PermissionService(flowStore, index, unembeddings);
const references = new ReferenceService(flowStore, connectionStore);
/** Connections over `store`, for stores that interleave a rival change. */
function connectionServiceOver(store: ConnectionStore): ConnectionService {
  return new ConnectionService(
    store,
    flowStore,
    settings.connectors,
    new Sealer(settings.sealingKeys),
    new OAuthClient(() => undefined),
    settings.oauth,
  );
}
const connections = connectionServiceOver(connectionStore);

async function setup() {
  const tenantId = unique('tenant');
  const owner = { tenantId, principalId: 'owner' };
  const alice = { tenantId, principalId: 'alice' };
  const bob = { tenantId, principalId: 'bob' };
  const flow = (await flows.create(owner, { name: 'Invoices' })).value;
  await permissions.share(owner, flow.id, 'alice', 'coOwner');
  await permissions.share(owner, flow.id, 'bob', 'coOwner');
  const aliceDb = (
    await connections.create(alice, { connectorId: 'shared_sql', displayName: 'A', apiKey: 'k1' }, 'http://x')
  ).value;
  const bobDb = (
    await connections.create(bob, { connectorId: 'shared_sql', displayName: 'B', apiKey: 'k2' }, 'http://x')
  ).value;
  await references.put(alice, flow.id, 'db', { connectorId: 'shared_sql', connectionId: aliceDb.id });
  const read = async () => flowStore.read(tenantId, flow.id, ['alice'], { references: ['db'] });
  return { owner, alice, bob, flowId: flow.id, bobDb, read };
}

describe('races between roles and references', () => {
  it('an embed that lands after its co-owner was removed is refused', async () => {
    const { owner, alice, flowId, read } = await setup();
    const racing = new ReferenceService(
      new InterruptedStore(storage, () => permissions.unshare(owner, flowId, 'alice')),
      connectionStore,
    );
    await expect(racing.setEmbedded(alice, flowId, 'db', true)).rejects.toMatchObject({ code: 'NotFound' });
    const now = await read();
    expect(now.permissions.has('alice')).toBe(false);
    expect(now.references.get('db')?.embedded).toBe(false);
  });

  it('a demotion that an embed overtakes still unembeds', async () => {
    const { owner, alice, flowId, read } = await setup();
    const racing = new PermissionService(
      new InterruptedStore(storage, () => references.setEmbedded(alice, flowId, 'db', true)),
      index,
      unembeddings,
    );
    await racing.share(owner, flowId, 'alice', 'user');
    const now = await read();
    expect(now.permissions.get('alice')?.role).toBe('user');
    expect(now.references.get('db')?.embedded).toBe(false);
  });

  it('a stale remove never deletes the reference someone else added under the same name', async () => {
    const { alice, bob, flowId, bobDb } = await setup();
    const racing = new ReferenceService(
      new InterruptedStore(storage, async () => {
        await references.remove(alice, flowId, 'db');
        await references.put(bob, flowId, 'db', { connectorId: 'shared_sql', connectionId: bobDb.id });
      }),
      connectionStore,
    );
    await expect(racing.remove(alice, flowId, 'db')).rejects.toMatchObject({ code: 'NotReferenceOwner' });
    const { references: now } = await flowStore.read(alice.tenantId, flowId, [], { references: ['db'] });
    expect(now.get('db')).toMatchObject({ ownerId: 'bob', connectionId: bobDb.id });
  });

  it('a share by a co-owner removed meanwhile is refused', async () => {
    const { owner, alice, flowId } = await setup();
    const racing = new PermissionService(
      new InterruptedStore(storage, () => permissions.unshare(owner, flowId, 'alice')),
      index,
      unembeddings,
    );
    await expect(racing.share(alice, flowId, 'carol', 'user')).rejects.toMatchObject({ code: 'NotFound' });
    const { permissions: now } = await flowStore.read(alice.tenantId, flowId, ['carol']);
    expect(now.has('carol')).toBe(false);
  });

  it('a connection deleted while an embed races it leaves nothing embedded', async () => {
    const { alice, flowId, read } = await setup();
    const aliceDb = (await read()).references.get('db')!.connectionId;
    // The embed lands between the delete's "is it embedded?" check and the deletion itself.
    class InterruptedConnections extends ConnectionStore {
      override async delete(connection: StoredConnection): Promise<void> {
        await references.setEmbedded(alice, flowId, 'db', true);
        return super.delete(connection);
      }
    }
    const racing = connectionServiceOver(new InterruptedConnections(storage));
    await racing.delete(alice, aliceDb, false);
    expect((await read()).references.get('db')?.embedded).toBe(false);
  });

  it("a check whose credential was replaced meanwhile leaves the new credential's state alone", async () => {
    const alice = { tenantId: unique('tenant'), principalId: 'alice' };
    const { id } = (
      await connections.create(alice, { connectorId: 'shared_sql', displayName: 'A', apiKey: 'k1' }, 'http://x')
    ).value;
    // Recorded as failing, so that a check of the key, which succeeds, has something to write.
    const failing = await connectionStore.update((await connectionStore.get(alice.tenantId, 'alice', id))!, {
      status: 'Error',
      statusReason: 'reauthRequired',
      modifiedAt: new Date().toISOString(),
    });
    const replacement = new Sealer(settings.sealingKeys).seal(JSON.stringify({ kind: 'apiKey', apiKey: 'k2' }), 'x');
    // Between the check and its write, someone else puts another credential in, still failing.
    class Replaced extends ConnectionStore {
      private once = true;
      override async update(connection: StoredConnection, changes: ConnectionChanges): Promise<StoredConnection> {
        if (this.once) {
          this.once = false;
          await connectionStore.update(failing, {
            status: 'Error',
            statusReason: 'consentFailed',
            sealedSecret: replacement,
            modifiedAt: new Date().toISOString(),
          });
        }
        return super.update(connection, changes);
      }
    }
    const racing = connectionServiceOver(new Replaced(storage));
    expect(await racing.refresh(alice, id)).toMatchObject({
      value: { status: 'Error', statusReason: 'consentFailed' },
    });
    expect(await connectionStore.get(alice.tenantId, 'alice', id)).toMatchObject({
      status: 'Error',
      statusReason: 'consentFailed',
      sealedSecret: replacement,
    });
  });
});
