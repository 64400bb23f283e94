// What a caller sees of a run: connection ids only where the connection is
// theirs or lent to them, outputs and action results only for the run's
// initiator and the flow's makers. Pure: no I/O.
import { RawJson } from './rawJson';
import { isMaker, type Role } from './roles';
import { publicStatus, type PublicRunStatus } from './runLifecycle';
import { byName, type ActionResult, type Run, type RunError, type RunMode } from './runs';

export interface RunView {
  id: string;
  flowId: string;
  mode: RunMode;
  status: PublicRunStatus;
  initiatedBy: string;
  machineId?: string;
  /** The connection id per reference; null where it is someone else's and not lent to the viewer. */
  connections: Record<string, string | null>;
  errors?: RunError[];
  /** While Running: until when its lease holds, and whether someone asked to cancel it. */
  leaseExpiresAt?: string;
  cancelRequested?: boolean;
  /** Its outputs and action results, once completed, for its initiator and the flow's makers. */
  outputs?: RawJson;
  actions?: ActionResult[];
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
}

export function runView(run: Run, viewerId: string, viewerRole: Role): RunView {
  const connections = byName(
    Object.entries(run.connections).map(([name, c]) => {
      const visible = c.ownerId === viewerId || (c.source === 'embedded' && isMaker(viewerRole));
      return [name, visible ? c.connectionId : null] as const;
    }),
  );
  // What a run did is its initiator's and the makers': another user of the flow sees that it ran, not what it read.
  const seesResults = run.initiatedBy === viewerId || isMaker(viewerRole);
  const running = run.status === 'Running';
  return {
    id: run.id,
    flowId: run.flowId,
    mode: run.mode,
    status: publicStatus(run.status),
    initiatedBy: run.initiatedBy,
    ...(run.machineId ? { machineId: run.machineId } : {}),
    connections,
    ...(run.errors && run.errors.length > 0 ? { errors: run.errors } : {}),
    ...(running && run.leaseExpiresAt ? { leaseExpiresAt: run.leaseExpiresAt } : {}),
    ...(running ? { cancelRequested: run.cancelRequestedBy !== undefined } : {}),
    ...(seesResults && run.outputsJson !== undefined ? { outputs: new RawJson(run.outputsJson) } : {}),
    ...(seesResults && run.actions ? { actions: run.actions } : {}),
    createdAt: run.createdAt,
    ...(run.startedAt ? { startedAt: run.startedAt } : {}),
    ...(run.completedAt ? { completedAt: run.completedAt } : {}),
  };
}
