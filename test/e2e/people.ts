// The cast of the end-to-end tests: one flow's owner, co-owner and user, a
// stranger in the same tenant, and someone in another tenant who even has the
// owner's principal id. Unique names keep test files apart on one stack.
import { call, tokenFor, unique } from '../support/stack';

export interface Person {
  id: string;
  token: string;
}

export interface Cast {
  owner: Person;
  coOwner: Person;
  user: Person;
  stranger: Person;
  otherTenant: Person;
}

export async function person(prefix: string, tenant?: string): Promise<Person> {
  const id = unique(prefix);
  return { id, token: await tokenFor(id, tenant ? { tenant } : {}) };
}

export async function cast(): Promise<Cast> {
  const [owner, coOwner, user, stranger] = await Promise.all(
    ['owner', 'coowner', 'user', 'stranger'].map((p) => person(p)),
  );
  const otherTenant = { id: owner!.id, token: await tokenFor(owner!.id, { tenant: unique('tenant') }) };
  return { owner: owner!, coOwner: coOwner!, user: user!, stranger: stranger!, otherTenant };
}

/** A flow owned by `cast.owner`, shared with its co-owner and user. */
export async function sharedFlow(people: Cast, body: Record<string, unknown> = { name: 'Invoices' }): Promise<string> {
  const created = await call('POST', '/flows', { token: people.owner.token, body });
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${created.text}`);
  const flowId = created.body.id as string;
  for (const [who, role] of [
    [people.coOwner, 'coOwner'],
    [people.user, 'user'],
  ] as const) {
    const shared = await call('PUT', `/flows/${flowId}/permissions/${who.id}`, {
      token: people.owner.token,
      body: { role },
    });
    if (shared.status !== 201) throw new Error(`share failed: ${shared.status} ${shared.text}`);
  }
  return flowId;
}

export type RoleName = 'owner' | 'coOwner' | 'user' | 'stranger' | 'otherTenant';
export const ROLE_NAMES: RoleName[] = ['owner', 'coOwner', 'user', 'stranger', 'otherTenant'];
