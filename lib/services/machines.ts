// Machines: registering one (its key shown once), listing and reading one's
// own, rotating a key, deleting. Only a machine's owner ever finds it: to
// anyone else it does not exist (404). Checking a machine's key is the
// lease's job (runLeases.ts), in the same query that finds its runs.
import { newMachineKey } from '../auth/machineKeys';
import type { Caller } from '../domain/caller';
import { notFound } from '../domain/errors';
import { machineView, type MachineView, type MachineWithKey } from '../domain/machines';
import type { MachineStore, StoredMachine } from '../storage/machines';
import type { Page, PageRequest } from '../storage/pages';
import { newId } from './ids';
import { retryOnConflict } from './retry';

export class MachineService {
  constructor(
    private readonly store: MachineStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(caller: Caller, name: string): Promise<MachineWithKey> {
    const at = this.now();
    const machine = {
      tenantId: caller.tenantId,
      ownerId: caller.principalId,
      id: newId(at),
      name,
      createdAt: at.toISOString(),
    };
    const { key, hash } = newMachineKey({ ...machine, machineId: machine.id });
    const stored = await this.store.create(machine, hash);
    return { ...machineView(stored), key };
  }

  async list(caller: Caller, request: PageRequest): Promise<Page<MachineView>> {
    const page = await this.store.list(caller.tenantId, caller.principalId, request);
    return { items: page.items.map(machineView), continuationToken: page.continuationToken };
  }

  async get(caller: Caller, machineId: string): Promise<MachineView> {
    return machineView(await this.own(caller, machineId));
  }

  /** A new key; the old one stops working with this write, on every instance (nothing caches keys). */
  async rotateKey(caller: Caller, machineId: string): Promise<MachineWithKey> {
    return retryOnConflict(async () => {
      const machine = await this.own(caller, machineId);
      const { key, hash } = newMachineKey({ ...machine, machineId: machine.id });
      const stored = await this.store.replaceKey(machine, hash, this.now().toISOString());
      return { ...machineView(stored), key };
    });
  }

  /**
   * Deletes the machine: its key stops working, and runs still waiting for it
   * are never leased (the processor rejects those not yet dispatched with
   * MachineNotFound; dispatched ones time out, docs/domain.md, "Machines").
   */
  async delete(caller: Caller, machineId: string): Promise<void> {
    await this.store.delete(await this.own(caller, machineId));
  }

  /** The caller's own machine; 404 for anyone else's, as for one that does not exist. */
  async own(caller: Caller, machineId: string): Promise<StoredMachine> {
    const machine = await this.store.get(caller.tenantId, caller.principalId, machineId);
    if (!machine) throw notFound('The machine');
    return machine;
  }
}
