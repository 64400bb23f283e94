// Runs over HTTP and through the real queue: the prompt, console runs (each
// answered Running with its lease), cloud readiness, cloud runs processed by
// the queue-triggered function on the local host (each reason to reject one,
// alone) and dispatched to the machine they were asked for, duplicate
// delivery, a crash between dispatch and record, the poison queue, and an
// embedded connection whose refresh fails.
import { setTimeout as sleep } from 'node:timers/promises';
import { QueueServiceClient } from '@azure/storage-queue';
import { describe, expect, it } from 'vitest';
import { CHECK_INTERVAL_MS } from '../../lib/domain/connections';
import { FlowStore } from '../../lib/storage/flows';
import { principalPartitionKey } from '../../lib/storage/keys';
import { MachineStore } from '../../lib/storage/machines';
import { decodeMessage, encodeMessage } from '../../lib/storage/queues';
import { signedIn } from '../support/browser';
import { complete, lease, leaseNext, registerMachine, succeeded, type TestMachine } from '../support/machines';
import { call, expectProblem, stack, testStorage, unique, type Body } from '../support/stack';
import { cast, sharedFlow, type Cast, type Person } from './people';

const storage = testStorage();

async function sqlConnection(who: Person, displayName = `${who.id} db`): Promise<string> {
  const created = await call('POST', '/connections', {
    token: who.token,
    body: { connectorId: 'shared_sql', displayName, apiKey: `secret-${unique('key')}` },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function officeConnection(who: Person, providerUser: string): Promise<string> {
  const created = await call('POST', '/connections', {
    token: who.token,
    body: { connectorId: 'shared_office365', displayName: 'Mail' },
  });
  const browser = await signedIn(who.id);
  expect((await browser.consent(created.body.consentUrl, providerUser)).status).toBe(200);
  return created.body.id;
}

/**
 * How many times the provider user's refresh tokens were redeemed: the local
 * provider answers every code and refresh-token redemption with one new
 * refresh token (an opaque id, where its access and id tokens are JWTs).
 */
async function redemptions(providerUser: string): Promise<number> {
  const response = await fetch(`${stack().issuerUrl}/dev/users/${encodeURIComponent(providerUser)}/tokens`);
  const { tokens } = (await response.json()) as { tokens: string[] };
  return tokens.filter((t) => !t.includes('.')).length - 1; // the first one came with the consent
}

/** A flow whose definition uses reference `db`, shared with a co-owner and a user. */
async function flowWithReference(schemaVersion: 1 | 2 = 1): Promise<{ people: Cast; flowId: string; ownerDb: string }> {
  const people = await cast();
  const flowId = await sharedFlow(people, {
    name: 'Invoices',
    schemaVersion,
    definition: { actions: [{ type: 'connector', connectionReference: 'db', operation: 'ExecuteQuery' }] },
  });
  const ownerDb = await sqlConnection(people.owner, 'Finance DB');
  const bound = await call('PUT', `/flows/${flowId}/connection-references/db`, {
    token: people.owner.token,
    body: { connectorId: 'shared_sql', connectionId: ownerDb },
  });
  expect(bound.status).toBe(201);
  return { people, flowId, ownerDb };
}

async function embed(people: Cast, flowId: string, embedded = true) {
  const response = await call('PATCH', `/flows/${flowId}/connection-references/db`, {
    token: people.owner.token,
    body: { embedded },
  });
  expect(response.status).toBe(200);
}

/** Polls a run as a cloud flow's HTTP action would, until it has ended. */
async function settle(location: string, token: string): Promise<Body> {
  for (let i = 0; i < 150; i++) {
    const response = await call('GET', location, { token });
    if (response.status === 200) return response.body;
    expect(response.status).toBe(202);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    await sleep(200);
  }
  throw new Error(`run ${location} did not settle`);
}

/** Polls a run until the processor is done with it: Dispatched to its machine, or ended. */
async function processed(location: string, token: string): Promise<Body> {
  for (let i = 0; i < 150; i++) {
    const response = await call('GET', location, { token });
    if (response.status === 200 || response.body.status === 'Dispatched') return response.body;
    expect(response.status).toBe(202);
    await sleep(200);
  }
  throw new Error(`run ${location} was not processed`);
}

function requestCloudRun(who: Person, flowId: string, machine: TestMachine, inputs?: Body) {
  return call('POST', `/flows/${flowId}/cloud-runs`, {
    token: who.token,
    body: { machineId: machine.id, ...(inputs ? { inputs } : {}) },
  });
}

/** The runs dispatched to a machine and not yet leased, as its rows in the machines table say. */
async function dispatchedTo(machine: TestMachine, tenantId: string): Promise<string[]> {
  const { dispatches } = await new MachineStore(storage).withDispatches(tenantId, machine.ownerId, machine.id, 100);
  return dispatches.map((d) => d.runId);
}

/**
 * Waits until every request on cloud-run-requests has been taken and
 * deleted: its approximate count includes the messages being processed and
 * those waiting to be retried, so at 0 every delivery has finished.
 */
async function requestsDrained(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { approximateMessagesCount } = await storage.cloudRunRequests.getProperties();
    if (approximateMessagesCount === 0) return;
    await sleep(100);
  }
  throw new Error('cloud-run-requests did not drain within 20 s');
}

describe('the whole story', () => {
  it('prompts each role, runs attended with their own or embedded connections, and gates cloud runs', async () => {
    const { people, flowId, ownerDb } = await flowWithReference(1);

    // The user has no SQL connection yet: no default, and running says what is missing.
    const empty = await call('GET', `/flows/${flowId}/run-prompt`, { token: people.user.token });
    expect(empty.body.value).toEqual([
      { logicalName: 'db', connectorId: 'shared_sql', embedded: false, candidates: [], defaultConnectionId: null },
    ]);
    const refused = await call('POST', `/flows/${flowId}/runs`, { token: people.user.token, body: {} });
    expectProblem(refused, 409, 'ConnectionRequired');
    expect(refused.body.missing).toEqual([{ logicalName: 'db', connectorId: 'shared_sql' }]);

    // A cloud run of a v1 flow whose reference is not embedded: rejected with both reasons.
    const coMachine = await registerMachine(people.coOwner);
    const early = await requestCloudRun(people.coOwner, flowId, coMachine);
    expect(early.status).toBe(202);
    const rejected = await settle(early.headers.get('location')!, people.coOwner.token);
    expect(rejected.status).toBe('Rejected');
    expect(rejected.errors.map((e: Body) => e.code)).toEqual(['FlowSchemaNotV2', 'ConnectionReferenceNotEmbedded']);

    // The owner embeds the reference; the user brings their own connection.
    await embed(people, flowId);
    const userDb = await sqlConnection(people.user);
    const userPrompt = await call('GET', `/flows/${flowId}/run-prompt`, { token: people.user.token });
    expect(userPrompt.body.value[0]).toMatchObject({ embedded: true, defaultConnectionId: userDb });
    expect(userPrompt.body.value[0].candidates).toEqual([
      { id: userDb, displayName: expect.any(String), status: 'Connected', source: 'own' },
    ]);
    // The console that asked runs it itself: the answer is the run, Running, with its lease.
    const userRun = await call('POST', `/flows/${flowId}/runs`, { token: people.user.token });
    expect(userRun.status).toBe(201);
    expect(userRun.headers.get('location')).toBe(`/api/runs/${userRun.body.run.id}`);
    expect(userRun.body).toEqual({
      run: expect.objectContaining({
        mode: 'attended',
        status: 'Running',
        initiatedBy: people.user.id,
        connections: { db: userDb },
        cancelRequested: false,
        leaseExpiresAt: userRun.body.leaseExpiresAt,
      }),
      definition: { actions: [{ type: 'connector', connectionReference: 'db', operation: 'ExecuteQuery' }] },
      inputs: {},
      references: [{ logicalName: 'db', connectorId: 'shared_sql' }],
      token: expect.stringMatching(/^fsr_/),
      leaseExpiresAt: expect.any(String),
    });

    // The co-owner runs on the embedded connection, by default.
    const coPrompt = await call('GET', `/flows/${flowId}/run-prompt`, { token: people.coOwner.token });
    expect(coPrompt.body.value[0]).toMatchObject({
      defaultConnectionId: ownerDb,
      candidates: [{ id: ownerDb, source: 'embedded', status: 'Connected' }],
    });
    const coRun = await call('POST', `/flows/${flowId}/runs`, {
      token: people.coOwner.token,
      body: { mode: 'attended' },
    });
    expect(coRun.body.run).toMatchObject({ status: 'Running', connections: { db: ownerDb } });
    // The user, who never sees the embedded connection, cannot pick it either.
    const sneaky = await call('POST', `/flows/${flowId}/runs`, {
      token: people.user.token,
      body: { connections: { db: ownerDb } },
    });
    const made = await call('POST', `/flows/${flowId}/runs`, {
      token: people.user.token,
      body: { connections: { db: 'made-up' } },
    });
    expectProblem(sneaky, 400, 'ValidationFailed');
    expect(sneaky.body).toEqual(made.body);

    // Readiness tells the maker what is left: the schema.
    const readiness = await call('GET', `/flows/${flowId}/cloud-readiness`, { token: people.owner.token });
    expect(readiness.body).toEqual({ ready: false, errors: [expect.objectContaining({ code: 'FlowSchemaNotV2' })] });
    await call('POST', `/flows/${flowId}/upgrade-schema`, { token: people.owner.token });
    expect((await call('GET', `/flows/${flowId}/cloud-readiness`, { token: people.coOwner.token })).body).toEqual({
      ready: true,
      errors: [],
    });

    // Now a cloud run is dispatched to the owner's machine, which leases it, runs it and reports.
    const machine = await registerMachine(people.owner);
    const cloud = await requestCloudRun(people.owner, flowId, machine, { month: '2026-01' });
    expect(cloud.headers.get('location')).toBe(`/api/runs/${cloud.body.id}`);
    expect(cloud.headers.get('retry-after')).toBe('2');
    expect(cloud.body).toMatchObject({ mode: 'cloud', status: 'Queued', machineId: machine.id });
    const dispatched = await processed(cloud.headers.get('location')!, people.user.token);
    expect(dispatched).toMatchObject({ status: 'Dispatched' });
    expect(dispatched).not.toHaveProperty('completedAt');
    expect(dispatched.connections).toEqual({ db: null }); // the user sees runs, not the owner's connection
    const leased = await leaseNext(machine);
    expect(leased).toMatchObject({
      run: { id: cloud.body.id, status: 'Running', connections: { db: ownerDb } },
      inputs: { month: '2026-01' },
      references: [{ logicalName: 'db', connectorId: 'shared_sql' }],
    });
    expect((await call('GET', `/runs/${cloud.body.id}`, { token: people.owner.token })).status).toBe(202);
    const report = { status: 'Succeeded', outputs: { rows: 3 }, actions: [succeeded('Query')] };
    expect((await complete(cloud.body.id, leased.token, report)).status).toBe(200);
    const done = await settle(cloud.headers.get('location')!, people.owner.token);
    expect(done).toMatchObject({ status: 'Succeeded', outputs: { rows: 3 }, actions: [{ name: 'Query' }] });
    expect(done.completedAt).toEqual(expect.any(String));

    // History, newest first, for makers; the audit trail records every run started.
    const history = await call('GET', `/flows/${flowId}/runs`, { token: people.coOwner.token });
    expect(history.body.value.map((r: Body) => r.id)).toEqual([
      cloud.body.id,
      coRun.body.run.id,
      userRun.body.run.id,
      early.body.id,
    ]);
    const audit = await call('GET', `/flows/${flowId}/audit?top=100`, { token: people.owner.token });
    expect(audit.body.value.filter((e: Body) => e.action === 'runStarted')).toHaveLength(4);
    expect(audit.body.value.filter((e: Body) => e.action === 'runCompleted')).toEqual([
      expect.objectContaining({
        subjectId: cloud.body.id,
        actorId: people.owner.id,
        details: { reported: 'Succeeded', machineId: machine.id },
      }),
    ]);
  });
});

describe('who may do what with runs', () => {
  it('answers each role as docs/api.md says', async () => {
    const { people, flowId } = await flowWithReference(2);
    await embed(people, flowId);
    const machine = await registerMachine(people.owner);
    const cloud = await requestCloudRun(people.owner, flowId, machine);
    const runPath = cloud.headers.get('location')!;

    for (const who of [people.owner, people.coOwner, people.user]) {
      expect((await call('GET', `/flows/${flowId}/run-prompt`, { token: who.token })).status).toBe(200);
      expect([200, 202]).toContain((await call('GET', runPath, { token: who.token })).status);
    }
    expectProblem(
      await call('POST', `/flows/${flowId}/runs`, { token: people.user.token, body: { mode: 'cloud' } }),
      403,
      'RunModeNotAllowed',
    );
    expectProblem(
      await call('POST', `/flows/${flowId}/runs`, { token: people.coOwner.token, body: { mode: 'cloud' } }),
      400,
      'ValidationFailed',
    );
    for (const path of ['cloud-runs', 'cloud-readiness', 'runs']) {
      const method = path === 'cloud-runs' ? 'POST' : 'GET';
      const userMachine = path === 'cloud-runs' ? { body: { machineId: (await registerMachine(people.user)).id } } : {};
      expectProblem(
        await call(method, `/flows/${flowId}/${path}`, { token: people.user.token, ...userMachine }),
        403,
        'Forbidden',
      );
    }
    for (const who of [people.stranger, people.otherTenant]) {
      const theirMachine = { machineId: (await registerMachine(who)).id };
      for (const [method, path, body] of [
        ['GET', `/flows/${flowId}/run-prompt`],
        ['POST', `/flows/${flowId}/runs`],
        ['GET', `/flows/${flowId}/runs`],
        ['GET', `/flows/${flowId}/cloud-readiness`],
        ['POST', `/flows/${flowId}/cloud-runs`, theirMachine],
        ['GET', runPath],
      ] as const) {
        expectProblem(await call(method, path, { token: who.token, body }), 404, 'NotFound');
      }
    }
    for (const [method, path] of [
      ['GET', `/flows/${flowId}/run-prompt`],
      ['POST', `/flows/${flowId}/runs`],
      ['GET', `/flows/${flowId}/runs`],
      ['GET', `/flows/${flowId}/cloud-readiness`],
      ['POST', `/flows/${flowId}/cloud-runs`],
      ['GET', runPath],
    ] as const) {
      expectProblem(await call(method, path), 401, 'Unauthenticated');
    }
    expect((await processed(runPath, people.owner.token)).status).toBe('Dispatched');
  });

  it("sends a cloud run only to one of the caller's own machines", async () => {
    const { people, flowId } = await flowWithReference(2);
    await embed(people, flowId);
    const coOwnersMachine = await registerMachine(people.coOwner);
    // Someone else's machine, a deleted one and one that never was: all answered as not existing.
    const deleted = await registerMachine(people.owner);
    expect((await call('DELETE', `/machines/${deleted.id}`, { token: people.owner.token })).status).toBe(204);
    for (const machineId of [coOwnersMachine.id, deleted.id, 'no-such-machine']) {
      const refused = await call('POST', `/flows/${flowId}/cloud-runs`, {
        token: people.owner.token,
        body: { machineId },
      });
      expectProblem(refused, 404, 'NotFound');
      expect(refused.body.detail).toMatch(/machine/);
    }
    const history = await call('GET', `/flows/${flowId}/runs`, { token: people.owner.token });
    expect(history.body.value).toEqual([]);
  });

  it('answers bad input with 400', async () => {
    const { people, flowId } = await flowWithReference(2);
    for (const body of [
      '{"mode":',
      { mode: 'remote' },
      { connections: { 'a/b': 'x' } },
      { connections: { nothere: 'x' } },
      { extra: 1 },
    ]) {
      expectProblem(
        await call('POST', `/flows/${flowId}/runs`, { token: people.owner.token, body }),
        400,
        'ValidationFailed',
      );
    }
    const machine = await registerMachine(people.owner);
    for (const [body, fields] of [
      [undefined, ['(body)']],
      [{}, ['machineId']],
      [{ machineId: 'a/b' }, ['machineId']],
      [{ machineId: machine.id, inputs: [1] }, ['inputs']],
      [{ machineId: machine.id, inputs: 'x' }, ['inputs']],
      [{ machineId: machine.id, extra: 1 }, ['extra']],
    ] as const) {
      const refused = await call('POST', `/flows/${flowId}/cloud-runs`, { token: people.owner.token, body });
      expectProblem(refused, 400, 'ValidationFailed');
      expect(refused.body.errors.map((e: Body) => e.field)).toEqual(fields);
    }
    const big = await call('POST', `/flows/${flowId}/cloud-runs`, {
      token: people.owner.token,
      body: { machineId: machine.id, inputs: { text: 'x'.repeat(64 * 1024) } },
    });
    expectProblem(big, 413, 'PayloadTooLarge');
    expect((await call('GET', `/flows/${flowId}/runs`, { token: people.owner.token })).body.value).toEqual([]);
    expectProblem(await call('GET', '/runs/a%2Fb', { token: people.owner.token }), 400, 'ValidationFailed');
    expectProblem(await call('GET', '/runs/no-dot-here', { token: people.owner.token }), 404, 'NotFound');
    expectProblem(await call('GET', `/runs/${flowId}.not-a-run`, { token: people.owner.token }), 404, 'NotFound');
  });

  it('refuses an attended run whose definition names a reference that does not exist', async () => {
    const people = await cast();
    const flowId = await sharedFlow(people, {
      name: 'Broken',
      definition: { actions: [{ type: 'connector', connectionReference: 'ghost', operation: 'Send' }] },
    });
    const response = await call('POST', `/flows/${flowId}/runs`, { token: people.owner.token });
    expectProblem(response, 409, 'Conflict');
    expect(response.body.errors).toEqual([
      expect.objectContaining({ code: 'ConnectionReferenceMissing', logicalName: 'ghost' }),
    ]);
  });
});

describe('the cloud-run processor', () => {
  it('makes one run and one dispatch of a request delivered twice', async () => {
    const { people, flowId } = await flowWithReference(2);
    await embed(people, flowId);
    const machine = await registerMachine(people.owner);
    const cloud = await requestCloudRun(people.owner, flowId, machine);
    const tenantId = await tenantOf(people.owner);
    const request = { runId: cloud.body.id, tenantId, flowId };
    await storage.cloudRunRequests.sendMessage(encodeMessage(request));
    await storage.cloudRunRequests.sendMessage(encodeMessage(request));
    expect((await processed(`/runs/${cloud.body.id}`, people.owner.token)).status).toBe('Dispatched');
    await requestsDrained(); // the late deliveries come and go
    expect(await dispatchedTo(machine, tenantId)).toEqual([cloud.body.id]);
    // Leased once: the second lease finds nothing.
    expect((await lease(machine)).body.run.id).toBe(cloud.body.id);
    expect((await lease(machine)).status).toBe(204);
    const history = await call('GET', `/flows/${flowId}/runs`, { token: people.owner.token });
    expect(history.body.value).toHaveLength(1);
  });

  it.each([
    ['after its dispatch was sent', true],
    ['before its dispatch was sent', false],
  ])('finishes a run claimed by a delivery that crashed %s, with exactly one dispatch', async (_when, sent) => {
    const { people, flowId, ownerDb } = await flowWithReference(2);
    await embed(people, flowId);
    const tenantId = await tenantOf(people.owner);
    const machine = await registerMachine(people.owner);
    // A run as a crashed processor leaves it: claimed (long ago), not recorded as dispatched.
    const runId = `${flowId}.01900000-0000-7000-8000-${String(Date.now()).slice(-12)}`;
    const store = new FlowStore(storage);
    const claimedAt = new Date(Date.now() - 10 * 60_000).toISOString();
    await store.commit(tenantId, flowId, [
      {
        kind: 'putRun',
        over: undefined,
        run: {
          tenantId,
          flowId,
          id: runId,
          mode: 'cloud',
          status: 'Dispatching',
          initiatedBy: people.owner.id,
          connections: { db: { connectionId: ownerDb, ownerId: people.owner.id, source: 'embedded' } },
          createdAt: claimedAt,
          claimedAt,
          machineId: machine.id,
        },
      },
    ]);
    const dispatch = { tenantId, flowId, id: runId, initiatedBy: people.owner.id, machineId: machine.id };
    if (sent) await new MachineStore(storage).dispatch(dispatch, claimedAt);
    await storage.cloudRunRequests.sendMessage(encodeMessage({ runId, tenantId, flowId }));
    expect((await processed(`/runs/${runId}`, people.owner.token)).status).toBe('Dispatched');
    expect(await dispatchedTo(machine, tenantId)).toEqual([runId]);
  });

  it("redeems the owner's refresh token once for ten simultaneous readiness checks", async () => {
    const people = await cast();
    const flowId = await sharedFlow(people, {
      name: 'Mailer',
      schemaVersion: 2,
      definition: { actions: [{ type: 'connector', connectionReference: 'mail', operation: 'SendEmail' }] },
    });
    const providerUser = unique('mailbox');
    const mail = await officeConnection(people.owner, providerUser);
    await call('PUT', `/flows/${flowId}/connection-references/mail`, {
      token: people.owner.token,
      body: { connectorId: 'shared_office365', connectionId: mail },
    });
    await call('PATCH', `/flows/${flowId}/connection-references/mail`, {
      token: people.owner.token,
      body: { embedded: true },
    });
    expect(await redemptions(providerUser)).toBe(0);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call('GET', `/flows/${flowId}/cloud-readiness`, {
          token: (i % 2 ? people.coOwner : people.owner).token,
        }),
      ),
    );
    for (const answer of answers) expect(answer.body).toEqual({ ready: true, errors: [] });
    expect(await redemptions(providerUser)).toBe(1);
  });

  it('rejects a run whose embedded connection can no longer be refreshed, and says so on the connection', async () => {
    const people = await cast();
    const flowId = await sharedFlow(people, {
      name: 'Mailer',
      definition: { actions: [{ type: 'connector', connectionReference: 'mail', operation: 'SendEmail' }] },
    });
    const providerUser = unique('mailbox');
    const mail = await officeConnection(people.coOwner, providerUser);
    await call('PUT', `/flows/${flowId}/connection-references/mail`, {
      token: people.coOwner.token,
      body: { connectorId: 'shared_office365', connectionId: mail },
    });
    await call('PATCH', `/flows/${flowId}/connection-references/mail`, {
      token: people.coOwner.token,
      body: { embedded: true },
    });
    expect((await call('GET', `/flows/${flowId}/cloud-readiness`, { token: people.owner.token })).body.ready).toBe(
      true,
    );

    await fetch(`${stack().issuerUrl}/dev/users/${providerUser}/revoke`, { method: 'POST' });
    await letCheckIntervalPass(people.coOwner, mail);
    const cloud = await requestCloudRun(people.owner, flowId, await registerMachine(people.owner));
    const done = await settle(cloud.headers.get('location')!, people.owner.token);
    expect(done).toMatchObject({
      status: 'Rejected',
      errors: [expect.objectContaining({ code: 'ConnectionUnavailable', logicalName: 'mail' })],
    });
    const connection = await call('GET', `/connections/${mail}`, { token: people.coOwner.token });
    expect(connection.body).toMatchObject({ status: 'Error', statusReason: 'reauthRequired' });
    const readiness = await call('GET', `/flows/${flowId}/cloud-readiness`, { token: people.coOwner.token });
    expect(readiness.body.errors).toEqual([
      expect.objectContaining({ code: 'ConnectionUnavailable', logicalName: 'mail' }),
    ]);
  });

  it('marks a run Failed when its request keeps failing, and leaves the request in the poison queue', async () => {
    const people = await cast();
    // A definition large enough to live in a blob, which then goes missing: every attempt fails.
    const big = { actions: [{ type: 'note', text: 'x'.repeat(40_000) }] };
    const flowId = await sharedFlow(people, { name: 'Doomed', definition: big });
    for await (const blob of storage.definitions.listBlobsFlat()) {
      if (blob.name.includes(flowId)) await storage.definitions.deleteBlob(blob.name);
    }
    const cloud = await requestCloudRun(people.owner, flowId, await registerMachine(people.owner));
    const done = await settle(cloud.headers.get('location')!, people.owner.token);
    expect(done).toMatchObject({ status: 'Failed', errors: [expect.objectContaining({ code: 'ProcessingFailed' })] });
    const poisonQueue = QueueServiceClient.fromConnectionString(stack().storageConnectionString).getQueueClient(
      'cloud-run-requests-poison',
    );
    const { peekedMessageItems } = await poisonQueue.peekMessages({ numberOfMessages: 32 });
    expect(peekedMessageItems.map((m) => (decodeMessage(m.messageText) as Body).runId)).toContain(cloud.body.id);
  }, 60_000);

  it('never hands an executor a secret: not in a lease, not on the queue', async () => {
    const secretKey = `secret-${unique('key')}`;
    const people = await cast();
    const flowId = await sharedFlow(people, {
      name: 'Keys',
      definition: { actions: [{ type: 'connector', connectionReference: 'db', operation: 'ExecuteQuery' }] },
    });
    const db = (
      await call('POST', '/connections', {
        token: people.owner.token,
        body: { connectorId: 'shared_sql', displayName: 'K', apiKey: secretKey },
      })
    ).body.id;
    await call('PUT', `/flows/${flowId}/connection-references/db`, {
      token: people.owner.token,
      body: { connectorId: 'shared_sql', connectionId: db },
    });
    await embed(people, flowId);
    const machine = await registerMachine(people.owner);
    const attended = await call('POST', `/flows/${flowId}/runs`, { token: people.owner.token });
    const { peekedMessageItems } = await storage.cloudRunRequests.peekMessages({ numberOfMessages: 32 });
    const cloud = await requestCloudRun(people.owner, flowId, machine);
    await processed(cloud.headers.get('location')!, people.owner.token);
    const leased = await leaseNext(machine);
    expect(leased.run.id).toBe(cloud.body.id);
    const handedOut = JSON.stringify([attended.body, leased, peekedMessageItems.map((m) => m.messageText)]);
    expect(handedOut).not.toContain(secretKey);
    expect(handedOut).not.toContain(Buffer.from(secretKey).toString('base64'));
  });
});

/**
 * A connection checked within CHECK_INTERVAL_MS answers its recorded status;
 * the host's clock cannot be moved, so the last check is dated back instead.
 */
async function letCheckIntervalPass(owner: Person, connectionId: string): Promise<void> {
  const checkedAt = new Date(Date.now() - CHECK_INTERVAL_MS - 1_000).toISOString();
  await storage.connections.updateEntity(
    {
      partitionKey: principalPartitionKey(await tenantOf(owner), owner.id),
      rowKey: `conn|${connectionId}`,
      checkedAt,
    },
    'Merge',
  );
}

/** The tenant a person's token names. */
async function tenantOf(who: Person): Promise<string> {
  const payload = JSON.parse(Buffer.from(who.token.split('.')[1]!, 'base64url').toString('utf8')) as { tid: string };
  return payload.tid;
}

describe('references named like object built-ins', () => {
  // A logical name is any id; these are also names every plain JS object answers to.
  it.each(['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'])(
    'a reference named %s prompts, runs attended (picked or not) and runs in the cloud',
    async (name) => {
      const people = await cast();
      const flowId = await sharedFlow(people, {
        name: 'Built-ins',
        schemaVersion: 2,
        definition: { actions: [{ type: 'connector', connectionReference: name, operation: 'ExecuteQuery' }] },
      });
      const ownerDb = await sqlConnection(people.owner);
      const bound = await call('PUT', `/flows/${flowId}/connection-references/${name}`, {
        token: people.owner.token,
        body: { connectorId: 'shared_sql', connectionId: ownerDb },
      });
      expect(bound.status).toBe(201);
      const embedded = await call('PATCH', `/flows/${flowId}/connection-references/${name}`, {
        token: people.owner.token,
        body: { embedded: true },
      });
      expect(embedded.status).toBe(200);
      const coDb = await sqlConnection(people.coOwner);
      const userDb = await sqlConnection(people.user);
      const only = (id: string) => ({ [name]: id });

      const coPrompt = await call('GET', `/flows/${flowId}/run-prompt`, { token: people.coOwner.token });
      expect(coPrompt.status).toBe(200);
      expect(coPrompt.body.value).toEqual([
        {
          logicalName: name,
          connectorId: 'shared_sql',
          embedded: true,
          candidates: [
            expect.objectContaining({ id: ownerDb, source: 'embedded' }),
            expect.objectContaining({ id: coDb, source: 'own' }),
          ],
          defaultConnectionId: ownerDb,
        },
      ]);
      const userPrompt = await call('GET', `/flows/${flowId}/run-prompt`, { token: people.user.token });
      expect(userPrompt.body.value).toEqual([
        expect.objectContaining({ logicalName: name, defaultConnectionId: userDb }),
      ]);

      // Attended, with the default and with an explicit pick, by a co-owner and by a user.
      for (const [who, body, expected] of [
        [people.coOwner, undefined, ownerDb],
        [people.coOwner, { connections: only(coDb) }, coDb],
        [people.user, undefined, userDb],
        [people.user, { connections: only(userDb) }, userDb],
      ] as const) {
        const run = await call('POST', `/flows/${flowId}/runs`, { token: who.token, ...(body ? { body } : {}) });
        expect(run.status, run.text).toBe(201);
        expect(run.body.run.status).toBe('Running');
        expect(run.body.run.connections).toEqual(only(expected));
        expect(run.body.references).toEqual([{ logicalName: name, connectorId: 'shared_sql' }]);
        expect((await call('GET', `/runs/${run.body.run.id}`, { token: who.token })).body.connections).toEqual(
          only(expected),
        );
      }

      // In the cloud, on the embedded connection, leased by the co-owner's machine.
      const machine = await registerMachine(people.coOwner);
      const cloud = await requestCloudRun(people.coOwner, flowId, machine);
      expect(cloud.status).toBe(202);
      const done = await processed(cloud.headers.get('location')!, people.owner.token);
      expect(done).toMatchObject({ status: 'Dispatched' });
      expect(done.connections).toEqual(only(ownerDb));
      const leased = await leaseNext(machine);
      expect(leased.run.connections).toEqual(only(ownerDb));
      expect(leased.references).toEqual([{ logicalName: name, connectorId: 'shared_sql' }]);
      const history = await call('GET', `/flows/${flowId}/runs`, { token: people.owner.token });
      expect(history.body.value.map((r: Body) => r.connections)).toContainEqual(only(ownerDb));
    },
  );
});

describe('the cloud-run processor, one reason at a time', () => {
  // A flow a cloud run can run: schema v2, its one reference `db` embedded and
  // bound to the owner's Connected connection, its definition naming only `db`.
  // Each case takes exactly one of these away, so the processor (not only
  // readiness, which shares its rules) must reject the run for that reason alone.
  interface Flaw {
    schemaVersion: 1 | 2;
    definitionNames: string[];
    embedded: boolean;
    connectionGone: boolean;
  }
  const ready: Flaw = { schemaVersion: 2, definitionNames: ['db'], embedded: true, connectionGone: false };

  async function cloudRunOf(flaw: Flaw) {
    const people = await cast();
    const flowId = await sharedFlow(people, {
      name: 'Nightly',
      schemaVersion: flaw.schemaVersion,
      definition: {
        actions: flaw.definitionNames.map((name) => ({
          type: 'connector',
          connectionReference: name,
          operation: 'ExecuteQuery',
        })),
      },
    });
    const db = await sqlConnection(people.owner);
    const bound = await call('PUT', `/flows/${flowId}/connection-references/db`, {
      token: people.owner.token,
      body: { connectorId: 'shared_sql', connectionId: db },
    });
    expect(bound.status).toBe(201);
    if (flaw.embedded) await embed(people, flowId);
    if (flaw.connectionGone) {
      // Gone behind the service's back: deleting it through the API would unembed it first.
      await storage.connections.deleteEntity(
        principalPartitionKey(await tenantOf(people.owner), people.owner.id),
        `conn|${db}`,
      );
    }
    const readiness = await call('GET', `/flows/${flowId}/cloud-readiness`, { token: people.owner.token });
    const machine = await registerMachine(people.owner);
    const cloud = await requestCloudRun(people.owner, flowId, machine);
    expect(cloud.status).toBe(202);
    const run = await processed(cloud.headers.get('location')!, people.owner.token);
    return { readiness: readiness.body, run, dispatches: await dispatchedTo(machine, await tenantOf(people.owner)) };
  }

  it.concurrent.for([
    ['dispatches a flow that is ready', ready, []],
    ['rejects a flow whose only flaw is schema v1', { ...ready, schemaVersion: 1 }, [{ code: 'FlowSchemaNotV2' }]],
    [
      'rejects a flow whose only flaw is a definition naming a reference that does not exist',
      { ...ready, definitionNames: ['db', 'ghost'] },
      [{ code: 'ConnectionReferenceMissing', logicalName: 'ghost' }],
    ],
    [
      'rejects a flow whose only flaw is a reference not embedded',
      { ...ready, embedded: false },
      [{ code: 'ConnectionReferenceNotEmbedded', logicalName: 'db' }],
    ],
    [
      'rejects a flow whose only flaw is an embedded connection that is gone',
      { ...ready, connectionGone: true },
      [{ code: 'ConnectionUnavailable', logicalName: 'db' }],
    ],
  ] as [string, Flaw, Body[]][])('%s', async ([, flaw, reasons], { expect }) => {
    const { readiness, run, dispatches } = await cloudRunOf(flaw);
    const errors = reasons.map((reason) => ({ ...reason, detail: expect.any(String) }));
    expect(readiness).toEqual({ ready: reasons.length === 0, errors });
    if (reasons.length === 0) {
      expect(run).toMatchObject({ status: 'Dispatched', connections: { db: expect.any(String) } });
      expect(dispatches).toHaveLength(1);
    } else {
      expect(run.status).toBe('Rejected');
      expect(run.errors).toEqual(errors);
      expect(dispatches).toEqual([]);
    }
  });
});

describe('the run prompt', () => {
  it("offers a person's compatible connections oldest first, and runs on the oldest by default", async () => {
    const { people, flowId } = await flowWithReference(2);
    // The reference is not embedded: makers and users alike are offered their own connections.
    for (const who of [people.user, people.coOwner]) {
      // Named against creation order, so that sorting by name would show.
      const oldest = await sqlConnection(who, 'Zeta DB');
      const newest = await sqlConnection(who, 'Alpha DB');
      const prompt = await call('GET', `/flows/${flowId}/run-prompt`, { token: who.token });
      expect(prompt.status).toBe(200);
      expect(prompt.body.value).toEqual([
        {
          logicalName: 'db',
          connectorId: 'shared_sql',
          embedded: false,
          candidates: [
            { id: oldest, displayName: 'Zeta DB', status: 'Connected', source: 'own' },
            { id: newest, displayName: 'Alpha DB', status: 'Connected', source: 'own' },
          ],
          defaultConnectionId: oldest,
        },
      ]);
      const run = await call('POST', `/flows/${flowId}/runs`, { token: who.token });
      expect(run.status).toBe(201);
      expect(run.body.run).toMatchObject({ status: 'Running', connections: { db: oldest } });
    }
  });
});
