// The connector catalog: which kinds of external systems a connection can be
// made to, and how each authenticates. It comes from configuration; this file
// says what a valid catalog is. Pure: no I/O.
import { z } from 'zod';
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

const connectorSchema = z.discriminatedUnion('authType', [
  z.strictObject({
    id: idSchema,
    displayName: z.string().min(1).max(200),
    authType: z.literal('oauth2'),
    oauth: oauthSchema,
  }),
  z.strictObject({ id: idSchema, displayName: z.string().min(1).max(200), authType: z.literal('apiKey') }),
]);

export const catalogSchema = z
  .array(connectorSchema)
  .min(1, 'must name at least one connector')
  .superRefine((connectors, ctx) => {
    const seen = new Set<string>();
    connectors.forEach((connector, i) => {
      if (seen.has(connector.id))
        ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `${connector.id} is listed twice` });
      seen.add(connector.id);
    });
  });

export type ConnectorDefinition = z.infer<typeof connectorSchema>;
export type OAuthConnectorDefinition = Extract<ConnectorDefinition, { authType: 'oauth2' }>;

/** An OAuth connector with its client secret read from its app setting. */
export type Connector =
  | Extract<ConnectorDefinition, { authType: 'apiKey' }>
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
export function parseCatalog(json: string, settings: Record<string, string | undefined>): Connector[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new CatalogError(`the connector catalog is not JSON: ${(error as Error).message}`);
  }
  const parsed = catalogSchema.safeParse(raw);
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
}

export function connectorView(connector: Connector): ConnectorView {
  return {
    id: connector.id,
    displayName: connector.displayName,
    authType: connector.authType,
    ...(connector.authType === 'oauth2' ? { scopes: connector.oauth.scopes } : {}),
  };
}
