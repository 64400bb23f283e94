// Getting the issuer's signing keys, and the one error for failing to. Without
// the keys no token can be told good or bad, so that failure is the service's
// (or its identity provider's), not the caller's: 503, never 401.
import { errors as joseErrors, type FetchImplementation } from 'jose';

/** The issuer's OpenID configuration or key set could not be had. The message names the URL and why; it is for the log. */
export class IdentityProviderUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdentityProviderUnavailable';
  }
}

const DISCOVERY_TIMEOUT_MS = 5_000;

/** The `jwks_uri` of the issuer's OpenID configuration. */
export async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let configuration: { jwks_uri?: unknown } | null;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`answered ${response.status}`);
    configuration = (await response.json()) as { jwks_uri?: unknown } | null;
  } catch (error) {
    throw new IdentityProviderUnavailable(`OpenID configuration ${url}: ${reason(error)}`, { cause: error });
  }
  const jwksUri = configuration?.jwks_uri;
  if (typeof jwksUri !== 'string') throw new IdentityProviderUnavailable(`OpenID configuration ${url} has no jwks_uri`);
  return jwksUri;
}

/**
 * jose's fetch for the key set (its `customFetch`), failing with
 * IdentityProviderUnavailable for whatever goes wrong in getting the document:
 * jose fetches inside verification (keys grown old, a token naming a key not
 * yet fetched), where its own errors for this (a plain JOSEError for a non-200
 * or non-JSON answer) would not be told apart from a bad token.
 */
export const fetchKeySet: FetchImplementation = async (url, init) => {
  let status: number;
  let text: string;
  try {
    const response = await fetch(url, init);
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new IdentityProviderUnavailable(`key set ${url}: ${reason(error)}`, { cause: error });
  }
  // Only 200, as jose itself requires (it fetches with redirect: 'manual').
  if (status !== 200) throw new IdentityProviderUnavailable(`key set ${url} answered ${status}`);
  try {
    JSON.parse(text);
  } catch (error) {
    throw new IdentityProviderUnavailable(`key set ${url} is not JSON`, { cause: error });
  }
  return new Response(text, { status, headers: { 'Content-Type': 'application/json' } });
};

/**
 * The error a verification failure means when the keys could not be had, else
 * undefined. jose's JWKSInvalid (a document that is not a key set, or holds a
 * private key) and JWKSTimeout are about the issuer's document, never the token.
 */
export function providerFault(error: unknown): IdentityProviderUnavailable | undefined {
  if (error instanceof IdentityProviderUnavailable) return error;
  if (error instanceof joseErrors.JWKSInvalid || error instanceof joseErrors.JWKSTimeout) {
    return new IdentityProviderUnavailable(`key set: ${error.message}`, { cause: error });
  }
  return undefined;
}

function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici's "fetch failed" says why only in its cause (ECONNREFUSED, a reset).
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.name === 'TimeoutError' ? 'no answer in time' : error.message}${cause}`;
}
