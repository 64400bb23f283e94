import { describe, expect, it } from 'vitest';
import { DomainError, type FieldError } from '../../lib/domain/errors';
import { parseId, parseWith } from '../../lib/domain/schemas';
import { createFlowBody, sharePermissionBody, startRunBody, updateFlowBody } from '../../lib/http/bodies';

function fieldErrors(fn: () => unknown): FieldError[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError && error.code === 'ValidationFailed')
      return error.extensions.errors as FieldError[];
    throw error;
  }
  throw new Error('expected ValidationFailed');
}

describe('ids and logical names', () => {
  it.each(['a', 'flow-1', 'My_Flow.v2', 'x'.repeat(100)])('accepts %s', (id) => {
    expect(parseId(id, 'flowId')).toBe(id);
  });

  it.each([
    ['empty', ''],
    ['too long', 'x'.repeat(101)],
    ['a slash', 'a/b'],
    ['a backslash', 'a\\b'],
    ['a hash', 'a#b'],
    ['a question mark', 'a?b'],
    ['a control character', 'a\u0001b'],
    ['a space', 'a b'],
    ['a quote', "a'b"],
    ['non-ASCII letters', 'flöw'],
  ])('rejects an id with %s, naming the field', (_why, id) => {
    expect(fieldErrors(() => parseId(id, 'flowId'))).toEqual([{ field: 'flowId', detail: expect.any(String) }]);
  });
});

describe('creating a flow', () => {
  it('takes a name, an optional schema version and an optional definition', () => {
    const body = {
      name: 'Invoices',
      schemaVersion: 1,
      definition: {
        actions: [
          {
            type: 'connector',
            connectionReference: 'office365',
            operation: 'SendEmail',
            parameters: { to: 'x@example.com' },
          },
          { type: 'note', target: 'Submit' },
        ],
      },
    };
    expect(parseWith(createFlowBody, body)).toEqual(body);
    expect(parseWith(createFlowBody, { name: 'Bare' })).toEqual({ name: 'Bare' });
  });

  it('lists every invalid field at once', () => {
    const errors = fieldErrors(() =>
      parseWith(createFlowBody, {
        name: '',
        schemaVersion: 3,
        definition: {
          actions: [{ type: 'connector' }, { type: 'connector', connectionReference: 'bad/name', operation: 'x' }],
        },
        extra: true,
      }),
    );
    expect(errors.map((e) => e.field).sort()).toEqual(
      [
        'definition.actions[0].connectionReference',
        'definition.actions[0].operation',
        'definition.actions[1].connectionReference',
        'extra',
        'name',
        'schemaVersion',
      ].sort(),
    );
  });

  it('rejects names that are blank, too long, hold control characters or are not well-formed Unicode', () => {
    expect(fieldErrors(() => parseWith(createFlowBody, { name: 'a\uD800b' }))[0]?.field).toBe('name');
    expect(parseWith(createFlowBody, { name: 'a\uFFFD \u{1F600}' })).toEqual({ name: 'a\uFFFD \u{1F600}' });
    expect(fieldErrors(() => parseWith(createFlowBody, { name: '   ' }))[0]?.field).toBe('name');
    expect(fieldErrors(() => parseWith(createFlowBody, { name: 'x'.repeat(201) }))[0]?.field).toBe('name');
    expect(fieldErrors(() => parseWith(createFlowBody, { name: 'a\nb' }))[0]?.field).toBe('name');
  });

  it('rejects wrong types', () => {
    expect(fieldErrors(() => parseWith(createFlowBody, { name: 42 }))[0]?.field).toBe('name');
    expect(fieldErrors(() => parseWith(createFlowBody, { name: 'a', definition: { actions: 'none' } }))[0]?.field).toBe(
      'definition.actions',
    );
    expect(fieldErrors(() => parseWith(createFlowBody, [])).length).toBe(1);
    expect(fieldErrors(() => parseWith(createFlowBody, null)).length).toBe(1);
  });
});

describe('updating a flow', () => {
  it('needs a name or a definition, and nothing else', () => {
    expect(parseWith(updateFlowBody, { name: 'Renamed' })).toEqual({ name: 'Renamed' });
    expect(fieldErrors(() => parseWith(updateFlowBody, {})).length).toBe(1);
    expect(fieldErrors(() => parseWith(updateFlowBody, { schemaVersion: 2 }))[0]?.field).toBe('schemaVersion');
  });
});

describe('sharing', () => {
  it('grants coOwner or user, never owner', () => {
    expect(parseWith(sharePermissionBody, { role: 'coOwner' })).toEqual({ role: 'coOwner' });
    expect(parseWith(sharePermissionBody, { role: 'user' })).toEqual({ role: 'user' });
    expect(fieldErrors(() => parseWith(sharePermissionBody, { role: 'owner' }))[0]?.field).toBe('role');
    expect(fieldErrors(() => parseWith(sharePermissionBody, {}))[0]?.field).toBe('role');
  });
});

describe('starting a run', () => {
  it('keeps every connection picked, whatever the logical name', () => {
    // As JSON.parse reads a body: `__proto__` is an own key like any other.
    const body = JSON.parse('{"connections":{"__proto__":"a","constructor":"b","db":"c"}}') as unknown;
    const { connections } = parseWith(startRunBody, body);
    expect([...connections!]).toEqual([
      ['__proto__', 'a'],
      ['constructor', 'b'],
      ['db', 'c'],
    ]);
  });

  it('names the field of a bad logical name, a bad connection id, or connections that are no object', () => {
    expect(
      fieldErrors(() => parseWith(startRunBody, { connections: { 'a/b': 'x', ok: 'y z' } })).map((e) => e.field),
    ).toEqual(['connections.a/b', 'connections.ok']);
    for (const connections of ['db', ['db'], null, 1]) {
      expect(fieldErrors(() => parseWith(startRunBody, { connections }))).toEqual([
        { field: 'connections', detail: 'must be an object' },
      ]);
    }
  });
});
