// A run's row in its flow's partition, and how it maps to and from the domain.
// Long texts (connections, inputs, outputs, action results, errors) are
// chunked over several string properties (chunks.ts).
import type { TableEntityResult } from '@azure/data-tables';
import { MAX_RUN_RESULT_BYTES } from '../domain/limits';
import { byName, parseRunId, type Run } from '../domain/runs';
import { chunkColumns, chunked, chunksFor, unchunked } from './chunks';

// A type alias, not an interface: the SDK wants it assignable to Record<string, unknown>.
export type RunRow = {
  runId: string;
  mode: string;
  status: string;
  initiatedBy: string;
  /** JSON: logical name to the connection that served it. */
  connections: string;
  /** JSON: why it was rejected or failed. */
  errors?: string;
  createdAt: string;
  completedAt?: string;
  claimedAt?: string;
  requestedAgainAt?: string;
  machineId?: string;
  /** JSON: the inputs of a cloud run, as sent (chunked like connections). */
  inputs?: string;
  leaseId?: string;
  leaseExpiresAt?: string;
  startedAt?: string;
  cancelRequestedBy?: string;
  /** JSON: what the machine reported on completion (chunked). */
  outputs?: string;
  actions?: string;
};

/**
 * Every column of a run but its inputs (up to 64 KiB, for its machine only),
 * chunked ones with their chunks: what a summary read of a run selects. A
 * run's outputs and results exist only once it has ended, so reading a
 * Running run this way costs what its lifecycle columns do.
 */
export const RUN_SUMMARY_COLUMNS = [
  'runId',
  'mode',
  'status',
  'initiatedBy',
  ...chunkColumns('connections'),
  ...chunkColumns('errors'),
  'createdAt',
  'completedAt',
  'claimedAt',
  'requestedAgainAt',
  'machineId',
  'leaseId',
  'leaseExpiresAt',
  'startedAt',
  'cancelRequestedBy',
  // Together at most MAX_RUN_RESULT_BYTES (UTF-8), so neither has more characters.
  ...chunkColumns('outputs', chunksFor(MAX_RUN_RESULT_BYTES)),
  ...chunkColumns('actions', chunksFor(MAX_RUN_RESULT_BYTES)),
];

export interface StoredRun extends Run {
  etag: string;
}

export function runUuidOf(run: Run): string {
  return parseRunId(run.id)!.uuid;
}

export function runRowOf(run: Run): RunRow {
  return {
    runId: run.id,
    mode: run.mode,
    status: run.status,
    initiatedBy: run.initiatedBy,
    ...(chunked('connections', JSON.stringify(run.connections)) as { connections: string }),
    ...(run.errors ? chunked('errors', JSON.stringify(run.errors)) : {}),
    createdAt: run.createdAt,
    ...(run.completedAt ? { completedAt: run.completedAt } : {}),
    ...(run.claimedAt ? { claimedAt: run.claimedAt } : {}),
    ...(run.requestedAgainAt ? { requestedAgainAt: run.requestedAgainAt } : {}),
    ...(run.machineId ? { machineId: run.machineId } : {}),
    ...(run.inputsJson !== undefined ? chunked('inputs', run.inputsJson) : {}),
    ...(run.leaseId ? { leaseId: run.leaseId } : {}),
    ...(run.leaseExpiresAt ? { leaseExpiresAt: run.leaseExpiresAt } : {}),
    ...(run.startedAt ? { startedAt: run.startedAt } : {}),
    ...(run.cancelRequestedBy !== undefined ? { cancelRequestedBy: run.cancelRequestedBy } : {}),
    ...(run.outputsJson !== undefined ? chunked('outputs', run.outputsJson) : {}),
    ...(run.actions ? chunked('actions', JSON.stringify(run.actions)) : {}),
  };
}

export function toStoredRun(row: TableEntityResult<RunRow>, tenantId: string, flowId: string): StoredRun {
  return {
    tenantId,
    flowId,
    id: row.runId,
    mode: row.mode as Run['mode'],
    status: row.status as Run['status'],
    initiatedBy: row.initiatedBy,
    connections: byName(Object.entries(JSON.parse(unchunked(row, 'connections') ?? '{}') as Run['connections'])),
    ...(row.errors ? { errors: JSON.parse(unchunked(row, 'errors')!) as Run['errors'] } : {}),
    createdAt: row.createdAt,
    ...(row.completedAt ? { completedAt: row.completedAt } : {}),
    ...(row.claimedAt ? { claimedAt: row.claimedAt } : {}),
    ...(row.requestedAgainAt ? { requestedAgainAt: row.requestedAgainAt } : {}),
    ...(row.machineId ? { machineId: row.machineId } : {}),
    ...(typeof row.inputs === 'string' ? { inputsJson: unchunked(row, 'inputs') } : {}),
    ...(row.leaseId ? { leaseId: row.leaseId } : {}),
    ...(row.leaseExpiresAt ? { leaseExpiresAt: row.leaseExpiresAt } : {}),
    ...(row.startedAt ? { startedAt: row.startedAt } : {}),
    ...(typeof row.cancelRequestedBy === 'string' ? { cancelRequestedBy: row.cancelRequestedBy } : {}),
    ...(typeof row.outputs === 'string' ? { outputsJson: unchunked(row, 'outputs') } : {}),
    ...(typeof row.actions === 'string' ? { actions: JSON.parse(unchunked(row, 'actions')!) as Run['actions'] } : {}),
    etag: row.etag,
  };
}
