// The connector catalog: which kinds of external systems a connection can be
// made to, and how each authenticates. It comes from configuration; this file
// says what a valid catalog is. Pure: no I/O.
import { z } from 'zod';
import { operationSchema, operationView, type ConnectorOperation, type OperationView } from './connectorOperations';
import { idSchema } from './schemas';

export const AUTH_TYPES = ['oauth2', 'apiKey'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https URL' });
const anyUrl = z.url();

/**
 * OpenID metadata given in configuration instead of discovered from the
 * authority: how a provider that is not Entra ID (locally, the development
 * issuer) is described to MSAL.
 */
export const authorityMetadataSchema = z.looseObject({
  issuer: anyUrl,
  authorization_endpoint: anyUrl,
  token_endpoint: anyUrl,
  jwks_uri: anyUrl,
  end_session_endpoint: anyUrl.optional(),
});

const oauthSchema = z.strictObject({
  /** An https authority, as MSAL wants it (Entra ID: https://login.microsoftonline.com/<tenant>). */
  authority: httpsUrl,
  clientId: z.string().min(1),
  /** The app setting that holds the client secret (a Key Vault reference in Azure). */
  clientSecretSetting: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an app setting name'),
  scopes: z.array(z.string().min(1)).min(1),
  knownAuthorities: z.array(z.string().min(1)).optional(),
  authorityMetadata: authorityMetadataSchema.optional(),
});

/** Headers the gateway or HTTP itself sets, which no API key may be sent in. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'proxy-authorization',
]);

/** How an API key is sent: in a header of its own (never in the query, which providers log). */
const apiKeyPlacementSchema = z.strictObject({
  in: z.literal('header'),
  name: z
    .string()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, 'must be an HTTP header name')
    .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'is a header HTTP or the gateway sets'),
});

/** Where a connector's operations go: an origin and a base path, nothing else. */
const baseUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an https URL' }).refine((value) => {
  const url = new URL(value);
  return !url.search && !url.hash && !url.username && !url.password;
}, 'must have no query, fragment or credentials');

const connectorFields = {
  id: idSchema,
  displayName: z.string().min(1).max(200),
  /** Required once there are operations (docs/domain.md, Connector operations). */
  baseUrl: baseUrlSchema.optional(),
  operations: z.array(operationSchema).default([]),
};

const connectorSchema = z.discriminatedUnion('authType', [
  z.strictObject({ ...connectorFields, authType: z.literal('oauth2'), oauth: oauthSchema }),
  z.strictObject({ ...connectorFields, authType: z.literal('apiKey'), apiKey: apiKeyPlacementSchema.optional() }),
]);

export interface CatalogOptions {
  /** Origins whose baseUrl may be plain http: the local stack's own providers (GATEWAY_ALLOWED_LOOPBACK_ORIGINS). */
  httpOrigins?: readonly string[];
}

export function catalogSchema(options: CatalogOptions = {}) {
  const httpOrigins = new Set(options.httpOrigins ?? []);
  return z
    .array(connectorSchema)
    .min(1, 'must name at least one connector')
    .superRefine((connectors, ctx) => {
      const seen = new Set<string>();
      connectors.forEach((connector, i) => {
        if (seen.has(connector.id))
          ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `${connector.id} is listed twice` });
        seen.add(connector.id);
        for (const issue of connectorIssues(connector, httpOrigins)) {
          ctx.addIssue({ code: 'custom', path: [i, ...issue.path], message: issue.message });
        }
      });
    });
}

/** What a connector's operations need of the rest of it. */
function connectorIssues(
  connector: z.output<typeof connectorSchema>,
  httpOrigins: ReadonlySet<string>,
): Array<{ path: PropertyKey[]; message: string }> {
  const issues: Array<{ path: PropertyKey[]; message: string }> = [];
  if (connector.baseUrl) {
    const url = new URL(connector.baseUrl);
    if (url.protocol === 'http:' && !httpOrigins.has(url.origin)) {
      issues.push({
        path: ['baseUrl'],
        message: `must be an https URL (plain http only for an origin in GATEWAY_ALLOWED_LOOPBACK_ORIGINS)`,
      });
    }
  } else if (connector.operations.length > 0) {
    issues.push({ path: ['baseUrl'], message: 'is required when the connector has operations' });
  }
  if (connector.authType === 'apiKey' && connector.operations.length > 0 && !connector.apiKey) {
    issues.push({
      path: ['apiKey'],
      message: 'must say how the key is sent ({in: "header", name}) when there are operations',
    });
  }
  const ids = new Set<string>();
  connector.operations.forEach((operation, j) => {
    if (ids.has(operation.id)) {
      issues.push({ path: ['operations', j, 'id'], message: `${operation.id} is listed twice` });
    }
    ids.add(operation.id);
    for (const scope of operation.scopes ?? []) {
      if (connector.authType === 'apiKey') {
        issues.push({ path: ['operations', j, 'scopes'], message: 'an apiKey connector has no scopes' });
        break;
      }
      if (!connector.oauth.scopes.includes(scope)) {
        issues.push({
          path: ['operations', j, 'scopes'],
          message: `${scope} is not among the connector's scopes, so no consent grants it`,
        });
      }
    }
  });
  return issues;
}

/** A connector as configuration writes it (operations may be left out). */
export type ConnectorDefinition = z.input<typeof connectorSchema>;
type ParsedConnector = z.output<typeof connectorSchema>;
export type OAuthConnectorDefinition = Extract<ParsedConnector, { authType: 'oauth2' }>;

/** An OAuth connector with its client secret read from its app setting. */
export type Connector =
  | Extract<ParsedConnector, { authType: 'apiKey' }>
  | (OAuthConnectorDefinition & { oauth: OAuthConnectorDefinition['oauth'] & { clientSecret: string } });

/**
 * An OAuth client as MSAL is given it: a connector's client, or the web app
 * people sign in to flowshare with.
 */
export interface OAuthApp {
  authority: string;
  clientId: string;
  clientSecret: string;
  knownAuthorities?: string[];
  authorityMetadata?: z.infer<typeof authorityMetadataSchema>;
}

export class CatalogError extends Error {
  override name = 'CatalogError';
}

/**
 * Reads a catalog from its JSON text, taking each client secret from the
 * setting it names; throws CatalogError with every reason it is not valid.
 */
export function parseCatalog(
  json: string,
  settings: Record<string, string | undefined>,
  options: CatalogOptions = {},
): Connector[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new CatalogError(`the connector catalog is not JSON: ${(error as Error).message}`);
  }
  const parsed = catalogSchema(options).safeParse(raw);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(catalog)'}: ${issue.message}`);
    throw new CatalogError(`the connector catalog is not valid: ${reasons.join('; ')}`);
  }
  return parsed.data.map((connector) => {
    if (connector.authType === 'apiKey') return connector;
    const clientSecret = settings[connector.oauth.clientSecretSetting];
    if (!clientSecret) {
      throw new CatalogError(
        `the connector catalog names the setting ${connector.oauth.clientSecretSetting} for ${connector.id}'s client secret, and it is not set`,
      );
    }
    return { ...connector, oauth: { ...connector.oauth, clientSecret } };
  });
}

/** A connector as callers see it: never its client or its secret. */
export interface ConnectorView {
  id: string;
  displayName: string;
  authType: AuthType;
  scopes?: string[];
  operations: OperationView[];
}

export function connectorView(connector: Connector): ConnectorView {
  return {
    id: connector.id,
    displayName: connector.displayName,
    authType: connector.authType,
    ...(connector.authType === 'oauth2' ? { scopes: connector.oauth.scopes } : {}),
    operations: connector.operations.map(operationView),
  };
}

/** The operation a call names, if its connector has one by that id. */
export function operationOf(connector: Connector, operationId: string): ConnectorOperation | undefined {
  return connector.operations.find((operation) => operation.id === operationId);
}
