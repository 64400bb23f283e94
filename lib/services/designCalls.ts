// Design-time calls: a maker editing a connector action tries a read through
// a reference (a mail folder to pick, a list to browse), with the reference's
// connection when it is theirs or embedded: embedding lends the connection
// "for both modifying as well as running" the flow (docs/gateway.md).
import type { Caller } from '../domain/caller';
import { designCallConnection } from '../domain/gateway';
import { asLent } from '../domain/references';
import type { Log } from '../log';
import type { FlowStore } from '../storage/flows';
import { readFlowAs } from './access';
import type { CallAnswer, ConnectorGateway } from './gateway';

export interface DesignCall {
  operationId: string;
  parameters?: unknown;
}

export class DesignCalls {
  constructor(
    private readonly store: FlowStore,
    private readonly gateway: ConnectorGateway,
  ) {}

  async call(caller: Caller, flowId: string, logicalName: string, call: DesignCall, log: Log): Promise<CallAnswer> {
    // The flow, the caller's role and the reference (with any pending unembedding) in one query.
    const { role, snapshot } = await readFlowAs(this.store, caller, flowId, 'callConnectorAtDesignTime', {
      references: [logicalName],
    });
    const [reference] = asLent(snapshot.references.values(), snapshot.pendingUnembeddings);
    const connectorCall = {
      connectorId: reference?.connectorId ?? '',
      operationId: call.operationId,
      parameters: call.parameters,
    };
    const chosen = designCallConnection({
      callerId: caller.principalId,
      callerRole: role,
      reference,
      operationReads: reference ? this.gateway.prepare(connectorCall).operation.read : false,
    });
    return this.gateway.call(caller.tenantId, chosen, connectorCall, log, {
      kind: 'design',
      actorId: caller.principalId,
      flowId,
      logicalName,
    });
  }
}
