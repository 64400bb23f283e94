// The rules a flow definition must keep to be saved (docs/definitions.md),
// all checked at once: the service refuses a definition that breaks any
// (400 ValidationFailed naming the action and the field), and refuses to run
// one saved before these rules that breaks them now. Pure: no I/O.
import { parseTemplate } from './expressions';
import {
  ACTION_TYPES,
  actionNames,
  COMPARISONS,
  CONNECTIVES,
  INPUT_TYPES,
  isObject,
  isOfType,
  issueField,
  MAX_ACTION_DEPTH,
  MAX_VALUE_DEPTH,
  MAX_WAIT_SECONDS,
  walkActions,
  type ActionType,
  type Definition,
  type DefinitionIssue,
  type InputType,
  type Path,
} from './definitions';
import { checkNamesAndReferences } from './definitionReferences';
import { ID_PATTERN, MAX_NAME_LENGTH } from './limits';

/** The members each action type takes, beside `type`, `name` and `description`; `note` takes any. */
const MEMBERS: Record<Exclude<ActionType, 'note'>, { required: string[]; optional: string[] }> = {
  connector: { required: ['connectionReference', 'operation'], optional: ['parameters'] },
  setVariable: { required: ['variable', 'value'], optional: [] },
  condition: { required: ['if', 'then'], optional: ['else'] },
  output: { required: ['output', 'value'], optional: [] },
  wait: { required: ['seconds'], optional: [] },
  fail: { required: ['message'], optional: ['code'] },
};

// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Every rule the definition breaks, all at once; none means it may be saved. */
export function checkDefinition(definition: unknown): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  if (!isObject(definition)) return [{ path: [], detail: 'must be an object' }];
  unknownMembers(definition, ['actions', 'inputs', 'description'], [], issues);
  if (definition.description !== undefined) text(definition.description, ['description'], 4000, issues);
  const inputs = isObject(definition.inputs) ? definition.inputs : undefined;
  if (definition.inputs !== undefined && !inputs) issues.push({ path: ['inputs'], detail: 'must be an object' });
  for (const [name, spec] of Object.entries(inputs ?? {})) checkInput(name, spec, ['inputs', name], issues);
  if (!Array.isArray(definition.actions)) {
    issues.push({ path: ['actions'], detail: 'must be a list of actions' });
    return issues;
  }
  checkActions(definition.actions, ['actions'], 0, issues);
  if (issues.length === 0)
    checkNamesAndReferences(definition, inputs ? new Set(Object.keys(inputs)) : undefined, issues);
  return namingActions(definition, issues);
}

/** Each issue about an action says which, by the name it goes by. */
function namingActions(definition: Record<string, unknown>, issues: DefinitionIssue[]): DefinitionIssue[] {
  const names = actionNames(definition);
  const actions = walkActions(definition.actions).reverse(); // innermost first
  return issues.map((issue) => {
    const at = actions.find(
      ({ path }) => path.length <= issue.path.length && path.every((s, i) => issue.path[i] === s),
    );
    return at ? { path: issue.path, detail: `${issue.detail} (action "${names.get(at.action)}")` } : issue;
  });
}

export type DefinitionRunErrorCode = 'DefinitionInvalid' | 'OperationNotFound';

/**
 * What keeps a stored definition from running now (docs/definitions.md,
 * Definitions saved before): it breaks the rules it would be refused by if
 * saved now (`DefinitionInvalid`), or a connector action asks for an
 * operation its reference's connector does not have (`OperationNotFound`).
 * References that do not exist are the caller's to report.
 */
export function checkDefinitionForRun(
  definition: unknown,
  connectorOf: ReadonlyMap<string, string>,
  operationsOf: (connectorId: string) => readonly string[] | undefined,
): Array<{ code: DefinitionRunErrorCode; detail: string; logicalName?: string }> {
  const issues = checkDefinition(definition);
  if (issues.length > 0) {
    return issues.slice(0, 10).map((issue) => ({
      code: 'DefinitionInvalid',
      detail: `The definition would be refused if saved now: ${issueField(issue)} ${issue.detail}.`,
    }));
  }
  const names = actionNames(definition);
  return walkActions((definition as Definition).actions).flatMap(({ action }) => {
    if (action.type !== 'connector' || !action.connectionReference || !action.operation) return [];
    const connectorId = connectorOf.get(action.connectionReference);
    const operations = connectorId === undefined ? undefined : operationsOf(connectorId);
    if (!operations || operations.includes(action.operation)) return [];
    return [
      {
        code: 'OperationNotFound' as const,
        logicalName: action.connectionReference,
        detail: `The action "${names.get(action)}" asks for ${action.operation}, which ${connectorId} does not have.`,
      },
    ];
  });
}

function checkInput(name: string, spec: unknown, path: Path, issues: DefinitionIssue[]): void {
  if (!ID_PATTERN.test(name)) issues.push({ path, detail: 'an input name is 1 to 100 letters, digits, "-", "_", "."' });
  if (!isObject(spec)) {
    issues.push({ path, detail: 'must be an object: {type?, required?, default?, description?}' });
    return;
  }
  unknownMembers(spec, ['type', 'required', 'default', 'description'], path, issues);
  if (spec.type !== undefined && !(INPUT_TYPES as readonly unknown[]).includes(spec.type)) {
    issues.push({ path: [...path, 'type'], detail: `must be one of ${INPUT_TYPES.join(', ')}` });
  } else if (spec.default !== undefined && spec.type !== undefined && !isOfType(spec.default, spec.type as InputType)) {
    issues.push({ path: [...path, 'default'], detail: `must be of type ${String(spec.type)}` });
  }
  if (spec.required !== undefined && typeof spec.required !== 'boolean') {
    issues.push({ path: [...path, 'required'], detail: 'must be true or false' });
  }
  if (spec.description !== undefined) text(spec.description, [...path, 'description'], 4000, issues);
}

function checkActions(actions: unknown[], path: Path, depth: number, issues: DefinitionIssue[]): void {
  actions.forEach((action, i) => checkAction(action, [...path, i], depth, issues));
}

function checkAction(action: unknown, path: Path, depth: number, issues: DefinitionIssue[]): void {
  if (!isObject(action)) {
    issues.push({ path, detail: 'must be an object with a type' });
    return;
  }
  const type = action.type;
  if (!(ACTION_TYPES as readonly unknown[]).includes(type)) {
    issues.push({ path: [...path, 'type'], detail: `must be one of ${ACTION_TYPES.join(', ')}` });
    return;
  }
  if (action.name !== undefined) name(action.name, [...path, 'name'], issues);
  if (action.description !== undefined) text(action.description, [...path, 'description'], 4000, issues);
  if (type === 'note') return; // a comment: any other members are kept as they are
  const members = MEMBERS[type as Exclude<ActionType, 'note'>];
  unknownMembers(action, ['type', 'name', 'description', ...members.required, ...members.optional], path, issues);
  for (const member of members.required) {
    if (action[member] === undefined)
      issues.push({ path: [...path, member], detail: `is required for ${type} actions` });
  }
  const at = (member: string) => [...path, member];
  switch (type) {
    case 'connector':
      id(action.connectionReference, at('connectionReference'), issues);
      id(action.operation, at('operation'), issues);
      if (action.parameters !== undefined && !isObject(action.parameters)) {
        issues.push({ path: at('parameters'), detail: 'must be an object of parameter names and values' });
      }
      break;
    case 'setVariable':
      id(action.variable, at('variable'), issues);
      break;
    case 'output':
      id(action.output, at('output'), issues);
      break;
    case 'wait': {
      const seconds = action.seconds;
      const valid =
        typeof seconds === 'number' ? seconds >= 0 && seconds <= MAX_WAIT_SECONDS : isWholeReference(seconds);
      if (seconds !== undefined && !valid) {
        issues.push({ path: at('seconds'), detail: `must be 0 to ${MAX_WAIT_SECONDS} seconds, or "@{...}"` });
      }
      break;
    }
    case 'fail':
      if (action.code !== undefined) id(action.code, at('code'), issues);
      if (action.message !== undefined && typeof action.message !== 'string') {
        issues.push({ path: at('message'), detail: 'must be a string' });
      }
      break;
    case 'condition':
      if (depth >= MAX_ACTION_DEPTH) {
        issues.push({ path, detail: `conditions nest at most ${MAX_ACTION_DEPTH} deep` });
        return;
      }
      if (action.if !== undefined) checkCondition(action.if, at('if'), 0, issues);
      for (const branch of ['then', 'else'] as const) {
        const list = action[branch];
        if (list === undefined) continue;
        if (Array.isArray(list)) checkActions(list, at(branch), depth + 1, issues);
        else issues.push({ path: at(branch), detail: 'must be a list of actions' });
      }
      break;
  }
}

function isWholeReference(value: unknown): boolean {
  try {
    return typeof value === 'string' && parseTemplate(value).kind === 'whole';
  } catch {
    return false;
  }
}

/** A condition: `{"equals"": [a, b]}` and the other comparisons, `{"and"|"or": [...]}`, `{"not": c}`, or a value. */
function checkCondition(condition: unknown, path: Path, depth: number, issues: DefinitionIssue[]): void {
  if (depth > MAX_VALUE_DEPTH) {
    issues.push({ path, detail: `conditions nest at most ${MAX_VALUE_DEPTH} deep` });
    return;
  }
  if (typeof condition === 'boolean' || typeof condition === 'string') return;
  const keys = isObject(condition) ? Object.keys(condition) : [];
  const operator = keys[0];
  if (keys.length !== 1 || operator === undefined || ![...COMPARISONS, ...CONNECTIVES].includes(operator)) {
    issues.push({
      path,
      detail: `must be an object with one of ${[...COMPARISONS, ...CONNECTIVES].join(', ')}, true, false or an expression`,
    });
    return;
  }
  const operand = (condition as Record<string, unknown>)[operator];
  if (operator === 'not') checkCondition(operand, [...path, 'not'], depth + 1, issues);
  else if (CONNECTIVES.includes(operator)) {
    if (!Array.isArray(operand) || operand.length === 0) {
      issues.push({ path: [...path, operator], detail: 'must be a list of one or more conditions' });
    } else operand.forEach((c, i) => checkCondition(c, [...path, operator, i], depth + 1, issues));
  } else if (!Array.isArray(operand) || operand.length !== 2) {
    issues.push({ path: [...path, operator], detail: 'must be a list of two values' });
  }
}

function unknownMembers(value: Record<string, unknown>, known: string[], path: Path, issues: DefinitionIssue[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) issues.push({ path: [...path, key], detail: 'is not a known member here' });
  }
}

function id(value: unknown, path: Path, issues: DefinitionIssue[]): void {
  if (value !== undefined && (typeof value !== 'string' || !ID_PATTERN.test(value))) {
    issues.push({ path, detail: 'must be 1 to 100 letters, digits, "-", "_" and "."' });
  }
}

function name(value: unknown, path: Path, issues: DefinitionIssue[]): void {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > MAX_NAME_LENGTH) {
    issues.push({ path, detail: `must be 1 to ${MAX_NAME_LENGTH} characters` });
  } else if (CONTROL_CHARACTERS.test(value)) {
    issues.push({ path, detail: 'must not contain control characters' });
  }
}

function text(value: unknown, path: Path, max: number, issues: DefinitionIssue[]): void {
  if (typeof value !== 'string' || value.length > max)
    issues.push({ path, detail: `must be text of at most ${max} characters` });
}
