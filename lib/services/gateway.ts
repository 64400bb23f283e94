// The connector gateway: a connector call made through flowshare with a
// connection the caller never sees (docs/gateway.md). Whoever asks has
// already been told which connection the call may use (lib/domain/gateway.ts);
// here the connection is read again and checked, its secret opened for this
// call only, the provider called within the egress rules, and the answer
// handed back. A 401 from the provider means one renewed access token and one
// retry; a revoked grant puts the connection in Error for its owner.
import { checkCallParameters } from '../domain/connectorOperations';
import { operationOf, type Connector } from '../domain/connectors';
import { DomainError, validationFailed } from '../domain/errors';
import { checkCallConnection, type CallConnection } from '../domain/gateway';
import type { ConnectorEgress, ProviderResponse } from '../gateway/egress';
import { buildProviderRequest, type ConnectorCredential } from '../gateway/providerRequest';
import type { Log, LogFields } from '../log';
import type { OAuthConnector } from '../oauth/msal';
import type { ConnectionStore, StoredConnection } from '../storage/connections';
import { AccessRefused, type AccessTokens } from './accessTokens';
import type { CredentialSealer } from './credentials';
import { retryOnConflict } from './retry';

/** What a call asks: an operation of the reference's connector, with its parameters. */
export interface ConnectorCall {
  connectorId: string;
  operationId: string;
  parameters: unknown;
}

/**
 * A connection row read for this call alongside the caller's own reads (as
 * RunCalls does): used when it is the connection the rules chose, else read again.
 */
export interface ConnectionRead {
  ownerId: string;
  connectionId: string;
  row: StoredConnection | undefined;
}

/** The provider's answer as the caller gets it: never its headers, never a credential. */
export interface CallAnswer {
  status: number;
  contentType?: string;
  /** JSON when the provider said JSON, else text; base64 (`bodyEncoding`) when it is neither. */
  body: unknown;
  bodyEncoding?: 'base64';
}

export class ConnectorGateway {
  private readonly connectors: Map<string, Connector>;

  constructor(
    private readonly store: ConnectionStore,
    catalog: Connector[],
    private readonly seal: CredentialSealer,
    private readonly tokens: AccessTokens,
    private readonly egress: ConnectorEgress,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.connectors = new Map(catalog.map((connector) => [connector.id, connector]));
  }

  /** The connector and operation a call names, and its checked parameters: before any secret is opened. */
  prepare(call: ConnectorCall) {
    const connector = this.connectors.get(call.connectorId);
    if (!connector)
      throw new DomainError('ConnectorCallFailed', `The connector ${call.connectorId} is not in the catalog.`);
    const operation = operationOf(connector, call.operationId);
    if (!operation) {
      throw validationFailed([{ field: 'operationId', detail: `is not an operation of ${connector.id}` }]);
    }
    return { connector, operation, parameters: checkCallParameters(operation, call.parameters) };
  }

  /**
   * Makes the call through `chosen`, the connection the rules allow. The
   * connection is read (one storage request) and must still be its owner's
   * and Connected; nothing is written unless an access token is renewed.
   */
  async call(
    tenantId: string,
    chosen: CallConnection,
    call: ConnectorCall,
    log: Log,
    fields: LogFields,
    read?: ConnectionRead,
  ): Promise<CallAnswer> {
    const started = this.now().getTime();
    const { connector, operation, parameters } = this.prepare(call);
    const logged = { ...fields, connectorId: connector.id, operationId: operation.id };
    try {
      const connection =
        read && read.ownerId === chosen.ownerId && read.connectionId === chosen.connectionId
          ? read.row
          : await this.store.get(tenantId, chosen.ownerId, chosen.connectionId);
      checkCallConnection(chosen, connection);
      const send = async (renew: boolean) =>
        this.egressOf(await this.credentialOf(connection!, connector, log, renew), connector, operation, parameters);
      let response = await send(false);
      // An access token the provider refused: renewed once (however many calls ask), then one more try.
      if (response.status === 401 && connector.authType === 'oauth2') response = await send(true);
      const answer = answerOf(response);
      log.info('connector call', { ...logged, status: response.status, durationMs: this.now().getTime() - started });
      return answer;
    } catch (error) {
      const code = error instanceof DomainError ? error.code : 'InternalError';
      log.warn('connector call refused or failed', { ...logged, code, durationMs: this.now().getTime() - started });
      throw error;
    }
  }

  private egressOf(
    credential: ConnectorCredential,
    connector: Connector,
    operation: Parameters<typeof buildProviderRequest>[1],
    parameters: Parameters<typeof buildProviderRequest>[2],
  ): Promise<ProviderResponse> {
    return this.egress.send(buildProviderRequest(connector, operation, parameters, credential));
  }

  /** The connection's secret, opened for this call: an API key, or an access token for its grant. */
  private async credentialOf(
    connection: StoredConnection,
    connector: Connector,
    log: Log,
    renew: boolean,
  ): Promise<ConnectorCredential> {
    if (connector.authType !== 'oauth2') {
      const credential = connection.sealedSecret ? this.seal.open(connection, log) : undefined;
      if (credential?.kind === 'apiKey') return { kind: 'apiKey', apiKey: credential.apiKey };
      throw await this.reauthRequired(connection);
    }
    // The grant is opened only when no access token of it is remembered (AccessTokens), not on every call.
    try {
      return {
        kind: 'accessToken',
        accessToken: await this.tokens.token(connection, connector as OAuthConnector, log, renew),
      };
    } catch (error) {
      if (!(error instanceof AccessRefused)) throw error;
      log.warn("the provider refused the connection's grant", { connectionId: connection.id, detail: error.detail });
      throw error.reason === 'reauthRequired' ? await this.reauthRequired(connection) : error.toDomainError();
    }
  }

  /** The grant is gone: its owner sees the connection in Error, reauthRequired, and the call says so. */
  private async reauthRequired(connection: StoredConnection): Promise<DomainError> {
    this.tokens.forget(connection);
    await retryOnConflict(async () => {
      const current = await this.store.get(connection.tenantId, connection.ownerId, connection.id);
      // Replaced meanwhile (a new consent): this refusal was about the old grant.
      if (!current || current.sealedSecret !== connection.sealedSecret) return;
      if (current.status === 'Error' && current.statusReason === 'reauthRequired') return;
      await this.store.update(current, {
        status: 'Error',
        statusReason: 'reauthRequired',
        modifiedAt: this.now().toISOString(),
        checkedAt: this.now().toISOString(),
      });
    }).catch(() => undefined);
    return new AccessRefused('reauthRequired', 'refused').toDomainError();
  }
}

/** The provider's answer for the caller: a server error of the provider's is a failed call. */
function answerOf(response: ProviderResponse): CallAnswer {
  if (response.status >= 500) {
    throw new DomainError('ConnectorCallFailed', `The provider answered ${response.status}.`, {
      providerStatus: response.status,
    });
  }
  const type = response.contentType?.toLowerCase() ?? '';
  const base = { status: response.status, ...(response.contentType ? { contentType: response.contentType } : {}) };
  if (response.body.length === 0) return { ...base, body: null };
  const text = response.body.toString('utf8');
  if (type.includes('json')) {
    try {
      return { ...base, body: JSON.parse(text) as unknown };
    } catch {
      return { ...base, body: text };
    }
  }
  if (type.startsWith('text/') || type.includes('xml') || type === '') return { ...base, body: text };
  return { ...base, body: response.body.toString('base64'), bodyEncoding: 'base64' };
}
