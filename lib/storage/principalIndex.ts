// "Flows shared with me" without a scan: one partition per person, one row per
// flow they hold a role on. The flow's partition stays the truth: a row here is
// written before the permission and removed after it, so the index may name a
// flow the person no longer holds (lists check), never miss one they do.
import { odata, type TableEntity } from '@azure/data-tables';
import type { Storage } from './clients';
import { storageStatusOf } from './errors';
import { encodeKeyPart, principalPartitionKey } from './keys';
import { queryPage, type Page, type PageRequest } from './pages';

type IndexRow = {
  flowId: string;
  addedAt: string;
};

export class PrincipalIndex {
  constructor(private readonly storage: Storage) {}

  async add(tenantId: string, principalId: string, flowId: string, addedAt: string): Promise<void> {
    await this.storage.ensureReady();
    const row: TableEntity<IndexRow> = {
      partitionKey: principalPartitionKey(tenantId, principalId),
      rowKey: encodeKeyPart(flowId),
      flowId,
      addedAt,
    };
    await this.storage.principalIndex.upsertEntity(row, 'Replace');
  }

  async remove(tenantId: string, principalId: string, flowId: string): Promise<void> {
    try {
      await this.storage.principalIndex.deleteEntity(
        principalPartitionKey(tenantId, principalId),
        encodeKeyPart(flowId),
      );
    } catch (error) {
      if (storageStatusOf(error) !== 404) throw error;
    }
  }

  /** One page of the flow ids indexed for a person, in id order. */
  async page(tenantId: string, principalId: string, request: PageRequest): Promise<Page<string>> {
    await this.storage.ensureReady();
    const filter = odata`PartitionKey eq ${principalPartitionKey(tenantId, principalId)}`;
    const page = await queryPage<IndexRow>(this.storage.principalIndex, filter, request, ['flowId']);
    return { items: page.items.map((row) => row.flowId), continuationToken: page.continuationToken };
  }
}
