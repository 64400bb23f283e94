import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkNewConnection } from '../../lib/domain/connections';
import { CatalogError, connectorView, operationOf, parseCatalog } from '../../lib/domain/connectors';
import { DomainError } from '../../lib/domain/errors';
import { devConnectorCatalog } from '../../dev/devConnectors';

const env = { DEV_OAUTH_CLIENT_SECRET: 'shh' };
const PROVIDERS = 'http://localhost:7073';
const devCatalog = () =>
  parseCatalog(JSON.stringify(devConnectorCatalog('http://localhost:7072', PROVIDERS)), env, {
    httpOrigins: [PROVIDERS],
  });

describe('the connector catalog', () => {
  it('reads the development catalog and takes client secrets from their settings', () => {
    const catalog = devCatalog();
    expect(catalog.map((c) => [c.id, c.authType])).toEqual([
      ['shared_office365', 'oauth2'],
      ['shared_sharepointonline', 'oauth2'],
      ['shared_sql', 'apiKey'],
    ]);
    const office = catalog[0]!;
    expect(office.authType === 'oauth2' && office.oauth.clientSecret).toBe('shh');
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['empty', '[]', /at least one connector/],
    ['an unknown auth type', '[{"id":"x","displayName":"X","authType":"basic"}]', /authType/],
    [
      'an http authority',
      JSON.stringify([
        {
          id: 'x',
          displayName: 'X',
          authType: 'oauth2',
          oauth: { authority: 'http://a', clientId: 'c', clientSecretSetting: 'S', scopes: ['s'] },
        },
      ]),
      /https/,
    ],
    [
      'a duplicate id',
      '[{"id":"x","displayName":"X","authType":"apiKey"},{"id":"x","displayName":"Y","authType":"apiKey"}]',
      /twice/,
    ],
    ['an id storage cannot hold', '[{"id":"a/b","displayName":"X","authType":"apiKey"}]', /id/],
    [
      'a missing client secret setting',
      JSON.stringify([
        {
          id: 'x',
          displayName: 'X',
          authType: 'oauth2',
          oauth: { authority: 'https://a', clientId: 'c', clientSecretSetting: 'MISSING', scopes: ['s'] },
        },
      ]),
      /MISSING/,
    ],
  ])('fails with its reason when %s', (_why, json, reason) => {
    expect(() => parseCatalog(json, env)).toThrow(CatalogError);
    expect(() => parseCatalog(json, env)).toThrow(reason);
  });

  it('is the same in local.settings.json (for func start) as the one npm start builds', () => {
    const settings = JSON.parse(readFileSync(join(__dirname, '../../local.settings.json'), 'utf8')) as {
      Values: Record<string, string>;
    };
    const providers = settings.Values.GATEWAY_ALLOWED_LOOPBACK_ORIGINS!;
    expect(providers).toBe(PROVIDERS);
    expect(JSON.parse(settings.Values.CONNECTOR_CATALOG!)).toEqual(
      devConnectorCatalog(settings.Values.AUTH_ISSUER!, providers),
    );
  });
});

describe("the connector catalog's operations", () => {
  it('shows callers each operation and its parameters, not where it goes nor the client', () => {
    const catalog = parseCatalog(
      JSON.stringify(devConnectorCatalog('http://i', 'http://localhost:1')),
      { DEV_OAUTH_CLIENT_SECRET: 's' },
      { httpOrigins: ['http://localhost:1'] },
    );
    const views = catalog.map(connectorView);
    expect(views.map((v) => [v.id, v.operations.map((o) => o.id)])).toEqual([
      ['shared_office365', ['SendEmail', 'ListEmails', 'GetMyProfile']],
      ['shared_sharepointonline', ['GetItems', 'CreateItem', 'GetFileContent']],
      ['shared_sql', ['ExecuteQuery']],
    ]);
    expect(views[0]!.operations[0]).toEqual({
      id: 'SendEmail',
      displayName: 'Send an email',
      read: false,
      scopes: ['Mail.Send'],
      parameters: [
        { name: 'to', in: 'body', type: 'string', required: true, maxLength: 320, description: 'the recipient' },
        { name: 'subject', in: 'body', type: 'string', required: true, maxLength: 255 },
        { name: 'body', in: 'body', type: 'string', required: true, maxLength: 100_000 },
      ],
    });
    const text = JSON.stringify(views);
    for (const hidden of [
      'localhost:1',
      'clientId',
      'flowshare-dev-office365',
      'X-API-Key',
      'secret',
      '/me/sendMail',
    ]) {
      expect(text).not.toContain(hidden);
    }
    expect(operationOf(catalog[0]!, 'SendEmail')?.path).toBe('/me/sendMail');
    expect(operationOf(catalog[0]!, 'sendemail')).toBeUndefined();
  });
});

describe('creating a connection', () => {
  const [office, , sql] = devCatalog();

  it.each([
    ['an unknown connector', undefined, { connectorId: 'nope', displayName: 'x' }, 'connectorId'],
    ['an API-key connector without a key', sql, { connectorId: 'shared_sql', displayName: 'x' }, 'apiKey'],
    [
      'an OAuth connector with a key',
      office,
      { connectorId: 'shared_office365', displayName: 'x', apiKey: 'k' },
      'apiKey',
    ],
  ])('refuses %s, naming the field', (_why, connector, body, field) => {
    try {
      checkNewConnection(connector, body);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).extensions.errors).toEqual([{ field, detail: expect.any(String) }]);
    }
  });

  it('takes a key for an API-key connector and none for an OAuth one', () => {
    expect(checkNewConnection(sql, { connectorId: 'shared_sql', displayName: 'x', apiKey: 'k' })).toBe(sql);
    expect(checkNewConnection(office, { connectorId: 'shared_office365', displayName: 'x' })).toBe(office);
  });
});
