// Sealing secrets at rest: AES-256-GCM under a key from configuration, the
// key's id written beside each sealed value so keys can rotate, and the row a
// value belongs to bound as associated data, so a sealed value moved to
// another row does not open. Only this module sees plaintext keys.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SealingKey {
  id: string;
  key: Buffer;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealError extends Error {
  override name = 'SealError';
}

export class Sealer {
  private readonly keys: Map<string, Buffer>;
  private readonly active: SealingKey;

  /** `keys[0]` seals; every key opens what it sealed. */
  constructor(keys: SealingKey[]) {
    if (keys.length === 0) throw new SealError('no sealing key is configured');
    for (const { id, key } of keys) {
      if (key.length !== 32) throw new SealError(`sealing key ${id} must be 32 bytes`);
      if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new SealError(`sealing key id ${id} must be letters, digits, "-" or "_"`);
    }
    this.keys = new Map(keys.map(({ id, key }) => [id, key]));
    if (this.keys.size !== keys.length) throw new SealError('sealing key ids must be unique');
    this.active = keys[0]!;
  }

  /** `v1.<key id>.<iv>.<ciphertext>.<tag>`, base64url parts. */
  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.active.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.active.id, iv, ciphertext, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** Throws SealError when the value was not sealed for this associated data, or was changed. */
  open(sealed: string, associatedData: string): string {
    const [version, keyId, iv, ciphertext, tag, ...rest] = sealed.split('.');
    if (version !== VERSION || !keyId || iv === undefined || ciphertext === undefined || !tag || rest.length > 0) {
      throw new SealError('the sealed value is malformed');
    }
    const key = this.keys.get(keyId);
    if (!key) throw new SealError(`the sealing key ${keyId} is not configured`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SealError('the sealed value does not open here: wrong row, wrong key or tampered');
    }
  }
}

/** Parses `id:base64key[,id:base64key...]`; the first seals. */
export function parseSealingKeys(setting: string): SealingKey[] {
  return setting
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const colon = entry.indexOf(':');
      if (colon < 1) throw new SealError('each sealing key must be written id:base64key');
      return { id: entry.slice(0, colon), key: Buffer.from(entry.slice(colon + 1), 'base64') };
    });
}
