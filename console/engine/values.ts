// Evaluating a definition's values and conditions at run time
// (docs/definitions.md, Expressions and Conditions): references resolve
// against the run's inputs, variables and finished actions' outputs.
import { COMPARISONS, isObject } from '../../lib/domain/definitions';
import { parseTemplate, type Reference } from '../../lib/domain/expressions';

/** What an expression may refer to, as the run stands. */
export interface Scope {
  inputs: Record<string, unknown>;
  variables: Map<string, unknown>;
  /** The output of each action that finished, by name. */
  actions: Map<string, unknown>;
}

/** An expression that cannot be evaluated: the action fails with `ExpressionFailed`. */
export class ExpressionFailed extends Error {}

/** A value with every string in it evaluated; object keys are kept as they are. */
export function evaluate(value: unknown, scope: Scope): unknown {
  if (typeof value === 'string') return evaluateString(value, scope);
  if (Array.isArray(value)) return value.map((item) => evaluate(item, scope));
  if (isObject(value)) {
    // fromEntries defines own members, so a member named __proto__ stays data.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, evaluate(item, scope)]));
  }
  return value;
}

function evaluateString(text: string, scope: Scope): unknown {
  const template = parseTemplate(text);
  if (template.kind === 'text') return template.text;
  if (template.kind === 'whole') return resolve(template.reference, scope);
  return template.parts.map((part) => (typeof part === 'string' ? part : asText(resolve(part, scope)))).join('');
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The value a reference names; ExpressionFailed when it is not there. */
export function resolve(reference: Reference, scope: Scope): unknown {
  let value: unknown;
  if (reference.root === 'inputs') {
    if (!Object.hasOwn(scope.inputs, reference.name))
      throw failed(reference, `the input "${reference.name}" was not given`);
    value = scope.inputs[reference.name];
  } else if (reference.root === 'variables') {
    if (!scope.variables.has(reference.name)) throw failed(reference, `the variable "${reference.name}" is not set`);
    value = scope.variables.get(reference.name);
  } else {
    if (!scope.actions.has(reference.name)) throw failed(reference, `the action "${reference.name}" did not run`);
    value = scope.actions.get(reference.name);
  }
  let walked = `${reference.root}.${reference.name}`;
  for (const segment of reference.path) {
    value = step(value, segment, reference, walked);
    walked += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
  }
  return value;
}

function step(value: unknown, segment: string | number, reference: Reference, walked: string): unknown {
  if (typeof segment === 'number') {
    if (Array.isArray(value) && segment < value.length) return value[segment];
    throw failed(reference, `${walked} has no item ${segment}`);
  }
  if (isObject(value) && Object.hasOwn(value, segment)) return value[segment];
  if (segment === 'length' && (Array.isArray(value) || typeof value === 'string')) return value.length;
  throw failed(reference, `${walked} has no member "${segment}"`);
}

function failed(reference: Reference, why: string): ExpressionFailed {
  return new ExpressionFailed(`@{${reference.text}}: ${why}.`);
}

/** Whether a condition holds (its form was checked when the definition was saved). */
export function holds(condition: unknown, scope: Scope): boolean {
  if (typeof condition === 'boolean') return condition;
  if (typeof condition === 'string') {
    const value = evaluate(condition, scope);
    if (typeof value !== 'boolean') throw new ExpressionFailed(`"${condition}" is not true or false.`);
    return value;
  }
  const [operator, operand] = Object.entries(condition as Record<string, unknown>)[0]!;
  if (operator === 'not') return !holds(operand, scope);
  if (operator === 'and') return (operand as unknown[]).every((c) => holds(c, scope));
  if (operator === 'or') return (operand as unknown[]).some((c) => holds(c, scope));
  if (!COMPARISONS.includes(operator)) throw new ExpressionFailed(`"${operator}" is not a condition.`);
  const [a, b] = (operand as unknown[]).map((v) => evaluate(v, scope));
  switch (operator) {
    case 'equals':
      return sameValue(a, b);
    case 'notEquals':
      return !sameValue(a, b);
    case 'contains':
      if (typeof a === 'string' && typeof b === 'string') return a.includes(b);
      if (Array.isArray(a)) return a.some((item) => sameValue(item, b));
      if (isObject(a) && typeof b === 'string') return Object.hasOwn(a, b);
      throw new ExpressionFailed(`contains needs a string, a list or an object, not ${describe(a)}.`);
    default: {
      if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) {
        throw new ExpressionFailed(
          `${operator} compares two numbers or two strings, not ${describe(a)} and ${describe(b)}.`,
        );
      }
      if (operator === 'greater') return a > b;
      if (operator === 'greaterOrEquals') return a >= b;
      if (operator === 'less') return a < b;
      return a <= b;
    }
  }
}

/** JSON equality: the same type and value, lists item by item, objects member by member. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
  }
  return a === b;
}

/** A value's kind, for messages. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
