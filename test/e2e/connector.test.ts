// The Power Automate connector against the local stack, driven from its own
// definition (connector/apiDefinition.swagger.json) as Power Automate drives
// it: an action's request is built from its operation (path, the internal
// parameters' defaults, the body), a 202 is followed to its Location after
// Retry-After seconds until the answer is not 202, and a dropdown is filled
// by calling the action its x-ms-dynamic-values names and reading each item's
// value and title. A test machine leases and completes the runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { complete, leaseNext, registerMachine, succeeded } from '../support/machines';
import { call, expectProblem, stack, type ApiResponse, type Body } from '../support/stack';
import { cast, person, sharedFlow, type Cast, type Person } from './people';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Swagger document, read field by field
type Json = any;
const definition: Json = JSON.parse(
  readFileSync(join(__dirname, '../../connector/apiDefinition.swagger.json'), 'utf8'),
);

function operation(operationId: string): { path: string; method: string; op: Json } {
  for (const [path, methods] of Object.entries(definition.paths as Record<string, Record<string, Json>>)) {
    for (const [method, op] of Object.entries(methods)) if (op.operationId === operationId) return { path, method, op };
  }
  throw new Error(`the connector has no action ${operationId}`);
}

/**
 * Calls a connector action as Power Automate would: path parameters filled
 * in, internal parameters sent with their defaults, the rest as given, on
 * the local host instead of the definition's placeholder host.
 */
function invoke(operationId: string, args: Record<string, unknown>, token?: string): Promise<ApiResponse<Body>> {
  const { path, method, op } = operation(operationId);
  const origin = new URL(stack().apiUrl).origin;
  let url = `${origin}${definition.basePath}${path}`;
  const query = new URLSearchParams();
  let body: unknown;
  for (const parameter of op.parameters as Json[]) {
    const value = parameter['x-ms-visibility'] === 'internal' ? parameter.default : args[parameter.name];
    if (parameter.in === 'path') url = url.replace(`{${parameter.name}}`, encodeURIComponent(String(value)));
    else if (parameter.in === 'query' && value !== undefined) query.set(parameter.name, String(value));
    else if (parameter.in === 'body') body = value;
  }
  if ([...query].length > 0) url += `?${query}`;
  return call(method.toUpperCase(), url, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}) });
}

/** Power Automate's asynchronous pattern: while 202, wait Retry-After seconds and ask Location. */
async function followAsync(first: ApiResponse<Body>, token: string): Promise<ApiResponse<Body>> {
  let answer = first;
  for (let polls = 0; answer.status === 202; polls++) {
    if (polls > 20) throw new Error('the run did not end within 20 polls');
    const location = answer.headers.get('location');
    const retryAfter = answer.headers.get('retry-after');
    expect(location, 'a 202 names where to ask next').toMatch(/^https?:\/\//);
    expect(new URL(location!).host, 'on the host that was called').toBe(new URL(stack().apiUrl).host);
    expect(retryAfter).toMatch(/^\d+$/);
    await sleep(Number(retryAfter) * 1000);
    answer = await call('GET', location!, { token });
  }
  return answer;
}

/** What a dropdown offers: the action its x-ms-dynamic-values names, each item as [value, title]. */
async function picker(
  operationId: string,
  parameter: string,
  token?: string,
): Promise<{ answer: ApiResponse<Body>; items: [string, string][] }> {
  const { op } = operation(operationId);
  const candidates = (op.parameters as Json[]).flatMap((p) => [
    p,
    ...Object.entries(p.schema?.properties ?? {}).map(([name, m]) => ({ ...(m as Json), name })),
  ]);
  const values = candidates.find((p) => p.name === parameter)['x-ms-dynamic-values'];
  const args = Object.fromEntries(
    Object.entries(values.parameters as Record<string, Json>).map(([n, v]) => [n, v.value]),
  );
  const answer = await invoke(values.operationId, args, token);
  const items = answer.status === 200 ? (answer.body[values['value-collection']] as Body[]) : [];
  return { answer, items: items.map((item) => [item[values['value-path']], item[values['value-title']]]) };
}

async function sqlConnection(who: Person): Promise<string> {
  const created = await call('POST', '/connections', {
    token: who.token,
    body: { connectorId: 'shared_sql', displayName: 'Finance DB', apiKey: `secret-${who.id}` },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

/** A flow using reference `db`, bound to the owner's connection, shared with a co-owner and a user. */
async function flowWithReference(people: Cast, options: { schemaVersion: 1 | 2; embedded: boolean; name?: string }) {
  const flowId = await sharedFlow(people, {
    name: options.name ?? 'Invoices',
    schemaVersion: options.schemaVersion,
    definition: { actions: [{ type: 'connector', connectionReference: 'db', operation: 'ExecuteQuery' }] },
  });
  const bound = await call('PUT', `/flows/${flowId}/connection-references/db`, {
    token: people.owner.token,
    body: { connectorId: 'shared_sql', connectionId: await sqlConnection(people.owner) },
  });
  expect(bound.status).toBe(201);
  if (options.embedded) {
    const embedded = await call('PATCH', `/flows/${flowId}/connection-references/db`, {
      token: people.owner.token,
      body: { embedded: true },
    });
    expect(embedded.status).toBe(200);
  }
  return flowId;
}

describe('the connector, driven as Power Automate drives it', () => {
  it('runs a shared desktop flow picked from the dropdowns, waits for it, and answers its outputs', async () => {
    const people = await cast();
    const flowId = await flowWithReference(people, { schemaVersion: 2, embedded: true, name: 'Month end' });
    const machine = await registerMachine(people.coOwner, 'Finance PC');

    // The co-owner picks the flow and their machine from the dropdowns.
    const flows = await picker('RunDesktopFlow', 'flowId', people.coOwner.token);
    expect(flows.items).toContainEqual([flowId, 'Month end']);
    const machines = await picker('RunDesktopFlow', 'machineId', people.coOwner.token);
    expect(machines.items).toEqual([[machine.id, 'Finance PC']]);

    // Readiness first, as a maker would.
    const readiness = await invoke('CheckCloudReadiness', { flowId }, people.coOwner.token);
    expect(readiness.body).toEqual({ ready: true, errors: [] });

    // The machine leases the run when it comes, and completes it.
    const machineWork = (async () => {
      const leased = await leaseNext(machine, 25);
      expect(leased.inputs).toEqual({ month: '2026-01' });
      const report = { status: 'Succeeded', outputs: { rows: 3, total: 1250.5 }, actions: [succeeded('Query')] };
      expect((await complete(leased.run.id, leased.token, report)).status).toBe(200);
      return leased.run.id as string;
    })();

    const started = await invoke(
      'RunDesktopFlow',
      { flowId, body: { machineId: machine.id, inputs: { month: '2026-01' } } },
      people.coOwner.token,
    );
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(
      `${new URL(stack().apiUrl).origin}/api/runs/${started.body.id}/outcome`,
    );
    const final = await followAsync(started, people.coOwner.token);
    expect(await machineWork).toBe(started.body.id);

    expect(final.status, final.text).toBe(200);
    expect(final.body).toMatchObject({
      id: started.body.id,
      status: 'Succeeded',
      outputs: { rows: 3, total: 1250.5 },
      actions: [{ name: 'Query', status: 'Succeeded' }],
    });
    // The fields the definition names for dynamic content are the answer's.
    const fields = Object.keys(definition.definitions.Run.properties);
    for (const key of Object.keys(final.body)) expect(fields).toContain(key);

    // Get a run reads it as it is, without waiting.
    const read = await invoke('GetRun', { runId: started.body.id }, people.user.token);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ status: 'Succeeded' });
    expect(read.body).not.toHaveProperty('outputs'); // a user of the flow sees that it ran, not what it produced
  });

  it('fails the run action with the reasons in words when the run is rejected (schema v1, a reference not embedded)', async () => {
    const people = await cast();
    const flowId = await flowWithReference(people, { schemaVersion: 1, embedded: false });
    const machine = await registerMachine(people.owner);

    const started = await invoke('RunDesktopFlow', { flowId, body: { machineId: machine.id } }, people.owner.token);
    expect(started.status).toBe(202);
    const final = await followAsync(started, people.owner.token);
    expectProblem(final, 409, 'RunNotSucceeded');
    expect(final.body.detail).toBe(
      'The run was rejected. Cloud runs need schema v2; upgrade the flow first. Reference "db": A cloud run has nobody to bring a connection: its reference owner must embed one.',
    );
    expect(final.body.runStatus).toBe('Rejected');
    expect(final.body.run).toMatchObject({
      id: started.body.id,
      status: 'Rejected',
      errors: [{ code: 'FlowSchemaNotV2' }, { code: 'ConnectionReferenceNotEmbedded', logicalName: 'db' }],
    });

    // The plain route keeps its contract: 200 however the run ended.
    const plain = await call('GET', `/runs/${started.body.id}`, { token: people.owner.token });
    expect(plain.status).toBe(200);
    expect(plain.body.status).toBe('Rejected');
  });

  it('fails the run action when the machine reports the run failed, naming the failed action', async () => {
    const people = await cast();
    const flowId = await flowWithReference(people, { schemaVersion: 2, embedded: true });
    const machine = await registerMachine(people.owner);
    const machineWork = (async () => {
      const leased = await leaseNext(machine, 25);
      const report = {
        status: 'Failed',
        outputs: { rows: 0 },
        actions: [
          {
            name: 'Query',
            status: 'Failed',
            startedAt: new Date().toISOString(),
            durationMs: 4,
            error: { code: 'SqlError', detail: 'Table t does not exist.' },
          },
        ],
      };
      expect((await complete(leased.run.id, leased.token, report)).status).toBe(200);
    })();
    const started = await invoke('RunDesktopFlow', { flowId, body: { machineId: machine.id } }, people.owner.token);
    const final = await followAsync(started, people.owner.token);
    await machineWork;
    expectProblem(final, 409, 'RunNotSucceeded');
    expect(final.body.detail).toBe('The run failed. Action "Query" failed: Table t does not exist.');
    expect(final.body.run.outputs).toEqual({ rows: 0 });
  });

  it("answers a run's outcome only to those who may read its flow", async () => {
    const people = await cast();
    const flowId = await flowWithReference(people, { schemaVersion: 1, embedded: false });
    const machine = await registerMachine(people.owner);
    const started = await invoke('RunDesktopFlow', { flowId, body: { machineId: machine.id } }, people.owner.token);
    const outcome = `/runs/${started.body.id}/outcome`;
    expectProblem(await call('GET', outcome), 401, 'Unauthenticated');
    expectProblem(await call('GET', outcome, { token: people.stranger.token }), 404, 'NotFound');
    expectProblem(await call('GET', outcome, { token: people.otherTenant.token }), 404, 'NotFound');
    // A user of the flow may follow it, and is told how it ended.
    const final = await followAsync(await call('GET', outcome, { token: people.user.token }), people.user.token);
    expectProblem(final, 409, 'RunNotSucceeded');
  });

  it('offers in the flow picker only the flows each caller may start cloud runs of', async () => {
    const people = await cast();
    const flowId = await sharedFlow(people, { name: 'Payroll', schemaVersion: 2 });
    const titles = { owner: 'Payroll', coOwner: 'Payroll' };
    for (const who of ['owner', 'coOwner'] as const) {
      const { answer, items } = await picker('RunDesktopFlow', 'flowId', people[who].token);
      expect(answer.status).toBe(200);
      expect(items, who).toContainEqual([flowId, titles[who]]);
    }
    for (const who of ['user', 'stranger', 'otherTenant'] as const) {
      const { answer, items } = await picker('RunDesktopFlow', 'flowId', people[who].token);
      expect(answer.status).toBe(200);
      expect(
        items.map(([id]) => id),
        who,
      ).not.toContain(flowId);
    }
    // The user still sees the flow in their plain list, as a user.
    const plain = await invoke('ListMyFlows', {}, people.user.token);
    expect(plain.body.value).toContainEqual(expect.objectContaining({ id: flowId, role: 'user' }));
    expectProblem((await picker('RunDesktopFlow', 'flowId')).answer, 401, 'Unauthenticated');
  });

  it('offers in the machine picker only the caller’s own machines', async () => {
    const people = await cast();
    const [ownerPc, coOwnerPc] = [
      await registerMachine(people.owner, 'Owner PC'),
      await registerMachine(people.coOwner, 'Co PC'),
    ];
    expect((await picker('RunDesktopFlow', 'machineId', people.owner.token)).items).toEqual([[ownerPc.id, 'Owner PC']]);
    expect((await picker('RunDesktopFlow', 'machineId', people.coOwner.token)).items).toEqual([
      [coOwnerPc.id, 'Co PC'],
    ]);
    for (const who of ['user', 'stranger', 'otherTenant'] as const) {
      const { answer, items } = await picker('RunDesktopFlow', 'machineId', people[who].token);
      expect(answer.status).toBe(200);
      expect(items, who).toEqual([]);
    }
    expectProblem((await picker('RunDesktopFlow', 'machineId')).answer, 401, 'Unauthenticated');
  });

  it('fills a page of the flow picker past flows the caller may only run as a user', async () => {
    const pat = await person('pat');
    const others = await cast();
    const mine: string[] = [];
    // Three flows Pat is only a user of, then one Pat co-owns and one Pat owns (ids follow creation).
    for (const name of ['A', 'B', 'C']) {
      const created = await call('POST', '/flows', { token: others.owner.token, body: { name } });
      await call('PUT', `/flows/${created.body.id}/permissions/${pat.id}`, {
        token: others.owner.token,
        body: { role: 'user' },
      });
    }
    const shared = await call('POST', '/flows', { token: others.owner.token, body: { name: 'D' } });
    await call('PUT', `/flows/${shared.body.id}/permissions/${pat.id}`, {
      token: others.owner.token,
      body: { role: 'coOwner' },
    });
    mine.push(shared.body.id);
    mine.push((await call('POST', '/flows', { token: pat.token, body: { name: 'E' } })).body.id);

    const first = await call('GET', '/flows?cloudStartable=true&top=2', { token: pat.token });
    expect(first.status).toBe(200);
    expect(first.body.value.map((f: Body) => f.id)).toEqual(mine);
    expect(first.body.value.map((f: Body) => f.role)).toEqual(['coOwner', 'owner']);
    // Following nextLink, if any, finds nothing more.
    let next = first.body.nextLink as string | undefined;
    while (next) {
      const page = await call('GET', next, { token: pat.token });
      expect(page.body.value).toEqual([]);
      next = page.body.nextLink;
    }
    expect((await call('GET', '/flows?top=100', { token: pat.token })).body.value).toHaveLength(5);
    expectProblem(await call('GET', '/flows?cloudStartable=maybe', { token: pat.token }), 400, 'ValidationFailed');
  });
});
