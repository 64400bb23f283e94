// JSON kept as the exact text it arrived in. Flow definitions round-trip byte
// for byte: parsing and serializing again would change numbers (1.0, 2^64),
// escapes and whitespace. Pure: no I/O.

/** While withRawJsonAs runs: what JSON.stringify writes for each RawJson it meets. */
let standIn: ((text: string) => string) | undefined;

/** A JSON value that responses carry as its original text. */
export class RawJson {
  constructor(readonly text: string) {}

  /**
   * JSON.stringify calls this for RawJson values only, where a replacer
   * function would be called for every key of the response. Outside
   * withRawJsonAs, the object as it always serialized.
   */
  toJSON(): unknown {
    return standIn ? standIn(this.text) : { text: this.text };
  }
}

/** Runs `write` (a JSON.stringify) with each RawJson it serializes written as `placeholder(text)`. */
export function withRawJsonAs<T>(placeholder: (text: string) => string, write: () => T): T {
  const outer = standIn;
  standIn = placeholder;
  try {
    return write();
  } finally {
    standIn = outer;
  }
}

/**
 * The exact text of member `name` of the top-level object in `json`, which
 * must already be valid JSON (it was parsed first). The last occurrence wins,
 * as with JSON.parse. Undefined when the top level is not an object or has no
 * such member.
 */
export function memberText(json: string, name: string): string | undefined {
  let i = skipSpace(json, 0);
  if (json[i] !== '{') return undefined;
  i = skipSpace(json, i + 1);
  let found: string | undefined;
  while (i < json.length && json[i] !== '}') {
    const keyEnd = endOfString(json, i);
    const key = JSON.parse(json.slice(i, keyEnd)) as string;
    i = skipSpace(json, keyEnd);
    i = skipSpace(json, i + 1); // the colon
    const valueEnd = endOfValue(json, i);
    if (key === name) found = json.slice(i, valueEnd);
    i = skipSpace(json, valueEnd);
    if (json[i] === ',') i = skipSpace(json, i + 1);
  }
  return found;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  return i;
}

/** `text[i]` is the opening quote; answers the index after the closing one. */
function endOfString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}

function endOfValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return endOfString(text, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (c === '"') j = endOfString(text, j) - 1;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  // A number or a literal: up to the next delimiter.
  let j = i;
  while (j < text.length && !',}] \t\n\r'.includes(text[j]!)) j++;
  return j;
}
