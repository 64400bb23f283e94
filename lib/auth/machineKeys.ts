// Machine keys: how a machine proves which machine it is. A key is
// `fsm_<locator>.<secret>`: the locator (base64url JSON of the tenant, owner
// and machine id) names the one row to read, and the secret is checked
// against the hash kept there, in constant time. The key is shown once, when
// made or rotated, and never stored: only the SHA-256 of its secret (256
// random bits, so no slow hash is needed). Pure: no storage.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const MACHINE_KEY_PREFIX = 'fsm_';
/** Longer than any key this code makes (ids are at most 256 characters). */
const MAX_KEY_LENGTH = 4096;

/** Which machine a key says it is, and the secret that proves it. */
export interface MachineKey {
  tenantId: string;
  ownerId: string;
  machineId: string;
  secret: string;
}

export interface MachineRef {
  tenantId: string;
  ownerId: string;
  machineId: string;
}

/** A new key for the machine, and the hash to keep of it. */
export function newMachineKey(machine: MachineRef): { key: string; hash: string } {
  const locator = Buffer.from(JSON.stringify([machine.tenantId, machine.ownerId, machine.machineId]), 'utf8');
  const secret = randomBytes(32).toString('base64url');
  return { key: `${MACHINE_KEY_PREFIX}${locator.toString('base64url')}.${secret}`, hash: machineKeyHash(secret) };
}

/** The parts of a machine key; undefined when the text is not one. */
export function parseMachineKey(key: string): MachineKey | undefined {
  if (!key.startsWith(MACHINE_KEY_PREFIX) || key.length > MAX_KEY_LENGTH) return undefined;
  const [locator, secret, ...rest] = key.slice(MACHINE_KEY_PREFIX.length).split('.');
  if (!locator || !secret || rest.length > 0) return undefined;
  try {
    const parts = JSON.parse(Buffer.from(locator, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(parts) || parts.length !== 3 || !parts.every((p) => typeof p === 'string' && p.length > 0)) {
      return undefined;
    }
    const [tenantId, ownerId, machineId] = parts as [string, string, string];
    return { tenantId, ownerId, machineId, secret };
  } catch {
    return undefined;
  }
}

export function machineKeyHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Whether the secret is the one whose hash was kept, compared in constant time. */
export function matchesKeyHash(secret: string, keptHash: string): boolean {
  const presented = Buffer.from(machineKeyHash(secret), 'utf8');
  const kept = Buffer.from(keptHash, 'utf8');
  return presented.length === kept.length && timingSafeEqual(presented, kept);
}
