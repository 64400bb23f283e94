// A test machine: a plain HTTP client holding a machine key, as the agent
// will be. It registers with its owner's token, leases runs with its key,
// and calls with each run's token. Every credential it sends is recorded for
// the suite-wide secret scan by call().
import { expect } from 'vitest';
import { call, type ApiResponse, type Body } from './stack';

export interface TestMachine {
  id: string;
  key: string;
  ownerId: string;
}

/** Registers a machine for the person whose token this is. */
export async function registerMachine(owner: { token: string }, name = 'Build agent'): Promise<TestMachine> {
  const created = await call('POST', '/machines', { token: owner.token, body: { name } });
  expect(created.status, created.text).toBe(201);
  return { id: created.body.id, key: created.body.key, ownerId: created.body.ownerId };
}

/** One lease request: 200 with a lease, or 204. */
export function lease(machine: Pick<TestMachine, 'key'>, waitSeconds?: number): Promise<ApiResponse<Body>> {
  const query = waitSeconds === undefined ? '' : `?waitSeconds=${waitSeconds}`;
  return call('POST', `/machine/lease${query}`, { token: machine.key });
}

/** Leases until a run arrives (long polling), failing after `seconds`. */
export async function leaseNext(machine: Pick<TestMachine, 'key'>, seconds = 20): Promise<Body> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const answer = await lease(machine, Math.min(5, Math.max(1, Math.ceil((until - Date.now()) / 1000))));
    if (answer.status === 200) return answer.body;
    expect(answer.status, answer.text).toBe(204);
  }
  throw new Error(`no run was leased within ${seconds} s`);
}

export function heartbeat(runId: string, token: string): Promise<ApiResponse<Body>> {
  return call('POST', `/runs/${runId}/heartbeat`, { token });
}

export function complete(runId: string, token: string, body: unknown): Promise<ApiResponse<Body>> {
  return call('POST', `/runs/${runId}/complete`, { token, body });
}

/** A report of one action that went well. */
export function succeeded(name = 'Send'): Body {
  return { name, status: 'Succeeded', startedAt: new Date().toISOString(), durationMs: 12 };
}
