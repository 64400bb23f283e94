// Rows past their `expiresAt` (consent states, sessions): found with one query
// and deleted each with the ETag it was read with, so a row written again
// meanwhile stays. They are refused when read after that time anyway; this
// only frees the space, on a timer (functions/sweep.ts).
import { odata, type TableClient } from '@azure/data-tables';
import { storageStatusOf } from './errors';

export async function deleteExpired(table: TableClient, now: Date): Promise<number> {
  // ISO 8601 times in UTC, as written here, sort as they compare.
  const rows = table.listEntities<{ expiresAt: string }>({
    queryOptions: { filter: odata`expiresAt lt ${now.toISOString()}`, select: ['PartitionKey', 'RowKey'] },
  });
  let deleted = 0;
  for await (const row of rows) {
    try {
      await table.deleteEntity(row.partitionKey!, row.rowKey!, { etag: row.etag });
      deleted++;
    } catch (error) {
      // Gone already, or written again since it was read.
      const status = storageStatusOf(error);
      if (status !== 404 && status !== 412) throw error;
    }
  }
  return deleted;
}
