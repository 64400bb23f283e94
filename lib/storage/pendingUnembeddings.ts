// The rows of a flow's partition that name references a role change left to
// unembed (lib/domain/references.ts, PendingUnembedding). Each row's names fit
// one property, so that a list read (which selects its columns) gets them all.
import type { TableEntityResult } from '@azure/data-tables';
import type { PendingUnembedding } from '../domain/references';
import { PROPERTY_CHARS } from './chunks';

export type PendingUnembeddingRow = {
  pendingId: string;
  /** Whose references (a reference row's column of the same meaning). */
  referenceOwnerId: string;
  actorId: string;
  at: string;
  /** JSON: the logical names still to unembed. */
  logicalNames: string;
};

export const PENDING_UNEMBEDDING_COLUMNS = ['pendingId', 'referenceOwnerId', 'actorId', 'at', 'logicalNames'];

export interface StoredPendingUnembedding extends PendingUnembedding {
  etag: string;
}

export function pendingUnembeddingRowOf(pending: PendingUnembedding): PendingUnembeddingRow {
  return {
    pendingId: pending.id,
    referenceOwnerId: pending.principalId,
    actorId: pending.actorId,
    at: pending.at,
    logicalNames: JSON.stringify(pending.logicalNames),
  };
}

export function toStoredPendingUnembedding(row: TableEntityResult<PendingUnembeddingRow>): StoredPendingUnembedding {
  return {
    id: row.pendingId,
    principalId: row.referenceOwnerId,
    actorId: row.actorId,
    at: row.at,
    logicalNames: JSON.parse(row.logicalNames) as string[],
    etag: row.etag,
  };
}

/** The names in groups that each fit one row's property, in order. */
export function namesPerRow(names: readonly string[]): string[][] {
  const groups: string[][] = [];
  let group: string[] = [];
  let chars = 2; // the brackets
  for (const name of names) {
    const more = JSON.stringify(name).length + 1;
    if (group.length > 0 && chars + more > PROPERTY_CHARS) {
      groups.push(group);
      group = [];
      chars = 2;
    }
    group.push(name);
    chars += more;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
