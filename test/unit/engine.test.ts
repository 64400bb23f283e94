// The definition engine without HTTP (docs/definitions.md, Running a
// definition): a fake gateway stands in for flowshare's, so each rule of how
// actions run, fail, skip and stop is seen on its own.
import { describe, expect, it } from 'vitest';
import {
  GatewayProblem,
  runDefinition,
  type ConnectorCall,
  type Gateway,
  type GatewayAnswer,
} from '../../console/engine/engine';
import { inputFromText } from '../../console/engine/inputs';

/** A gateway answering each operation from a table, and remembering every call. */
function fakeGateway(answers: Record<string, GatewayAnswer | GatewayProblem>): Gateway & { calls: ConnectorCall[] } {
  const calls: ConnectorCall[] = [];
  return {
    calls,
    call(call) {
      calls.push(call);
      const answer = answers[call.operationId];
      if (!answer) throw new Error(`no answer for ${call.operationId}`);
      if (answer instanceof GatewayProblem) return Promise.reject(answer);
      return Promise.resolve(answer);
    },
  };
}

const json = (body: unknown, status = 200): GatewayAnswer => ({ status, contentType: 'application/json', body });

const invoices = {
  inputs: { month: { type: 'string', required: true }, to: { type: 'string', default: 'finance@contoso.com' } },
  actions: [
    {
      name: 'Query',
      type: 'connector',
      connectionReference: 'db',
      operation: 'ExecuteQuery',
      parameters: { query: "SELECT * FROM invoices WHERE month = '@{inputs.month}'" },
    },
    { type: 'note', text: 'count them' },
    { name: 'Count', type: 'setVariable', variable: 'count', value: '@{actions.Query.body.rows.length}' },
    {
      name: 'Any?',
      type: 'condition',
      if: { greater: ['@{variables.count}', 0] },
      then: [
        {
          name: 'Send',
          type: 'connector',
          connectionReference: 'mail',
          operation: 'SendEmail',
          parameters: { to: '@{inputs.to}', subject: 'Invoices @{inputs.month}', body: '@{variables.count} invoices' },
        },
      ],
      else: [{ name: 'None', type: 'fail', code: 'NoInvoices', message: 'No invoices for @{inputs.month}' }],
    },
    { name: 'Result', type: 'output', output: 'count', value: '@{variables.count}' },
    { name: 'First', type: 'output', output: 'first', value: '@{actions.Query.body.rows[0]}' },
  ],
};

describe('the definition engine', () => {
  it('runs connector actions through the gateway with values from inputs and earlier actions', async () => {
    const gateway = fakeGateway({
      ExecuteQuery: json({ rows: [{ id: 1, amount: 12.5 }, { id: 2 }, { id: 3 }] }),
      SendEmail: json({ sent: true }, 202),
    });
    const seen: string[] = [];
    const outcome = await runDefinition({
      definition: invoices,
      inputs: { month: '2025-01' },
      gateway,
      onActionEnd: (report) => seen.push(`${report.name} ${report.status}`),
    });
    expect(gateway.calls).toEqual([
      {
        connectionReference: 'db',
        operationId: 'ExecuteQuery',
        parameters: { query: "SELECT * FROM invoices WHERE month = '2025-01'" },
      },
      {
        connectionReference: 'mail',
        operationId: 'SendEmail',
        parameters: { to: 'finance@contoso.com', subject: 'Invoices 2025-01', body: '3 invoices' },
      },
    ]);
    expect(outcome).toMatchObject({ status: 'Succeeded', outputs: { count: 3, first: { id: 1, amount: 12.5 } } });
    expect(seen).toEqual([
      'Query Succeeded',
      'Count Succeeded',
      'Any? Succeeded',
      'Send Succeeded',
      'None Skipped',
      'Result Succeeded',
      'First Succeeded',
    ]);
    expect(outcome.actions.map((a) => a.name)).toEqual(seen.map((s) => s.split(' ')[0]));
    for (const action of outcome.actions) {
      expect(action).toEqual({
        name: expect.any(String),
        status: expect.any(String),
        startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        durationMs: expect.any(Number),
      });
    }
  });

  it('takes the other branch, and a fail action fails the run with its code', async () => {
    const outcome = await runDefinition({
      definition: invoices,
      inputs: { month: '2025-02' },
      gateway: fakeGateway({ ExecuteQuery: json({ rows: [] }) }),
    });
    expect(outcome.status).toBe('Failed');
    expect(outcome.error).toEqual({ code: 'NoInvoices', detail: 'No invoices for 2025-02', action: 'None' });
    expect(outcome.actions.map((a) => `${a.name} ${a.status}`)).toEqual([
      'Query Succeeded',
      'Count Succeeded',
      'Any? Succeeded',
      'Send Skipped',
      'None Failed',
      'Result Skipped',
      'First Skipped',
    ]);
    expect(outcome.outputs).toEqual({});
  });

  it("fails the run with the gateway's problem code, and skips what follows", async () => {
    const outcome = await runDefinition({
      definition: invoices,
      inputs: { month: '2025-01' },
      gateway: fakeGateway({
        ExecuteQuery: new GatewayProblem('ConnectionNotAllowed', 'The reference was unembedded.'),
      }),
    });
    expect(outcome).toMatchObject({
      status: 'Failed',
      error: { code: 'ConnectionNotAllowed', detail: 'The reference was unembedded.', action: 'Query' },
    });
    expect(outcome.actions[0]).toMatchObject({
      status: 'Failed',
      error: { code: 'ConnectionNotAllowed', detail: 'The reference was unembedded.' },
    });
    expect(outcome.actions.slice(1).every((a) => a.status === 'Skipped' && !a.error)).toBe(true);
  });

  it('fails an action whose provider answered an error status, or whose expression finds nothing', async () => {
    const provider = await runDefinition({
      definition: invoices,
      inputs: { month: '2025-01' },
      gateway: fakeGateway({ ExecuteQuery: json({ error: 'no such table' }, 400) }),
    });
    expect(provider.error).toMatchObject({ code: 'ProviderError', detail: expect.stringContaining('400') });
    const missing = await runDefinition({
      definition: invoices,
      inputs: { month: '2025-01' },
      gateway: fakeGateway({ ExecuteQuery: json({ count: 0 }) }),
    });
    expect(missing.error).toEqual({
      code: 'ExpressionFailed',
      detail: '@{actions.Query.body.rows.length}: actions.Query.body has no member "rows".',
      action: 'Count',
    });
  });

  it('fails before the first action when the inputs do not fit, the first action saying why', async () => {
    for (const inputs of [{}, { month: 1 }, { month: 'x', year: 2025 }]) {
      const outcome = await runDefinition({ definition: invoices, inputs, gateway: fakeGateway({}) });
      expect(outcome.status).toBe('Failed');
      expect(outcome.error?.code).toBe('InputInvalid');
      expect(outcome.actions[0]).toMatchObject({ name: 'Query', status: 'Skipped', error: { code: 'InputInvalid' } });
      expect(outcome.actions.filter((a) => a.error)).toHaveLength(1);
    }
    const broken = await runDefinition({
      definition: { actions: [{ type: 'teleport' }, { type: 'wait', seconds: 1 }] },
      inputs: {},
      gateway: fakeGateway({}),
    });
    expect(broken.error).toMatchObject({ code: 'DefinitionInvalid' });
  });

  it('stops when cancelled: the wait interrupted is Cancelled, the rest Skipped', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    const outcome = await runDefinition({
      definition: {
        actions: [
          { name: 'Mark', type: 'output', output: 'stage', value: 'waiting' },
          { name: 'Long', type: 'wait', seconds: 60 },
          { name: 'After', type: 'output', output: 'stage', value: 'done' },
        ],
      },
      inputs: {},
      gateway: fakeGateway({}),
      signal: controller.signal,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(outcome.status).toBe('Cancelled');
    expect(outcome.outputs).toEqual({ stage: 'waiting' });
    expect(outcome.actions.map((a) => `${a.name} ${a.status}`)).toEqual([
      'Mark Succeeded',
      'Long Cancelled',
      'After Skipped',
    ]);
  });

  it('stops at once when the run ended on the service', async () => {
    const outcome = await runDefinition({
      definition: invoices,
      inputs: { month: '2025-01' },
      gateway: fakeGateway({ ExecuteQuery: new GatewayProblem('RunEnded', 'The run has ended.', 'TimedOut') }),
    });
    expect(outcome).toMatchObject({ status: 'Ended', runStatus: 'TimedOut' });
  });

  it('keeps member names that are object built-ins as data, and whole values of any type', async () => {
    const gateway = fakeGateway({ CreateItem: json({}) });
    await runDefinition({
      definition: {
        inputs: { n: { type: 'integer' } },
        actions: [
          {
            type: 'connector',
            connectionReference: 'sp',
            operation: 'CreateItem',
            parameters: JSON.parse('{"fields": {"__proto__": "@{inputs.n}", "list": ["@{inputs.n}", "#@{inputs.n}"]}}'),
          },
        ],
      },
      inputs: { n: 7 },
      gateway,
    });
    const fields = gateway.calls[0]!.parameters.fields as Record<string, unknown>;
    expect(Object.hasOwn(fields, '__proto__')).toBe(true);
    expect(JSON.stringify(fields)).toBe('{"__proto__":7,"list":[7,"#7"]}');
  });

  it('compares as the conditions say', async () => {
    const decide = async (condition: unknown) =>
      (
        await runDefinition({
          definition: {
            actions: [
              { name: 'c', type: 'condition', if: condition, then: [] },
              { type: 'output', output: 'r', value: '@{actions.c.result}' },
            ],
          },
          inputs: { list: [1, { a: 2 }], text: 'invoice', n: 3 },
          gateway: fakeGateway({}),
        })
      ).outputs.r;
    expect(await decide({ equals: ['@{inputs.list}', [1, { a: 2 }]] })).toBe(true);
    expect(await decide({ contains: ['@{inputs.list}', { a: 2 }] })).toBe(true);
    expect(await decide({ contains: ['@{inputs.text}', 'voice'] })).toBe(true);
    expect(await decide({ and: [{ less: ['@{inputs.n}', 4] }, { not: { equals: ['@{inputs.n}', '3'] } }] })).toBe(true);
    expect(await decide({ or: [false, { greaterOrEquals: ['b', 'a'] }] })).toBe(true);
    expect(await decide({ greater: ['@{inputs.n}', 'x'] })).toBeUndefined();
  });
});

describe('inputs given on the command line', () => {
  it('are read as their declared type', () => {
    expect(inputFromText('n', '12', 'integer')).toBe(12);
    expect(inputFromText('b', 'true', 'boolean')).toBe(true);
    expect(inputFromText('o', '{"a":1}', 'object')).toEqual({ a: 1 });
    expect(inputFromText('s', '12', undefined)).toBe('12');
    expect(() => inputFromText('n', '1.5', 'integer')).toThrow('--input n: "1.5" is not an integer.');
    expect(() => inputFromText('n', '', 'number')).toThrow();
  });
});
