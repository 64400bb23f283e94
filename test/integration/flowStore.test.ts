// The flow partition and the per-principal index against a real Azurite.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { odata } from '@azure/data-tables';
import { InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { azuriteConnectionString, DEFAULT_NAMES } from '../../lib/config';
import type { AuditEntry, Flow, Permission } from '../../lib/domain/flows';
import type { Run } from '../../lib/domain/runs';
import { problemFor } from '../../lib/http/problem';
import { countRequests } from '../support/requestCounter';
import { createServices } from '../../lib/services';
import { createStorage } from '../../lib/storage/clients';
import { ConcurrencyConflict, isStorageFault, StorageTimeout } from '../../lib/storage/errors';
import { FlowStore, INLINE_DEFINITION_LIMIT, type StoredPermission } from '../../lib/storage/flows';
import { AUDIT_RANGE, flowPartitionKey } from '../../lib/storage/keys';
import { checkStorage } from '../../lib/storage/health';
import { PrincipalIndex } from '../../lib/storage/principalIndex';
import { RunQueues } from '../../lib/storage/runQueues';
import { testServiceSettings, testStorage, unique } from '../support/stack';

const storage = testStorage();
const store = new FlowStore(storage);
const index = new PrincipalIndex(storage);

function newFlow(overrides: Partial<Flow> = {}): Flow {
  const at = new Date().toISOString();
  return {
    tenantId: unique('tenant'),
    id: unique('flow'),
    name: 'Invoices',
    schemaVersion: 1,
    ownerId: 'alice',
    createdAt: at,
    modifiedAt: at,
    ...overrides,
  };
}

/** Grants or changes a permission with its audit entry, as the services do. */
async function putPermission(
  tenantId: string,
  flowId: string,
  permission: Permission,
  current: StoredPermission | undefined,
  entry: AuditEntry,
): Promise<StoredPermission> {
  const [etag] = await store.commit(tenantId, flowId, [
    { kind: 'putPermission', permission, over: current },
    { kind: 'audit', entry },
  ]);
  return { ...permission, etag: etag! };
}

function audit(action: AuditEntry['action'], subjectId?: string): AuditEntry {
  return { action, actorId: 'alice', at: new Date().toISOString(), subjectId };
}

async function auditRows(flow: Flow) {
  const pk = flowPartitionKey(flow.tenantId, flow.id);
  const rows = storage.flows.listEntities<{ action: string; subjectId?: string }>({
    queryOptions: {
      filter: odata`PartitionKey eq ${pk} and RowKey ge ${AUDIT_RANGE.from} and RowKey lt ${AUDIT_RANGE.to}`,
    },
  });
  const found: Array<{ action: string; subjectId?: string }> = [];
  for await (const row of rows) found.push({ action: row.action, subjectId: row.subjectId });
  return found;
}

describe('the flow partition', () => {
  it('creates the flow with its owner and reads both back in one query', async () => {
    const flow = newFlow();
    const created = await store.create(flow, '{"actions":[]}');
    expect(created.etag).toBeTruthy();
    const snapshot = await store.read(flow.tenantId, flow.id, ['alice', 'bob']);
    expect(snapshot.flow).toMatchObject({
      id: flow.id,
      name: 'Invoices',
      schemaVersion: 1,
      ownerId: 'alice',
      etag: created.etag,
    });
    expect([...snapshot.permissions.keys()]).toEqual(['alice']);
    expect(snapshot.permissions.get('alice')?.role).toBe('owner');
  });

  it('refuses an update with a stale ETag and writes neither the row nor its audit entry', async () => {
    const flow = newFlow();
    const created = await store.create(flow, '{"actions":[]}');
    const at = new Date().toISOString();
    await store.update(created, { name: 'First', modifiedAt: at }, created.etag);
    await expect(
      store.update(created, { schemaVersion: 2, modifiedAt: at }, created.etag, audit('schemaUpgraded')),
    ).rejects.toBeInstanceOf(ConcurrencyConflict);
    const after = await store.read(flow.tenantId, flow.id, []);
    expect(after.flow).toMatchObject({ name: 'First', schemaVersion: 1 });
    expect(await auditRows(flow)).toEqual([]);
  });

  it('writes a permission and its audit entry together, or neither when the permission changed meanwhile', async () => {
    const flow = newFlow();
    await store.create(flow, '{"actions":[]}');
    const grant = {
      principalId: 'bob',
      role: 'user' as const,
      grantedBy: 'alice',
      grantedAt: new Date().toISOString(),
    };
    const stored = await putPermission(flow.tenantId, flow.id, grant, undefined, audit('shared', 'bob'));
    await putPermission(flow.tenantId, flow.id, { ...grant, role: 'coOwner' }, stored, audit('roleChanged', 'bob'));
    await expect(
      putPermission(flow.tenantId, flow.id, { ...grant, role: 'user' }, stored, audit('roleChanged', 'bob')),
    ).rejects.toBeInstanceOf(ConcurrencyConflict);
    // Granting again as if new loses against the row that exists.
    await expect(
      putPermission(flow.tenantId, flow.id, grant, undefined, audit('shared', 'bob')),
    ).rejects.toBeInstanceOf(ConcurrencyConflict);
    expect((await store.read(flow.tenantId, flow.id, ['bob'])).permissions.get('bob')?.role).toBe('coOwner');
    expect((await auditRows(flow)).map((row) => row.action).sort()).toEqual(['roleChanged', 'shared']);
  });

  it('commits a change as one transaction that a guard on a row changed since it was read fails whole', async () => {
    const flow = newFlow();
    await store.create(flow, '{"actions":[]}');
    const read = async () => store.read(flow.tenantId, flow.id, ['alice', 'bob']);
    const alice = (await read()).permissions.get('alice')!;
    const grant = { principalId: 'bob', role: 'user' as const, grantedBy: 'alice', grantedAt: flow.createdAt };

    const change = store.change(flow.tenantId, flow.id);
    expect(change.room).toBe(100);
    const granted = change.grant(grant, undefined);
    change.audit(audit('shared', 'bob'));
    change.stillHolds(alice);
    expect(change.room).toBe(97);
    expect(() => granted.version).toThrow();
    await change.commit();
    expect(granted.version).toBe((await read()).permissions.get('bob')?.etag);

    // Alice's row changed since (the guard gave it a new ETag): the next change that guards it as read fails whole.
    const stale = store.change(flow.tenantId, flow.id);
    stale.grant({ ...grant, role: 'coOwner' }, (await read()).permissions.get('bob'));
    stale.audit(audit('roleChanged', 'bob'));
    stale.stillHolds(alice);
    await expect(stale.commit()).rejects.toBeInstanceOf(ConcurrencyConflict);
    expect((await read()).permissions.get('bob')?.role).toBe('user');
    expect((await auditRows(flow)).map((row) => row.action)).toEqual(['shared']);
  });

  it('keeps a large definition in a blob written before the row, and drops the old blob when it shrinks', async () => {
    const flow = newFlow();
    const large = JSON.stringify({ actions: [{ type: 'note', text: 'ü'.repeat(INLINE_DEFINITION_LIMIT) }] });
    const created = await store.create(flow, large);
    expect(created.definitionBlob).toBeTruthy();
    const raw = await storage.flows.getEntity<Record<string, unknown>>(
      flowPartitionKey(flow.tenantId, flow.id),
      'flow',
    );
    expect(raw.definition).toBeUndefined();
    expect(await store.definitionOf(created)).toBe(large);

    const updated = await store.update(
      created,
      { definitionJson: '{"actions":[]}', modifiedAt: flow.createdAt },
      created.etag,
    );
    expect(updated.definitionBlob).toBeUndefined();
    expect(await store.definitionOf(updated)).toBe('{"actions":[]}');
    expect(await storage.definitions.getBlockBlobClient(created.definitionBlob!).exists()).toBe(false);
  });

  it('keeps the new blob when a write times out, since the write may still land', async () => {
    // The transaction reaches storage only after the caller has given up on it.
    class LateAnswer extends FlowStore {
      landed: Promise<string> | undefined;
      protected override transact(actions: Parameters<FlowStore['transact']>[0], etagOf?: number) {
        this.landed = sleep(50).then(() => super.transact(actions, etagOf));
        return Promise.reject(new StorageTimeout(1));
      }
    }
    const flow = newFlow();
    const created = await store.create(flow, '{"actions":[]}');
    const late = new LateAnswer(storage);
    const large = JSON.stringify({ actions: [{ type: 'note', text: 'x'.repeat(INLINE_DEFINITION_LIMIT + 1) }] });
    const error = await late
      .update(created, { definitionJson: large, modifiedAt: flow.createdAt }, created.etag)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageTimeout);
    await late.landed;
    const { flow: now } = await store.read(flow.tenantId, flow.id, []);
    expect(now?.definitionBlob).toBeTruthy();
    expect(await store.definitionOf(now!)).toBe(large);
  });

  it('pages permissions with a continuation token', async () => {
    const flow = newFlow();
    await store.create(flow, '{"actions":[]}');
    for (const who of ['bob', 'carol', 'dave']) {
      const grant = { principalId: who, role: 'user' as const, grantedBy: 'alice', grantedAt: flow.createdAt };
      await putPermission(flow.tenantId, flow.id, grant, undefined, audit('shared', who));
    }
    const first = await store.listPermissions(flow.tenantId, flow.id, { top: 3 });
    expect(first.items.map((p) => p.principalId)).toEqual(['alice', 'bob', 'carol']);
    const second = await store.listPermissions(flow.tenantId, flow.id, {
      top: 3,
      continuationToken: first.continuationToken,
    });
    expect(second.items.map((p) => p.principalId)).toEqual(['dave']);
    expect(second.continuationToken).toBeUndefined();
  });

  it('holds ids from tokens that storage keys could not hold as they are', async () => {
    const flow = newFlow({ tenantId: 'contoso/emea#1?', ownerId: 'user\\with/odd#chars?' });
    await store.create(flow, '{"actions":[]}');
    const snapshot = await store.read(flow.tenantId, flow.id, [flow.ownerId]);
    expect(snapshot.flow?.tenantId).toBe('contoso/emea#1?');
    expect(snapshot.permissions.get(flow.ownerId)?.role).toBe('owner');
    // Another tenant whose id differs only in those characters sees nothing.
    expect((await store.read('contoso-emea-1-', flow.id, [])).flow).toBeUndefined();
  });

  it('reads nothing of a partition whose flow row names another tenant or flow than was asked for', async () => {
    for (const change of [{ tenantId: unique('tenant') }, { flowId: unique('flow') }]) {
      const flow = newFlow();
      await store.create(flow, '{"actions":[]}');
      // As two ids sharing one key would leave it: the row under the key is someone else's.
      await storage.flows.updateEntity(
        { partitionKey: flowPartitionKey(flow.tenantId, flow.id), rowKey: 'flow', ...change },
        'Merge',
      );
      const snapshot = await store.read(flow.tenantId, flow.id, [flow.ownerId], { allReferences: true });
      expect(snapshot.flow).toBeUndefined();
      expect(snapshot.permissions.size).toBe(0);
    }
  });

  it('reads one run with the flow, its permissions and references in the same query', async () => {
    const flow = newFlow();
    await store.create(flow, '{"actions":[]}');
    const uuid = '01900000-0000-7000-8000-000000000001';
    const run: Run = {
      tenantId: flow.tenantId,
      flowId: flow.id,
      id: `${flow.id}.${uuid}`,
      mode: 'cloud',
      status: 'Running',
      initiatedBy: 'alice',
      connections: { db: { connectionId: 'c1', ownerId: 'alice', source: 'embedded' } },
      createdAt: new Date().toISOString(),
      machineId: 'm1',
      inputsJson: `{"text":"${'x'.repeat(40_000)}"}`,
      leaseId: 'lease-1',
      leaseExpiresAt: new Date(Date.now() + 60_000).toISOString(),
    };
    await store.commit(flow.tenantId, flow.id, [{ kind: 'putRun', run, over: undefined }]);
    const { result, requests } = await countRequests(() =>
      store.read(flow.tenantId, flow.id, ['alice'], { allReferences: true, run: uuid }),
    );
    expect(requests).toHaveLength(1);
    expect(result.flow?.id).toBe(flow.id);
    expect(result.permissions.get('alice')?.role).toBe('owner');
    const { etag: _etag, ...read } = result.run!;
    expect(read).toEqual(run);
    // A summary read leaves its inputs out, and nothing else of its lifecycle.
    const summary = await store.read(flow.tenantId, flow.id, [], { summary: true, run: uuid });
    expect(summary.run).toMatchObject({ status: 'Running', leaseId: 'lease-1', connections: run.connections });
    expect(summary.run).not.toHaveProperty('inputsJson');
    // A run that is not there is simply absent.
    const none = await store.read(flow.tenantId, flow.id, [], { run: '01900000-0000-7000-8000-000000000002' });
    expect(none.flow?.id).toBe(flow.id);
    expect(none.run).toBeUndefined();
  });

  it('purges every row of a deleted flow and names who held a role', async () => {
    const flow = newFlow();
    const created = await store.create(flow, '{"actions":[]}');
    const grant = { principalId: 'bob', role: 'user' as const, grantedBy: 'alice', grantedAt: flow.createdAt };
    await putPermission(flow.tenantId, flow.id, grant, undefined, audit('shared', 'bob'));
    await store.delete(created, created.etag);
    expect((await store.purge(created)).sort()).toEqual(['alice', 'bob']);
    const left = storage.flows.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${flowPartitionKey(flow.tenantId, flow.id)}` },
    });
    for await (const row of left) throw new Error(`row left behind: ${row.rowKey}`);
  });
});

describe('the per-principal index', () => {
  it("lists a person's flows in id order, one page at a time, within their tenant only", async () => {
    const tenant = unique('tenant');
    const person = unique('person');
    for (const flowId of ['c-flow', 'a-flow', 'b-flow'])
      await index.add(tenant, person, flowId, new Date().toISOString());
    await index.add(unique('tenant'), person, 'other-tenant-flow', new Date().toISOString());
    const first = await index.page(tenant, person, { top: 2 });
    expect(first.items).toEqual(['a-flow', 'b-flow']);
    const second = await index.page(tenant, person, { top: 2, continuationToken: first.continuationToken });
    expect(second.items).toEqual(['c-flow']);
    await index.remove(tenant, person, 'b-flow');
    await index.remove(tenant, person, 'never-there');
    expect((await index.page(tenant, person, { top: 10 })).items).toEqual(['a-flow', 'c-flow']);
  });
});

describe('sharing under contention', () => {
  it('keeps every one of 25 concurrent shares and writes one audit entry for each', async () => {
    const services = createServices(storage, testServiceSettings());
    const caller = { tenantId: unique('tenant'), principalId: 'alice' };
    const flow = await services.flows.create(caller, { name: 'Busy' });
    const people = Array.from({ length: 25 }, (_, i) => `person-${i}`);
    const { requests } = await countRequests(() =>
      Promise.all(people.map((p) => services.permissions.share(caller, flow.value.id, p, 'user'))),
    );
    // One after another in this process: no share retried another's (4 each: read, index, transaction, index).
    expect(requests).toHaveLength(4 * people.length);
    const listed = await services.permissions.list(caller, flow.value.id, { top: 100 });
    expect(listed.items.map((p) => p.principalId).sort()).toEqual(['alice', ...people].sort());
    const shared = (await auditRows({ ...newFlow(), tenantId: caller.tenantId, id: flow.value.id })).filter(
      (row) => row.action === 'shared',
    );
    expect(shared.map((row) => row.subjectId).sort()).toEqual([...people].sort());
    for (const p of people) expect((await index.page(caller.tenantId, p, { top: 10 })).items).toEqual([flow.value.id]);
  });
});

describe('when storage cannot be reached', () => {
  /** A store that takes requests and answers nothing, or only the start of an answer. */
  async function stalledStorage(answer: 'nothing' | 'headersOnly') {
    const sockets = new Set<Socket>();
    const server =
      answer === 'nothing'
        ? createNetServer((socket) => void sockets.add(socket.resume()))
        : createHttpServer((request, response) => {
            sockets.add(request.socket);
            response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
            response.write('{"value":['); // and then nothing more
          });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const storage = createStorage(
      { kind: 'connectionString', connectionString: azuriteConnectionString({ blob: port, queue: port, table: port }) },
      DEFAULT_NAMES,
      { tableTryTimeoutMs: 200, blobQueueTimeoutMs: 200 },
    );
    const close = async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    };
    return { storage, close };
  }

  const asProblem = (error: unknown) =>
    problemFor(error, new InvocationContext({ logHandler: () => undefined })).status;

  // The test's own timeout is far below the default deadlines (10 s and 30 s):
  // had the short ones given here been ignored, it would fail by timing out.
  for (const answer of ['nothing', 'headersOnly'] as const) {
    it(`fails with a storage fault, not a hang, when storage answers ${answer}`, { timeout: 5_000 }, async () => {
      const { storage: hung, close } = await stalledStorage(answer);
      try {
        const requests: Array<[string, () => Promise<unknown>]> = [
          ['table read', () => hung.flows.getEntity('t', 'flow')],
          ['table query', () => hung.flows.listEntities().byPage().next()],
          [
            'table transaction',
            () => hung.flows.submitTransaction([['create', { partitionKey: 't', rowKey: 'audit|x' }]]),
          ],
          // (The blob client refuses this fake's headers outright, so only a silent store tests it.)
          ...(answer === 'nothing'
            ? [
                [
                  'blob',
                  () => new FlowStore(hung).definitionOf({ ...newFlow(), definitionBlob: 't/f/d.json', etag: '*' }),
                ] as [string, () => Promise<unknown>],
              ]
            : []),
          ['queue send', () => new RunQueues(hung).requestCloudRun({ id: 'f.r', tenantId: 't', flowId: 'f' })],
        ];
        for (const [name, request] of requests) {
          const error = await request().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error, name).toBeInstanceOf(StorageTimeout);
          expect(isStorageFault(error), name).toBe(true);
          expect(asProblem(error), name).toBe(503);
        }
        expect((await checkStorage(hung, 200)).healthy).toBe(false);
      } finally {
        await close();
      }
    });
  }

  it('fails with a storage fault that is answered as 503 StorageUnavailable', async () => {
    const dead = createStorage(
      // Port 9 (discard): nothing listens there.
      { kind: 'connectionString', connectionString: azuriteConnectionString({ blob: 9, queue: 9, table: 9 }) },
      DEFAULT_NAMES,
    );
    const error = await new FlowStore(dead).read('t', 'f', []).catch((e: unknown) => e);
    expect(isStorageFault(error)).toBe(true);
    const response = problemFor(error, new InvocationContext({ logHandler: () => undefined }));
    expect(response.status).toBe(503);
    expect(JSON.parse(String(response.body))).toMatchObject({ code: 'StorageUnavailable' });
  });
});
