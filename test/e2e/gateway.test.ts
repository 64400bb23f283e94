// Runs that run: connector calls through the gateway with a run's token, over
// HTTP against the local providers. The executor (a plain HTTP client here)
// never holds a connection's secret; every call checks the sharing rules
// again, so a change mid-run stops the very next call.
import { describe, expect, it } from 'vitest';
import { complete, leaseNext, registerMachine, succeeded } from '../support/machines';
import { DEV_CLIENTS } from '../../dev/devConnectors';
import { mailbox, received, setTokenLifetime } from '../support/providers';
import { call, expectProblem, stack, unique, type Body } from '../support/stack';
import { consentedConnection } from './oauthConnections';
import { cast, sharedFlow, type Cast, type Person } from './people';

/** A v2 flow that sends mail through reference `mail`, bound to the owner's connection. */
async function mailFlow(
  embedded: boolean,
): Promise<{ people: Cast; flowId: string; owner: { id: string; providerUser: string } }> {
  const people = await cast();
  const flowId = await sharedFlow(people, {
    name: 'Mailer',
    schemaVersion: 2,
    definition: { actions: [{ type: 'connector', connectionReference: 'mail', operation: 'SendEmail' }] },
  });
  const owner = await consentedConnection(people.owner);
  const ref = `/flows/${flowId}/connection-references/mail`;
  await call('PUT', ref, {
    token: people.owner.token,
    body: { connectorId: 'shared_office365', connectionId: owner.id },
  });
  if (embedded) await call('PATCH', ref, { token: people.owner.token, body: { embedded: true } });
  return { people, flowId, owner };
}

function send(runId: string, token: string, to: string, subject = unique('subject')) {
  return call('POST', `/runs/${runId}/connector-calls`, {
    token,
    body: { connectionReference: 'mail', operationId: 'SendEmail', parameters: { to, subject, body: 'Hello' } },
  });
}

/** An attended run of `who`: its lease, as the console that asked gets it. */
async function attended(who: Person, flowId: string, connections?: Record<string, string>): Promise<Body> {
  const started = await call('POST', `/flows/${flowId}/runs`, {
    token: who.token,
    body: connections ? { connections } : {},
  });
  expect(started.status, started.text).toBe(201);
  return started.body;
}

describe('an attended run', () => {
  it("sends a run-only user's mail as their own provider account", async () => {
    const { people, flowId } = await mailFlow(true);
    const mine = await consentedConnection(people.user);
    const lease = await attended(people.user, flowId);
    const recipient = unique('recipient');
    const subject = unique('subject');
    const sent = await send(lease.run.id, lease.token, recipient, subject);
    expect(sent.status, sent.text).toBe(200);
    expect(sent.body.status).toBeLessThan(300);
    const [mail] = (await mailbox(recipient)).filter((m) => m.subject === subject);
    expect(mail).toMatchObject({ from: mine.providerUser, to: recipient, body: 'Hello' });
  });

  it("sends a co-owner's mail through an embedded reference as the reference owner's account", async () => {
    const { people, flowId, owner } = await mailFlow(true);
    const lease = await attended(people.coOwner, flowId);
    const recipient = unique('recipient');
    const subject = unique('subject');
    expect((await send(lease.run.id, lease.token, recipient, subject)).status).toBe(200);
    const [mail] = (await mailbox(recipient)).filter((m) => m.subject === subject);
    expect(mail?.from).toBe(owner.providerUser);
    // And the provider saw that account, never flowshare's own, and no credential left flowshare but to it.
    const calls = (await received('office365')).filter(
      (r) => r.operation === 'SendEmail' && r.identity.kind === 'user',
    );
    expect(calls.at(-1)?.identity).toMatchObject({ user: owner.providerUser });
  });

  it.each([
    ['the reference is unembedded', 'ConnectionNotAllowed'],
    ['the co-owner is removed', 'ConnectionNotAllowed'],
    ['the co-owner becomes a user', 'ConnectionNotAllowed'],
    ['the connection is deleted', 'ConnectionNotAllowed'],
  ] as const)('stops at the very next call when, mid-run, %s', async (change, code) => {
    const { people, flowId, owner } = await mailFlow(true);
    const lease = await attended(people.coOwner, flowId);
    expect((await send(lease.run.id, lease.token, unique('r'))).status).toBe(200);
    const ref = `/flows/${flowId}/connection-references/mail`;
    switch (change) {
      case 'the reference is unembedded':
        await call('PATCH', ref, { token: people.owner.token, body: { embedded: false } });
        break;
      case 'the co-owner is removed':
        await call('DELETE', `/flows/${flowId}/permissions/${people.coOwner.id}`, { token: people.owner.token });
        break;
      case 'the co-owner becomes a user':
        await call('PUT', `/flows/${flowId}/permissions/${people.coOwner.id}`, {
          token: people.owner.token,
          body: { role: 'user' },
        });
        break;
      case 'the connection is deleted':
        expect(
          (await call('DELETE', `/connections/${owner.id}?force=true`, { token: people.owner.token })).status,
        ).toBe(204);
        break;
    }
    expectProblem(await send(lease.run.id, lease.token, unique('r')), 403, code);
  });

  it('says so when the provider revoked the grant, and the connection is Error for its owner', async () => {
    // Access tokens that are due at once: the next call must redeem the grant.
    await setTokenLifetime(DEV_CLIENTS.office365, 1);
    let setup: Awaited<ReturnType<typeof mailFlow>>;
    try {
      setup = await mailFlow(true);
    } finally {
      await setTokenLifetime(DEV_CLIENTS.office365, null);
    }
    const { people, flowId, owner } = setup;
    const lease = await attended(people.coOwner, flowId);
    await fetch(`${stack().issuerUrl}/dev/users/${owner.providerUser}/revoke`, { method: 'POST' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expectProblem(await send(lease.run.id, lease.token, unique('r')), 409, 'ConnectionReauthRequired');
    const read = await call('GET', `/connections/${owner.id}`, { token: people.owner.token });
    expect(read.body).toMatchObject({ status: 'Error', statusReason: 'reauthRequired' });
    // From then on the connection is not Connected: refused before anything is asked of the provider.
    expectProblem(await send(lease.run.id, lease.token, unique('r')), 403, 'ConnectionNotAllowed');
  });

  it('refuses a person’s token, a machine key, another run’s token and a finished run’s token', async () => {
    const { people, flowId } = await mailFlow(true);
    const first = await attended(people.coOwner, flowId);
    const second = await attended(people.coOwner, flowId);
    const machine = await registerMachine(people.owner);
    expectProblem(await send(first.run.id, people.coOwner.token, 'x'), 401, 'Unauthenticated');
    expectProblem(await send(first.run.id, machine.key, 'x'), 401, 'Unauthenticated');
    expectProblem(await send(first.run.id, second.token, 'x'), 401, 'Unauthenticated');
    expect((await complete(first.run.id, first.token, { status: 'Succeeded', actions: [succeeded()] })).status).toBe(
      200,
    );
    expectProblem(await send(first.run.id, first.token, 'x'), 409, 'RunEnded');
  });

  it('checks the reference and the parameters before any secret is opened', async () => {
    const { people, flowId } = await mailFlow(true);
    const lease = await attended(people.coOwner, flowId);
    const before = (await received('office365')).length;
    const path = `/runs/${lease.run.id}/connector-calls`;
    const bad = [
      { connectionReference: 'nope', operationId: 'SendEmail', parameters: {} },
      { connectionReference: 'mail', operationId: 'DeleteEverything', parameters: {} },
      { connectionReference: 'mail', operationId: 'SendEmail', parameters: { to: 1, extra: true } },
    ];
    for (const body of bad)
      expectProblem(await call('POST', path, { token: lease.token, body }), 400, 'ValidationFailed');
    expect((await received('office365')).length).toBe(before);
  });
});

describe('a cloud run', () => {
  it('leased by a registered machine calls through embedded connections, completes, and its outputs reach GET /runs/{id}', async () => {
    const { people, flowId, owner } = await mailFlow(true);
    const machine = await registerMachine(people.owner);
    const requested = await call('POST', `/flows/${flowId}/cloud-runs`, {
      token: people.owner.token,
      body: { machineId: machine.id, inputs: { to: unique('recipient') } },
    });
    expect(requested.status, requested.text).toBe(202);
    const lease = await leaseNext(machine);
    expect(lease.run.id).toBe(requested.body.id);
    const to = lease.inputs.to as string;
    const sent = await send(lease.run.id, lease.token, to, 'Nightly');
    expect(sent.status, sent.text).toBe(200);
    expect((await mailbox(to)).map((m) => m.from)).toEqual([owner.providerUser]);
    const done = await complete(lease.run.id, lease.token, {
      status: 'Succeeded',
      outputs: { delivered: 1 },
      actions: [succeeded('Send the mail')],
    });
    expect(done.status).toBe(200);
    const read = await call('GET', `/runs/${lease.run.id}`, { token: people.owner.token });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      status: 'Succeeded',
      outputs: { delivered: 1 },
      actions: [expect.objectContaining({ name: 'Send the mail', status: 'Succeeded' })],
    });
  });
});
