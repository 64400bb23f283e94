// The services of this process, over its storage.
import { getStorage, type Storage } from '../storage/clients';
import { FlowStore } from '../storage/flows';
import { PrincipalIndex } from '../storage/principalIndex';
import { FlowService } from './flows';
import { PermissionService } from './permissions';

export interface Services {
  storage: Storage;
  flows: FlowService;
  permissions: PermissionService;
}

export function createServices(storage: Storage): Services {
  const store = new FlowStore(storage);
  const index = new PrincipalIndex(storage);
  return {
    storage,
    flows: new FlowService(store, index),
    permissions: new PermissionService(store, index),
  };
}

let shared: Services | undefined;

export function services(): Services {
  shared ??= createServices(getStorage());
  return shared;
}
