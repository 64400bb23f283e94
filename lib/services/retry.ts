import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError } from '../domain/errors';
import { ConcurrencyConflict } from '../storage/errors';

// Contention on one flow (a storm of shares or embeds) settles within this;
// backoff grows to spread the retries.
const MAX_ATTEMPTS = 20;

/**
 * Runs a read-decide-write until it does not lose a race. Only for changes
 * that stay right when decided again on fresh state.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict)) throw error;
      if (tries >= MAX_ATTEMPTS) {
        throw new DomainError('Conflict', 'The flow is being changed by others right now; try again.');
      }
      await sleep(Math.random() * Math.min(200, 5 * 2 ** tries));
    }
  }
}
