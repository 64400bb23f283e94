// One page of a table query, as every list route answers it.
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { isWellFormed } from '../domain/schemas';

export interface Page<T> {
  items: T[];
  /** Present when there is more; opaque to callers. */
  continuationToken?: string;
}

export interface PageRequest {
  top: number;
  continuationToken?: string;
}

/**
 * Whether a token can be one the Tables SDK made (base64 JSON naming the next
 * keys, in well-formed text as every key is). A forged one is refused before
 * the SDK fails to parse it.
 */
export function isContinuationToken(token: string): boolean {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as unknown;
    if (typeof decoded !== 'object' || decoded === null) return false;
    const { nextPartitionKey, nextRowKey } = decoded as Record<string, unknown>;
    const wellFormedKey = (key: unknown) => typeof key === 'string' && isWellFormed(key);
    return wellFormedKey(nextPartitionKey) && (nextRowKey === undefined || wellFormedKey(nextRowKey));
  } catch {
    return false;
  }
}

/** Reads exactly one page of a query: a list never loads a whole partition. */
export async function queryPage<T extends object>(
  table: TableClient,
  filter: string,
  request: PageRequest,
  select?: string[],
): Promise<Page<TableEntityResult<T>>> {
  const pages = table
    .listEntities<T>({ queryOptions: { filter, ...(select ? { select } : {}) } })
    .byPage({ maxPageSize: request.top, continuationToken: request.continuationToken });
  const first = await pages.next();
  if (first.done) return { items: [] };
  const page = first.value;
  return { items: [...page], continuationToken: page.continuationToken };
}
