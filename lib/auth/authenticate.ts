// Bearer-token verification with jose: signature against the issuer's JWKS
// (cached; an unknown key id refetches it, which is how rotation is followed),
// issuer, audience, expiry and not-before. Entra ID in Azure and the local
// issuer on a laptop go through this same code; only the settings differ.
// Keys that cannot be fetched are IdentityProviderUnavailable (503), not 401.
import { hash } from 'node:crypto';
import {
  createRemoteJWKSet,
  customFetch,
  errors as joseErrors,
  jwksCache,
  jwtVerify,
  type JWKSCacheInput,
  type JWTPayload,
} from 'jose';
import { getConfig, type Config } from '../config';
import type { Caller } from '../domain/caller';
import { DomainError } from '../domain/errors';
import { getStorage } from '../storage/clients';
import { SessionStore, type Session } from '../storage/sessions';
import { checkSameOrigin, isSafeMethod, sessionHashOf, type CookieRequest } from './session';
import { isWellFormed } from '../domain/schemas';
import { discoverJwksUri, fetchKeySet, providerFault } from './identityProvider';
import { MACHINE_KEY_PREFIX, parseMachineKey, type MachineKey } from './machineKeys';
import { RUN_TOKEN_PREFIX } from './runTokens';

type KeySet = ReturnType<typeof createRemoteJWKSet>;

export interface TokenVerifierOptions {
  /** How long fetched keys are trusted, and the least time between two fetches. */
  keyCache?: { maxAgeMs: number; cooldownMs: number };
  /** How many verified tokens to remember; 0 verifies every signature again. */
  verifiedTokens?: number;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
}

/** A token whose signature and claims passed, as long as the keys that checked it stay in use. */
interface VerifiedToken {
  caller: Caller;
  /** The JWKS document that was in use when it was checked (compared by identity). */
  checkedWith: object;
  exp: number;
  nbf: number | undefined;
}

export class TokenVerifier {
  private keySet: Promise<KeySet> | undefined;
  /** jose writes each fetched JWKS document (and its fetch time) here. */
  private readonly fetchedKeys: JWKSCacheInput = {};
  private readonly verified = new Map<string, VerifiedToken>();
  private readonly keyCache: { maxAgeMs: number; cooldownMs: number };
  private readonly maxVerifiedTokens: number;
  private readonly now: () => number;
  /** Signatures checked, and tokens answered from what was checked before. */
  readonly stats = { verified: 0, remembered: 0 };

  constructor(
    private readonly settings: Config['auth'],
    options: TokenVerifierOptions = {},
  ) {
    this.keyCache = options.keyCache ?? { maxAgeMs: 10 * 60_000, cooldownMs: 30_000 };
    this.maxVerifiedTokens = options.verifiedTokens ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async verify(token: string): Promise<Caller> {
    // Remembered by hash: no bearer token is kept in memory beyond its request.
    // crypto.hash: the one-shot digest, without a Hash stream object per request.
    const id = hash('sha256', token, 'base64url');
    let checkedWith: object | undefined;
    let payload: JWTPayload;
    try {
      const keys = await this.keys();
      const remembered = this.recall(id, keys);
      if (remembered) {
        this.stats.remembered++;
        return remembered;
      }
      // Fetched keys first (jose would fetch them inside jwtVerify), then which
      // key set is in use, read before verifying: a reload racing this
      // verification can only make the entry stale, never vouch for keys that
      // did not check the token.
      if (!keys.fresh) await keys.reload();
      checkedWith = this.keySetInUse();
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.settings.issuers,
        audience: this.settings.audiences,
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256'],
        clockTolerance: this.settings.clockToleranceSeconds,
        requiredClaims: ['exp'],
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      throw providerFault(error) ?? unauthenticated(describeJoseError(error), true);
    }
    this.stats.verified++;
    const caller = Object.freeze(callerOf(payload));
    if (checkedWith !== undefined && typeof payload.exp === 'number') {
      this.remember(id, { caller, checkedWith, exp: payload.exp, nbf: payload.nbf });
    }
    return caller;
  }

  /**
   * The JWKS document jose verifies with now: it stores each fetched document
   * in the jwksCache object as it swaps in the keys, a new object every fetch.
   */
  private keySetInUse(): object | undefined {
    return 'jwks' in this.fetchedKeys ? this.fetchedKeys.jwks : undefined;
  }

  /**
   * A token verified before answers again without its signature being checked
   * while the key set that checked it is still the one in use and fresh, and
   * its time claims still hold: exactly what verifying it again would answer.
   * Anything else is verified again (and a retired key then refused).
   */
  private recall(id: string, keys: KeySet): Caller | undefined {
    const entry = this.verified.get(id);
    if (!entry) return undefined;
    const now = this.now() / 1000;
    const tolerance = this.settings.clockToleranceSeconds;
    const keysInUse = entry.checkedWith === this.keySetInUse() && keys.fresh;
    if (keysInUse && entry.exp > now - tolerance && (entry.nbf === undefined || entry.nbf <= now + tolerance)) {
      return entry.caller;
    }
    this.verified.delete(id);
    return undefined;
  }

  private remember(id: string, entry: VerifiedToken): void {
    if (this.maxVerifiedTokens <= 0) return;
    // A Map iterates in insertion order: the first key is the longest remembered.
    if (!this.verified.has(id) && this.verified.size >= this.maxVerifiedTokens) {
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(id, entry);
  }

  private keys(): Promise<KeySet> {
    this.keySet ??= this.jwksUri().then(
      (uri) =>
        createRemoteJWKSet(new URL(uri), {
          cooldownDuration: this.keyCache.cooldownMs,
          cacheMaxAge: this.keyCache.maxAgeMs,
          [jwksCache]: this.fetchedKeys,
          [customFetch]: fetchKeySet,
        }),
      (error: unknown) => {
        this.keySet = undefined;
        throw error;
      },
    );
    return this.keySet;
  }

  private async jwksUri(): Promise<string> {
    return this.settings.jwksUri || discoverJwksUri(this.settings.issuers[0]!);
  }
}

const MAX_ID_LENGTH = 256;
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

function claim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The caller is the token's `oid` (else `sub`) within its tenant `tid`. */
export function callerOf(payload: JWTPayload): Caller {
  const tenantId = claim(payload, 'tid');
  if (!tenantId) throw unauthenticated('The token names no tenant (tid).', true);
  const principalId = claim(payload, 'oid') ?? claim(payload, 'sub');
  if (!principalId) throw unauthenticated('The token names no caller (oid or sub).', true);
  // Not well-formed (a lone surrogate): it would share storage keys with the id that has U+FFFD there.
  for (const id of [tenantId, principalId]) {
    if (id.length > MAX_ID_LENGTH || CONTROL_CHARACTERS.test(id) || !isWellFormed(id)) {
      throw unauthenticated('The token names a caller this service cannot hold.', true);
    }
  }
  return { tenantId, principalId };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The token has expired.';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'The token is not valid yet.';
    if (error.claim === 'iss') return 'The token was issued by an issuer this service does not trust.';
    if (error.claim === 'aud') return 'The token is meant for another audience.';
    return `The token's ${error.claim} claim is not acceptable.`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token signature is not valid.';
  if (error instanceof joseErrors.JWKSNoMatchingKey)
    return 'The token is signed with a key the issuer does not publish.';
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return 'The token is signed with an algorithm that is not allowed.';
  if (error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JWSInvalid)
    return 'The token is malformed.';
  return 'The token could not be verified.';
}

function unauthenticated(detail: string, tokenPresent: boolean): DomainError {
  return new DomainError('Unauthenticated', detail, { tokenPresent });
}

let shared: TokenVerifier | undefined;
let sessions: SessionStore | undefined;
/** Who made each request, for its log line; gone with the request. */
const callers = new WeakMap<object, Caller>();

/**
 * The caller of a request: a program's bearer token, or else a signed-in
 * browser's session cookie (changes made with the cookie must also pass the
 * same-origin checks of lib/auth/session.ts). 401 without either.
 */
export async function authenticate(request: CookieRequest): Promise<Caller> {
  const header = request.headers.get('authorization');
  if (!header) {
    const session = await sessionOf(request);
    if (!session) throw unauthenticated('A bearer token or a signed-in session is required.', false);
    if (!isSafeMethod(request.method)) checkSameOrigin(request, session.csrfToken);
    callers.set(request, session.caller);
    return session.caller;
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw unauthenticated('The Authorization header must be "Bearer <token>".', true);
  if (isMachineCredential(match[1])) {
    throw unauthenticated("A machine key or run token is not a person's token: this route needs a person.", true);
  }
  shared ??= new TokenVerifier(getConfig().auth);
  const caller = await shared.verify(match[1]);
  callers.set(request, caller);
  return caller;
}

/** The live session the request's cookie names; undefined without one, or once it ended. */
export async function sessionOf(request: CookieRequest): Promise<Session | undefined> {
  const hash = sessionHashOf(request);
  if (!hash) return undefined;
  sessions ??= new SessionStore(getStorage());
  return sessions.get(hash, new Date());
}

/** Notes who made a request authenticated some other way (a page's session), for its log line. */
export function noteCaller(request: object, caller: Caller): void {
  callers.set(request, caller);
}

/** The caller `authenticate` found for this request, if it ran and succeeded. */
export function authenticatedCaller(request: object): Caller | undefined {
  return callers.get(request);
}

// ---- machines and runs ----------------------------------------------------------
// Their routes take their own credentials only (docs/api.md, Authentication):
// a person's token or session is refused there, as theirs is on a person's route.

function isMachineCredential(token: string): boolean {
  return token.startsWith(MACHINE_KEY_PREFIX) || token.startsWith(RUN_TOKEN_PREFIX);
}

function bearerOf(request: CookieRequest, what: string): string {
  const header = request.headers.get('authorization');
  if (!header) throw unauthenticated(`${what} is required.`, false);
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw unauthenticated(`The Authorization header must be "Bearer <${what.toLowerCase()}>".`, true);
  return match[1];
}

/** The machine key a machine route was called with (not yet checked against its machine): else 401. */
export function machineKeyOf(request: CookieRequest): MachineKey {
  const key = parseMachineKey(bearerOf(request, 'A machine key'));
  if (!key) throw unauthenticated("This route takes a machine key, not a person's token or a run token.", true);
  return key;
}

/** The run token a run's route was called with (opened by the service, lib/auth/runTokens.ts): else 401. */
export function runTokenOf(request: CookieRequest): string {
  const token = bearerOf(request, 'A run token');
  if (!token.startsWith(RUN_TOKEN_PREFIX)) {
    throw unauthenticated("This route takes the run's token, not a person's token or a machine key.", true);
  }
  return token;
}
