// Pending-unembedding rows: each row's names fit one Table property.
import { describe, expect, it } from 'vitest';
import { PROPERTY_CHARS } from '../../lib/storage/chunks';
import { namesPerRow } from '../../lib/storage/pendingUnembeddings';

describe('names per pending-unembedding row', () => {
  it('keeps a few names in one row', () => {
    expect(namesPerRow(['a', 'b'])).toEqual([['a', 'b']]);
    expect(namesPerRow([])).toEqual([]);
  });

  it('splits many long names over rows that each fit, in order', () => {
    const names = Array.from({ length: 1_000 }, (_, i) => `${String(i).padStart(4, '0')}${'x'.repeat(96)}`);
    const rows = namesPerRow(names);
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.flat()).toEqual(names);
    for (const row of rows) expect(JSON.stringify(row).length).toBeLessThanOrEqual(PROPERTY_CHARS);
  });
});
