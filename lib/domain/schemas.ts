// The field rules of docs/shapes.md (ids, names, definitions), in zod: request
// bodies (lib/http/bodies.ts) are built from them, and the same schemas feed the
// OpenAPI document, so they carry the rules and nothing else.
import { z } from 'zod';
import { validationFailed, type FieldError } from './errors';
import { checkDefinition } from './definitionChecks';
import { ID_PATTERN, MAX_NAME_LENGTH } from './limits';

// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** A UTF-16 surrogate not paired with its other half (with the u flag, a pair is one code point). */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Whether the text is well-formed Unicode (String.prototype.isWellFormed).
 * UTF-8 turns every lone surrogate into U+FFFD, so "x\uD800" and "x\uFFFD"
 * would be one storage key: such text is refused wherever it arrives.
 */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

export const idSchema = z
  .string()
  .regex(ID_PATTERN, 'must be 1 to 100 characters of letters, digits, "-", "_" and "."');

/**
 * An object of ids to ids (a run's connection per logical name), read into a
 * Map. z.record builds a plain object and drops a `__proto__` key without a
 * word, and a logical name may be any id, `__proto__` included.
 */
export const idMapSchema = z
  .preprocess(
    (value, ctx) => {
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return new Map(Object.entries(value));
      ctx.addIssue({ code: 'invalid_type', expected: 'record', input: value, message: 'must be an object' });
      return z.NEVER;
    },
    z.map(idSchema, idSchema),
  )
  // What it takes, for the OpenAPI document: a JSON object, as z.record describes one.
  .meta(withoutDialect(z.toJSONSchema(z.record(idSchema, idSchema))));

function withoutDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

export const displayNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
  .refine((name) => !CONTROL_CHARACTERS.test(name), 'must not contain control characters')
  .refine(isWellFormed, 'must be well-formed Unicode (no lone surrogates)');

export const schemaVersionSchema = z.union([z.literal(1), z.literal(2)]);

/**
 * What the OpenAPI document shows of a definition: an object with a list of
 * actions, each with a `type`; connector actions name their reference and
 * operation. The whole format, and every rule, is docs/definitions.md.
 */
const definitionShape = z.looseObject({
  actions: z.array(
    z.looseObject({
      type: z.string().min(1).max(100),
      connectionReference: idSchema.optional(),
      operation: z.string().min(1).max(MAX_NAME_LENGTH).optional(),
    }),
  ),
});

/**
 * A flow definition, checked against every rule of the definition format
 * (lib/domain/definitionChecks.ts), each broken rule a field of its own.
 */
export const definitionSchema = z
  .custom<z.infer<typeof definitionShape>>(() => true)
  .superRefine((definition, ctx) => {
    for (const issue of checkDefinition(definition)) {
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.detail });
    }
  })
  .meta(withoutDialect(z.toJSONSchema(definitionShape)));

export type FlowDefinition = z.infer<typeof definitionSchema>;

/**
 * Validates `value` against `schema`; on failure throws ValidationFailed
 * listing every invalid field.
 */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where = ''): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationFailed(result.error.issues.flatMap((issue) => toFieldErrors(issue, where)));
}

function toFieldErrors(issue: z.core.$ZodIssue, where: string): FieldError[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ field: fieldPath([...issue.path, key], where), detail: 'is not a known field' }));
  }
  return [{ field: fieldPath(issue.path, where) || '(body)', detail: issue.message }];
}

function fieldPath(path: readonly PropertyKey[], where: string): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    where,
  );
}

/** Validates one path parameter or other id. */
export function parseId(value: string | undefined, field: string): string {
  // What idSchema accepts, without zod's generic machinery on every request;
  // anything else goes through it, for the same refusal.
  if (value !== undefined && ID_PATTERN.test(value)) return value;
  return parseWith(idSchema, value ?? '', field);
}
