// Config drift: what lib/config.ts needs against what infra/ provides. The
// Bicep compiler cannot be installed here, so the files are read as text.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_NAMES, knownSettings, requiredSettings } from '../../lib/config';
import { MAX_BODY_BYTES } from '../../lib/domain/limits';
import { QUEUES } from '../../lib/storage/clients';

const infra = (file: string) => readFileSync(join(__dirname, '../../infra', file), 'utf8');

/** The names in the app settings object literal of api.bicep. */
function appSettingNames(): string[] {
  const bicep = infra('app/api.bicep');
  const block = bicep.slice(bicep.indexOf("name: 'appsettings'"));
  return [...block.matchAll(/^\s{8}([A-Za-z_][A-Za-z0-9_]*):/gm)].map((m) => m[1]!);
}

describe('infra and configuration', () => {
  it('provides every setting the code requires', () => {
    const provided = new Set(appSettingNames());
    for (const name of requiredSettings()) {
      if (name === 'AzureWebJobsStorage') expect(provided.has('AzureWebJobsStorage__accountName')).toBe(true);
      else expect(provided, `infra/app/api.bicep does not set ${name}`).toContain(name);
    }
  });

  it('sets no app setting the code or the host does not know', () => {
    const hostSettings = [
      'AzureWebJobsStorage__credential',
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT',
      'AzureWebJobsDisableHomepage',
    ];
    const known = new Set([...knownSettings(), ...hostSettings]);
    for (const name of appSettingNames()) expect(known, `${name} is set by infra but read by nothing`).toContain(name);
  });

  it('reaches storage with the identity: no connection string, no shared keys', () => {
    expect(appSettingNames()).not.toContain('AzureWebJobsStorage');
    expect(infra('app/storage.bicep')).toMatch(/allowSharedKeyAccess: false/);
    expect(infra('app/monitoring.bicep')).toMatch(/DisableLocalAuth: true/);
    expect(infra('app/keyvault.bicep')).toMatch(/enableRbacAuthorization: true/);
    expect(infra('app/api.bicep')).toMatch(/SECRET_SEALING_KEYS: '@Microsoft\.KeyVault\(/);
    expect(infra('app/api.bicep')).toMatch(/SIGNIN_CLIENT_SECRET: '@Microsoft\.KeyVault\(/);
  });

  it('creates the tables, queues and container the code uses, and the poison queue', () => {
    const storage = infra('app/storage.bicep');
    for (const table of [
      DEFAULT_NAMES.flowsTable,
      DEFAULT_NAMES.principalIndexTable,
      DEFAULT_NAMES.connectionsTable,
      DEFAULT_NAMES.oauthStatesTable,
      DEFAULT_NAMES.sessionsTable,
      DEFAULT_NAMES.pendingWorkTable,
      DEFAULT_NAMES.machinesTable,
    ]) {
      expect(storage).toContain(`'${table}'`);
    }
    for (const queue of [QUEUES.cloudRunRequests, `${QUEUES.cloudRunRequests}-poison`]) {
      expect(storage).toContain(`'${queue}'`);
    }
    // Runs are dispatched to machines in the machines table: no queue is read by nothing.
    expect(storage).not.toContain('desktop-run-dispatch');
    expect(storage).toContain(`'${DEFAULT_NAMES.definitionsContainer}'`);
  });

  it("has the host refuse a body past the service's limit before reading it", () => {
    expect(infra('app/api.bicep')).toMatch(
      new RegExp(`^\\s{8}FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '${MAX_BODY_BYTES}'$`, 'm'),
    );
  });

  it('targets Node 22 on Flex Consumption', () => {
    expect(infra('app/api.bicep')).toMatch(/runtime: \{ name: 'node', version: '22' \}/);
    expect(infra('app/api.bicep')).toMatch(/tier: 'FlexConsumption', name: 'FC1'/);
  });
});
