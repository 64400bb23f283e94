// The connection prompt of `flowshare run`, driven for real in a
// pseudo-terminal (node-pty), as a person at a terminal answers it: the
// default accepted with Enter, another candidate picked, a new API-key
// connection made for a reference with no candidate (its key never echoed),
// and Ctrl-C during the run leaving it Cancelled on the service.
import { describe, expect, it } from 'vitest';
import { expectNoConnectionSecret, filesUnder, KEYS, login, tempHome, Terminal } from '../support/cli';
import { issueSqlKey, sqlConnection, sqlRows } from '../support/providers';
import { recordSecret } from '../support/secrets';
import { call, unique, type Body } from '../support/stack';
import { cast, sharedFlow } from './people';

/** A flow writing one row through reference `db`, then waiting `seconds`, then writing another. */
async function flow(seconds = 0) {
  const people = await cast();
  const name = unique('Prompted');
  const flowId = await sharedFlow(people, {
    name,
    definition: {
      actions: [
        {
          name: 'First',
          type: 'connector',
          connectionReference: 'db',
          operation: 'ExecuteQuery',
          parameters: { query: "INSERT INTO marks (step) VALUES ('first')" },
        },
        { name: 'Pause', type: 'wait', seconds },
        {
          name: 'Second',
          type: 'connector',
          connectionReference: 'db',
          operation: 'ExecuteQuery',
          parameters: { query: "INSERT INTO marks (step) VALUES ('second')" },
        },
      ],
    },
  });
  const ownerDb = await sqlConnection(people.owner, 'Owner DB');
  await call('PUT', `/flows/${flowId}/connection-references/db`, {
    token: people.owner.token,
    body: { connectorId: 'shared_sql', connectionId: ownerDb.id },
  });
  return { people, flowId, name };
}

describe('the connection prompt, in a terminal', () => {
  it('selects the default, the oldest Connected connection, and Enter accepts it', async () => {
    const { people, name } = await flow();
    const older = await sqlConnection(people.user, 'Older DB');
    const newer = await sqlConnection(people.user, 'Newer DB');
    const home = tempHome();
    await login(home, people.user.id);
    // A flow is named by its id, or by its name among the person's flows.
    const terminal = new Terminal(['run', name], home);
    await terminal.waitFor(/Connection for db \(shared_sql\)[\s\S]*Add a new connection/);
    // The default is where the cursor stands: the older one.
    expect(terminal.text).toMatch(/❯ Older DB/);
    expect(terminal.text).toContain('Newer DB');
    terminal.type(KEYS.enter);
    expect(await terminal.ended).toBe(0);
    expect(terminal.text).toMatch(/Succeeded +Second/);
    expect(terminal.text).toContain('Run Succeeded');
    expect(await sqlRows(older.key, 'marks')).toEqual([{ step: 'first' }, { step: 'second' }]);
    expect(await sqlRows(newer.key, 'marks')).toEqual([]);
  });

  it('lets the person pick another candidate', async () => {
    const { people, flowId } = await flow();
    const older = await sqlConnection(people.user, 'Older DB');
    const newer = await sqlConnection(people.user, 'Newer DB');
    const home = tempHome();
    await login(home, people.user.id);
    const terminal = new Terminal(['run', flowId], home);
    await terminal.waitFor(/Add a new connection/);
    terminal.type(KEYS.down);
    await terminal.waitFor(/❯ Newer DB/);
    terminal.type(KEYS.enter);
    expect(await terminal.ended).toBe(0);
    expect(await sqlRows(newer.key, 'marks')).toEqual([{ step: 'first' }, { step: 'second' }]);
    expect(await sqlRows(older.key, 'marks')).toEqual([]);
  });

  it('offers a new connection for a reference with no candidate; its key is not echoed, and the run goes on', async () => {
    const { people, flowId } = await flow();
    const home = tempHome();
    await login(home, people.user.id);
    const key = await issueSqlKey();
    recordSecret('an API key typed at the prompt', key);
    const terminal = new Terminal(['run', flowId], home);
    await terminal.waitFor(/db \(shared_sql\): you have no connection for it\. Add one now\?/);
    terminal.type(KEYS.enter); // yes, the default
    await terminal.waitFor(/A name for your SQL Server connection/);
    terminal.type(`Typed DB${KEYS.enter}`);
    await terminal.waitFor(/The API key for SQL Server/);
    terminal.type(`${key}${KEYS.enter}`);
    expect(await terminal.ended).toBe(0);
    expect(terminal.text).toMatch(/Added Typed DB \(shared_sql\), Connected/);
    expect(terminal.text).toContain('Run Succeeded');
    expect(terminal.written).not.toContain(key);
    const mine = (await call('GET', '/connections', { token: people.user.token })).body.value;
    expect(mine).toEqual([expect.objectContaining({ displayName: 'Typed DB', connectorId: 'shared_sql' })]);
    expect(await sqlRows(key, 'marks')).toEqual([{ step: 'first' }, { step: 'second' }]);
    await expectNoConnectionSecret([
      { where: 'the terminal', text: terminal.written },
      ...filesUnder(home).map((f) => ({ where: f.path, text: f.text })),
    ]);
  });

  it('cancels the run on the service at Ctrl-C, before leaving', async () => {
    const { people, flowId } = await flow(60);
    const mine = await sqlConnection(people.user, 'Mine');
    const home = tempHome();
    await login(home, people.user.id);
    const terminal = new Terminal(['run', flowId], home);
    await terminal.waitFor(/Add a new connection/);
    terminal.type(KEYS.enter);
    await terminal.waitFor(/Running +Pause/);
    const runId = /Run (\S+) started/.exec(terminal.text)![1]!;
    terminal.type(KEYS.ctrlC);
    expect(await terminal.ended).toBe(130);
    expect(terminal.text).toMatch(/Cancelled +Pause/);
    expect(terminal.text).toMatch(/Skipped +Second/);
    expect(terminal.text).toContain('Run Cancelled');
    const run = await call('GET', `/runs/${runId}`, { token: people.user.token });
    expect(run.body).toMatchObject({ status: 'Cancelled' });
    expect(run.body.actions.map((a: Body) => `${a.name} ${a.status}`)).toEqual([
      'First Succeeded',
      'Pause Cancelled',
      'Second Skipped',
    ]);
    expect(await sqlRows(mine.key, 'marks')).toEqual([{ step: 'first' }]);
  });
});
