// How the local Microsoft-style providers check an access token, as Graph
// and SharePoint do: signed by the issuer (its JWKS), unexpired, issued to
// the connector's own client (`azp`, or `aud`), carrying the scope the
// operation needs (`scp`). A bad or expired token is 401 with
// WWW-Authenticate; a good one without the scope is 403.
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { error, type Identity, type ProviderAnswer } from './http';

export interface BearerCheckOptions {
  issuerUrl: string;
  jwksUri: string;
  /** The realm named in WWW-Authenticate. */
  realm: string;
}

export type BearerOutcome =
  | { ok: true; identity: Extract<Identity, { kind: 'user' }> }
  | { ok: false; answer: ProviderAnswer; identity: Identity };

export class BearerCheck {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    private readonly options: BearerCheckOptions,
    /** Every bearer token received, good or bad: the test suite searches its logs for them. */
    private readonly received: (token: string) => void,
  ) {
    this.jwks = createRemoteJWKSet(new URL(options.jwksUri));
  }

  async check(authorization: string | undefined, clientId: string, scope: string | undefined): Promise<BearerOutcome> {
    const token = /^Bearer ([^\s]+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return this.refuse('no bearer token', 'Access token is empty.');
    this.received(token);
    let payload: Record<string, unknown>;
    try {
      // No clock tolerance: a test that shortens a token's life sees it refused when it ends.
      ({ payload } = await jwtVerify(token, this.jwks, { issuer: this.options.issuerUrl, algorithms: ['RS256'] }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) return this.refuse('expired token', 'The token is expired.', true);
      return this.refuse('invalid token', 'The token is not valid.', true);
    }
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (payload.azp !== clientId && !audiences.includes(clientId)) {
      return this.refuse('a token for another client', 'The token was not issued for this resource.', true);
    }
    const user =
      typeof payload.oid === 'string' ? payload.oid : typeof payload.sub === 'string' ? payload.sub : undefined;
    if (!user) return this.refuse('a token without a user', 'The token names no user.', true);
    const identity = { kind: 'user' as const, user, clientId };
    const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ') : [];
    if (scope && !scopes.includes(scope)) {
      return {
        ok: false,
        identity,
        answer: error(403, 'ErrorAccessDenied', `Access is denied: the token lacks the ${scope} scope.`, {
          'WWW-Authenticate': `Bearer realm="${this.options.realm}", error="insufficient_scope", scope="${scope}"`,
        }),
      };
    }
    return { ok: true, identity };
  }

  /** 401; `invalid`: a token came and was refused (RFC 6750 invalid_token), rather than none at all. */
  private refuse(reason: string, message: string, invalid = false): BearerOutcome {
    const challenge =
      `Bearer realm="${this.options.realm}"` +
      (invalid ? `, error="invalid_token", error_description="${message}"` : '');
    return {
      ok: false,
      identity: { kind: 'none', reason },
      answer: error(401, 'InvalidAuthenticationToken', message, { 'WWW-Authenticate': challenge }),
    };
  }
}
