import { describe, expect, it } from 'vitest';
import { checkCallParameters, type ConnectorOperation } from '../../lib/domain/connectorOperations';
import { CatalogError, parseCatalog } from '../../lib/domain/connectors';
import { DomainError, type FieldError } from '../../lib/domain/errors';

const env = { S: 'secret' };
const oauth = { authority: 'https://login.example', clientId: 'c', clientSecretSetting: 'S', scopes: ['Mail.Send'] };
const operation = (extra: Record<string, unknown> = {}) => ({
  id: 'Op',
  method: 'GET',
  path: '/items/{id}',
  read: true,
  parameters: [{ name: 'id', in: 'path', type: 'string' }],
  ...extra,
});
const connector = (extra: Record<string, unknown> = {}) => ({
  id: 'x',
  displayName: 'X',
  authType: 'oauth2',
  oauth,
  baseUrl: 'https://api.example/v1',
  operations: [operation()],
  ...extra,
});

/** Every reason parseCatalog gives, one per line. */
function reasonsFor(connectors: unknown[], httpOrigins: string[] = []): string[] {
  try {
    parseCatalog(JSON.stringify(connectors), env, { httpOrigins });
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogError);
    return (error as Error).message.replace(/^[^:]*: /, '').split('; ');
  }
  return [];
}

describe('connector operations in the catalog', () => {
  it('accepts a connector with operations, and one without any', () => {
    expect(reasonsFor([connector(), { id: 'plain', displayName: 'P', authType: 'apiKey' }])).toEqual([]);
  });

  it('lists every reason at once', () => {
    const reasons = reasonsFor([
      connector({
        baseUrl: 'http://api.example',
        operations: [
          operation({ path: '/items/{id}/{other}' }),
          operation({ parameters: [{ name: 'id', in: 'path', type: 'object' }] }),
        ],
      }),
    ]);
    expect(reasons).toEqual([
      '0.operations.0.path: placeholder {other} has no path parameter',
      '0.operations.1.parameters.0.type: a path parameter must be a string, integer or number',
      expect.stringMatching(/^0\.baseUrl: must be an https URL/),
      '0.operations.1.id: Op is listed twice',
    ]);
  });

  it.each([
    ['a path parameter without its placeholder', operation({ path: '/items' }), /the path has no \{id\} placeholder/],
    ['a placeholder without its parameter', operation({ parameters: [] }), /placeholder \{id\} has no path parameter/],
    ['a placeholder inside a segment', operation({ path: '/items({id})' }), /must be literal characters/],
    ['a ".." segment', operation({ path: '/a/../{id}' }), /"\." or "\.\." segments/],
    ['a path with a query', operation({ path: '/items/{id}?x=1' }), /must be literal characters/],
    ['a path that does not start with /', operation({ path: 'items/{id}' }), /must start with "\/"/],
    ['an empty segment', operation({ path: '/items//{id}' }), /empty segments/],
    [
      'a parameter declared twice',
      operation({
        parameters: [
          { name: 'id', in: 'path', type: 'string' },
          { name: 'id', in: 'query', type: 'string' },
        ],
      }),
      /id is declared twice/,
    ],
    [
      'an optional path parameter',
      operation({ parameters: [{ name: 'id', in: 'path', type: 'string', required: false }] }),
      /always required/,
    ],
    [
      'a body parameter on a GET',
      operation({
        parameters: [
          { name: 'id', in: 'path', type: 'string' },
          { name: 'b', in: 'body', type: 'string' },
        ],
      }),
      /a GET request has no body/,
    ],
    [
      'an object in the query',
      operation({
        parameters: [
          { name: 'id', in: 'path', type: 'string' },
          { name: 'q', in: 'query', type: 'object' },
        ],
      }),
      /a query parameter must be/,
    ],
    [
      'a maxLength on a number',
      operation({ parameters: [{ name: 'id', in: 'path', type: 'integer', maxLength: 3 }] }),
      /only a string parameter has a maxLength/,
    ],
    [
      'an enum of the wrong type',
      operation({ parameters: [{ name: 'id', in: 'path', type: 'string', enum: [1, 2] }] }),
      /must list string values/,
    ],
    ['a scope the connector does not ask for', operation({ scopes: ['Mail.Read'] }), /Mail.Read is not among/],
    ['an unknown member', operation({ headers: { x: 'y' } }), /headers/],
  ])('refuses %s', (_why, op, reason) => {
    expect(reasonsFor([connector({ operations: [op] })]).join('; ')).toMatch(reason);
  });

  it.each([
    ['operations without a baseUrl', connector({ baseUrl: undefined }), /baseUrl: is required/],
    ['a baseUrl with a query', connector({ baseUrl: 'https://api.example/v1?x=1' }), /baseUrl: must have no query/],
    ['a baseUrl with credentials', connector({ baseUrl: 'https://u:p@api.example' }), /baseUrl: must have no query/],
    ['a baseUrl that is not http', connector({ baseUrl: 'ftp://api.example' }), /baseUrl: must be an https URL/],
    [
      'an apiKey connector with operations and no way to send its key',
      { id: 'k', displayName: 'K', authType: 'apiKey', baseUrl: 'https://db.example', operations: [operation()] },
      /apiKey: must say how the key is sent/,
    ],
    [
      'an API key in a header HTTP sets',
      { id: 'k', displayName: 'K', authType: 'apiKey', apiKey: { in: 'header', name: 'Host' } },
      /apiKey.name: is a header/,
    ],
    [
      'an API key in the query',
      { id: 'k', displayName: 'K', authType: 'apiKey', apiKey: { in: 'query', name: 'key' } },
      /apiKey.in/,
    ],
    [
      'scopes on an apiKey connector',
      {
        id: 'k',
        displayName: 'K',
        authType: 'apiKey',
        apiKey: { in: 'header', name: 'X-Key' },
        baseUrl: 'https://db.example',
        operations: [operation({ scopes: ['s'] })],
      },
      /an apiKey connector has no scopes/,
    ],
  ])('refuses %s', (_why, definition, reason) => {
    expect(reasonsFor([definition]).join('; ')).toMatch(reason);
  });

  it('allows plain http only for an origin the settings allow', () => {
    const local = connector({ baseUrl: 'http://localhost:7073/office365' });
    expect(reasonsFor([local], ['http://localhost:7073'])).toEqual([]);
    expect(reasonsFor([local], ['http://localhost:7074']).join()).toMatch(/baseUrl: must be an https URL/);
  });
});

describe("checking a call's parameters", () => {
  const op: ConnectorOperation = {
    id: 'CreateItem',
    method: 'POST',
    path: '/lists/{list}/items',
    read: false,
    parameters: [
      { name: 'list', in: 'path', type: 'string', maxLength: 10 },
      { name: 'top', in: 'query', type: 'integer' },
      { name: 'sort', in: 'query', type: 'string', enum: ['asc', 'desc'] },
      { name: 'title', in: 'body', type: 'string', required: true },
      { name: 'fields', in: 'body', type: 'object' },
      { name: 'tags', in: 'body', type: 'array' },
      { name: 'urgent', in: 'body', type: 'boolean' },
      { name: 'weight', in: 'body', type: 'number' },
    ],
  };

  function errorsOf(parameters: unknown): FieldError[] {
    try {
      checkCallParameters(op, parameters);
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('ValidationFailed');
      return (error as DomainError).extensions.errors as FieldError[];
    }
    return [];
  }

  it('sorts valid parameters by where they go', () => {
    const call = checkCallParameters(op, {
      list: 'a b/c',
      top: 5,
      sort: 'asc',
      title: 'T',
      fields: { x: 1 },
      tags: [],
      urgent: false,
      weight: 1.5,
    });
    expect({ ...call.path }).toEqual({ list: 'a b/c' });
    expect({ ...call.query }).toEqual({ top: 5, sort: 'asc' });
    expect({ ...call.body }).toEqual({ title: 'T', fields: { x: 1 }, tags: [], urgent: false, weight: 1.5 });
  });

  it('names every invalid field at once, unknown ones included', () => {
    expect(
      errorsOf({ top: 1.5, sort: 'up', fields: [], tags: {}, urgent: 'yes', weight: '1', extra: 1, __proto__x: 2 }),
    ).toEqual([
      { field: 'parameters.extra', detail: 'is not a parameter of CreateItem' },
      { field: 'parameters.__proto__x', detail: 'is not a parameter of CreateItem' },
      { field: 'parameters.list', detail: 'is required' },
      { field: 'parameters.top', detail: 'must be an integer' },
      { field: 'parameters.sort', detail: 'must be one of "asc", "desc"' },
      { field: 'parameters.title', detail: 'is required' },
      { field: 'parameters.fields', detail: 'must be an object' },
      { field: 'parameters.tags', detail: 'must be an array' },
      { field: 'parameters.urgent', detail: 'must be true or false' },
      { field: 'parameters.weight', detail: 'must be a number' },
    ]);
  });

  it.each([
    ['..', 'must not be "." or ".."'],
    ['.', 'must not be "." or ".."'],
    ['', 'must not be empty'],
    ['x'.repeat(11), 'must be at most 10 characters'],
    ['\uD800', 'must be well-formed Unicode (no lone surrogates)'],
    [3, 'must be a string'],
  ])('refuses the path value %j', (list, detail) => {
    expect(errorsOf({ list, title: 't' })).toEqual([{ field: 'parameters.list', detail }]);
  });

  it('refuses parameters that are not an object', () => {
    expect(errorsOf([])).toEqual([{ field: 'parameters', detail: 'must be an object' }]);
    expect(errorsOf('x')).toEqual([{ field: 'parameters', detail: 'must be an object' }]);
  });

  it('takes a caller\'s "__proto__" as a name like any other', () => {
    expect(errorsOf(JSON.parse('{"list":"l","title":"t","__proto__":{"polluted":true}}'))).toEqual([
      { field: 'parameters.__proto__', detail: 'is not a parameter of CreateItem' },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('caps the length of an unknown name it reports', () => {
    const [error] = errorsOf({ list: 'l', title: 't', ['k'.repeat(500)]: 1 });
    expect(error!.field.length).toBeLessThan(120);
  });
});
