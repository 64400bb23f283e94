// The connection-reference rules as tables: every role, reference owner or not.
import { describe, expect, it } from 'vitest';
import type { ConnectionStatus } from '../../lib/domain/connections';
import { DomainError } from '../../lib/domain/errors';
import {
  asLent,
  decideBind,
  decideEmbed,
  decideRemoveReference,
  namesReference,
  referencesToUnembed,
  referenceView,
  stillToUnembed,
  type ConnectionReference,
  type PendingUnembedding,
} from '../../lib/domain/references';
import type { Role } from '../../lib/domain/roles';

const at = '2026-11-25T00:00:00.000Z';
const ref = (overrides: Partial<ConnectionReference> = {}): ConnectionReference => ({
  logicalName: 'mail',
  connectorId: 'shared_office365',
  ownerId: 'bob',
  connectionId: 'bob-mail',
  embedded: false,
  createdAt: at,
  modifiedAt: at,
  ...overrides,
});

function outcome(fn: () => unknown): string {
  try {
    const result = fn();
    return typeof result === 'string' ? result : ((result as { kind?: string })?.kind ?? 'allowed');
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

type Who = { id: string; role: Role | undefined };
const people: Record<string, Who> = {
  'the flow owner': { id: 'alice', role: 'owner' },
  'the reference owner (co-owner)': { id: 'bob', role: 'coOwner' },
  'another co-owner': { id: 'carol', role: 'coOwner' },
  'a user': { id: 'dave', role: 'user' },
  'a stranger': { id: 'mallory', role: undefined },
};

describe('binding a reference', () => {
  const own = (id: string, status: ConnectionStatus = 'Connected') => ({ id, connectorId: 'shared_office365', status });

  it.each([
    ['the flow owner', 'add'],
    ['the reference owner (co-owner)', 'add'],
    ['another co-owner', 'add'],
    ['a user', 'Forbidden'],
    ['a stranger', 'NotFound'],
  ])('lets %s add a new reference: %s', (who, expected) => {
    const p = people[who]!;
    const result = outcome(() =>
      decideBind({
        callerId: p.id,
        callerRole: p.role,
        logicalName: 'mail',
        current: undefined,
        connectorId: 'shared_office365',
        connection: own(`${p.id}-mail`),
        at,
      }),
    );
    expect(result).toBe(expected);
  });

  it.each([
    ['the flow owner', 'NotReferenceOwner'],
    ['the reference owner (co-owner)', 'rebind'],
    ['another co-owner', 'NotReferenceOwner'],
    ['a user', 'Forbidden'],
    ['a stranger', 'NotFound'],
  ])('lets %s rebind an existing one: %s', (who, expected) => {
    const p = people[who]!;
    const result = outcome(() =>
      decideBind({
        callerId: p.id,
        callerRole: p.role,
        logicalName: 'mail',
        current: ref(),
        connectorId: 'shared_office365',
        connection: own(`${p.id}-other`),
        at,
      }),
    );
    expect(result).toBe(expected);
  });

  it('makes the caller the owner of a new, unembedded reference', () => {
    const decision = decideBind({
      callerId: 'carol',
      callerRole: 'coOwner',
      logicalName: 'mail',
      current: undefined,
      connectorId: 'shared_office365',
      connection: own('carol-mail'),
      at,
    });
    expect(decision).toEqual({
      kind: 'add',
      reference: ref({ ownerId: 'carol', connectionId: 'carol-mail', embedded: false }),
    });
  });

  it('answers unchanged for the same connection', () => {
    expect(
      outcome(() =>
        decideBind({
          callerId: 'bob',
          callerRole: 'coOwner',
          logicalName: 'mail',
          current: ref(),
          connectorId: 'shared_office365',
          connection: own('bob-mail'),
          at,
        }),
      ),
    ).toBe('unchanged');
  });

  it.each([
    ["a connection that is not the caller's", undefined, 'shared_office365'],
    [
      'a connection of another connector',
      { id: 'bob-sql', connectorId: 'shared_sql', status: 'Connected' as const },
      'shared_office365',
    ],
    ['another connector than the reference has', own('bob-x'), 'shared_sharepointonline'],
  ])('refuses %s as invalid input', (_why, connection, connectorId) => {
    expect(
      outcome(() =>
        decideBind({
          callerId: 'bob',
          callerRole: 'coOwner',
          logicalName: 'mail',
          current: ref(),
          connectorId,
          connection,
          at,
        }),
      ),
    ).toBe('ValidationFailed');
  });

  it('keeps an embedded reference usable: rebinding it needs a Connected connection', () => {
    const embedded = ref({ embedded: true });
    expect(
      outcome(() =>
        decideBind({
          callerId: 'bob',
          callerRole: 'coOwner',
          logicalName: 'mail',
          current: embedded,
          connectorId: 'shared_office365',
          connection: own('bob-2', 'Error'),
          at,
        }),
      ),
    ).toBe('ConnectionUnavailable');
    const rebound = decideBind({
      callerId: 'bob',
      callerRole: 'coOwner',
      logicalName: 'mail',
      current: embedded,
      connectorId: 'shared_office365',
      connection: own('bob-2'),
      at,
    });
    expect(rebound).toMatchObject({
      kind: 'rebind',
      from: 'bob-mail',
      reference: { connectionId: 'bob-2', embedded: true },
    });
  });
});

describe('embedding and unembedding', () => {
  it.each([
    ['the flow owner', 'NotReferenceOwner'],
    ['the reference owner (co-owner)', 'change'],
    ['another co-owner', 'NotReferenceOwner'],
    ['a user', 'Forbidden'],
    ['a stranger', 'NotFound'],
  ])('lets only the reference owner embed it: %s gets %s', (who, expected) => {
    const p = people[who]!;
    expect(
      outcome(() =>
        decideEmbed({
          callerId: p.id,
          callerRole: p.role,
          reference: ref(),
          embedded: true,
          connectionStatus: 'Connected',
        }),
      ),
    ).toBe(expected);
    expect(
      outcome(() =>
        decideEmbed({
          callerId: p.id,
          callerRole: p.role,
          reference: ref({ embedded: true }),
          embedded: false,
          connectionStatus: 'Connected',
        }),
      ),
    ).toBe(expected);
  });

  it.each([
    ['PendingConsent', 'ConnectionUnavailable'],
    ['Error', 'ConnectionUnavailable'],
    [undefined, 'ConnectionUnavailable'],
    ['Connected', 'change'],
  ] as const)('embeds only a Connected connection: %s gives %s', (status, expected) => {
    expect(
      outcome(() =>
        decideEmbed({
          callerId: 'bob',
          callerRole: 'coOwner',
          reference: ref(),
          embedded: true,
          connectionStatus: status,
        }),
      ),
    ).toBe(expected);
  });

  it("unembeds whatever the connection's state, and answers unchanged when nothing changes", () => {
    expect(
      outcome(() =>
        decideEmbed({
          callerId: 'bob',
          callerRole: 'coOwner',
          reference: ref({ embedded: true }),
          embedded: false,
          connectionStatus: undefined,
        }),
      ),
    ).toBe('change');
    expect(
      outcome(() =>
        decideEmbed({
          callerId: 'bob',
          callerRole: 'coOwner',
          reference: ref(),
          embedded: false,
          connectionStatus: 'Connected',
        }),
      ),
    ).toBe('unchanged');
  });

  it('answers 404 for a reference that does not exist', () => {
    expect(
      outcome(() =>
        decideEmbed({
          callerId: 'bob',
          callerRole: 'coOwner',
          reference: undefined,
          embedded: true,
          connectionStatus: undefined,
        }),
      ),
    ).toBe('NotFound');
  });
});

describe('removing a reference', () => {
  it.each([
    ['the flow owner', 'coOwner', 'NotReferenceOwner'],
    ['the flow owner', undefined, 'allowed'],
    ['the flow owner', 'user', 'allowed'],
    ['the reference owner (co-owner)', 'coOwner', 'allowed'],
    ['another co-owner', 'coOwner', 'NotReferenceOwner'],
    ['another co-owner', undefined, 'NotReferenceOwner'],
    ['a user', 'coOwner', 'Forbidden'],
    ['a stranger', 'coOwner', 'NotFound'],
  ] as const)('%s, when the reference owner is %s: %s', (who, ownerRole, expected) => {
    const p = people[who]!;
    const referenceOwnerRole = p.id === 'bob' ? p.role : ownerRole;
    expect(
      outcome(() =>
        decideRemoveReference({ callerId: p.id, callerRole: p.role, reference: ref(), referenceOwnerRole }),
      ),
    ).toBe(expected);
  });
});

describe('losing co-ownership', () => {
  const refs = [
    ref({ logicalName: 'a', embedded: true }),
    ref({ logicalName: 'b', embedded: false }),
    ref({ logicalName: 'c', ownerId: 'carol', embedded: true }),
  ];

  it.each([
    [undefined, ['a']],
    ['user', ['a']],
    ['coOwner', []],
  ] as const)('unembeds the references a person owns when their role becomes %s', (role, expected) => {
    expect(referencesToUnembed(refs, 'bob', role).map((r) => r.logicalName)).toEqual(expected);
  });
});

describe('what each viewer learns of a reference', () => {
  const bound = { id: 'bob-mail', displayName: "Bob's mail", status: 'Connected' as const };

  it('shows the connection only to the reference owner, its status to everyone', () => {
    expect(referenceView(ref(), 'bob', bound)).toEqual({
      logicalName: 'mail',
      connectorId: 'shared_office365',
      ownerId: 'bob',
      embedded: false,
      status: 'Connected',
      connection: { id: 'bob-mail', displayName: "Bob's mail" },
    });
    expect(referenceView(ref(), 'carol', bound)).not.toHaveProperty('connection');
    expect(referenceView(ref(), 'carol', bound).status).toBe('Connected');
  });

  it('reports Error when the bound connection no longer exists', () => {
    expect(referenceView(ref(), 'bob', undefined)).toMatchObject({ status: 'Error' });
    expect(referenceView(ref(), 'bob', undefined)).not.toHaveProperty('connection');
  });
});

describe('which references count as embedded', () => {
  // Bob lost co-ownership; a role change unembedded some of his references and left a and b pending.
  const pending: PendingUnembedding = { id: 'p1', principalId: 'bob', actorId: 'alice', at, logicalNames: ['a', 'b'] };
  const refs = [
    ref({ logicalName: 'a', embedded: true }),
    ref({ logicalName: 'b', embedded: false }), // its owner unembedded it meanwhile
    ref({ logicalName: 'c', embedded: true }), // embedded again by Bob, a co-owner again
    ref({ logicalName: 'd', embedded: true, ownerId: 'carol' }),
  ];

  it('counts as embedded only what is embedded and not left to unembed', () => {
    const lent = asLent(refs, [pending]);
    expect(lent.map((r) => [r.logicalName, r.embedded])).toEqual([
      ['a', false],
      ['b', false],
      ['c', true],
      ['d', true],
    ]);
    expect(asLent(refs, [])).toEqual(refs);
  });

  it("goes by the person as well as the name: another person's reference of that name is lent", () => {
    const carols = ref({ logicalName: 'a', embedded: true, ownerId: 'carol' });
    expect(asLent([carols], [pending])[0]!.embedded).toBe(true);
    expect(namesReference(pending, carols)).toBe(false);
    expect(namesReference(pending, refs[0]!)).toBe(true);
  });

  it('does not depend on the role its owner holds now: a re-share lends nothing again', () => {
    // The rule takes no role at all; only embedding it again (which drops it from the pending row) lends it.
    expect(asLent([refs[0]!], [pending])[0]!.embedded).toBe(false);
  });

  it("leaves to unembed what is named, still embedded and still its person's", () => {
    const byName = new Map(
      [...refs, ref({ logicalName: 'e', embedded: true, ownerId: 'carol' })].map((r) => [r.logicalName, r]),
    );
    const wider = { ...pending, logicalNames: ['a', 'b', 'e', 'gone'] };
    expect(stillToUnembed(wider, byName).map((r) => r.logicalName)).toEqual(['a']);
  });
});
