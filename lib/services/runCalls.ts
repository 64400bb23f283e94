// A run's connector calls: its executor (a machine, or the console of the
// person running it) holds the run's token, never a connection's secret. Each
// call checks the run and its lease, then the sharing rules again, now, and
// only then goes through the gateway (docs/gateway.md). Two storage requests:
// the run with its flow's reference and the initiator's permission (one
// query), and the connection.
import { runCallConnection } from '../domain/gateway';
import { DomainError } from '../domain/errors';
import { asLent } from '../domain/references';
import { parseRunId } from '../domain/runs';
import type { RunTokens } from '../auth/runTokens';
import type { Log } from '../log';
import type { FlowStore } from '../storage/flows';
import type { CallAnswer, ConnectorGateway } from './gateway';
import type { RunLeases } from './runLeases';

export interface RunCall {
  connectionReference: string;
  operationId: string;
  parameters?: unknown;
}

export class RunCalls {
  constructor(
    private readonly store: FlowStore,
    private readonly tokens: RunTokens,
    private readonly leases: RunLeases,
    private readonly gateway: ConnectorGateway,
  ) {}

  async call(token: string, runId: string, call: RunCall, log: Log): Promise<CallAnswer> {
    const claims = this.tokens.claimsFor(token, runId);
    const snapshot = await this.store.read(claims.tenantId, claims.flowId, [claims.initiatedBy], {
      references: [call.connectionReference],
      summary: true,
      run: parseRunId(claims.runId)!.uuid,
    });
    const run = await this.leases.accept(snapshot.run, claims, log);
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
    );
  }
}
