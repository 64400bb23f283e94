// Every reason a cloud run cannot start, looked up now: the flow, its
// references (read with it, in one query), the initiator's role, the
// definition, and each embedded connection. Cloud readiness asks it on a
// person's behalf, and the processor asks it again when a request arrives; the
// rules themselves are `checkCloudRun` in lib/domain/runs.ts.
import type { ConnectionStatus } from '../domain/connections';
import { asLent } from '../domain/references';

import { type RunError } from '../domain/runs';
import type { FlowSnapshot, FlowStore, StoredPermission, StoredReference } from '../storage/flows';
import { consoleLog, type Log } from '../log';
import type { ConnectionService } from './connections';
import { checkCloudRun, definitionReferences } from '../domain/cloudRuns';
import { checkDefinitionForRun } from '../domain/definitionChecks';

export interface CloudRunCheck {
  errors: RunError[];
  /** The references as lent now (a pending unembedding counts as not embedded). */
  references: StoredReference[];
  /** The initiator's permission row as read, to guard a claim with. */
  initiator: StoredPermission | undefined;
}

export class CloudRunChecks {
  constructor(
    private readonly store: FlowStore,
    private readonly connections: ConnectionService,
  ) {}

  /** What keeps a stored definition from running now, its references' connectors by logical name. */
  definitionErrors(definitionJson: string, connectorOf: ReadonlyMap<string, string>): RunError[] {
    const operations = new Map(this.connections.catalog().map((c) => [c.id, c.operations.map((o) => o.id)]));
    return checkDefinitionForRun(JSON.parse(definitionJson), connectorOf, (id) => operations.get(id));
  }

  async check(
    tenantId: string,
    snapshot: Pick<FlowSnapshot, 'flow' | 'references' | 'permissions' | 'pendingUnembeddings'>,
    initiatorId: string,
    log: Log = consoleLog,
    /** Whether the machine the run is for exists; undefined when there is none to ask about (readiness). */
    machineExists?: boolean,
  ): Promise<CloudRunCheck> {
    const { flow } = snapshot;
    const initiator = snapshot.permissions.get(initiatorId);
    if (!flow) {
      const errors = checkCloudRun({
        flow: undefined,
        initiatorRole: undefined,
        references: [],
        embeddedStatus: new Map(),
        definitionReferences: [],
        machineExists,
      });
      return { errors, references: [], initiator };
    }
    const references = asLent(snapshot.references.values(), snapshot.pendingUnembeddings);
    const definitionJson = await this.store.definitionOf(flow);
    // Each distinct connection is checked once, however many references bind it.
    const checks = new Map<string, Promise<ConnectionStatus | undefined>>();
    const checkOnce = (r: StoredReference) => {
      const key = JSON.stringify([r.ownerId, r.connectionId]);
      if (!checks.has(key)) checks.set(key, this.connections.checkForRun(tenantId, r.ownerId, r.connectionId, log));
      return checks.get(key)!;
    };
    const statuses = await Promise.all(
      references
        .filter((r) => r.embedded)
        .map(async (r): Promise<[string, ConnectionStatus | undefined]> => [r.logicalName, await checkOnce(r)]),
    );
    const errors = checkCloudRun({
      flow,
      initiatorRole: initiator?.role,
      references,
      embeddedStatus: new Map(statuses),
      definitionReferences: definitionReferences(JSON.parse(definitionJson)),
      definitionErrors: this.definitionErrors(
        definitionJson,
        new Map(references.map((r) => [r.logicalName, r.connectorId])),
      ),
      machineExists,
    });
    return { errors, references, initiator };
  }
}
