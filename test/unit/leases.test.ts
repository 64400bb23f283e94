// Leases, run tokens and cancelling as tables: whether a call with a run
// token is accepted, how a lapsed or completed run ends, who may cancel what.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MACHINE_KEY_PREFIX, matchesKeyHash, newMachineKey, parseMachineKey } from '../../lib/auth/machineKeys';
import { RunTokens } from '../../lib/auth/runTokens';
import { Sealer } from '../../lib/crypto/sealer';
import { DomainError } from '../../lib/domain/errors';
import {
  completedStatus,
  decideCancel,
  lapsedStatus,
  leaseView,
  runCallVerdict,
  type LeasedRunFacts,
} from '../../lib/domain/leases';
import type { Role } from '../../lib/domain/roles';
import { RUN_STATUSES, type RunStatus } from '../../lib/domain/runLifecycle';
import { runView, type Run } from '../../lib/domain/runs';

const now = new Date('2026-01-01T12:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms).toISOString();
const claims = { tenantId: 't', flowId: 'f', runId: 'f.r', initiatedBy: 'usr', leaseId: 'lease-1' };
const running = (more: Partial<LeasedRunFacts> = {}): LeasedRunFacts => ({
  id: 'f.r',
  initiatedBy: 'usr',
  status: 'Running',
  leaseId: 'lease-1',
  leaseExpiresAt: later(30_000),
  ...more,
});

describe('a call made with a run token', () => {
  it.each([
    ['is accepted while the run is Running and its lease holds', running(), { kind: 'accepted' }],
    ['is refused for another run', running({ id: 'f.other' }), { kind: 'refused' }],
    ['is refused for another lease of the run', running({ leaseId: 'lease-2' }), { kind: 'refused' }],
    ['is refused when it names another initiator', running({ initiatedBy: 'someone' }), { kind: 'refused' }],
    ['is refused when the run is gone', undefined, { kind: 'refused' }],
    [
      'ends the run TimedOut when its lease lapsed',
      running({ leaseExpiresAt: later(0) }),
      { kind: 'ended', status: 'TimedOut', lapsed: true },
    ],
    [
      'ends the run Cancelled when its lease lapsed after a cancel was asked',
      running({ leaseExpiresAt: later(-1), cancelRequestedBy: 'olivia' }),
      { kind: 'ended', status: 'Cancelled', lapsed: true },
    ],
    [
      'is told a finished run ended, and how',
      running({ status: 'Succeeded' }),
      { kind: 'ended', status: 'Succeeded', lapsed: false },
    ],
  ] as const)('%s', (_what, run, verdict) => {
    expect(runCallVerdict(run, claims, now)).toEqual(verdict);
  });

  it('is never accepted by a run in any other status', () => {
    for (const status of RUN_STATUSES.filter((s) => s !== 'Running')) {
      expect(runCallVerdict(running({ status }), claims, now).kind, status).toBe('ended');
    }
  });
});

describe('how a run ends', () => {
  it('is what its executor reports, unless someone asked to cancel it', () => {
    expect(completedStatus({}, 'Succeeded')).toBe('Succeeded');
    expect(completedStatus({}, 'Failed')).toBe('Failed');
    expect(completedStatus({ cancelRequestedBy: 'x' }, 'Succeeded')).toBe('Cancelled');
    expect(lapsedStatus({})).toBe('TimedOut');
    expect(lapsedStatus({ cancelRequestedBy: 'x' })).toBe('Cancelled');
  });
});

describe('cancelling a run', () => {
  const run = (status: RunStatus, more: Partial<LeasedRunFacts> = {}) => ({
    ...running({ status, ...more }),
    initiatedBy: 'usr',
  });
  const outcome = (role: Role | undefined, callerId: string, status: RunStatus, more = {}) => {
    try {
      return decideCancel(role, callerId, run(status, more)).kind;
    } catch (error) {
      return (error as DomainError).code;
    }
  };

  it.each([
    ['its initiator, though only a user', 'user', 'usr', 'Running', 'askMachine'],
    ['the owner', 'owner', 'olivia', 'Running', 'askMachine'],
    ['a co-owner', 'coOwner', 'carol', 'Dispatched', 'cancelNow'],
    ['another user', 'user', 'uma', 'Running', 'Forbidden'],
    ['a stranger', undefined, 'sam', 'Running', 'NotFound'],
  ] as const)('is up to %s', (_who, role, callerId, status, expected) => {
    expect(outcome(role, callerId, status)).toBe(expected);
  });

  it.each([
    ['Queued', 'cancelNow'],
    ['Dispatching', 'cancelNow'],
    ['Dispatched', 'cancelNow'],
    ['Running', 'askMachine'],
    ['Cancelled', 'unchanged'],
    ['Succeeded', 'RunEnded'],
    ['Failed', 'RunEnded'],
    ['TimedOut', 'RunEnded'],
    ['Rejected', 'RunEnded'],
  ] as const)('of a %s run: %s', (status, expected) => {
    expect(outcome('owner', 'olivia', status)).toBe(expected);
  });

  it('asks a running run once', () => {
    expect(outcome('owner', 'olivia', 'Running', { cancelRequestedBy: 'carol' })).toBe('unchanged');
  });
});

describe('what a run shows of its results', () => {
  const run: Run = {
    tenantId: 't',
    flowId: 'f',
    id: 'f.r',
    mode: 'cloud',
    status: 'Succeeded',
    initiatedBy: 'usr',
    connections: {},
    createdAt: later(0),
    outputsJson: '{"total": 1.0}',
    actions: [{ name: 'Send', status: 'Succeeded', startedAt: later(0), durationMs: 5 }],
  };

  it('shows outputs and actions to its initiator and makers, not to another user', () => {
    for (const [viewer, role] of [
      ['usr', 'user'],
      ['olivia', 'owner'],
      ['carol', 'coOwner'],
    ] as const) {
      const view = JSON.parse(JSON.stringify(runView(run, viewer, role))) as Record<string, unknown>;
      expect(view, viewer).toHaveProperty('actions');
      expect(runView(run, viewer, role).outputs?.text, viewer).toBe('{"total": 1.0}');
    }
    expect(runView(run, 'uma', 'user')).not.toHaveProperty('outputs');
    expect(runView(run, 'uma', 'user')).not.toHaveProperty('actions');
  });

  it('leases name each reference the run uses with its connector, and no connection', () => {
    const leased: Run = {
      ...run,
      status: 'Running',
      leaseExpiresAt: later(60_000),
      connections: { db: { connectionId: 'c1', ownerId: 'olivia', source: 'embedded' } },
    };
    const view = leaseView(
      leased,
      { id: 'usr', role: 'user' },
      '{"actions":[]}',
      new Map([['db', 'shared_sql']]),
      'tok',
    );
    expect(view.references).toEqual([{ logicalName: 'db', connectorId: 'shared_sql' }]);
    expect(view).toMatchObject({ token: 'tok', leaseExpiresAt: later(60_000), inputs: { text: '{}' } });
  });
});

describe('machine keys', () => {
  const machine = { tenantId: 'tenant one', ownerId: 'olivia', machineId: 'm-1' };

  it('say which machine they are, and prove it only with their own secret', () => {
    const { key, hash } = newMachineKey(machine);
    expect(key.startsWith(MACHINE_KEY_PREFIX)).toBe(true);
    const parsed = parseMachineKey(key)!;
    expect(parsed).toMatchObject(machine);
    expect(matchesKeyHash(parsed.secret, hash)).toBe(true);
    expect(matchesKeyHash(parseMachineKey(newMachineKey(machine).key)!.secret, hash)).toBe(false);
    expect(hash).not.toContain(parsed.secret);
  });

  it.each([
    'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
    'fsm_',
    'fsm_bm90LWpzb24.secret',
    `fsm_${Buffer.from('["t","o"]').toString('base64url')}.secret`,
    `fsm_${Buffer.from('["t","o","m"]').toString('base64url')}`,
    `fsr_${Buffer.from('["t","o","m"]').toString('base64url')}.secret`,
  ])('refuse what is not one: %s', (text) => {
    expect(parseMachineKey(text)).toBeUndefined();
  });
});

describe('run tokens', () => {
  const tokens = new RunTokens(new Sealer([{ id: 'k1', key: randomBytes(32) }]));

  it('open to the claims they were issued with, and name no secret', () => {
    const token = tokens.issue(claims);
    expect(tokens.open(token)).toEqual(claims);
    expect(tokens.claimsFor(token, 'f.r')).toEqual(claims);
    expect(token).not.toContain('lease-1');
  });

  it('do not open when altered, sealed by other keys, or presented for another run', () => {
    const token = tokens.issue(claims);
    const other = new RunTokens(new Sealer([{ id: 'k1', key: randomBytes(32) }]));
    expect(tokens.open(`${token.slice(0, -2)}AA`)).toBeUndefined();
    expect(other.open(token)).toBeUndefined();
    expect(tokens.open(token.replace('fsr_', 'fsm_'))).toBeUndefined();
    expect(() => tokens.claimsFor(token, 'f.other')).toThrow(DomainError);
  });
});
