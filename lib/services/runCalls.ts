// A run's connector calls: its executor (a machine, or the console of the
// person running it) holds the run's token, never a connection's secret. Each
// call checks the run and its lease, then the sharing rules again, now, and
// only then goes through the gateway (docs/gateway.md). Two storage requests:
// the run with its flow's reference and the initiator's permission (one
// query), and the connection. A run's connections are fixed when it starts,
// so once this process has read a run, its next calls read the connection at
// the same time as the run instead of after it: the rules are still applied
// to both rows as read now.
import { runCallConnection } from '../domain/gateway';
import { DomainError } from '../domain/errors';
import { asLent } from '../domain/references';
import { parseRunId, type Run } from '../domain/runs';
import type { RunTokens } from '../auth/runTokens';
import type { Log } from '../log';
import type { FlowStore } from '../storage/flows';
import type { ConnectionStore } from '../storage/connections';
import type { CallAnswer, ConnectionRead, ConnectorGateway } from './gateway';
import type { RunLeases } from './runLeases';

export interface RunCall {
  connectionReference: string;
  operationId: string;
  parameters?: unknown;
}

/** How many runs' connections this process remembers. */
const REMEMBERED_RUNS = 10_000;

export class RunCalls {
  /** Each run's connection per reference (by tenant and run id), as its row says: fixed when the run started. */
  private readonly runConnections = new Map<string, Run['connections']>();

  constructor(
    private readonly store: FlowStore,
    private readonly connections: ConnectionStore,
    private readonly tokens: RunTokens,
    private readonly leases: RunLeases,
    private readonly gateway: ConnectorGateway,
  ) {}

  async call(token: string, runId: string, call: RunCall, log: Log): Promise<CallAnswer> {
    const claims = this.tokens.claimsFor(token, runId);
    const runKey = `${claims.tenantId}/${claims.runId}`;
    const known = this.runConnections.get(runKey);
    const given = known && Object.hasOwn(known, call.connectionReference) ? known[call.connectionReference] : undefined;
    const [snapshot, connectionRead] = await Promise.all([
      this.store.read(claims.tenantId, claims.flowId, [claims.initiatedBy], {
        references: [call.connectionReference],
        summary: true,
        run: parseRunId(claims.runId)!.uuid,
      }),
      given &&
        this.connections
          .get(claims.tenantId, given.ownerId, given.connectionId)
          .then((row): ConnectionRead => ({ ownerId: given.ownerId, connectionId: given.connectionId, row })),
    ]);
    const run = await this.leases.accept(snapshot.run, claims, log);
    this.remember(runKey, run.connections);
    const [reference] = asLent(snapshot.references.values(), snapshot.pendingUnembeddings);
    const chosen = runCallConnection({
      run,
      logicalName: call.connectionReference,
      reference,
      initiatorRole: snapshot.flow ? snapshot.permissions.get(claims.initiatedBy)?.role : undefined,
    });
    if (!reference) {
      throw new DomainError(
        'ConnectionNotAllowed',
        'This call may not use that connection: the reference was removed.',
      );
    }
    return this.gateway.call(
      claims.tenantId,
      chosen,
      { connectorId: reference.connectorId, operationId: call.operationId, parameters: call.parameters },
      log,
      {
        kind: 'run',
        runId: run.id,
        actorId: run.initiatedBy,
        flowId: run.flowId,
        logicalName: call.connectionReference,
      },
      connectionRead,
    );
  }

  private remember(runKey: string, connections: Run['connections']): void {
    if (this.runConnections.has(runKey)) return;
    if (this.runConnections.size >= REMEMBERED_RUNS) {
      this.runConnections.delete(this.runConnections.keys().next().value!);
    }
    this.runConnections.set(runKey, connections);
  }
}
