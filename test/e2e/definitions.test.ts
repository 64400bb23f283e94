// Flow definitions over HTTP (docs/definitions.md): a bad one is refused when
// it is saved, naming the action and the field; one saved before these rules
// still loads and shows, and is refused when run or saved again; a connector
// action asking for an operation its connector lacks is refused at run start.
import { describe, expect, it } from 'vitest';
import { FLOW_ROW_KEY, flowPartitionKey } from '../../lib/storage/keys';
import { DEV_TENANT_ID } from '../../dev/issuer';
import { registerMachine } from '../support/machines';
import { call, expectProblem, testStorage, unique } from '../support/stack';
import { cast, sharedFlow } from './people';

const storage = testStorage();

async function sqlFlow(definition: unknown) {
  const people = await cast();
  const flowId = await sharedFlow(people, { name: 'Rules', schemaVersion: 2, definition });
  const db = await call('POST', '/connections', {
    token: people.owner.token,
    body: { connectorId: 'shared_sql', displayName: 'DB', apiKey: `secret-${unique('key')}` },
  });
  await call('PUT', `/flows/${flowId}/connection-references/db`, {
    token: people.owner.token,
    body: { connectorId: 'shared_sql', connectionId: db.body.id },
  });
  await call('PATCH', `/flows/${flowId}/connection-references/db`, {
    token: people.owner.token,
    body: { embedded: true },
  });
  return { people, flowId };
}

describe('a definition', () => {
  it('is refused when created or changed against the rules, naming the action and the field', async () => {
    const { owner } = await cast();
    // The members of each action first; the expressions once the members are right.
    const query = { name: 'Query', type: 'connector', connectionReference: 'db', operation: 'ExecuteQuery' };
    const created = await call('POST', '/flows', {
      token: owner.token,
      body: { name: 'Bad', definition: { actions: [{ ...query, query: 'x' }, { type: 'wait' }] } },
    });
    expectProblem(created, 400, 'ValidationFailed');
    expect(created.body.errors).toEqual([
      { field: 'definition.actions[0].query', detail: 'is not a known member here (action "Query")' },
      { field: 'definition.actions[1].seconds', detail: 'is required for wait actions (action "wait_2")' },
    ]);
    const early = {
      actions: [
        query,
        { name: 'Mail', type: 'output', output: 'n', value: '@{actions.Later.body}' },
        { name: 'Later', type: 'wait', seconds: 1 },
      ],
    };
    const refused = await call('POST', '/flows', { token: owner.token, body: { name: 'Bad', definition: early } });
    expect(refused.body.errors).toEqual([
      {
        field: 'definition.actions[1].value',
        detail: 'actions.Later.body: the action "Later" does not finish before this one starts (action "Mail")',
      },
    ]);
    const flow = await call('POST', '/flows', { token: owner.token, body: { name: 'Good' } });
    const patched = await call('PATCH', `/flows/${flow.body.id}`, {
      token: owner.token,
      body: { definition: { actions: [{ type: 'teleport' }] } },
    });
    expectProblem(patched, 400, 'ValidationFailed');
    expect(patched.body.errors[0].field).toBe('definition.actions[0].type');
  });

  it('saved before these rules still loads; it is refused when run, and when saved again unchanged', async () => {
    const { people, flowId } = await sqlFlow({ actions: [] });
    const old = '{"actions":[{"type":"connector","connectionReference":"db","operation":"ExecuteQuery","query":"x"}]}';
    await storage.flows.updateEntity(
      { partitionKey: flowPartitionKey(DEV_TENANT_ID, flowId), rowKey: FLOW_ROW_KEY, definition: old },
      'Merge',
    );
    const read = await call('GET', `/flows/${flowId}`, { token: people.user.token });
    expect(read.status).toBe(200);
    expect(read.text).toContain(old);
    const renamed = await call('PATCH', `/flows/${flowId}`, { token: people.owner.token, body: { name: 'Renamed' } });
    expect(renamed.status).toBe(200);

    await call('POST', '/connections', {
      token: people.user.token,
      body: { connectorId: 'shared_sql', displayName: 'Mine', apiKey: `secret-${unique('key')}` },
    });
    const run = await call('POST', `/flows/${flowId}/runs`, { token: people.user.token });
    expectProblem(run, 409, 'Conflict');
    expect(run.body.errors).toEqual([
      { code: 'DefinitionInvalid', detail: expect.stringContaining('definition.actions[0].query') },
    ]);
    const readiness = await call('GET', `/flows/${flowId}/cloud-readiness`, { token: people.owner.token });
    expect(readiness.body).toEqual({ ready: false, errors: [expect.objectContaining({ code: 'DefinitionInvalid' })] });

    const again = await call('PATCH', `/flows/${flowId}`, {
      token: people.owner.token,
      body: { definition: JSON.parse(old) },
    });
    expectProblem(again, 400, 'ValidationFailed');
  });

  it('runs only operations of its references’ connectors: refused at run start, and by the cloud-run processor', async () => {
    const { people, flowId } = await sqlFlow({
      actions: [{ name: 'Drop', type: 'connector', connectionReference: 'db', operation: 'DropEverything' }],
    });
    const run = await call('POST', `/flows/${flowId}/runs`, { token: people.owner.token });
    expectProblem(run, 409, 'Conflict');
    expect(run.body.errors).toEqual([
      { code: 'OperationNotFound', logicalName: 'db', detail: expect.stringContaining('DropEverything') },
    ]);
    const machine = await registerMachine(people.owner);
    const cloud = await call('POST', `/flows/${flowId}/cloud-runs`, {
      token: people.owner.token,
      body: { machineId: machine.id },
    });
    let ended = await call('GET', `/runs/${cloud.body.id}`, { token: people.owner.token });
    for (let i = 0; i < 100 && ended.status === 202; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ended = await call('GET', `/runs/${cloud.body.id}`, { token: people.owner.token });
    }
    expect(ended.body).toMatchObject({
      status: 'Rejected',
      errors: [expect.objectContaining({ code: 'OperationNotFound', logicalName: 'db' })],
    });
  });
});
