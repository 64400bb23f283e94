// Whether this instance can serve: storage answers in time.
import type { Storage } from '../storage/clients';
import { checkStorage, type StorageHealth } from '../storage/health';

export class HealthService {
  constructor(private readonly storage: Storage) {}

  check(): Promise<StorageHealth> {
    return checkStorage(this.storage);
  }
}
