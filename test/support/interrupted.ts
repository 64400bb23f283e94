// Interleavings made to happen in a set order: a FlowStore that runs another
// change just before its first commit.
import { FlowStore, type FlowChange } from '../../lib/storage/flows';
import type { Storage } from '../../lib/storage/clients';

export class InterruptedStore extends FlowStore {
  constructor(
    storage: Storage,
    private interloper: (() => Promise<unknown>) | undefined,
  ) {
    super(storage);
  }

  override async commit(tenantId: string, flowId: string, changes: FlowChange[]): Promise<string[]> {
    const interloper = this.interloper;
    this.interloper = undefined;
    if (interloper) await interloper();
    return super.commit(tenantId, flowId, changes);
  }
}
