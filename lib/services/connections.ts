// Connection use cases: create (API key sealed at once, or an OAuth consent
// link), finish consent, read, refresh and delete one's own connections.
// Secrets are sealed for their row before they are stored and opened only to
// refresh; nothing here returns or logs one.
import type { Sealer } from '../crypto/sealer';
import type { Caller } from '../domain/caller';
import {
  checkNewConnection,
  checkRefreshable,
  connectionView,
  type Connection,
  type ConnectionStatus,
  type ConnectionView,
  type NewConnection,
} from '../domain/connections';
import { connectorView, type Connector, type ConnectorView } from '../domain/connectors';
import { DomainError, notFound } from '../domain/errors';
import type { OAuthClient } from '../oauth/msal';
import type { ConnectionStore, StoredConnection } from '../storage/connections';
import type { FlowStore } from '../storage/flows';
import type { Page, PageRequest } from '../storage/pages';
import { ConnectionChecks } from './connectionChecks';
import { consentPageUrl } from './consent';
import { consoleLog, type Log } from '../log';
import { CredentialSealer } from './credentials';
import { newId } from './ids';
import { unembed } from './references';
import { retryOnConflict } from './retry';
import type { Tagged } from './flows';

export interface ConnectionSettings {
  /** How long the consent page of a new OAuth connection stays usable. */
  stateTtlSeconds: number;
}

/** Where a connection is bound (docs/shapes.md, Connection: usage). */
export interface ConnectionUsage {
  flowId: string;
  flowName: string;
  logicalName: string;
  embedded: boolean;
}

export class ConnectionService {
  private readonly connectors: Map<string, Connector>;
  private readonly checks: ConnectionChecks;
  private readonly credentials: CredentialSealer;

  constructor(
    private readonly store: ConnectionStore,
    private readonly flows: FlowStore,
    catalog: Connector[],
    sealer: Sealer,
    private readonly oauth: OAuthClient,
    private readonly settings: ConnectionSettings,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.connectors = new Map(catalog.map((connector) => [connector.id, connector]));
    this.credentials = new CredentialSealer(sealer);
    this.checks = new ConnectionChecks(store, this.connectors, oauth, this.credentials, now);
  }

  catalog(): ConnectorView[] {
    return [...this.connectors.values()].map(connectorView);
  }

  /** `serviceUrl` is the URL the request came in on, for the default redirect URI. */
  async create(caller: Caller, body: NewConnection, serviceUrl: string): Promise<Tagged<ConnectionView>> {
    const connector = checkNewConnection(this.connectors.get(body.connectorId), body);
    const at = this.now().toISOString();
    const connection: Connection = {
      tenantId: caller.tenantId,
      ownerId: caller.principalId,
      id: newId(this.now()),
      connectorId: connector.id,
      displayName: body.displayName,
      status: connector.authType === 'apiKey' ? 'Connected' : 'PendingConsent',
      createdAt: at,
      modifiedAt: at,
    };
    if (connector.authType === 'apiKey') {
      const sealed = this.credentials.seal(connection, { kind: 'apiKey', apiKey: body.apiKey! });
      const stored = await this.store.create(connection, sealed);
      return { value: connectionView(stored), etag: stored.etag };
    }

    // Consent is given on the connection's own page, by its owner signed in
    // there (lib/services/consent.ts), within this window.
    const pending: Connection = {
      ...connection,
      consentRequestedUntil: new Date(this.now().getTime() + this.settings.stateTtlSeconds * 1000).toISOString(),
    };
    const stored = await this.store.create(pending);
    return { value: connectionView(stored, consentPageUrl(serviceUrl, stored.id)), etag: stored.etag };
  }

  async list(caller: Caller, request: PageRequest, connectorId?: string): Promise<Page<ConnectionView>> {
    const page = await this.store.list(caller.tenantId, caller.principalId, request, connectorId);
    return { items: page.items.map((c) => connectionView(c)), continuationToken: page.continuationToken };
  }

  async get(caller: Caller, connectionId: string): Promise<Tagged<ConnectionView>> {
    const connection = await this.own(caller, connectionId);
    return { value: connectionView(connection), etag: connection.etag };
  }

  /**
   * Deletes the connection. While a flow embeds it the answer is 409 listing
   * those flows, unless `force`, which unembeds it there first (audited).
   */
  async delete(caller: Caller, connectionId: string, force: boolean): Promise<void> {
    const connection = await this.own(caller, connectionId);
    const bindings = await this.bindings(connection);
    const embedded = bindings.filter((b) => b.embedded);
    if (embedded.length > 0 && !force) {
      throw new DomainError(
        'Conflict',
        'The connection is embedded in flows; unembed it there, or delete with ?force=true.',
        {
          flows: embedded.map(({ flowId, flowName, logicalName }) => ({ flowId, flowName, logicalName })),
        },
      );
    }
    await this.unembedEverywhere(caller, connectionId, embedded);
    await retryOnConflict(async () => this.store.delete(await this.own(caller, connectionId)));
    // An embed racing this delete may have landed after the check: undo it now that the connection is gone.
    const late = await this.bindings(connection);
    await this.unembedEverywhere(
      caller,
      connectionId,
      late.filter((b) => b.embedded),
    );
    await Promise.all(
      [...bindings, ...late].map((b) =>
        this.store.removeUse(caller.tenantId, caller.principalId, connectionId, b).catch(() => undefined),
      ),
    );
  }

  private async unembedEverywhere(caller: Caller, connectionId: string, uses: ConnectionUsage[]): Promise<void> {
    for (const { flowId, logicalName } of uses) {
      await retryOnConflict(async () => {
        const { references } = await this.flows.read(caller.tenantId, flowId, [], { references: [logicalName] });
        const reference = references.get(logicalName);
        if (
          !reference?.embedded ||
          reference.connectionId !== connectionId ||
          reference.ownerId !== caller.principalId
        ) {
          return;
        }
        const change = this.flows.change(caller.tenantId, flowId);
        unembed(change, reference, caller.principalId, 'connectionDeleted', this.now().toISOString());
        await change.commit();
      });
    }
  }

  /** Every flow and reference that binds the connection, and whether it is embedded there. */
  async usage(caller: Caller, connectionId: string): Promise<ConnectionUsage[]> {
    return (await this.bindings(await this.own(caller, connectionId))).map(
      ({ flowId, flowName, logicalName, embedded }) => ({
        flowId,
        flowName,
        logicalName,
        embedded,
      }),
    );
  }

  /**
   * The connection's noted uses, each checked against the flow's reference
   * now (a use is noted before a binding and forgotten after it goes).
   */
  private async bindings(connection: StoredConnection): Promise<ConnectionUsage[]> {
    const uses = await this.store.listUses(connection.tenantId, connection.ownerId, connection.id);
    const checked = await Promise.all(
      uses.map(async (use) => {
        const { flow, references } = await this.flows.read(connection.tenantId, use.flowId, [], {
          references: [use.logicalName],
          summary: true,
        });
        const reference = references.get(use.logicalName);
        const binds = flow && reference?.connectionId === connection.id && reference.ownerId === connection.ownerId;
        return binds
          ? [{ flowId: use.flowId, flowName: flow.name, logicalName: use.logicalName, embedded: reference.embedded }]
          : [];
      }),
    );
    return checked.flat();
  }

  /**
   * Checks the credential now: an OAuth grant is redeemed again (MSAL silent
   * refresh, forced), an API key has nothing to ask. The status says how it
   * went. A check of the connection already running is joined, not repeated.
   */
  async refresh(caller: Caller, connectionId: string, log: Log = consoleLog): Promise<Tagged<ConnectionView>> {
    const check = () => this.checks.check(caller.tenantId, caller.principalId, connectionId, true, log);
    const joined = await check();
    // What was joined answered from an earlier check: the owner asked for one now.
    const { connection } = joined.connection && !joined.checkedNow ? await check() : joined;
    if (!connection) throw notFound('The connection');
    checkRefreshable(connection);
    return { value: connectionView(connection), etag: connection.etag };
  }

  /**
   * For a run: whether the owner's connection is usable. OAuth grants are
   * redeemed again (a revoked one shows here, not at the machine), at most
   * once per CHECK_INTERVAL_MS, and the outcome is recorded as the
   * connection's status. Undefined when it is gone.
   */
  async checkForRun(
    tenantId: string,
    ownerId: string,
    connectionId: string,
    log: Log = consoleLog,
  ): Promise<ConnectionStatus | undefined> {
    return (await this.checks.check(tenantId, ownerId, connectionId, false, log)).connection?.status;
  }

  private async own(caller: Caller, connectionId: string): Promise<StoredConnection> {
    const connection = await this.store.get(caller.tenantId, caller.principalId, connectionId);
    if (!connection) throw notFound('The connection');
    return connection;
  }
}
