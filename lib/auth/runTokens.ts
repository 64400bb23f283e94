// Run tokens: the credential a run's executor (a console, a machine) holds
// for that run alone. It is the run's claims (docs/domain.md, "Leases and run
// tokens") sealed with the service's keys, bound to the purpose 'runToken',
// so it opens without any storage request and cannot be forged or altered;
// whether it still works is the run row's to say (runCallVerdict in
// lib/domain/leases.ts). It names no connection and holds no secret of anyone's.
import { SealError, type Sealer } from '../crypto/sealer';
import { DomainError } from '../domain/errors';
import type { RunTokenClaims } from '../domain/leases';

export const RUN_TOKEN_PREFIX = 'fsr_';
const PURPOSE = 'runToken';
const MAX_TOKEN_LENGTH = 4096;

export class RunTokens {
  constructor(private readonly sealer: Sealer) {}

  issue(claims: RunTokenClaims): string {
    const payload = JSON.stringify([claims.tenantId, claims.flowId, claims.runId, claims.initiatedBy, claims.leaseId]);
    return RUN_TOKEN_PREFIX + this.sealer.seal(payload, PURPOSE);
  }

  /** The token's claims; undefined when it is not a run token this service issued. */
  open(token: string): RunTokenClaims | undefined {
    if (!token.startsWith(RUN_TOKEN_PREFIX) || token.length > MAX_TOKEN_LENGTH) return undefined;
    try {
      const parts = JSON.parse(this.sealer.open(token.slice(RUN_TOKEN_PREFIX.length), PURPOSE)) as unknown;
      if (!Array.isArray(parts) || parts.length !== 5 || !parts.every((p) => typeof p === 'string')) return undefined;
      const [tenantId, flowId, runId, initiatedBy, leaseId] = parts as [string, string, string, string, string];
      return { tenantId, flowId, runId, initiatedBy, leaseId };
    } catch (error) {
      if (error instanceof SealError || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /**
   * The claims of a token presented for run `runId`: 401 unless it is a run
   * token this service issued for that very run. (Whether the run still
   * accepts it is checked against its row.)
   */
  claimsFor(token: string, runId: string): RunTokenClaims {
    const claims = this.open(token);
    if (!claims || claims.runId !== runId) {
      throw new DomainError('Unauthenticated', 'The run token is not valid for this run.', { tokenPresent: true });
    }
    return claims;
  }
}
