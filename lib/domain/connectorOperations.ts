// A connector's operations: what a call through flowshare may ask its
// provider to do (docs/domain.md, Connector operations). The catalog declares
// each one; this file says what a valid declaration is and checks a call's
// parameters against it. Pure: no I/O.
import { z } from 'zod';
import { validationFailed, type FieldError } from './errors';
import { idSchema, isWellFormed } from './schemas';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const PARAMETER_LOCATIONS = ['path', 'query', 'body'] as const;
export const PARAMETER_TYPES = ['string', 'integer', 'number', 'boolean', 'object', 'array'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

/** Parameter names: also the `{name}` placeholders of a path and the members of a JSON body. */
const PARAMETER_NAME = /^[A-Za-z_$][A-Za-z0-9_$.-]{0,63}$/;
/** A literal path segment: RFC 3986 pchar without percent-encoding, so it means what it says. */
const LITERAL_SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]+$/;
const PLACEHOLDER = /^\{([^{}]*)\}$/;
const SCALAR_TYPES: ParameterType[] = ['string', 'integer', 'number', 'boolean'];
/** Methods whose requests carry no body, so no body parameters. */
const BODILESS: ReadonlySet<string> = new Set(['GET', 'DELETE']);

const parameterSchema = z.strictObject({
  name: z
    .string()
    .regex(
      PARAMETER_NAME,
      'must be 1 to 64 letters, digits, "_", "$", "." and "-", not starting with one of the last three or a digit',
    ),
  in: z.enum(PARAMETER_LOCATIONS),
  type: z.enum(PARAMETER_TYPES),
  required: z.boolean().optional(),
  description: z.string().min(1).max(1000).optional(),
  maxLength: z.int().min(1).max(1_048_576).optional(),
  enum: z
    .array(z.union([z.string(), z.number()]))
    .min(1)
    .optional(),
});

export const operationSchema = z
  .strictObject({
    id: idSchema,
    displayName: z.string().min(1).max(200).optional(),
    method: z.enum(HTTP_METHODS),
    /** Below the connector's baseUrl: `/`-separated segments, each literal or one `{name}` placeholder. */
    path: z.string().min(1).max(2000),
    /** Whether it only reads: design-time calls are allowed for reads alone. */
    read: z.boolean(),
    /** The OAuth scopes it needs, among its connector's. */
    scopes: z.array(z.string().min(1)).optional(),
    parameters: z.array(parameterSchema).default([]),
  })
  .superRefine((operation, ctx) => {
    for (const issue of operationIssues(operation)) ctx.addIssue({ code: 'custom', ...issue });
  });

export type OperationDefinition = z.input<typeof operationSchema>;
export type ConnectorOperation = z.output<typeof operationSchema>;
export type OperationParameter = ConnectorOperation['parameters'][number];

type Issue = { path: PropertyKey[]; message: string };

/** The segments of a path template, or why it is not one. */
function templateSegments(path: string): { segments: string[] } | { reason: string } {
  if (!path.startsWith('/')) return { reason: 'must start with "/"' };
  if (path === '/') return { segments: [] };
  const segments = path.slice(1).split('/');
  for (const segment of segments) {
    if (segment === '') return { reason: 'must not have empty segments ("//" or a trailing "/")' };
    if (segment === '.' || segment === '..') return { reason: 'must not have "." or ".." segments' };
    if (!PLACEHOLDER.test(segment) && !LITERAL_SEGMENT.test(segment)) {
      return { reason: `segment "${segment}" must be literal characters (no "%", "?", "#") or one {name} placeholder` };
    }
  }
  return { segments };
}

function operationIssues(operation: ConnectorOperation): Issue[] {
  const issues: Issue[] = [];
  const template = templateSegments(operation.path);
  const placeholders = new Set<string>();
  if ('reason' in template) issues.push({ path: ['path'], message: template.reason });
  else {
    for (const segment of template.segments) {
      const name = PLACEHOLDER.exec(segment)?.[1];
      if (name === undefined) continue;
      if (!PARAMETER_NAME.test(name))
        issues.push({ path: ['path'], message: `placeholder {${name}} is not a parameter name` });
      else if (placeholders.has(name)) issues.push({ path: ['path'], message: `placeholder {${name}} appears twice` });
      placeholders.add(name);
    }
  }
  const names = new Set<string>();
  operation.parameters.forEach((parameter, i) => {
    const at = (...rest: PropertyKey[]) => ['parameters', i, ...rest];
    if (names.has(parameter.name)) issues.push({ path: at('name'), message: `${parameter.name} is declared twice` });
    names.add(parameter.name);
    if (parameter.in === 'path') {
      if (!placeholders.has(parameter.name))
        issues.push({ path: at('name'), message: `the path has no {${parameter.name}} placeholder` });
      if (parameter.required === false)
        issues.push({ path: at('required'), message: 'a path parameter is always required' });
      if (!['string', 'integer', 'number'].includes(parameter.type)) {
        issues.push({ path: at('type'), message: 'a path parameter must be a string, integer or number' });
      }
    }
    if (parameter.in === 'query' && !SCALAR_TYPES.includes(parameter.type)) {
      issues.push({ path: at('type'), message: 'a query parameter must be a string, integer, number or boolean' });
    }
    if (parameter.in === 'body' && BODILESS.has(operation.method)) {
      issues.push({ path: at('in'), message: `a ${operation.method} request has no body` });
    }
    if (parameter.maxLength !== undefined && parameter.type !== 'string') {
      issues.push({ path: at('maxLength'), message: 'only a string parameter has a maxLength' });
    }
    if (parameter.enum !== undefined) {
      const fits =
        parameter.type === 'string'
          ? parameter.enum.every((v) => typeof v === 'string')
          : parameter.type === 'integer'
            ? parameter.enum.every((v) => Number.isSafeInteger(v))
            : parameter.type === 'number' && parameter.enum.every((v) => typeof v === 'number');
      if (!fits)
        issues.push({
          path: at('enum'),
          message: `must list ${parameter.type} values (enum is for strings and numbers)`,
        });
    }
  });
  for (const name of placeholders) {
    if (!operation.parameters.some((p) => p.in === 'path' && p.name === name)) {
      issues.push({ path: ['path'], message: `placeholder {${name}} has no path parameter` });
    }
  }
  return issues;
}

/** A value a call gives a parameter, once checked against its type. */
export type ScalarValue = string | number | boolean;

/**
 * A call's parameters, checked and sorted by where they go. Null-prototype
 * records: a parameter may be named anything the catalog allows, and a
 * caller's `__proto__` key is data, not a prototype.
 */
export interface CallParameters {
  path: Record<string, string | number>;
  query: Record<string, ScalarValue>;
  /** The JSON body's members; undefined when the operation has no body parameters. */
  body?: Record<string, unknown>;
}

/** The field name a caller's key is reported under: capped, since it is the caller's own text. */
function fieldOf(prefix: string, key: string): string {
  return `${prefix}.${key.length > 100 ? `${key.slice(0, 100)}…` : key}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a value does not fit its parameter, or undefined when it does. */
function valueProblem(parameter: OperationParameter, value: unknown): string | undefined {
  switch (parameter.type) {
    case 'string': {
      if (typeof value !== 'string') return 'must be a string';
      if (parameter.maxLength !== undefined && value.length > parameter.maxLength) {
        return `must be at most ${parameter.maxLength} characters`;
      }
      if (parameter.in !== 'body' && !isWellFormed(value)) return 'must be well-formed Unicode (no lone surrogates)';
      if (parameter.in === 'path' && value === '') return 'must not be empty';
      // A segment of "." or ".." would move the request up the provider's path.
      if (parameter.in === 'path' && (value === '.' || value === '..')) return 'must not be "." or ".."';
      break;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'must be an integer';
      break;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return 'must be true or false';
      break;
    case 'object':
      if (!isPlainObject(value)) return 'must be an object';
      break;
    case 'array':
      if (!Array.isArray(value)) return 'must be an array';
      break;
  }
  if (parameter.enum !== undefined && !parameter.enum.includes(value as string | number)) {
    return `must be one of ${parameter.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return undefined;
}

/**
 * Checks a call's `parameters` against its operation: every required one
 * given, each of its type and rules, none unknown. Throws 400
 * ValidationFailed naming every invalid field (`parameters.<name>`).
 */
export function checkCallParameters(
  operation: ConnectorOperation,
  parameters: unknown,
  prefix = 'parameters',
): CallParameters {
  const given = parameters === undefined ? {} : parameters;
  if (!isPlainObject(given)) throw validationFailed([{ field: prefix, detail: 'must be an object' }]);
  const errors: FieldError[] = [];
  const declared = new Map(operation.parameters.map((p) => [p.name, p]));
  for (const key of Object.keys(given)) {
    if (!declared.has(key))
      errors.push({ field: fieldOf(prefix, key), detail: `is not a parameter of ${operation.id}` });
  }
  const call: CallParameters = { path: Object.create(null), query: Object.create(null) };
  if (operation.parameters.some((p) => p.in === 'body')) call.body = Object.create(null);
  for (const parameter of operation.parameters) {
    const field = fieldOf(prefix, parameter.name);
    if (!Object.hasOwn(given, parameter.name)) {
      if (parameter.in === 'path' || parameter.required) errors.push({ field, detail: 'is required' });
      continue;
    }
    const value = given[parameter.name];
    const problem = valueProblem(parameter, value);
    if (problem) {
      errors.push({ field, detail: problem });
      continue;
    }
    if (parameter.in === 'body') call.body![parameter.name] = value;
    else if (parameter.in === 'path') call.path[parameter.name] = value as string | number;
    else call.query[parameter.name] = value as ScalarValue;
  }
  if (errors.length > 0) throw validationFailed(errors, `The parameters of ${operation.id} are not valid.`);
  return call;
}

/** An operation as callers see it: what to call it with, not where it goes. */
export interface OperationView {
  id: string;
  displayName?: string;
  read: boolean;
  scopes?: string[];
  parameters: OperationParameter[];
}

export function operationView(operation: ConnectorOperation): OperationView {
  return {
    id: operation.id,
    ...(operation.displayName ? { displayName: operation.displayName } : {}),
    read: operation.read,
    ...(operation.scopes ? { scopes: operation.scopes } : {}),
    parameters: operation.parameters.map((p) => ({ ...p })),
  };
}
