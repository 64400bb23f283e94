// The second pass of checking a definition (docs/definitions.md,
// Expressions): action names are unique, and every expression parses and
// refers to inputs, variables and actions that exist before it. Pure: no I/O.
import { ExpressionSyntaxError, parseTemplate, referencesOf, type Reference } from './expressions';
import {
  actionNames,
  isObject,
  MAX_VALUE_DEPTH,
  walkActions,
  type Action,
  type DefinitionIssue,
  type Path,
} from './definitions';

/** Names are unique; every expression parses and refers to what exists before it (docs/definitions.md). */
export function checkNamesAndReferences(
  definition: Record<string, unknown>,
  inputs: Set<string> | undefined,
  issues: DefinitionIssue[],
): void {
  const names = actionNames(definition);
  const seen = new Set<string>();
  const variables = new Set<string>();
  const finished = new Set<string>();
  const open: Array<{ path: Path; name: string }> = [];
  for (const { action, path } of walkActions(definition.actions)) {
    // Conditions this action is not inside of have finished before it starts.
    while (open.length > 0 && !isWithin(path, open[open.length - 1]!.path)) finished.add(open.pop()!.name);
    const own = names.get(action)!;
    if (seen.has(own)) {
      issues.push({
        path: [...path, 'name'],
        detail: `"${own}" is already the name of an earlier action${action.name === undefined ? ' (this is the name it gets by default: give it one)' : ''}`,
      });
    }
    seen.add(own);
    const check = (value: unknown, at: Path) =>
      checkExpressions(value, at, 0, issues, (reference, where) => {
        const known =
          reference.root === 'actions'
            ? finished.has(reference.name)
            : reference.root === 'variables'
              ? variables.has(reference.name)
              : !inputs || inputs.has(reference.name);
        if (!known) issues.push({ path: where, detail: `${reference.text}: ${unknownReason(reference, names)}` });
      });
    for (const member of ['parameters', 'value', 'seconds', 'message']) {
      if (action.type !== 'note' && member in action)
        check((action as unknown as Record<string, unknown>)[member], [...path, member]);
    }
    if (action.type === 'condition') {
      check(action.if, [...path, 'if']);
      open.push({ path, name: own });
    } else finished.add(own);
    if (action.type === 'setVariable' && typeof action.variable === 'string') variables.add(action.variable);
  }
}

function unknownReason(reference: Reference, names: Map<Action, string>): string {
  if (reference.root === 'variables') return `no setVariable before it sets "${reference.name}"`;
  if (reference.root === 'inputs') return `"${reference.name}" is not one of the definition's inputs`;
  return [...names.values()].includes(reference.name)
    ? `the action "${reference.name}" does not finish before this one starts`
    : `no action is named "${reference.name}"`;
}

function isWithin(path: Path, ancestor: Path): boolean {
  return path.length > ancestor.length && ancestor.every((segment, i) => path[i] === segment);
}

/** Parses every string within a value; `onReference` judges each reference found. */
function checkExpressions(
  value: unknown,
  path: Path,
  depth: number,
  issues: DefinitionIssue[],
  onReference: (reference: Reference, path: Path) => void,
): void {
  if (depth > MAX_VALUE_DEPTH) {
    issues.push({ path, detail: `values nest at most ${MAX_VALUE_DEPTH} deep` });
    return;
  }
  if (typeof value === 'string') {
    try {
      for (const reference of referencesOf(parseTemplate(value))) onReference(reference, path);
    } catch (error) {
      if (!(error instanceof ExpressionSyntaxError)) throw error;
      issues.push({ path, detail: error.message });
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkExpressions(item, [...path, i], depth + 1, issues, onReference));
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      checkExpressions(item, [...path, key], depth + 1, issues, onReference);
    }
  }
}
