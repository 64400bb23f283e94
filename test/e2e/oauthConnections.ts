// Connections the end-to-end tests make as a person would: an OAuth one,
// consented in that person's signed-in browser as a provider user.
import { expect } from 'vitest';
import { signedIn } from '../support/browser';
import { call, unique } from '../support/stack';
import type { Person } from './people';

export interface OAuthConnection {
  id: string;
  /** The provider account that consented. */
  providerUser: string;
}

/** An OAuth connection of `who` to `connectorId`, consented as `providerUser`. */
export async function consentedConnection(
  who: Person,
  connectorId = 'shared_office365',
  providerUser = unique(`${who.id}-account`),
): Promise<OAuthConnection> {
  const created = await call('POST', '/connections', {
    token: who.token,
    body: { connectorId, displayName: connectorId === 'shared_office365' ? 'Mail' : 'Sites' },
  });
  expect(created.status, created.text).toBe(201);
  const browser = await signedIn(who.id);
  expect((await browser.consent(created.body.consentUrl, providerUser)).status).toBe(200);
  return { id: created.body.id, providerUser };
}
