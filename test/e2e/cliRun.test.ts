// `flowshare run` without a terminal, against the local stack and its
// providers (docs/cli.md): the defaults taken, a reference without one
// refused before the run starts, a run-only user's mail sent from their own
// provider account, a co-owner's run on the embedded connection, the exit
// codes, and no connection secret in anything the command prints or writes.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signedIn } from '../support/browser';
import { cli, expectNoConnectionSecret, filesUnder, login, startCli, tempHome } from '../support/cli';
import { mailbox, sqlConnection, sqlRows, tokenRequestCounts } from '../support/providers';
import { call, stack, unique, type Body } from '../support/stack';
import { cast, sharedFlow, type Person } from './people';

/** A flow that writes a row to `ledger` and answers how many rows it now holds. */
const ledger = {
  inputs: { entry: { type: 'string', required: true } },
  actions: [
    {
      name: 'Write',
      type: 'connector',
      connectionReference: 'db',
      operation: 'ExecuteQuery',
      parameters: { query: "INSERT INTO ledger (entry) VALUES ('@{inputs.entry}')" },
    },
    {
      name: 'Read',
      type: 'connector',
      connectionReference: 'db',
      operation: 'ExecuteQuery',
      parameters: { query: 'SELECT * FROM ledger' },
    },
    { type: 'output', output: 'rows', value: '@{actions.Read.body.rows.length}' },
  ],
};

async function ledgerFlow() {
  const people = await cast();
  const flowId = await sharedFlow(people, { name: unique('Ledger'), definition: ledger });
  const ownerDb = await sqlConnection(people.owner, 'My DB');
  await call('PUT', `/flows/${flowId}/connection-references/db`, {
    token: people.owner.token,
    body: { connectorId: 'shared_sql', connectionId: ownerDb.id },
  });
  return { people, flowId, ownerDb };
}

describe('flowshare login', () => {
  it('renews an expired access token with its refresh token, which the issuer rotates', async () => {
    const { people } = await ledgerFlow();
    const home = tempHome();
    await login(home, people.user.id);
    const file = `${home}/.config/flowshare/sessions.json`;
    const before = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Body>;
    const session = before[stack().apiUrl];
    expect(session).toMatchObject({ kind: 'local', user: people.user.id });
    writeFileSync(file, JSON.stringify({ [stack().apiUrl]: { ...session, expiresAt: Date.now() - 1_000 } }));
    const listed = await cli(['flows', '--json'], { home });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).value).toHaveLength(1);
    const after = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Body>)[stack().apiUrl];
    expect(after.refreshToken).not.toBe(session.refreshToken);
    expect(after.expiresAt).toBeGreaterThan(Date.now());
    expect((await tokenRequestCounts(people.user.id)).byClient['flowshare-cli']).toMatchObject({
      authorization_code: 1,
      refresh_token: 1,
    });
  });
});

describe('flowshare run without a terminal', () => {
  it("takes each reference's default: a user's oldest own connection", async () => {
    const { people, flowId, ownerDb } = await ledgerFlow();
    const older = await sqlConnection(people.user, 'Older');
    const newer = await sqlConnection(people.user, 'Newer');
    const home = tempHome();
    await login(home, people.user.id);
    const result = await cli(['run', flowId, '--input', 'entry=first'], { home });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Succeeded +Write \(\d+ ms\)/);
    expect(result.stdout).toMatch(/Run Succeeded in /);
    expect(result.stdout).toContain('rows: 1');
    expect(await sqlRows(older.key, 'ledger')).toEqual([{ entry: 'first' }]);
    expect(await sqlRows(newer.key, 'ledger')).toEqual([]);
    expect(await sqlRows(ownerDb.key, 'ledger')).toEqual([]);

    // --connection picks another; --json answers the run for a program.
    const json = await cli(['run', flowId, '--input', 'entry=second', '--connection', `db=${newer.id}`, '--json'], {
      home,
    });
    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout) as Body;
    expect(answer).toMatchObject({
      flowId,
      started: true,
      run: { status: 'Succeeded' },
      outputs: { rows: 1 },
      exitCode: 0,
    });
    expect(answer.actions.map((a: Body) => `${a.name} ${a.status}`)).toEqual([
      'Write Succeeded',
      'Read Succeeded',
      'output_3 Succeeded',
    ]);
    const run = await call('GET', `/runs/${answer.run.id}`, { token: people.user.token });
    expect(run.body).toMatchObject({ status: 'Succeeded', connections: { db: newer.id }, outputs: { rows: 1 } });
    expect(await sqlRows(newer.key, 'ledger')).toEqual([{ entry: 'second' }]);

    // The sign-in is kept owner-only, and nothing else is written.
    const written = filesUnder(home);
    expect(written.map((f) => f.path)).toEqual([`${home}/.config/flowshare/sessions.json`]);
    expect(written[0]!.mode & 0o777).toBe(0o600);
    expect(statSync(`${home}/.config/flowshare`).mode & 0o777).toBe(0o700);
    await expectNoConnectionSecret([
      ...written.map((f) => ({ where: f.path, text: f.text })),
      { where: 'what it printed', text: result.stdout + result.stderr + json.stdout + json.stderr },
    ]);

    // Signed out, the sign-in is gone from the disk, and the next run asks for one (exit 4).
    expect((await cli(['logout'], { home })).stdout).toContain('Signed out');
    expect(filesUnder(home)).toEqual([]);
    expect((await cli(['run', flowId, '--input', 'entry=third'], { home })).code).toBe(4);
  });

  it('refuses before the run starts when a reference has no connection, listing it (exit 3)', async () => {
    const { people, flowId } = await ledgerFlow();
    const home = tempHome();
    await login(home, people.user.id);
    const result = await cli(['run', flowId, '--input', 'entry=x', '--json'], { home });
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toEqual({
      flowId,
      started: false,
      missing: [{ logicalName: 'db', connectorId: 'shared_sql' }],
    });
    expect(result.stderr).toContain('db (shared_sql)');
    const history = await call('GET', `/flows/${flowId}/runs`, { token: people.owner.token });
    expect(history.body.value).toEqual([]);
  });

  it('ends with a documented exit code for each way it can end', async () => {
    const { people, flowId } = await ledgerFlow();
    const home = tempHome();
    const notSignedIn = await cli(['run', flowId], { home });
    expect(notSignedIn.code).toBe(4);
    expect(notSignedIn.stderr).toContain('flowshare login');
    expect((await cli(['run'], { home })).code).toBe(2);
    expect((await cli(['flows', '--colour'], { home })).code).toBe(2);
    expect((await cli(['run', flowId, '--input', 'entry'], { home })).code).toBe(2);
    // A token given as it is (FLOWSHARE_TOKEN), for an API nothing listens at.
    const unreachable = await cli(['flows'], {
      home,
      env: { FLOWSHARE_API: 'http://127.0.0.1:9/api', FLOWSHARE_TOKEN: people.owner.token },
    });
    expect(unreachable.code).toBe(5);

    await login(home, people.owner.id);
    expect((await cli(['run', flowId, '--input', 'nothing=1'], { home })).code).toBe(2);
    const failing = await call('POST', '/flows', {
      token: people.owner.token,
      body: { name: unique('Fails'), definition: { actions: [{ type: 'fail', code: 'Nope', message: 'as planned' }] } },
    });
    const failed = await cli(['run', failing.body.id], { home });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('Nope: as planned');
  });
});

/** An Office 365 connection made with `flowshare connections add`, its consent given in `who`'s browser. */
async function mailConnection(home: string, who: Person): Promise<string> {
  const mailboxUser = unique(`${who.id}-mailbox`);
  const adding = startCli(['connections', 'add', 'shared_office365', '--name', 'My mail'], { home });
  await adding.waitFor(/\/consent\s/);
  const consentUrl = /(http\S+\/consent)\s/.exec(adding.stdout)![1]!;
  const browser = await signedIn(who.id);
  expect((await browser.consent(consentUrl, mailboxUser)).status).toBe(200);
  const added = await adding.ended;
  expect(added.code, added.stdout + added.stderr).toBe(0);
  expect(added.stdout).toContain(`Connected as ${mailboxUser}`);
  return mailboxUser;
}

describe('a shared flow that sends mail', () => {
  const mailer = {
    inputs: { to: { type: 'string', required: true } },
    actions: [
      {
        name: 'Send',
        type: 'connector',
        connectionReference: 'mail',
        operation: 'SendEmail',
        parameters: { to: '@{inputs.to}', subject: 'Report for @{inputs.to}', body: 'Sent by flowshare' },
      },
    ],
  };

  it("sends a run-only user's mail from their own account, and a co-owner's from the embedded one", async () => {
    const people = await cast();
    const flowId = await sharedFlow(people, { name: unique('Mailer'), definition: mailer });
    const homes = { owner: tempHome(), coOwner: tempHome(), user: tempHome() };
    await Promise.all([
      login(homes.owner, people.owner.id),
      login(homes.coOwner, people.coOwner.id),
      login(homes.user, people.user.id),
    ]);
    const ownerMailbox = await mailConnection(homes.owner, people.owner);
    const ownerConnection = (await call('GET', '/connections', { token: people.owner.token })).body.value[0].id;
    await call('PUT', `/flows/${flowId}/connection-references/mail`, {
      token: people.owner.token,
      body: { connectorId: 'shared_office365', connectionId: ownerConnection },
    });
    await call('PATCH', `/flows/${flowId}/connection-references/mail`, {
      token: people.owner.token,
      body: { embedded: true },
    });
    const userMailbox = await mailConnection(homes.user, people.user);

    const recipient = unique('recipient');
    const byUser = await cli(['run', flowId, '--input', `to=${recipient}`, '--yes'], { home: homes.user });
    expect(byUser.code, byUser.stdout + byUser.stderr).toBe(0);
    const byCoOwner = await cli(['run', flowId, '--input', `to=${recipient}`, '--yes'], { home: homes.coOwner });
    expect(byCoOwner.code, byCoOwner.stdout + byCoOwner.stderr).toBe(0);

    const inbox = await mailbox(recipient);
    expect(inbox.map((m) => m.from)).toEqual([userMailbox, ownerMailbox]);
    expect(inbox[0]).toMatchObject({ subject: `Report for ${recipient}`, body: 'Sent by flowshare' });

    await expectNoConnectionSecret([
      ...Object.values(homes).flatMap((home) => filesUnder(home).map((f) => ({ where: f.path, text: f.text }))),
      { where: 'what the runs printed', text: byUser.stdout + byUser.stderr + byCoOwner.stdout + byCoOwner.stderr },
    ]);
  });
});
