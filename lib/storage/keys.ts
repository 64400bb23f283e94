// Table keys: how ids become PartitionKeys and RowKeys. They live here and
// nowhere else (how a row's ETag is shown over HTTP is lib/http/etags.ts).
import { odata } from '@azure/data-tables';
import { isWellFormed } from '../domain/schemas';

const SAFE_KEY_PART = /^[A-Za-z0-9._-]+$/;

/**
 * Ids that pass the id rule are used as they are; anything else (a tenant or
 * object id from a token, say) is base64url-encoded behind a `~`, which the id
 * rule never allows, so two different values never share a key. That holds
 * for well-formed text only (UTF-8 makes every lone surrogate U+FFFD): other
 * text is refused before it gets here, and is a bug if it does.
 */
export function encodeKeyPart(value: string): string {
  if (SAFE_KEY_PART.test(value)) return value;
  if (!isWellFormed(value)) throw new Error('a storage key part must be well-formed Unicode');
  return `~${Buffer.from(value, 'utf8').toString('base64url')}`;
}

/** Separates key parts; neither an id nor an encoded part contains it. */
const SEP = '|';

/** The RowKey range [from, to) of every key that starts with `kind` and the separator. */
function rangeOf(kind: string): { from: string; to: string } {
  return { from: `${kind}${SEP}`, to: `${kind}${String.fromCharCode(SEP.charCodeAt(0) + 1)}` };
}

/** An OData filter for the rows of one partition within a RowKey range. */
export function rangeFilter(partitionKey: string, range: { from: string; to: string }): string {
  return odata`PartitionKey eq ${partitionKey} and RowKey ge ${range.from} and RowKey lt ${range.to}`;
}

/** One partition per flow: the flow, its permissions, references, runs and audit. */
export function flowPartitionKey(tenantId: string, flowId: string): string {
  return `${encodeKeyPart(tenantId)}${SEP}${encodeKeyPart(flowId)}`;
}

export const FLOW_ROW_KEY = 'flow';

export const PERMISSION_RANGE = rangeOf('perm');
export function permissionRowKey(principalId: string): string {
  return PERMISSION_RANGE.from + encodeKeyPart(principalId);
}

export const REFERENCE_RANGE = rangeOf('ref');
/** Logical names are ids: they go into the key as they are. */
export function referenceRowKey(logicalName: string): string {
  return REFERENCE_RANGE.from + encodeKeyPart(logicalName);
}

/**
 * What a role change left to unembed (see PendingUnembedding): one row per
 * role change and batch of names, under the person's key.
 */
export const PENDING_UNEMBED_RANGE = rangeOf('unembed');
export function pendingUnembedRowKey(principalId: string, id: string): string {
  return `${PENDING_UNEMBED_RANGE.from}${encodeKeyPart(principalId)}${SEP}${encodeKeyPart(id)}`;
}

export const RUN_RANGE = rangeOf('run');
/**
 * Runs sort newest first: their ids are UUIDv7 (time first), written here
 * with every hex digit inverted.
 */
export function runRowKey(runUuid: string): string {
  const inverted = runUuid.replace(/[0-9a-f]/gi, (d) => (15 - parseInt(d, 16)).toString(16));
  return RUN_RANGE.from + encodeKeyPart(inverted);
}

export const AUDIT_RANGE = rangeOf('audit');
const MAX_MILLIS = 9_999_999_999_999;
/** Audit rows sort newest first: the key holds the time counted down. */
export function auditRowKey(at: Date, unique: string): string {
  const countdown = String(MAX_MILLIS - at.getTime()).padStart(13, '0');
  return `${AUDIT_RANGE.from}${countdown}${SEP}${unique}`;
}

/** The per-principal index: one partition per person, one row per flow. */
export function principalPartitionKey(tenantId: string, principalId: string): string {
  return `${encodeKeyPart(tenantId)}${SEP}${encodeKeyPart(principalId)}`;
}

/**
 * The machines table, one partition per owner (principalPartitionKey): a row
 * per machine and, right after it, a row per run dispatched to it, oldest
 * first (run ids are UUIDv7, time first), so that one query reads a machine
 * with its oldest dispatched runs.
 */
export const MACHINE_RANGE = rangeOf('m');
export function machineRowKey(machineId: string): string {
  return MACHINE_RANGE.from + encodeKeyPart(machineId);
}
/** The rows of the runs dispatched to a machine: [from, to). */
export function dispatchRange(machineId: string): { from: string; to: string } {
  return rangeOf(machineRowKey(machineId));
}
export function dispatchRowKey(machineId: string, runUuid: string): string {
  return `${dispatchRange(machineId).from}${encodeKeyPart(runUuid)}`;
}

/** Blob names of large definitions; a fresh name per version. */
export function definitionBlobName(tenantId: string, flowId: string, version: string): string {
  return `${encodeKeyPart(tenantId)}/${encodeKeyPart(flowId)}/${version}.json`;
}
