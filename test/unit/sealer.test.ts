import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSealingKeys, Sealer, SealError } from '../../lib/crypto/sealer';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('sealing secrets', () => {
  it('opens what it sealed for the same row, and the sealed text holds no plaintext', () => {
    const sealer = new Sealer([key('k1')]);
    const sealed = sealer.seal('sk-live-123', 'row-a');
    expect(sealed).toMatch(/^v1\.k1\./);
    expect(sealed).not.toContain('sk-live-123');
    expect(sealer.open(sealed, 'row-a')).toBe('sk-live-123');
  });

  it('refuses a value moved to another row', () => {
    const sealer = new Sealer([key('k1')]);
    expect(() => sealer.open(sealer.seal('secret', 'row-a'), 'row-b')).toThrow(SealError);
  });

  it('refuses a tampered value', () => {
    const sealer = new Sealer([key('k1')]);
    const parts = sealer.seal('secret', 'row-a').split('.');
    parts[3] = Buffer.from('SECRET').toString('base64url');
    expect(() => sealer.open(parts.join('.'), 'row-a')).toThrow(SealError);
  });

  it('seals with the first key and still opens with older ones, so keys rotate', () => {
    const old = key('old');
    const sealedBefore = new Sealer([old]).seal('secret', 'row');
    const rotated = new Sealer([key('new'), old]);
    expect(rotated.open(sealedBefore, 'row')).toBe('secret');
    expect(rotated.seal('secret', 'row')).toMatch(/^v1\.new\./);
    expect(() => new Sealer([key('new')]).open(sealedBefore, 'row')).toThrow(/not configured/);
  });

  it('reads keys from a setting and refuses bad ones', () => {
    const b64 = randomBytes(32).toString('base64');
    expect(parseSealingKeys(`a:${b64}, b:${b64}`).map((k) => k.id)).toEqual(['a', 'b']);
    expect(() => parseSealingKeys('nocolon')).toThrow(SealError);
    expect(() => new Sealer(parseSealingKeys(`short:${randomBytes(16).toString('base64')}`))).toThrow(/32 bytes/);
    expect(() => new Sealer([])).toThrow(SealError);
    expect(() => new Sealer([key('same'), key('same')])).toThrow(/unique/);
  });
});
