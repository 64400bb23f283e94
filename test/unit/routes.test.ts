import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RegisteredFunction } from '../../dev/functionsCore';
import { httpRoutesOf, matchRoute } from '../../dev/functionsHost';

function fn(name: string, route: string, methods: string[]): RegisteredFunction {
  return { metadata: { name, bindings: { req: { type: 'httpTrigger', route, methods } } }, handler: () => undefined };
}

const routes = httpRoutesOf([
  fn('getConnection', 'connections/{connectionId}', ['GET']),
  fn('usage', 'connections/{connectionId}/usage', ['GET']),
  fn('callback', 'connections/oauth/callback', ['GET']),
  fn('anyCallback', 'connections/{connectionId}/{what}', ['GET']),
  fn('optional', 'items/{itemId?}', ['GET']),
  fn('constrained', 'numbers/{n:int}', ['GET']),
]);

describe('the local host routes as the Functions host does', () => {
  it('prefers literal segments over parameters', () => {
    const found = matchRoute(routes, 'GET', '/connections/oauth/callback');
    expect(found).toMatchObject({ route: { functionName: 'callback' }, params: {} });
    expect(matchRoute(routes, 'GET', '/connections/c1/usage')).toMatchObject({ route: { functionName: 'usage' } });
    expect(matchRoute(routes, 'GET', '/connections/c1/other')).toMatchObject({
      route: { functionName: 'anyCallback' },
    });
  });

  it('decodes parameters, matches case-insensitively and takes optional ones', () => {
    expect(matchRoute(routes, 'GET', '/Connections/a%2Fb')).toMatchObject({ params: { connectionId: 'a/b' } });
    expect(matchRoute(routes, 'GET', '/items')).toMatchObject({ route: { functionName: 'optional' }, params: {} });
    expect(matchRoute(routes, 'GET', '/items/7')).toMatchObject({ params: { itemId: '7' } });
    expect(matchRoute(routes, 'GET', '/numbers/3')).toMatchObject({ params: { n: '3' } });
  });

  it('tells a method no function takes from a path no route has', () => {
    expect(matchRoute(routes, 'DELETE', '/connections/c1')).toBe('methodNotAllowed');
    expect(matchRoute(routes, 'GET', '/nowhere')).toBeUndefined();
  });
});

describe('HTTP functions', () => {
  it('are all registered with their documentation (httpRoute), never with a bare app.http', () => {
    const dir = join(__dirname, '../../functions');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text, `${file} registers an HTTP function without its documentation`).not.toMatch(/\bapp\.http\(/);
    }
  });
});
