// Flow definitions too large for a Table property, in Blob storage: a fresh
// blob per version, written before the row that points to it, removed once
// no row does.
import { randomUUID } from 'node:crypto';
import type { Storage } from './clients';
import { rethrowConflict, storageStatusOf, withDeadline } from './errors';
import type { FlowRow, StoredFlow } from './flowRows';
import { definitionBlobName, FLOW_ROW_KEY } from './keys';

/**
 * A Table string property holds 64 KiB, that is 32 Ki UTF-16 code units;
 * longer definitions go to Blob storage.
 */
export const INLINE_DEFINITION_LIMIT = 30_000;

/** Where a definition went: inline in the flow row, or to a blob the row names. */
export interface PlacedDefinition {
  definition?: string;
  definitionBlob?: string;
}

export class DefinitionBlobs {
  constructor(private readonly storage: Storage) {}

  /**
   * The definition JSON of a flow, from its row or its blob. A blob that is
   * gone was replaced since the row was read: ConcurrencyConflict.
   */
  async definitionOf(flow: StoredFlow): Promise<string> {
    if (flow.definitionBlob) {
      try {
        // One GET (downloadToBuffer would ask for the size first).
        const blob = this.storage.definitions.getBlockBlobClient(flow.definitionBlob);
        return await withDeadline(this.storage.blobQueueTimeoutMs, async (abortSignal) => {
          const response = await blob.download(0, undefined, { abortSignal });
          const chunks: Buffer[] = [];
          for await (const chunk of response.readableStreamBody!) chunks.push(Buffer.from(chunk as Buffer));
          return Buffer.concat(chunks).toString('utf8');
        });
      } catch (error) {
        rethrowConflict(error);
      }
    }
    return flow.inlineDefinition ?? '{"actions":[]}';
  }

  /** Keeps the definition inline when it fits, else writes it to a fresh blob. */
  async place(tenantId: string, flowId: string, definitionJson: string): Promise<PlacedDefinition> {
    if (definitionJson.length <= INLINE_DEFINITION_LIMIT) return { definition: definitionJson };
    const name = definitionBlobName(tenantId, flowId, randomUUID());
    const bytes = Buffer.from(definitionJson, 'utf8');
    await this.storage.ensureReady();
    const blob = this.storage.definitions.getBlockBlobClient(name);
    await withDeadline(this.storage.blobQueueTimeoutMs, (abortSignal) =>
      blob.uploadData(bytes, { blobHTTPHeaders: { blobContentType: 'application/json; charset=utf-8' }, abortSignal }),
    );
    return { definitionBlob: name };
  }

  /**
   * After a write storage refused: removes the blob written for it, unless the
   * row points to it after all. Only after a refusal: a write whose answer was
   * lost (a timeout, a dropped connection) may still land after this looks,
   * and would then point to a blob that is gone; a stray blob is only wasted space.
   */
  async discardIfUnreferenced(partitionKey: string, name: string | undefined): Promise<void> {
    if (!name) return;
    try {
      const row = await this.storage.flows.getEntity<FlowRow>(partitionKey, FLOW_ROW_KEY, {
        queryOptions: { select: ['definitionBlob'] },
      });
      if (row.definitionBlob === name) return;
    } catch (error) {
      if (storageStatusOf(error) !== 404) return; // unsure: a stray blob is only wasted space
    }
    await this.discard(name);
  }

  /** Best effort: a blob nobody points to is only wasted space. */
  async discard(name: string | undefined): Promise<void> {
    if (!name) return;
    const blob = this.storage.definitions.getBlockBlobClient(name);
    await withDeadline(this.storage.blobQueueTimeoutMs, (abortSignal) => blob.deleteIfExists({ abortSignal })).catch(
      () => undefined,
    );
  }
}
