// Which connection a connector call may use, decided at the moment of the
// call: every sharing rule, again, for runs and for design-time calls.
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../lib/domain/errors';
import { checkCallConnection, designCallConnection, runCallConnection } from '../../lib/domain/gateway';
import type { ConnectionReference } from '../../lib/domain/references';
import { byName, type RunConnection } from '../../lib/domain/runs';

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'allowed';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

const reference = (over: Partial<ConnectionReference> = {}): ConnectionReference => ({
  logicalName: 'mail',
  connectorId: 'shared_office365',
  ownerId: 'bob',
  connectionId: 'bob-mail',
  embedded: true,
  createdAt: 't',
  modifiedAt: 't',
  ...over,
});
const own: RunConnection = { connectionId: 'carol-mail', ownerId: 'carol', source: 'own' };
const lent: RunConnection = { connectionId: 'bob-mail', ownerId: 'bob', source: 'embedded' };
const attended = (connection: RunConnection, initiatedBy = 'carol') => ({
  mode: 'attended' as const,
  initiatedBy,
  connections: byName([['mail', connection]]),
});

describe("a run's connector call", () => {
  it.each([
    ["the run's own connection, its person still on the flow", attended(own), reference(), 'user', 'allowed'],
    [
      'its own connection, its person removed from the flow',
      attended(own),
      reference(),
      undefined,
      'ConnectionNotAllowed',
    ],
    [
      'an embedded connection, still embedded, its user a co-owner',
      attended(lent, 'alice'),
      reference(),
      'coOwner',
      'allowed',
    ],
    [
      'an embedded connection unembedded since',
      attended(lent, 'alice'),
      reference({ embedded: false }),
      'coOwner',
      'ConnectionNotAllowed',
    ],
    [
      'an embedded connection whose reference was removed',
      attended(lent, 'alice'),
      undefined,
      'coOwner',
      'ConnectionNotAllowed',
    ],
    [
      'an embedded reference rebound to another connection',
      attended(lent, 'alice'),
      reference({ connectionId: 'other' }),
      'coOwner',
      'ConnectionNotAllowed',
    ],
    [
      'an embedded connection, its user now only a user',
      attended(lent, 'alice'),
      reference(),
      'user',
      'ConnectionNotAllowed',
    ],
    [
      'an embedded connection, its user removed',
      attended(lent, 'alice'),
      reference(),
      undefined,
      'ConnectionNotAllowed',
    ],
    [
      'a cloud run on an embedded connection',
      { ...attended(lent, 'alice'), mode: 'cloud' as const },
      reference(),
      'owner',
      'allowed',
    ],
    [
      "a cloud run on someone's own connection",
      { ...attended(own), mode: 'cloud' as const },
      reference(),
      'owner',
      'ConnectionNotAllowed',
    ],
  ] as const)('%s', (_what, run, ref, role, expected) => {
    expect(codeOf(() => runCallConnection({ run, logicalName: 'mail', reference: ref, initiatorRole: role }))).toBe(
      expected,
    );
  });

  it('answers the connection the run was given, not what the reference is bound to now', () => {
    expect(
      runCallConnection({ run: attended(own), logicalName: 'mail', reference: reference(), initiatorRole: 'user' }),
    ).toEqual({
      connectionId: 'carol-mail',
      ownerId: 'carol',
    });
  });

  it.each(['db', '__proto__', 'constructor'])('refuses %s, a reference the run has no connection for', (name) => {
    expect(
      codeOf(() =>
        runCallConnection({ run: attended(own), logicalName: name, reference: undefined, initiatorRole: 'user' }),
      ),
    ).toBe('ValidationFailed');
  });
});

describe("a maker's design-time call", () => {
  it.each([
    ['the reference owner, not embedded', 'bob', 'coOwner', reference({ embedded: false }), true, 'allowed'],
    ['another co-owner, embedded', 'alice', 'owner', reference(), true, 'allowed'],
    ['another co-owner, not embedded', 'alice', 'owner', reference({ embedded: false }), true, 'ConnectionNotAllowed'],
    ['a run-only user', 'carol', 'user', reference(), true, 'Forbidden'],
    ['a stranger', 'mallory', undefined, reference(), true, 'NotFound'],
    ['a reference that does not exist', 'bob', 'coOwner', undefined, true, 'NotFound'],
    ['an operation that writes', 'bob', 'coOwner', reference(), false, 'ValidationFailed'],
  ] as const)('%s', (_what, callerId, callerRole, ref, operationReads, expected) => {
    expect(codeOf(() => designCallConnection({ callerId, callerRole, reference: ref, operationReads }))).toBe(expected);
  });
});

describe('the connection as read for a call', () => {
  it.each([
    ['Connected and its owner’s', { ownerId: 'bob', status: 'Connected' as const }, 'allowed'],
    ['gone', undefined, 'ConnectionNotAllowed'],
    ['someone else’s', { ownerId: 'eve', status: 'Connected' as const }, 'ConnectionNotAllowed'],
    ['in Error', { ownerId: 'bob', status: 'Error' as const }, 'ConnectionNotAllowed'],
  ])('is usable only when %s', (_what, found, expected) => {
    expect(codeOf(() => checkCallConnection({ connectionId: 'c', ownerId: 'bob' }, found))).toBe(expected);
  });
});
