import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkNewConnection } from '../../lib/domain/connections';
import { CatalogError, parseCatalog } from '../../lib/domain/connectors';
import { DomainError } from '../../lib/domain/errors';
import { devConnectorCatalog } from '../../dev/devConnectors';

const env = { DEV_OAUTH_CLIENT_SECRET: 'shh' };

describe('the connector catalog', () => {
  it('reads the development catalog and takes client secrets from their settings', () => {
    const catalog = parseCatalog(JSON.stringify(devConnectorCatalog('http://localhost:7072')), env);
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
    expect(JSON.parse(settings.Values.CONNECTOR_CATALOG!)).toEqual(devConnectorCatalog(settings.Values.AUTH_ISSUER!));
  });
});

describe('creating a connection', () => {
  const [office, , sql] = parseCatalog(JSON.stringify(devConnectorCatalog('http://localhost:7072')), env);

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
