// Design-time calls through the gateway, over HTTP against the local
// providers: a maker tries a read through a reference with the reference's
// connection, theirs or embedded; everyone else is refused as the rules say;
// access tokens are renewed once however many calls wait, rotated refresh
// tokens are kept, redirects are not followed and paths cannot be escaped.
import { describe, expect, it } from 'vitest';
import { DEV_CLIENTS } from '../../dev/devConnectors';
import { mailbox, received, setTokenLifetime, tokenRequestCounts } from '../support/providers';
import { signedIn } from '../support/browser';
import { call, expectProblem, stack, unique } from '../support/stack';
import { consentedConnection } from './oauthConnections';
import { cast, sharedFlow, type Cast, type Person } from './people';

/** A flow whose `mail` reference is bound to the owner's Office 365 connection. */
async function flowWithMail(
  embedded = false,
): Promise<{ people: Cast; flowId: string; owner: { id: string; providerUser: string } }> {
  const people = await cast();
  const flowId = await sharedFlow(people, {
    name: 'Mailer',
    definition: { actions: [{ type: 'connector', connectionReference: 'mail', operation: 'SendEmail' }] },
  });
  const owner = await consentedConnection(people.owner);
  const ref = `/flows/${flowId}/connection-references/mail`;
  expect(
    (
      await call('PUT', ref, {
        token: people.owner.token,
        body: { connectorId: 'shared_office365', connectionId: owner.id },
      })
    ).status,
  ).toBe(201);
  if (embedded)
    expect((await call('PATCH', ref, { token: people.owner.token, body: { embedded: true } })).status).toBe(200);
  return { people, flowId, owner };
}

function tryRead(who: Person, flowId: string, body: unknown = { operationId: 'GetMyProfile' }, name = 'mail') {
  return call('POST', `/flows/${flowId}/connection-references/${name}/calls`, { token: who.token, body });
}

describe('a design-time call', () => {
  it("goes through the reference owner's connection, as their provider account", async () => {
    const { people, flowId, owner } = await flowWithMail();
    const answer = await tryRead(people.owner, flowId);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 200, body: expect.objectContaining({}) });
    const calls = (await received('office365')).filter(
      (r) => r.identity.kind === 'user' && r.identity.user === owner.providerUser,
    );
    expect(calls.at(-1)).toMatchObject({ operation: 'GetMyProfile', status: 200 });
  });

  it('acts as the account a reauthorized connection consented as, from the first call after the consent', async () => {
    const { people, flowId, owner } = await flowWithMail();
    const before = await tryRead(people.owner, flowId);
    expect(before.body).toMatchObject({ status: 200, body: { id: owner.providerUser } });
    const reauthorized = await call('POST', `/connections/${owner.id}/reauthorize`, { token: people.owner.token });
    expect(reauthorized.status, reauthorized.text).toBe(200);
    const another = unique(`${people.owner.id}-another`);
    const browser = await signedIn(people.owner.id);
    expect((await browser.consent(reauthorized.body.consentUrl, another)).status).toBe(200);
    // The access token remembered for the old grant is not the new grant's: it is never used again.
    const after = await tryRead(people.owner, flowId);
    expect(after.body).toMatchObject({ status: 200, body: { id: another } });
  });

  it("lends an embedded reference's connection to another co-owner, and not before it is embedded", async () => {
    const { people, flowId, owner } = await flowWithMail();
    expectProblem(await tryRead(people.coOwner, flowId), 403, 'ConnectionNotAllowed');
    await call('PATCH', `/flows/${flowId}/connection-references/mail`, {
      token: people.owner.token,
      body: { embedded: true },
    });
    const answer = await tryRead(people.coOwner, flowId, { operationId: 'ListEmails' });
    expect(answer.status).toBe(200);
    const calls = (await received('office365')).filter((r) => r.operation === 'ListEmails');
    expect(calls.at(-1)?.identity).toMatchObject({ kind: 'user', user: owner.providerUser });
  });

  it('is refused to a run-only user, a stranger, another tenant and nobody, as the rules say', async () => {
    const { people, flowId } = await flowWithMail(true);
    expectProblem(await tryRead(people.user, flowId), 403, 'Forbidden');
    expectProblem(await tryRead(people.stranger, flowId), 404, 'NotFound');
    expectProblem(await tryRead(people.otherTenant, flowId), 404, 'NotFound');
    expectProblem(
      await call('POST', `/flows/${flowId}/connection-references/mail/calls`, {
        body: { operationId: 'GetMyProfile' },
      }),
      401,
      'Unauthenticated',
    );
    expectProblem(await tryRead(people.owner, flowId, { operationId: 'GetMyProfile' }, 'nope'), 404, 'NotFound');
  });

  it('tries reads only, and checks the parameters before anything is opened', async () => {
    const { people, flowId } = await flowWithMail();
    const before = (await received('office365')).length;
    const write = await tryRead(people.owner, flowId, {
      operationId: 'SendEmail',
      parameters: { to: 'x', subject: 's', body: 'b' },
    });
    expectProblem(write, 400, 'ValidationFailed');
    expect(write.body.errors).toEqual([{ field: 'operationId', detail: expect.stringContaining('read') }]);
    const unknown = await tryRead(people.owner, flowId, { operationId: 'Nope' });
    expectProblem(unknown, 400, 'ValidationFailed');
    const bad = await tryRead(people.owner, flowId, {
      operationId: 'ListEmails',
      parameters: { top: 'ten', extra: 1 },
    });
    expectProblem(bad, 400, 'ValidationFailed');
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'parameters.extra',
      'parameters.top',
    ]);
    expect((await received('office365')).length).toBe(before);
  });

  it('says so when the provider revoked the grant, and the connection is Error for its owner', async () => {
    const { people, flowId, owner } = await flowWithMail();
    // Tokens the provider gave earlier are still valid: revoke, then make the access token due.
    await fetch(`${stack().issuerUrl}/dev/users/${owner.providerUser}/revoke`, { method: 'POST' });
    await setTokenLifetime(DEV_CLIENTS.office365, null);
    const refreshed = await call('POST', `/connections/${owner.id}/refresh`, { token: people.owner.token });
    expect(refreshed.body).toMatchObject({ status: 'Error', statusReason: 'reauthRequired' });
    expectProblem(await tryRead(people.owner, flowId), 403, 'ConnectionNotAllowed');
  });
});

describe('access tokens', () => {
  it('are renewed once for twenty calls that find one expired, and the rotated refresh token is kept', async () => {
    // Tokens that expire at once: every one the connection holds is due.
    await setTokenLifetime(DEV_CLIENTS.office365, 1);
    let setup: Awaited<ReturnType<typeof flowWithMail>>;
    try {
      setup = await flowWithMail();
    } finally {
      await setTokenLifetime(DEV_CLIENTS.office365, null);
    }
    const { people, flowId, owner } = setup;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const before = (await tokenRequestCounts(owner.providerUser)).byClient[DEV_CLIENTS.office365]!;
    const answers = await Promise.all(Array.from({ length: 20 }, () => tryRead(people.owner, flowId)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const after = (await tokenRequestCounts(owner.providerUser)).byClient[DEV_CLIENTS.office365]!;
    expect(after.refresh_token - before.refresh_token).toBe(1);
    expect(after.refused).toBe(before.refused);
    // The provider rotated the refresh token: only the new one works, so a check now proves it was kept.
    const refreshed = await call('POST', `/connections/${owner.id}/refresh`, { token: people.owner.token });
    expect(refreshed.body).toMatchObject({ status: 'Connected' });
  });
});

/** A flow whose `files` reference is bound to the owner's SharePoint connection. */
async function filesFlow(): Promise<{ people: Cast; flowId: string }> {
  const people = await cast();
  const flowId = await sharedFlow(people, { name: 'Files' });
  const sites = await consentedConnection(people.owner, 'shared_sharepointonline');
  await call('PUT', `/flows/${flowId}/connection-references/files`, {
    token: people.owner.token,
    body: { connectorId: 'shared_sharepointonline', connectionId: sites.id },
  });
  return { people, flowId };
}

describe('egress', () => {
  it("answers a provider's redirect as it is, and the credential never goes where it points", async () => {
    const { people, flowId } = await filesFlow();
    const answer = await tryRead(
      people.owner,
      flowId,
      { operationId: 'GetFileContent', parameters: { list: 'Documents', file: 'report.txt' } },
      'files',
    );
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe(302);
    const downloads = await received('download');
    expect(downloads.filter((d) => d.authorizationSent)).toEqual([]);
  });

  it('keeps a path value that tries to climb or leave in its one segment', async () => {
    const { people, flowId } = await filesFlow();
    for (const list of ['../../office365/v1.0/me', 'https://evil.example/x', '..']) {
      const answer = await tryRead(people.owner, flowId, { operationId: 'GetItems', parameters: { list } }, 'files');
      if (list === '..') {
        expectProblem(answer, 400, 'ValidationFailed');
        continue;
      }
      expect(answer.status).toBe(200);
      const last = (await received('sharepoint')).at(-1)!;
      expect(last.operation).toBe('GetItems');
      expect(last.path).toContain(encodeURIComponent(list));
    }
    expect(await mailbox('nobody')).toEqual([]);
  });
});
