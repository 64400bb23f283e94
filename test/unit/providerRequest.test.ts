// Building a connector call's provider request: where it goes, and with
// which headers, whatever the caller sends (docs/limits.md, Connector calls).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkCallParameters, type ConnectorOperation } from '../../lib/domain/connectorOperations';
import { loadConfig } from '../../lib/config';
import { operationOf, parseCatalog, type Connector } from '../../lib/domain/connectors';
import { DomainError } from '../../lib/domain/errors';
import { addressAllowed, addressKind } from '../../lib/gateway/addresses';
import { buildProviderRequest, type ConnectorCredential } from '../../lib/gateway/providerRequest';

const [mail, db] = parseCatalog(
  JSON.stringify([
    {
      id: 'mail',
      displayName: 'Mail',
      authType: 'oauth2',
      oauth: { authority: 'https://login.example', clientId: 'c', clientSecretSetting: 'S', scopes: ['Mail.Read'] },
      baseUrl: 'https://api.example/v1.0/',
      operations: [
        {
          id: 'GetFolder',
          method: 'GET',
          path: '/me/folders/{folder}/messages',
          read: true,
          parameters: [
            { name: 'folder', in: 'path', type: 'string' },
            { name: 'top', in: 'query', type: 'integer' },
            { name: 'filter', in: 'query', type: 'string' },
          ],
        },
        { id: 'Root', method: 'GET', path: '/', read: true, parameters: [] },
      ],
    },
    {
      id: 'db',
      displayName: 'DB',
      authType: 'apiKey',
      apiKey: { in: 'header', name: 'X-API-Key' },
      baseUrl: 'https://db.example',
      operations: [
        {
          id: 'Query',
          method: 'POST',
          path: '/tables/{table}/query',
          read: false,
          parameters: [
            { name: 'table', in: 'path', type: 'string' },
            { name: 'query', in: 'body', type: 'string', required: true },
            { name: 'options', in: 'body', type: 'object' },
          ],
        },
      ],
    },
  ]),
  { S: 's' },
) as [Connector, Connector];

const token: ConnectorCredential = { kind: 'accessToken', accessToken: 'eyJ.abc-_~+/.sig=' };
const key: ConnectorCredential = { kind: 'apiKey', apiKey: 'k3y with spaces' };

function build(connector: Connector, operationId: string, parameters: unknown, credential: ConnectorCredential) {
  const operation = operationOf(connector, operationId) as ConnectorOperation;
  return buildProviderRequest(connector, operation, checkCallParameters(operation, parameters), credential);
}

describe("a connector call's provider request", () => {
  it("goes to the connector's origin and base path, with the credential and nothing else", () => {
    const request = build(mail, 'GetFolder', { folder: 'Inbox', top: 5, filter: "a eq 'b'&c=d" }, token);
    expect(request.method).toBe('GET');
    expect(request.url.href).toBe(
      'https://api.example/v1.0/me/folders/Inbox/messages?top=5&filter=a+eq+%27b%27%26c%3Dd',
    );
    expect(request.headers).toEqual({ Authorization: 'Bearer eyJ.abc-_~+/.sig=' });
    expect(request.body).toBeUndefined();
    expect(build(mail, 'Root', {}, token).url.href).toBe('https://api.example/v1.0');
  });

  it('sends an API key in its header, and body parameters as one JSON object', () => {
    const request = build(db, 'Query', { table: 't', query: 'SELECT 1', options: { a: 1 } }, key);
    expect(request.url.href).toBe('https://db.example/tables/t/query');
    expect(request.headers).toEqual({ 'X-API-Key': 'k3y with spaces', 'Content-Type': 'application/json' });
    expect(JSON.parse(request.body!)).toEqual({ query: 'SELECT 1', options: { a: 1 } });
  });

  it.each([
    ['a slash', 'a/b', 'a%2Fb'],
    ['a dot-dot inside a value', '../x', '..%2Fx'],
    ['percent-encoded dots', '%2e%2e', '%252e%252e'],
    ['a query', 'x?admin=1', 'x%3Fadmin%3D1'],
    ['a fragment', 'x#y', 'x%23y'],
    ['another origin', 'https://evil.example/', 'https%3A%2F%2Fevil.example%2F'],
    ['a backslash', '..\\..\\x', '..%5C..%5Cx'],
    ['a header', 'x\r\nHost: evil.example', 'x%0D%0AHost%3A%20evil.example'],
    ['three dots', '...', '...'],
  ])('keeps %s inside one path segment', (_why, folder, encoded) => {
    const request = build(mail, 'GetFolder', { folder }, token);
    expect(request.url.origin).toBe('https://api.example');
    expect(request.url.pathname).toBe(`/v1.0/me/folders/${encoded}/messages`);
    expect(Object.keys(request.headers)).toEqual(['Authorization']);
  });

  it.each(['..', '.'])('refuses the path value %j before building anything', (folder) => {
    expect(() => build(mail, 'GetFolder', { folder }, token)).toThrow(DomainError);
    const operation = operationOf(mail, 'GetFolder')!;
    // Even parameters that skipped the check never make a dot segment.
    try {
      buildProviderRequest(mail, operation, { path: { folder }, query: {} }, token);
      expect.unreachable();
    } catch (error) {
      expect((error as DomainError).extensions.errors).toEqual([
        { field: 'parameters.folder', detail: 'must be a value other than "", "." and ".."' },
      ]);
    }
  });

  it('never leaves the origin or base path, whatever the path value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), (folder, filter) => {
        let request;
        try {
          request = build(mail, 'GetFolder', { folder, filter }, token);
        } catch (error) {
          expect((error as DomainError).code).toBe('ValidationFailed');
          return;
        }
        expect(request.url.origin).toBe('https://api.example');
        expect(request.url.pathname.startsWith('/v1.0/me/folders/')).toBe(true);
        expect(request.url.pathname.endsWith('/messages')).toBe(true);
        expect(request.url.pathname.split('/')).toHaveLength(6);
        expect(Object.keys(request.headers)).toEqual(['Authorization']);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['a bearer token with a line break', mail, { kind: 'accessToken', accessToken: 'abc\r\nX-Evil: 1' }],
    ['a bearer token with a space', mail, { kind: 'accessToken', accessToken: 'abc def' }],
    ['an API key with a line break', db, { kind: 'apiKey', apiKey: 'k\nX-Evil: 1' }],
    ['an API key with a control character', db, { kind: 'apiKey', apiKey: 'k\u0000' }],
    ['an API key beyond ASCII', db, { kind: 'apiKey', apiKey: 'clé' }],
  ] as const)('refuses to send %s, without saying it', (_why, connector, credential) => {
    const operation = connector === mail ? 'GetFolder' : 'Query';
    const parameters = connector === mail ? { folder: 'f' } : { table: 't', query: 'q' };
    try {
      build(connector, operation, parameters, credential as ConnectorCredential);
      expect.unreachable();
    } catch (error) {
      expect((error as DomainError).code).toBe('ConnectorCallFailed');
      expect((error as Error).message).not.toContain('X-Evil');
    }
  });
});

describe('the addresses a call may reach', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd00::1', 'private'],
    ['fc00::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['0.0.0.0', 'special'],
    ['::', 'special'],
    ['100.64.0.1', 'special'],
    ['168.63.129.16', 'special'],
    ['224.0.0.1', 'special'],
    ['255.255.255.255', 'special'],
    ['not an address', 'special'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700::1111', 'public'],
    ['::ffff:8.8.8.8', 'public'],
  ])('%s is %s', (address, kind) => {
    expect(addressKind(address)).toBe(kind);
  });

  it('allows loopback only where configuration allows it, and nothing else inward ever', () => {
    expect(addressAllowed('127.0.0.1', false)).toBe(false);
    expect(addressAllowed('127.0.0.1', true)).toBe(true);
    expect(addressAllowed('10.0.0.1', true)).toBe(false);
    expect(addressAllowed('169.254.169.254', true)).toBe(false);
    expect(addressAllowed('8.8.8.8', false)).toBe(true);
  });
});

describe('GATEWAY_ALLOWED_LOOPBACK_ORIGINS', () => {
  const env = {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    AUTH_ISSUER: 'https://issuer.example',
    AUTH_AUDIENCE: 'api://x',
    CONNECTOR_CATALOG: '[{"id":"x","displayName":"X","authType":"apiKey"}]',
    SECRET_SEALING_KEYS: `k:${Buffer.alloc(32).toString('base64')}`,
    SIGNIN_AUTHORITY: 'https://login.example/t',
    SIGNIN_CLIENT_ID: 'web',
    SIGNIN_CLIENT_SECRET: 'secret',
  };

  it('is none unless set, as in Azure', () => {
    expect(loadConfig(env).gateway.allowedLoopbackOrigins).toEqual([]);
  });

  it('takes loopback origins only', () => {
    const origins = 'http://localhost:7073, http://127.0.0.1:9/,https://[::1]:8443';
    expect(loadConfig({ ...env, GATEWAY_ALLOWED_LOOPBACK_ORIGINS: origins }).gateway.allowedLoopbackOrigins).toEqual([
      'http://localhost:7073',
      'http://127.0.0.1:9',
      'https://[::1]:8443',
    ]);
    for (const bad of ['http://10.0.0.1:80', 'http://example.com', 'http://localhost:1/path', 'ftp://localhost']) {
      expect(() => loadConfig({ ...env, GATEWAY_ALLOWED_LOOPBACK_ORIGINS: bad })).toThrow(
        /GATEWAY_ALLOWED_LOOPBACK_ORIGINS/,
      );
    }
  });

  it('lets a connector of those origins be plain http', () => {
    const catalog = JSON.stringify([
      { id: 'x', displayName: 'X', authType: 'apiKey', baseUrl: 'http://localhost:7073/sql', operations: [] },
    ]);
    expect(() => loadConfig({ ...env, CONNECTOR_CATALOG: catalog })).toThrow(/baseUrl: must be an https URL/);
    expect(
      loadConfig({ ...env, CONNECTOR_CATALOG: catalog, GATEWAY_ALLOWED_LOOPBACK_ORIGINS: 'http://localhost:7073' })
        .connectors[0]!.baseUrl,
    ).toBe('http://localhost:7073/sql');
  });
});
