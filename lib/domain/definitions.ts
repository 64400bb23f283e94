// The definition format of desktop flows (docs/definitions.md): its action
// types and their members, the run's inputs, and how actions are walked and
// named. The rules a definition must keep to be saved are in
// definitionChecks.ts; the definition engine (console/engine/) runs what
// passes. Pure: no I/O.

export const ACTION_TYPES = ['connector', 'setVariable', 'condition', 'output', 'wait', 'fail', 'note'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export const INPUT_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

/** Condition operators taking two values, and those taking conditions. */
export const COMPARISONS = ['equals', 'notEquals', 'greater', 'greaterOrEquals', 'less', 'lessOrEquals', 'contains'];
export const CONNECTIVES = ['and', 'or', 'not'];

/** Conditions inside conditions, and values inside values, go this deep at most. */
export const MAX_ACTION_DEPTH = 32;
export const MAX_VALUE_DEPTH = 64;
/** A wait lasts at most an hour. */
export const MAX_WAIT_SECONDS = 3600;

export interface InputSpec {
  type?: InputType;
  required?: boolean;
  default?: unknown;
  description?: string;
}

/** One action as the engine reads it (the members are checked by checkDefinition first). */
export interface Action {
  type: ActionType;
  name?: string;
  description?: string;
  connectionReference?: string;
  operation?: string;
  parameters?: Record<string, unknown>;
  variable?: string;
  value?: unknown;
  if?: unknown;
  then?: Action[];
  else?: Action[];
  output?: string;
  seconds?: unknown;
  code?: string;
  message?: unknown;
}

export interface Definition {
  description?: string;
  inputs?: Record<string, InputSpec>;
  actions: Action[];
}

/** One broken rule: where (below the definition) and what. */
export interface DefinitionIssue {
  path: Array<string | number>;
  detail: string;
}

export type Path = Array<string | number>;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every action of the definition in document order (branches where they stand), with its path. */
export function walkActions(
  actions: unknown,
  path: Path = ['actions'],
  depth = 0,
): Array<{ action: Action; path: Path }> {
  if (!Array.isArray(actions) || depth > MAX_ACTION_DEPTH) return [];
  return actions.flatMap((action: unknown, i) => {
    if (!isObject(action)) return [];
    const here = [...path, i];
    return [
      { action: action as unknown as Action, path: here },
      ...walkActions(action.then, [...here, 'then'], depth + 1),
      ...walkActions(action.else, [...here, 'else'], depth + 1),
    ];
  });
}

/** The name an action goes by: its own, else `<type>_<n>`, n counting every action in document order from 1. */
export function actionNames(definition: unknown): Map<Action, string> {
  const actions = walkActions(isObject(definition) ? definition.actions : undefined);
  return new Map(
    actions.map(({ action }, i) => [
      action,
      typeof action.name === 'string' && action.name ? action.name : `${String(action.type)}_${i + 1}`,
    ]),
  );
}

/** Whether a value is of an input type. */
export function isOfType(value: unknown, type: InputType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
  }
}

/** An issue as a request's field error: `definition.actions[0].operation`. */
export function issueField(issue: DefinitionIssue, where = 'definition'): string {
  return issue.path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : `${text}.${key}`),
    where,
  );
}
