// The definition format (docs/definitions.md): what a flow's definition may
// hold, and what is refused when it is saved, naming the action and field.
import { describe, expect, it } from 'vitest';
import { checkDefinition, checkDefinitionForRun } from '../../lib/domain/definitionChecks';
import { actionNames, issueField } from '../../lib/domain/definitions';
import { parseTemplate } from '../../lib/domain/expressions';

function fields(definition: unknown): Array<{ field: string; detail: string }> {
  return checkDefinition(definition).map((issue) => ({ field: issueField(issue), detail: issue.detail }));
}

const invoices = {
  description: 'Mails the month’s invoice count',
  inputs: { month: { type: 'string', required: true }, to: { type: 'string', default: 'bob@contoso.com' } },
  actions: [
    {
      name: 'Query',
      type: 'connector',
      connectionReference: 'db',
      operation: 'ExecuteQuery',
      parameters: { query: "SELECT * FROM invoices WHERE month = '@{inputs.month}'" },
    },
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
          parameters: { to: '@{inputs.to}', subject: 'Invoices', body: '@{variables.count} invoices' },
        },
      ],
      else: [{ type: 'fail', code: 'NoInvoices', message: 'No invoices for @{inputs.month}' }],
    },
    { type: 'wait', seconds: 1 },
    { type: 'note', text: 'anything', more: { kept: true } },
    { type: 'output', output: 'count', value: '@{variables.count}' },
    { type: 'output', output: 'sent', value: "@{actions['Send'].status}" },
  ],
};

describe('a definition', () => {
  it('may use every action type, inputs, and expressions over earlier actions', () => {
    expect(fields(invoices)).toEqual([]);
    expect(fields({ actions: [] })).toEqual([]);
  });

  it('gives unnamed actions a name by type and position', () => {
    const names = [...actionNames(invoices).values()];
    expect(names).toEqual(['Query', 'Count', 'Any?', 'Send', 'fail_5', 'wait_6', 'note_7', 'output_8', 'output_9']);
  });

  it('is refused with every broken rule, naming the action and the field', () => {
    const found = fields({
      actions: [
        { type: 'connector', name: 'Send' },
        { type: 'connector', connectionReference: 'bad/name', operation: 'x', to: 'a@b' },
        { type: 'ui.click' },
        { type: 'wait', seconds: 7200 },
        { type: 'condition', if: { similar: [1, 2] }, then: 'no' },
        { type: 'setVariable', variable: 'x' },
      ],
      extra: 1,
    });
    expect(found).toEqual(
      expect.arrayContaining([
        { field: 'definition.extra', detail: 'is not a known member here' },
        { field: 'definition.actions[0].connectionReference', detail: expect.stringContaining('(action "Send")') },
        { field: 'definition.actions[0].operation', detail: expect.stringContaining('is required for connector') },
        { field: 'definition.actions[1].connectionReference', detail: expect.stringContaining('connector_2') },
        { field: 'definition.actions[1].to', detail: expect.stringContaining('is not a known member') },
        { field: 'definition.actions[2].type', detail: expect.stringContaining('must be one of connector') },
        { field: 'definition.actions[3].seconds', detail: expect.any(String) },
        { field: 'definition.actions[4].if', detail: expect.stringContaining('equals') },
        { field: 'definition.actions[4].then', detail: expect.stringContaining('list of actions') },
        { field: 'definition.actions[5].value', detail: expect.stringContaining('is required') },
      ]),
    );
    expect(found.find((f) => f.field === 'definition.extra')).toBeDefined();
  });

  it('refers only to inputs it declares, variables set before and actions finished before', () => {
    const refused = fields({
      inputs: { month: { type: 'string' } },
      actions: [
        { name: 'A', type: 'output', output: 'x', value: '@{inputs.year}' },
        { name: 'B', type: 'output', output: 'y', value: '@{variables.count}' },
        { name: 'C', type: 'output', output: 'z', value: '@{actions.D.body}' },
        { name: 'D', type: 'connector', connectionReference: 'db', operation: 'Q', parameters: { q: '@{actions.D}' } },
        { name: 'E', type: 'condition', if: true, then: [{ type: 'output', output: 'w', value: '@{actions.E}' }] },
        { name: 'F', type: 'output', output: 'v', value: '@{actions.Nope}' },
      ],
    });
    expect(refused).toEqual([
      { field: 'definition.actions[0].value', detail: expect.stringContaining('"year" is not one of the definition') },
      { field: 'definition.actions[1].value', detail: expect.stringContaining('no setVariable before it sets') },
      { field: 'definition.actions[2].value', detail: expect.stringContaining('does not finish before') },
      { field: 'definition.actions[3].parameters.q', detail: expect.stringContaining('does not finish before') },
      { field: 'definition.actions[4].then[0].value', detail: expect.stringContaining('does not finish before') },
      { field: 'definition.actions[5].value', detail: expect.stringContaining('no action is named "Nope"') },
    ]);
    // Without declared inputs, any input may be named; a run without it fails at that action.
    expect(fields({ actions: [{ type: 'output', output: 'x', value: '@{inputs.anything}' }] })).toEqual([]);
  });

  it('refuses two actions of one name, the name one gets by default included', () => {
    expect(
      fields({
        actions: [
          { name: 'wait_2', type: 'note' },
          { type: 'wait', seconds: 0 },
          { name: 'wait_2', type: 'note' },
        ],
      }).map((f) => f.field),
    ).toEqual(['definition.actions[1].name', 'definition.actions[2].name']);
  });

  it('refuses expressions it cannot read', () => {
    for (const value of ['@{inputs.x', '@{secrets.x}', '@{inputs.}', '@{inputs[x]}', '@{inputs}', '@{inputs.a b}']) {
      expect(fields({ actions: [{ type: 'output', output: 'x', value }] }), value).toEqual([
        { field: 'definition.actions[0].value', detail: expect.any(String) },
      ]);
    }
  });

  it('keeps deep values from exhausting the checker', () => {
    let value: unknown = 'leaf';
    for (let i = 0; i < 10_000; i++) value = [value];
    expect(fields({ actions: [{ type: 'output', output: 'x', value }] })[0]?.detail).toContain('nest at most');
    let nested: unknown = { type: 'note' };
    for (let i = 0; i < 100; i++) nested = { type: 'condition', if: true, then: [nested] };
    expect(fields({ actions: [nested] }).length).toBeGreaterThan(0);
  });
});

describe('expressions', () => {
  it('are a whole value, text with values in it, or plain text; @@{ is a literal @{', () => {
    expect(parseTemplate('@{actions.Query.body.rows[0]}')).toEqual({
      kind: 'whole',
      reference: { root: 'actions', name: 'Query', path: ['body', 'rows', 0], text: 'actions.Query.body.rows[0]' },
    });
    expect(parseTemplate(" @{ inputs['due date'] } ")).toMatchObject({
      kind: 'parts',
      parts: [' ', { root: 'inputs', name: 'due date', path: [] }, ' '],
    });
    expect(parseTemplate("@{actions['a}b'].x}")).toMatchObject({ kind: 'whole', reference: { name: 'a}b' } });
    expect(parseTemplate('mail me @ home, @@{not}')).toEqual({ kind: 'text', text: 'mail me @ home, @{not}' });
  });
});

describe('a definition saved before these rules', () => {
  const catalog = (id: string) => (id === 'shared_sql' ? ['ExecuteQuery'] : undefined);
  const refs = new Map([['db', 'shared_sql']]);

  it('is refused at run start when it breaks them now', () => {
    const errors = checkDefinitionForRun({ actions: [{ type: 'ui.click' }] }, refs, catalog);
    expect(errors).toEqual([
      { code: 'DefinitionInvalid', detail: expect.stringContaining('definition.actions[0].type') },
    ]);
  });

  it('runs only operations its references’ connectors have', () => {
    const definition = {
      actions: [
        { type: 'connector', connectionReference: 'db', operation: 'ExecuteQuery' },
        { type: 'condition', if: true, then: [{ type: 'connector', connectionReference: 'db', operation: 'Drop' }] },
        { type: 'connector', connectionReference: 'ghost', operation: 'Anything' },
      ],
    };
    expect(checkDefinitionForRun(definition, refs, catalog)).toEqual([
      { code: 'OperationNotFound', logicalName: 'db', detail: expect.stringContaining('Drop') },
    ]);
  });
});
