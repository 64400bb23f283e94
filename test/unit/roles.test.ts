import { describe, expect, it } from 'vitest';
import { DomainError } from '../../lib/domain/errors';
import {
  authorize,
  can,
  decideShare,
  decideUnshare,
  FLOW_ACTIONS,
  type FlowAction,
  type Role,
} from '../../lib/domain/roles';

type Outcome = 'allowed' | 'Forbidden' | 'NotFound';

// Every role (and a stranger, who has none) against every action on a flow.
const EXPECTED: Record<FlowAction, Record<Role | 'stranger', Outcome>> = {
  readFlow: { owner: 'allowed', coOwner: 'allowed', user: 'allowed', stranger: 'NotFound' },
  modifyFlow: { owner: 'allowed', coOwner: 'allowed', user: 'Forbidden', stranger: 'NotFound' },
  deleteFlow: { owner: 'allowed', coOwner: 'Forbidden', user: 'Forbidden', stranger: 'NotFound' },
  upgradeSchema: { owner: 'allowed', coOwner: 'allowed', user: 'Forbidden', stranger: 'NotFound' },
  readPermissions: { owner: 'allowed', coOwner: 'allowed', user: 'allowed', stranger: 'NotFound' },
  share: { owner: 'allowed', coOwner: 'allowed', user: 'Forbidden', stranger: 'NotFound' },
  readConnectionReferences: { owner: 'allowed', coOwner: 'allowed', user: 'allowed', stranger: 'NotFound' },
  writeConnectionReferences: { owner: 'allowed', coOwner: 'allowed', user: 'Forbidden', stranger: 'NotFound' },
  runAttended: { owner: 'allowed', coOwner: 'allowed', user: 'allowed', stranger: 'NotFound' },
  runCloud: { owner: 'allowed', coOwner: 'allowed', user: 'Forbidden', stranger: 'NotFound' },
  cancelRun: { owner: 'allowed', coOwner: 'allowed', user: 'Forbidden', stranger: 'NotFound' },
  checkCloudReadiness: { owner: 'allowed', coOwner: 'allowed', user: 'Forbidden', stranger: 'NotFound' },
  readRunHistory: { owner: 'allowed', coOwner: 'allowed', user: 'Forbidden', stranger: 'NotFound' },
  readAudit: { owner: 'allowed', coOwner: 'allowed', user: 'Forbidden', stranger: 'NotFound' },
  callConnectorAtDesignTime: { owner: 'allowed', coOwner: 'allowed', user: 'Forbidden', stranger: 'NotFound' },
};

function outcomeOf(fn: () => unknown): Outcome {
  try {
    fn();
    return 'allowed';
  } catch (error) {
    if (error instanceof DomainError && (error.code === 'Forbidden' || error.code === 'NotFound')) return error.code;
    throw error;
  }
}

describe('the role table', () => {
  it('covers every action the domain knows', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(FLOW_ACTIONS).sort());
  });

  for (const [action, byRole] of Object.entries(EXPECTED) as [FlowAction, Record<Role | 'stranger', Outcome>][]) {
    for (const [who, expected] of Object.entries(byRole) as [Role | 'stranger', Outcome][]) {
      const role = who === 'stranger' ? undefined : who;
      it(`${expected === 'allowed' ? 'lets' : 'does not let'} a ${who} ${action}`, () => {
        expect(outcomeOf(() => authorize(role, action))).toBe(expected);
        expect(can(role, action)).toBe(expected === 'allowed');
      });
    }
  }
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

describe('sharing a flow', () => {
  const share = (callerRole: Role | undefined, targetRole: Role | undefined, requestedRole: 'coOwner' | 'user') =>
    decideShare({ callerId: 'caller', callerRole, targetId: 'target', targetRole, requestedRole });

  it('lets the owner and co-owners grant either shared role', () => {
    for (const callerRole of ['owner', 'coOwner'] as const) {
      expect(share(callerRole, undefined, 'coOwner')).toEqual({ kind: 'grant', role: 'coOwner' });
      expect(share(callerRole, undefined, 'user')).toEqual({ kind: 'grant', role: 'user' });
    }
  });

  it('changes a role, and reports no change when the role is already held', () => {
    expect(share('owner', 'user', 'coOwner')).toEqual({ kind: 'change', from: 'user', role: 'coOwner' });
    expect(share('coOwner', 'coOwner', 'user')).toEqual({ kind: 'change', from: 'coOwner', role: 'user' });
    expect(share('owner', 'user', 'user')).toEqual({ kind: 'unchanged', role: 'user' });
  });

  it("never changes the owner's role, whoever asks", () => {
    expect(codeOf(() => share('owner', 'owner', 'coOwner'))).toBe('Conflict');
    expect(codeOf(() => share('coOwner', 'owner', 'user'))).toBe('Conflict');
  });

  it('does not let users share, and hides the flow from strangers', () => {
    expect(codeOf(() => share('user', undefined, 'user'))).toBe('Forbidden');
    expect(codeOf(() => share('user', 'owner', 'user'))).toBe('Forbidden');
    expect(codeOf(() => share(undefined, undefined, 'user'))).toBe('NotFound');
  });

  it('lets a co-owner step down to user', () => {
    expect(
      decideShare({
        callerId: 'me',
        callerRole: 'coOwner',
        targetId: 'me',
        targetRole: 'coOwner',
        requestedRole: 'user',
      }),
    ).toEqual({ kind: 'change', from: 'coOwner', role: 'user' });
  });
});

describe('unsharing a flow', () => {
  const unshare = (callerRole: Role | undefined, targetRole: Role | undefined, self = false) =>
    decideUnshare({ callerId: 'caller', callerRole, targetId: self ? 'caller' : 'target', targetRole });

  it('lets the owner and co-owners remove co-owners and users', () => {
    for (const callerRole of ['owner', 'coOwner'] as const) {
      for (const targetRole of ['coOwner', 'user'] as const) {
        expect(unshare(callerRole, targetRole)).toEqual({ removedRole: targetRole, self: false });
      }
    }
  });

  it('lets anyone but the owner remove themselves', () => {
    expect(unshare('user', 'user', true)).toEqual({ removedRole: 'user', self: true });
    expect(unshare('coOwner', 'coOwner', true)).toEqual({ removedRole: 'coOwner', self: true });
    expect(codeOf(() => unshare('owner', 'owner', true))).toBe('Conflict');
  });

  it('never removes the owner', () => {
    expect(codeOf(() => unshare('coOwner', 'owner'))).toBe('Conflict');
  });

  it('does not let a user remove someone else', () => {
    expect(codeOf(() => unshare('user', 'coOwner'))).toBe('Forbidden');
    expect(codeOf(() => unshare('user', undefined))).toBe('Forbidden');
  });

  it('answers not found for a principal without a role, and for strangers', () => {
    expect(codeOf(() => unshare('owner', undefined))).toBe('NotFound');
    expect(codeOf(() => unshare(undefined, 'user'))).toBe('NotFound');
    expect(codeOf(() => unshare(undefined, undefined, true))).toBe('NotFound');
  });
});
