// The run rules as tables: the prompt, resolving a console run, cloud-run checks.
import { readFileSync } from 'node:fs';

import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../lib/config';

import type { ConnectionStatus } from '../../lib/domain/connections';
import { type DomainError } from '../../lib/domain/errors';

import type { ConnectionReference } from '../../lib/domain/references';
import type { Role } from '../../lib/domain/roles';
import {
  buildRunPrompt,
  byName,
  parseRunId,
  resolveAttendedRun,
  runView,
  type ConnectionSummary,
  type Run,
} from '../../lib/domain/runs';
import { checkCloudRun, definitionReferences } from '../../lib/domain/cloudRuns';

const at = '2026-11-25T00:00:00.000Z';
const reference = (overrides: Partial<ConnectionReference> = {}): ConnectionReference => ({
  logicalName: 'db',
  connectorId: 'shared_sql',
  ownerId: 'olivia',
  connectionId: 'olivia-db',
  embedded: true,
  createdAt: at,
  modifiedAt: at,
  ...overrides,
});
const conn = (
  id: string,
  ownerId: string,
  status: ConnectionStatus = 'Connected',
  connectorId = 'shared_sql',
): ConnectionSummary => ({
  id,
  ownerId,
  connectorId,
  displayName: id,
  status,
  createdAt: at,
});
const lent = new Map([['olivia-db', conn('olivia-db', 'olivia')]]);

describe('the run prompt', () => {
  it.each([
    ['owner', 'olivia-db', ['embedded:olivia-db', 'own:mine-1']],
    ['coOwner', 'olivia-db', ['embedded:olivia-db', 'own:mine-1']],
    ['user', 'mine-1', ['own:mine-1']],
  ] as const)('for an embedded reference, a %s defaults to %s', (role, expectedDefault, candidates) => {
    const [entry] = buildRunPrompt([reference()], role, 'me', [conn('mine-1', 'me')], lent);
    expect(entry!.defaultConnectionId).toBe(expectedDefault);
    expect(entry!.candidates.map((c) => `${c.source}:${c.id}`)).toEqual(candidates);
  });

  it.each(['owner', 'coOwner', 'user'] as const)(
    'for a reference that is not embedded, a %s gets only their own',
    (role) => {
      const [entry] = buildRunPrompt([reference({ embedded: false })], role, 'me', [conn('mine-1', 'me')], lent);
      expect(entry!.candidates.map((c) => c.source)).toEqual(['own']);
      expect(entry!.defaultConnectionId).toBe('mine-1');
    },
  );

  it('defaults to the oldest Connected compatible connection, and to none without one', () => {
    const own = [
      conn('broken', 'me', 'Error'),
      conn('mail', 'me', 'Connected', 'shared_office365'),
      conn('older', 'me'),
      conn('newer', 'me'),
    ];
    const [entry] = buildRunPrompt([reference({ embedded: false })], 'user', 'me', own, lent);
    expect(entry!.candidates.map((c) => c.id)).toEqual(['broken', 'older', 'newer']);
    expect(entry!.defaultConnectionId).toBe('older');
    const [none] = buildRunPrompt(
      [reference({ embedded: false })],
      'user',
      'me',
      [conn('broken', 'me', 'Error')],
      lent,
    );
    expect(none!.defaultConnectionId).toBeNull();
  });

  it("lists the reference owner's embedded connection once", () => {
    const [entry] = buildRunPrompt([reference()], 'coOwner', 'olivia', [conn('olivia-db', 'olivia')], lent);
    expect(entry!.candidates.map((c) => `${c.source}:${c.id}`)).toEqual(['embedded:olivia-db']);
  });
});

describe('resolving a console run', () => {
  const prompt = (role: Role, own: ConnectionSummary[] = [conn('mine-1', 'me')]) =>
    buildRunPrompt([reference()], role, 'me', own, lent);
  const ownerOf = new Map([
    ['olivia-db', 'olivia'],
    ['mine-1', 'me'],
  ]);
  const resolve = (role: Role, requested: Record<string, string> = {}, mode?: string, own?: ConnectionSummary[]) =>
    resolveAttendedRun({
      role,
      callerId: 'me',
      mode,
      requested: new Map(Object.entries(requested)),
      prompt: prompt(role, own),
      ownerOf,
      definitionReferences: ['db'],
    });
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'ok';
    } catch (error) {
      return (error as DomainError).code;
    }
  };

  it('uses the default, or the connection asked for', () => {
    expect(resolve('coOwner')).toEqual({ db: { connectionId: 'olivia-db', ownerId: 'olivia', source: 'embedded' } });
    expect(resolve('coOwner', { db: 'mine-1' })).toEqual({
      db: { connectionId: 'mine-1', ownerId: 'me', source: 'own' },
    });
    expect(resolve('user')).toEqual({ db: { connectionId: 'mine-1', ownerId: 'me', source: 'own' } });
  });

  it('refuses a connection the caller may not use as if it did not exist', () => {
    expect(code(() => resolve('user', { db: 'olivia-db' }))).toBe('ValidationFailed');
    expect(code(() => resolve('user', { db: 'nobodys' }))).toBe('ValidationFailed');
    expect(code(() => resolve('user', { other: 'mine-1' }))).toBe('ValidationFailed');
  });

  it('lists every reference left without a Connected connection', () => {
    try {
      resolve('user', {}, undefined, []);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: 'ConnectionRequired',
        extensions: { missing: [{ logicalName: 'db', connectorId: 'shared_sql' }] },
      });
    }
    expect(code(() => resolve('user', { db: 'broken' }, undefined, [conn('broken', 'me', 'Error')]))).toBe(
      'ConnectionRequired',
    );
  });

  it.each([
    ['user', 'cloud', 'RunModeNotAllowed'],
    ['coOwner', 'cloud', 'ValidationFailed'],
    ['user', 'unattended', 'RunModeNotAllowed'],
    ['coOwner', 'unattended', 'ValidationFailed'],
    ['user', 'attended', 'ok'],
  ] as const)('a %s asking for mode %s gets %s', (role, mode, expected) => {
    expect(code(() => resolve(role, {}, mode))).toBe(expected);
  });
});

describe('references named like what every object has', () => {
  const builtIns = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];

  it.each(builtIns)('resolve %s by default and as picked, and show it', (name) => {
    const prompt = (role: Role) =>
      buildRunPrompt([reference({ logicalName: name })], role, 'me', [conn('mine-1', 'me')], lent);
    const resolve = (role: Role, requested: Array<[string, string]> = []) =>
      resolveAttendedRun({
        role,
        callerId: 'me',
        mode: undefined,
        requested: new Map(requested),
        prompt: prompt(role),
        ownerOf: new Map([
          ['olivia-db', 'olivia'],
          ['mine-1', 'me'],
        ]),
        definitionReferences: [name],
      });
    const lentRun = resolve('coOwner');
    expect(Object.getPrototypeOf(lentRun)).toBe(null);
    expect(Object.entries(lentRun)).toEqual([
      [name, { connectionId: 'olivia-db', ownerId: 'olivia', source: 'embedded' }],
    ]);
    expect(Object.entries(resolve('coOwner', [[name, 'mine-1']]))).toEqual([
      [name, { connectionId: 'mine-1', ownerId: 'me', source: 'own' }],
    ]);
    expect(Object.entries(resolve('user'))).toEqual([[name, { connectionId: 'mine-1', ownerId: 'me', source: 'own' }]]);

    const run: Run = {
      tenantId: 't',
      flowId: 'f',
      id: 'f.r',
      mode: 'attended',
      status: 'Dispatched',
      initiatedBy: 'me',
      connections: lentRun,
      createdAt: at,
    };
    expect(JSON.parse(JSON.stringify(runView(run, 'me', 'coOwner').connections))).toEqual({ [name]: 'olivia-db' });
    expect(Object.entries(runView(run, 'me', 'user').connections)).toEqual([[name, null]]);
  });

  it('finds nothing a name was not given', () => {
    const record = byName([['db', 1]]);
    for (const name of builtIns) expect(record[name]).toBeUndefined();
  });
});

describe('cloud-run checks', () => {
  const facts = (overrides: Partial<Parameters<typeof checkCloudRun>[0]> = {}) => ({
    flow: { schemaVersion: 2 },
    initiatorRole: 'coOwner' as Role | undefined,
    references: [reference()],
    embeddedStatus: new Map<string, ConnectionStatus | undefined>([['db', 'Connected']]),
    definitionReferences: ['db'],
    ...overrides,
  });

  it('passes a v2 flow whose every reference is embedded and usable', () => {
    expect(checkCloudRun(facts())).toEqual([]);
  });

  it.each([
    ['owner', []],
    ['coOwner', []],
    ['user', ['InitiatorNotAuthorized']],
    [undefined, ['InitiatorNotAuthorized']],
  ] as const)('lets a run asked for by someone now %s run only while they are a maker', (role, codes) => {
    expect(checkCloudRun(facts({ initiatorRole: role })).map((e) => e.code)).toEqual(codes);
  });

  it('gives every reason at once', () => {
    const errors = checkCloudRun(
      facts({
        flow: { schemaVersion: 1 },
        initiatorRole: 'user',
        references: [
          reference({ logicalName: 'a', embedded: false }),
          reference({ logicalName: 'b' }),
          reference({ logicalName: 'c', embedded: false }),
        ],
        embeddedStatus: new Map([['b', 'Error' as const]]),
        definitionReferences: ['a', 'b', 'ghost'],
      }),
    );
    expect(errors.map((e) => [e.code, e.logicalName])).toEqual([
      ['InitiatorNotAuthorized', undefined],
      ['FlowSchemaNotV2', undefined],
      ['ConnectionReferenceNotEmbedded', 'a'],
      ['ConnectionUnavailable', 'b'],
      ['ConnectionReferenceNotEmbedded', 'c'],
      ['ConnectionReferenceMissing', 'ghost'],
    ]);
  });

  it.each([[undefined], ['PendingConsent'], ['Error']] as const)(
    'finds an embedded connection that is %s unusable',
    (status) => {
      expect(checkCloudRun(facts({ embeddedStatus: new Map([['db', status]]) })).map((e) => e.code)).toEqual([
        'ConnectionUnavailable',
      ]);
    },
  );

  it('reports a flow that is gone', () => {
    expect(checkCloudRun(facts({ flow: undefined })).map((e) => e.code)).toEqual(['FlowNotFound']);
  });

  it('reads the references the definition uses', () => {
    const definition = {
      actions: [
        { type: 'connector', connectionReference: 'b' },
        { type: 'note' },
        { type: 'connector', connectionReference: 'a' },
        { type: 'connector', connectionReference: 'b' },
      ],
    };
    expect(definitionReferences(definition)).toEqual(['b', 'a']);
    expect(definitionReferences({})).toEqual([]);
  });
});

describe('what a run shows', () => {
  const run: Run = {
    tenantId: 't',
    flowId: 'f',
    id: 'f.r',
    mode: 'attended',
    status: 'Dispatching',
    initiatedBy: 'usr',
    connections: {
      mine: { connectionId: 'usr-db', ownerId: 'usr', source: 'own' },
      lent: { connectionId: 'olivia-db', ownerId: 'olivia', source: 'embedded' },
    },
    createdAt: at,
    claimedAt: at,
  };

  it('shows each connection id to its owner, lent ones to makers, and hides the rest', () => {
    expect(runView(run, 'usr', 'user').connections).toEqual({ mine: 'usr-db', lent: null });
    expect(runView(run, 'carol', 'coOwner').connections).toEqual({ mine: null, lent: 'olivia-db' });
    expect(runView(run, 'olivia', 'owner').connections).toEqual({ mine: null, lent: 'olivia-db' });
  });

  it('shows a claimed run as Queued and nothing internal', () => {
    expect(runView(run, 'usr', 'user')).toMatchObject({ status: 'Queued' });
    expect(runView(run, 'usr', 'user')).not.toHaveProperty('claimedAt');
  });

  it('splits a run id into its flow and its own part', () => {
    expect(parseRunId('flow-1.abc')).toEqual({ flowId: 'flow-1', uuid: 'abc' });
    expect(parseRunId('a.b.c')).toEqual({ flowId: 'a.b', uuid: 'c' });
    expect(parseRunId('nodot')).toBeUndefined();
    expect(parseRunId('.x')).toBeUndefined();
  });
});

describe('the cloud-run processor and host.json', () => {
  it('agree on when a request has failed for the last time', () => {
    const host = JSON.parse(readFileSync(join(__dirname, '../../host.json'), 'utf8')) as {
      extensions: { queues: { maxDequeueCount: number } };
    };
    const config = loadConfig({
      AUTH_ISSUER: 'https://issuer',
      AUTH_AUDIENCE: 'api://x',
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      CONNECTOR_CATALOG: '[{"id":"x","displayName":"X","authType":"apiKey"}]',
      SECRET_SEALING_KEYS: `k:${Buffer.alloc(32).toString('base64')}`,
      SIGNIN_AUTHORITY: 'https://login.example/tenant',
      SIGNIN_CLIENT_ID: 'web',
      SIGNIN_CLIENT_SECRET: 'secret',
    });
    expect(config.cloudRuns.maxDequeueCount).toBe(host.extensions.queues.maxDequeueCount);
  });
});
