// Round-trip budgets: how many storage requests each operation makes, counted
// at the HTTP layer, and that they do not grow with the size of a flow (500
// references and 5,000 permissions cost what 2 do).
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMachineKey } from '../../lib/auth/machineKeys';
import type { Caller } from '../../lib/domain/caller';
import { consoleLog } from '../../lib/log';
import { createServices } from '../../lib/services';
import { FlowStore, type FlowChange } from '../../lib/storage/flows';
import { countRequests } from '../support/requestCounter';
import { newId } from '../../lib/services/ids';
import { runId, type Run } from '../../lib/domain/runs';
import { testServiceSettings, testStorage, unique } from '../support/stack';
import { AZURITE_ACCOUNT } from '../../lib/storage/developmentStorage';

const storage = testStorage();
const services = createServices(storage, testServiceSettings());
const store = new FlowStore(storage);

async function cost(operation: () => Promise<unknown>): Promise<number> {
  return (await countRequests(operation)).requests.length;
}

interface Fixture {
  owner: Caller;
  coOwner: Caller;
  user: Caller;
  flowId: string;
  /** A machine of the owner's. */
  machineId: string;
}

/** A flow with an embedded reference of the owner's, a co-owner, a user, and `extra` more of each. */
async function fixture(extraReferences: number, extraPermissions: number, definitionJson?: string): Promise<Fixture> {
  const tenantId = unique('tenant');
  const owner = { tenantId, principalId: 'owner' };
  const coOwner = { tenantId, principalId: 'co' };
  const user = { tenantId, principalId: 'user' };
  const flowId = (await services.flows.create(owner, { name: 'Budget', definitionJson })).value.id;
  await services.permissions.share(owner, flowId, 'co', 'coOwner');
  await services.permissions.share(owner, flowId, 'user', 'user');
  const db = (
    await services.connections.create(owner, { connectorId: 'shared_sql', displayName: 'DB', apiKey: 'k' }, 'http://x')
  ).value;
  await services.connections.create(user, { connectorId: 'shared_sql', displayName: 'Mine', apiKey: 'k' }, 'http://x');
  await services.references.put(owner, flowId, 'db', { connectorId: 'shared_sql', connectionId: db.id });
  await services.references.setEmbedded(owner, flowId, 'db', true);

  // The bulk goes straight in, 100 rows a transaction.
  const at = new Date().toISOString();
  const bulk: FlowChange[] = [
    ...Array.from({ length: extraPermissions }, (_, i): FlowChange => ({
      kind: 'putPermission',
      permission: { principalId: `p${i}`, role: 'user', grantedBy: 'owner', grantedAt: at },
      over: undefined,
    })),
    ...Array.from({ length: extraReferences }, (_, i): FlowChange => ({
      kind: 'putReference',
      reference: {
        logicalName: `ref${i}`,
        connectorId: 'shared_sql',
        ownerId: 'owner',
        connectionId: db.id,
        embedded: true,
        createdAt: at,
        modifiedAt: at,
      },
      over: undefined,
    })),
  ];
  for (let i = 0; i < bulk.length; i += 100) await store.commit(tenantId, flowId, bulk.slice(i, i + 100));
  const machineId = (await services.machines.create(owner, 'Agent')).id;
  return { owner, coOwner, user, flowId, machineId };
}

let small: Fixture;
let large: Fixture;
let crowded: Fixture;

beforeAll(async () => {
  await storage.ensureReady();
  [small, large, crowded] = await Promise.all([fixture(0, 0), fixture(500, 5_000), fixture(0, 5_000)]);
}, 120_000);

/** A Queued cloud run of the fixture's flow, as POST cloud-runs records it (its request is not sent). */
async function queuedRun(f: Fixture): Promise<{ runId: string; tenantId: string; flowId: string }> {
  const uuid = newId();
  const run: Run = {
    tenantId: f.owner.tenantId,
    flowId: f.flowId,
    id: runId(f.flowId, uuid),
    mode: 'cloud',
    status: 'Queued',
    initiatedBy: 'owner',
    connections: {},
    createdAt: new Date().toISOString(),
    machineId: f.machineId,
  };
  await store.commit(f.owner.tenantId, f.flowId, [{ kind: 'putRun', run, over: undefined }]);
  return { runId: run.id, tenantId: f.owner.tenantId, flowId: f.flowId };
}

/** What each operation costs on a fixture: fresh people each time, so nothing is a no-op. */
function operations(f: Fixture): Record<string, () => Promise<unknown>> {
  return {
    'GET flow': () => services.flows.get(f.coOwner, f.flowId),
    'GET permissions page': () => services.permissions.list(f.user, f.flowId, { top: 50 }),
    'share with someone new': () => services.permissions.share(f.owner, f.flowId, unique('new'), 'user'),
    'unembed and embed again': async () => {
      await services.references.setEmbedded(f.owner, f.flowId, 'db', false);
      await services.references.setEmbedded(f.owner, f.flowId, 'db', true);
    },
    'run prompt for a user': () => services.runs.prompt(f.user, f.flowId),
    'audit page': () => services.flows.audit(f.owner, f.flowId, { top: 20 }),
  };
}

describe('storage round trips', () => {
  it('stay within budget', async () => {
    const budgets: Record<string, number> = {
      'GET flow': 1, // one query: the flow row and the caller's permission
      'GET permissions page': 2, // the caller's role and the page, in parallel
      'share with someone new': 4, // read, index entry, one transaction, index entry again
      'unembed and embed again': 6, // each: read, the owner's connection, one transaction
      'run prompt for a user': 2, // the flow with all its references, the caller's connections
      'audit page': 2,
    };
    for (const [name, operation] of Object.entries(operations(small))) {
      expect(await cost(operation), name).toBe(budgets[name]);
    }
  });

  it('do not grow with 500 references and 5,000 permissions', async () => {
    const smallOps = operations(small);
    const largeOps = operations(large);
    for (const name of Object.keys(smallOps)) {
      expect(await cost(largeOps[name]!), name).toBe(await cost(smallOps[name]!));
    }
  });

  it('of the cloud-run processor do not grow with permissions, nor with references that share a connection', async () => {
    const base = await cost(async () =>
      expect(await services.cloudRuns.process(await queuedRun(small))).toBe('dispatched'),
    );
    const process = (f: Fixture) => async () => {
      const request = await queuedRun(f);
      return services.cloudRuns.process(request);
    };
    // The run row written by queuedRun counts once in each.
    expect(await cost(process(crowded))).toBe(base);
    expect(await cost(process(large))).toBe(base);
    // The run row, then: the run, its machine, the flow with its references
    // and the initiator's permission (one query), each distinct connection
    // (read, not written when nothing changed), the claim, the references and
    // the initiator's permission again (one query), the dispatch row in the
    // machine's partition, the status.
    expect(base).toBe(9);
  });

  it("of a run's executor: a lease of a waiting run, a heartbeat and a completion", async () => {
    for (const f of [small, large]) {
      const machine = await services.machines.create(f.owner, 'Agent');
      const key = parseMachineKey(machine.key)!;
      // Nothing waiting: the machine and its dispatched runs, one query.
      expect(await cost(() => services.runLeases.lease(key, 0))).toBe(1);
      const request = await queuedRun({ ...f, machineId: machine.id });
      expect(await services.cloudRuns.process(request)).toBe('dispatched');
      let token = '';
      // The machine with its oldest dispatched runs (one query), the flow with
      // its references and the run (one query), the claim, the dispatch row removed.
      expect(
        await cost(async () => {
          token = (await services.runLeases.lease(key, 0))!.token;
        }),
      ).toBe(4);
      // Each: the run, then its new state (with the audit entry, one transaction).
      expect(await cost(() => services.runLeases.heartbeat(token, request.runId))).toBe(2);
      const report = { status: 'Succeeded' as const, outputsJson: '{"n":1}', actions: [] };
      expect(await cost(() => services.runLeases.complete(token, request.runId, report))).toBe(2);
    }
  });

  it('of an attended run: the prompt, then the run with its lease', async () => {
    // The note for the run-repair sweep is made once per flow per two minutes: made here first.
    await services.runs.startAttended(small.user, small.flowId, {});
    for (const f of [small, large]) {
      await services.runs.startAttended(f.user, f.flowId, {});
      // The flow with all its references, the caller's connections, the run with its audit entry.
      expect(await cost(() => services.runs.startAttended(f.user, f.flowId, {}))).toBe(3);
    }
  });

  it('of a connector call through the gateway: two reads, no write', async () => {
    for (const f of [small, large]) {
      const lease = await services.runs.startAttended(f.user, f.flowId, {});
      const call = {
        connectionReference: 'db',
        operationId: 'ExecuteQuery',
        parameters: { query: 'SELECT * FROM invoices' },
      };
      // The run with the flow's reference and the initiator's role (one query), then the connection;
      // from the run's second call on, both at once (its connections are known): still two.
      for (const nth of ['first', 'second']) {
        const { requests: all } = await countRequests(() =>
          services.runCalls.call(lease.token, lease.run.id, call, consoleLog),
        );
        // The provider's request is seen too (it is HTTP); storage's are Azurite's account's.
        const requests = all.filter((r) => r.path.startsWith(`/${AZURITE_ACCOUNT}`));
        expect(all.length - requests.length, nth).toBe(1);
        expect(requests.length, nth).toBe(2);
        expect(requests.every((r) => r.method === 'GET')).toBe(true);
      }
    }
  });

  it('cost one more for a definition kept in a blob', async () => {
    const big = JSON.stringify({ actions: [{ type: 'note', text: 'x'.repeat(40_000) }] });
    const f = await fixture(0, 0, big);
    expect(await cost(() => services.flows.get(f.user, f.flowId))).toBe(2);
  });
});
