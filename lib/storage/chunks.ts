// Texts longer than one Table property holds, kept over several.

/** Characters per string property: Table storage holds 32 Ki UTF-16 units in one. */
export const PROPERTY_CHARS = 30_000;

/**
 * A long text over several properties (`name`, `name_1`, `name_2`, ...): a
 * run of a flow with hundreds of references names more than one holds.
 */
export function chunked(name: string, text: string): Record<string, string> {
  const parts: Record<string, string> = {};
  for (let i = 0, n = 0; i < text.length || n === 0; i += PROPERTY_CHARS, n++) {
    parts[n === 0 ? name : `${name}_${n}`] = text.slice(i, i + PROPERTY_CHARS);
  }
  return parts;
}

export function unchunked(row: Record<string, unknown>, name: string): string | undefined {
  if (typeof row[name] !== 'string') return undefined;
  let text = row[name] as string;
  for (let n = 1; typeof row[`${name}_${n}`] === 'string'; n++) text += row[`${name}_${n}`] as string;
  return text;
}

/** The chunks a whole entity can hold of one text (1 MiB, two bytes a character). */
export const MAX_CHUNKS = Math.ceil((1024 * 1024) / 2 / PROPERTY_CHARS);

/** A chunked column and its first `chunks` chunks, to name them in a query's select. */
export function chunkColumns(name: string, chunks: number = MAX_CHUNKS): string[] {
  return [name, ...Array.from({ length: chunks - 1 }, (_, i) => `${name}_${i + 1}`)];
}

/** How many chunks a text of at most `maxChars` characters takes. */
export function chunksFor(maxChars: number): number {
  return Math.ceil(maxChars / PROPERTY_CHARS);
}
