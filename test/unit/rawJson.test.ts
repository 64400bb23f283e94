import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { memberText, RawJson } from '../../lib/domain/rawJson';
import { stringify } from '../../lib/http/response';

describe('finding a member as it was written', () => {
  it.each([
    ['{"definition":{"a":1}}', '{"a":1}'],
    ['{ "name" : "x" , "definition" :  [1, 2.0 ,3] }', '[1, 2.0 ,3]'],
    ['{"definition":"a \\" } ] string"}', '"a \\" } ] string"'],
    ['{"x":{"definition":1},"definition":12345678901234567890}', '12345678901234567890'],
    ['{"defin\\u0069tion":true}', 'true'],
    ['{"definition":{"s":"}{][","n":[{}]}, "after": null}', '{"s":"}{][","n":[{}]}'],
    ['{"definition":1,"definition":2}', '2'],
    ['\n\t{"definition":-0.5e-3}\r\n', '-0.5e-3'],
  ])('in %s', (json, expected) => {
    expect(memberText(json, 'definition')).toBe(expected);
  });

  it('answers undefined when there is no such member or no object', () => {
    expect(memberText('{"name":"x"}', 'definition')).toBeUndefined();
    expect(memberText('[{"definition":1}]', 'definition')).toBeUndefined();
    expect(memberText('{}', 'definition')).toBeUndefined();
  });
});

describe('answering raw JSON', () => {
  it('writes a RawJson value as its text and everything else as JSON.stringify does', () => {
    const value = {
      id: 'f',
      definition: new RawJson('{ "n": 1.0 }'),
      list: [new RawJson('[ ]')],
      s: 'a "quoted" text',
    };
    expect(stringify(value)).toBe('{"id":"f","definition":{ "n": 1.0 },"list":[[ ]],"s":"a \\"quoted\\" text"}');
    expect(JSON.parse(stringify(value))).toEqual({ id: 'f', definition: { n: 1 }, list: [[]], s: 'a "quoted" text' });
  });

  it('is not fooled by strings that look like its placeholders', () => {
    expect(stringify({ a: 'x:0', b: new RawJson('1') })).toBe('{"a":"x:0","b":1}');
    // The very shape of a placeholder, with another call's nonce.
    const lookalike = `${randomUUID()}:0`;
    expect(stringify({ a: lookalike, b: new RawJson('1') })).toBe(`{"a":"${lookalike}","b":1}`);
    expect(stringify({ [lookalike]: new RawJson('[1]') })).toBe(`{"${lookalike}":[1]}`);
  });

  it('refuses to answer rather than answer broken JSON when a RawJson was stringified out of its place', () => {
    const raw = new RawJson('{"a":1.0}');
    // A toJSON of someone else's that stringifies a RawJson itself buries its placeholder in a string.
    const burying = { toJSON: () => JSON.stringify({ z: raw }) };
    expect(() => stringify([burying, raw])).toThrow(/outside its place/);
  });
});
