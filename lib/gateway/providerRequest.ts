// The request a connector call makes of its provider, built from the
// catalog's operation and the call's checked parameters (docs/limits.md,
// Connector calls). Nothing a caller sends can change where it goes: path
// values are encoded one segment each, the URL is built on the connector's
// origin and base path and checked to have kept them, and the only headers
// are the credential and, with a body, its content type. Pure: no I/O.
import type { CallParameters, ConnectorOperation } from '../domain/connectorOperations';
import type { Connector } from '../domain/connectors';
import { DomainError, validationFailed } from '../domain/errors';

/** The opened secret of a connection, for one call: never kept, logged or answered. */
export type ConnectorCredential = { kind: 'accessToken'; accessToken: string } | { kind: 'apiKey'; apiKey: string };

export interface ProviderRequest {
  method: string;
  url: URL;
  /** The credential, and Content-Type with a body: nothing else. */
  headers: Record<string, string>;
  /** The JSON body: the body parameters as the members of one object. */
  body?: string;
}

/** RFC 6750 b64token: what a bearer access token is made of. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Visible ASCII, spaces inside: what a header value carries as it is. */
const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

function credentialHeader(connector: Connector, credential: ConnectorCredential): [string, string] {
  const unsendable = () =>
    new DomainError(
      'ConnectorCallFailed',
      "The connection's credential holds characters an HTTP header cannot carry; replace the connection's credential.",
    );
  if (connector.authType === 'oauth2') {
    if (credential.kind !== 'accessToken')
      throw new Error(`${connector.id} is an oauth2 connector: it takes an access token`);
    if (!BEARER_TOKEN.test(credential.accessToken)) throw unsendable();
    return ['Authorization', `Bearer ${credential.accessToken}`];
  }
  if (credential.kind !== 'apiKey') throw new Error(`${connector.id} is an apiKey connector: it takes an API key`);
  if (!connector.apiKey) throw new Error(`${connector.id} does not say how its API key is sent`);
  if (!HEADER_VALUE.test(credential.apiKey)) throw unsendable();
  return [connector.apiKey.name, credential.apiKey];
}

/** The encoded path below the base path, one segment per template segment. */
function encodedPath(operation: ConnectorOperation, parameters: CallParameters): string {
  if (operation.path === '/') return '';
  const segments = operation.path
    .slice(1)
    .split('/')
    .map((segment) => {
      const name = /^\{(.+)\}$/.exec(segment)?.[1];
      if (name === undefined) return segment;
      const value = Object.hasOwn(parameters.path, name) ? String(parameters.path[name]) : undefined;
      // checkCallParameters refuses these already; a segment is never built from them whatever the caller.
      if (value === undefined || value === '' || value === '.' || value === '..') {
        throw validationFailed([
          { field: `parameters.${name}`, detail: 'must be a value other than "", "." and ".."' },
        ]);
      }
      return encodeURIComponent(value);
    });
  return `/${segments.join('/')}`;
}

/** The provider request of a call; `parameters` come from checkCallParameters on the same operation. */
export function buildProviderRequest(
  connector: Connector,
  operation: ConnectorOperation,
  parameters: CallParameters,
  credential: ConnectorCredential,
): ProviderRequest {
  if (!connector.baseUrl) throw new Error(`${connector.id} has no baseUrl`);
  const base = new URL(connector.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const pathname = `${basePath}${encodedPath(operation, parameters)}` || '/';
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters.query)) query.append(name, String(value));
  const search = query.size > 0 ? `?${query}` : '';
  const url = new URL(`${base.origin}${pathname}${search}`);
  // The URL parser resolves dot segments (also %2e%2e): had it changed the path, or the origin, refuse.
  if (url.origin !== base.origin || url.pathname !== pathname || !`${pathname}/`.startsWith(`${basePath}/`)) {
    throw validationFailed([{ field: 'parameters', detail: "would take the call outside its connector's address" }]);
  }
  const [name, value] = credentialHeader(connector, credential);
  const headers: Record<string, string> = { [name]: value };
  const request: ProviderRequest = { method: operation.method, url, headers };
  if (parameters.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    request.body = JSON.stringify(parameters.body);
  }
  return request;
}
