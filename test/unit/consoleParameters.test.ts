// The console's try-an-action form against the API's own check: what the
// form makes of what a person typed is what checkCallParameters (the
// gateway's rule) accepts, each value as its declared type; empty fields are
// left out; what cannot be sent as its type is said before any call.
import { describe, expect, it } from 'vitest';
import { checkCallParameters, operationSchema } from '../../lib/domain/connectorOperations';
import { DomainError } from '../../lib/domain/errors';
import { parametersOf } from '../../web/src/parameters';

const operation = operationSchema.parse({
  id: 'Search',
  method: 'POST',
  path: '/lists/{list}/search',
  read: true,
  parameters: [
    { name: 'list', in: 'path', type: 'string', maxLength: 100 },
    { name: 'top', in: 'query', type: 'integer' },
    { name: 'ratio', in: 'query', type: 'number' },
    { name: 'archived', in: 'query', type: 'boolean' },
    { name: 'order', in: 'query', type: 'string', enum: ['asc', 'desc'] },
    { name: 'size', in: 'query', type: 'integer', enum: [10, 50] },
    { name: 'filter', in: 'body', type: 'object' },
    { name: 'fields', in: 'body', type: 'array' },
  ],
});

describe("the try-an-action form's parameters", () => {
  it('are sent as their declared types, and the gateway accepts them as they are', () => {
    const made = parametersOf(operation.parameters, {
      list: 'Invoices',
      top: '5',
      ratio: '0.5',
      archived: 'false',
      order: 'desc',
      size: '50',
      filter: '{"status": "open"}',
      fields: '["title", "amount"]',
    });
    expect(made).toEqual({
      parameters: {
        list: 'Invoices',
        top: 5,
        ratio: 0.5,
        archived: false,
        order: 'desc',
        size: 50,
        filter: { status: 'open' },
        fields: ['title', 'amount'],
      },
    });
    if (!('parameters' in made)) throw new Error('unreachable');
    const checked = checkCallParameters(operation, made.parameters);
    expect(checked.path).toEqual({ list: 'Invoices' });
    expect({ ...checked.query }).toEqual({ top: 5, ratio: 0.5, archived: false, order: 'desc', size: 50 });
    expect({ ...checked.body }).toEqual({ filter: { status: 'open' }, fields: ['title', 'amount'] });
  });

  it('leave empty fields out, so an optional parameter is not sent at all', () => {
    expect(parametersOf(operation.parameters, { list: 'Invoices', top: '', filter: '' })).toEqual({
      parameters: { list: 'Invoices' },
    });
    expect(parametersOf(operation.parameters, {})).toEqual({ parameters: {} });
  });

  it('say which fields cannot be sent as their type, every one of them', () => {
    expect(parametersOf(operation.parameters, { top: 'many', filter: '{status', fields: '[1,' })).toEqual({
      errors: {
        top: 'top must be a number.',
        filter: 'filter must be JSON ({...}).',
        fields: 'fields must be JSON ([...]).',
      },
    });
  });

  it('leave the rest to the API, which names the field: a fraction for an integer', () => {
    const made = parametersOf(operation.parameters, { list: 'x', top: '2.5' });
    expect(made).toEqual({ parameters: { list: 'x', top: 2.5 } });
    if (!('parameters' in made)) throw new Error('unreachable');
    let refused: unknown;
    try {
      checkCallParameters(operation, made.parameters);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DomainError);
    const { code, extensions } = refused as DomainError;
    expect(code).toBe('ValidationFailed');
    expect(extensions.errors).toEqual([expect.objectContaining({ field: 'parameters.top' })]);
  });
});
