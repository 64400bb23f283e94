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

const withCatchAll = httpRoutesOf([
  fn('everythingElse', '{*path}', ['GET']),
  fn('getConnection', 'connections/{connectionId}', ['GET']),
  fn('apiFlow', 'api/flows/{flowId}', ['GET']),
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

  it('tries a catch-all last, with the rest of the path, the root included', () => {
    expect(matchRoute(withCatchAll, 'GET', '/api/flows/f1')).toMatchObject({
      route: { functionName: 'apiFlow' },
      params: { flowId: 'f1' },
    });
    expect(matchRoute(withCatchAll, 'GET', '/connections/c1')).toMatchObject({
      route: { functionName: 'getConnection' },
    });
    expect(matchRoute(withCatchAll, 'GET', '/nowhere')).toMatchObject({
      route: { functionName: 'everythingElse' },
      params: { path: 'nowhere' },
    });
    expect(matchRoute(withCatchAll, 'GET', '/flows/f1/audit')).toMatchObject({ params: { path: 'flows/f1/audit' } });
    expect(matchRoute(withCatchAll, 'GET', '/')).toMatchObject({
      route: { functionName: 'everythingElse' },
      params: { path: '' },
    });
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
