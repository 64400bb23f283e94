import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError } from '../domain/errors';
import { ConcurrencyConflict } from '../storage/errors';

const MAX_ATTEMPTS = 10;

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
      await sleep(Math.random() * 10 * tries);
    }
  }
}
