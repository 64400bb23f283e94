// Consent states and browser sessions past their time: refused when read
// after it, and deleted here on a timer, so that no read ever writes.
import type { OAuthStateStore } from '../storage/oauthStates';
import type { SessionStore } from '../storage/sessions';

export class ExpiredStates {
  constructor(
    private readonly states: OAuthStateStore,
    private readonly sessions: SessionStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async sweep(): Promise<{ states: number; sessions: number }> {
    const now = this.now();
    const [states, sessions] = await Promise.all([this.states.deleteExpired(now), this.sessions.deleteExpired(now)]);
    return { states, sessions };
  }
}
