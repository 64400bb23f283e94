// The expression syntax of flow definitions (docs/definitions.md,
// Expressions): a string value may hold `@{path}` references to the run's
// inputs, its variables and earlier actions' outputs. Parsing is here, for the
// service to validate definitions when they are saved; evaluating is the
// definition engine's (console/engine/). Pure: no I/O.

/** Where a reference starts. */
export const EXPRESSION_ROOTS = ['inputs', 'variables', 'actions'] as const;
export type ExpressionRoot = (typeof EXPRESSION_ROOTS)[number];

/** `@{actions.Query.body.rows[0]}`: the root, the name below it, then members and indexes. */
export interface Reference {
  root: ExpressionRoot;
  /** The input, variable or action named. */
  name: string;
  /** Members (strings) and array indexes (numbers) below it. */
  path: Array<string | number>;
  /** The reference as written, for messages. */
  text: string;
}

/**
 * A string value, parsed: a plain string; exactly one reference (`"@{x}"`,
 * whose value is the referenced value itself, of any type); or text with
 * references in it (each replaced by its value as text).
 */
export type Template =
  | { kind: 'text'; text: string }
  | { kind: 'whole'; reference: Reference }
  | { kind: 'parts'; parts: Array<string | Reference> };

export class ExpressionSyntaxError extends Error {}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Parses a string value of a definition; throws ExpressionSyntaxError saying what is wrong. */
export function parseTemplate(value: string): Template {
  if (!value.includes('@')) return { kind: 'text', text: value };
  const parts: Array<string | Reference> = [];
  let text = '';
  let at = 0;
  while (at < value.length) {
    if (value.startsWith('@@{', at)) {
      text += '@{';
      at += 3;
    } else if (value.startsWith('@{', at)) {
      const end = referenceEnd(value, at + 2);
      if (end < 0) throw new ExpressionSyntaxError(`"${clip(value.slice(at))}" has no closing "}"`);
      const reference = parseReference(value.slice(at + 2, end));
      if (text) parts.push(text);
      text = '';
      parts.push(reference);
      at = end + 1;
    } else {
      text += value[at];
      at += 1;
    }
  }
  if (text) parts.push(text);
  const references = parts.filter((p): p is Reference => typeof p !== 'string');
  if (references.length === 0) return { kind: 'text', text: parts.join('') };
  if (parts.length === 1) return { kind: 'whole', reference: references[0]! };
  return { kind: 'parts', parts };
}

/** The references a template holds. */
export function referencesOf(template: Template): Reference[] {
  if (template.kind === 'whole') return [template.reference];
  if (template.kind === 'parts') return template.parts.filter((p): p is Reference => typeof p !== 'string');
  return [];
}

/** Where the reference starting at `from` ends: its `}`, outside quotes; -1 when there is none. */
function referenceEnd(value: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < value.length; i++) {
    const c = value[i];
    if (quote) {
      if (c === '\\') i += 1;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '}') {
      return i;
    }
  }
  return -1;
}

/**
 * One reference: `root.name`, then `.member`, `[0]` or `['any member']`
 * (quotes `'` or `"`, with `\` escaping the quote or itself).
 */
function parseReference(source: string): Reference {
  const text = source.trim();
  let rest = text;
  const root = IDENTIFIER.exec(rest)?.[0];
  if (!root || !(EXPRESSION_ROOTS as readonly string[]).includes(root)) {
    throw new ExpressionSyntaxError(`"@{${text}}" must start with inputs, variables or actions`);
  }
  rest = rest.slice(root.length);
  const segments: Array<string | number> = [];
  while (rest.length > 0) {
    if (rest.startsWith('.')) {
      const member = IDENTIFIER.exec(rest.slice(1))?.[0];
      if (!member) throw new ExpressionSyntaxError(`"@{${text}}" has a "." not followed by a name`);
      segments.push(member);
      rest = rest.slice(1 + member.length);
    } else if (rest.startsWith('[')) {
      const index = /^\[(\d{1,9})\]/.exec(rest);
      if (index) {
        segments.push(Number(index[1]));
        rest = rest.slice(index[0].length);
        continue;
      }
      const quoted = readQuoted(rest.slice(1));
      if (!quoted || !rest.slice(1 + quoted.length).startsWith(']')) {
        throw new ExpressionSyntaxError(`"@{${text}}" has a "[" not followed by an index or a quoted name and "]"`);
      }
      segments.push(quoted.value);
      rest = rest.slice(1 + quoted.length + 1);
    } else {
      throw new ExpressionSyntaxError(`"@{${text}}" is not a reference: "${clip(rest)}" is unexpected`);
    }
  }
  const [name, ...path] = segments;
  if (typeof name !== 'string') throw new ExpressionSyntaxError(`"@{${text}}" must name one of the ${root}`);
  return { root: root as ExpressionRoot, name, path, text };
}

/** A quoted string at the start of `source`: its value and how many characters it took. */
function readQuoted(source: string): { value: string; length: number } | undefined {
  const quote = source[0];
  if (quote !== "'" && quote !== '"') return undefined;
  let value = '';
  for (let i = 1; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && (source[i + 1] === quote || source[i + 1] === '\\')) {
      value += source[i + 1];
      i += 1;
    } else if (c === quote) {
      return { value, length: i + 1 };
    } else {
      value += c;
    }
  }
  return undefined;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
