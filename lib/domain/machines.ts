// Machines: where runs execute. A machine belongs to the person who
// registered it; only they see it, lease runs on it with its key, or send
// cloud runs to it (docs/domain.md, "Machines"). Pure: no I/O.

export interface Machine {
  tenantId: string;
  /** Who registered it: the only person who sees it or sends runs to it. */
  ownerId: string;
  id: string;
  name: string;
  createdAt: string;
}

/** A machine as its owner sees it (docs/shapes.md, Machine); never its key or the key's hash. */
export interface MachineView {
  id: string;
  name: string;
  ownerId: string;
  createdAt: string;
}

export function machineView(machine: Machine): MachineView {
  return { id: machine.id, name: machine.name, ownerId: machine.ownerId, createdAt: machine.createdAt };
}

/** A machine as made or given a new key: the one answer that shows the key. */
export interface MachineWithKey extends MachineView {
  key: string;
}
