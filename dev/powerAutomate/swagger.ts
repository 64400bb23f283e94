// The route schemas (zod) as Swagger 2.0 schemas, which is what Power
// Automate's custom connectors read: zod's OpenAPI 3.0 output, less what
// Swagger 2.0 cannot say (anyOf, nullable), and each field named for the
// designer (x-ms-summary, description).
import { z } from 'zod';

export type Schema = Record<string, unknown>;

/** A field's summary and description, by its path; undefined: the schema's fields are left unnamed. */
export type Namer = (path: string) => readonly [summary: string, description: string];

/** Bounds zod writes for any safe integer say nothing a reader needs. */
const isSafeIntegerBound = (value: unknown) => typeof value === 'number' && Math.abs(value) >= Number.MAX_SAFE_INTEGER;

const KEPT = ['type', 'format', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'enum', 'default'] as const;

export function fromZod(schema: z.ZodType, io: 'input' | 'output'): Schema {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as Schema;
}

/**
 * `node` (OpenAPI 3.0 JSON Schema) as Swagger 2.0. With `name`, every
 * property gets the summary and description it gives for `path.property`.
 */
export function toSwagger(node: Schema, path: string, name?: Namer): Schema {
  const anyOf = node.anyOf as Schema[] | undefined;
  if (anyOf) return mergeEnums(anyOf, path, node);
  const out: Schema = {};
  for (const key of KEPT) {
    const value = node[key];
    if (value === undefined || ((key === 'minimum' || key === 'maximum') && isSafeIntegerBound(value))) continue;
    out[key] = value;
  }
  if (node.description !== undefined) out.description = node.description;
  if (node.nullable === true) out['x-nullable'] = true;
  const properties = node.properties as Record<string, Schema> | undefined;
  if (properties) {
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([key, child]) => {
        const childPath = `${path}.${key}`;
        const converted = toSwagger(child, childPath, name);
        if (!name) return [key, converted];
        const [summary, description] = name(childPath);
        return [key, { ...converted, 'x-ms-summary': summary, description }];
      }),
    );
    if (Array.isArray(node.required) && node.required.length > 0) out.required = node.required;
  }
  if (node.items) out.items = toSwagger(node.items as Schema, path, name);
  // A map of one kind of value keeps it; `{}` (any value) and `false` (no others) say nothing Power Automate uses.
  const extra = node.additionalProperties;
  if (extra && typeof extra === 'object' && Object.keys(extra).length > 0) {
    out.additionalProperties = toSwagger(extra as Schema, path);
  }
  return out;
}

/** A union of literals (`1 | 2`) is one enum; Swagger 2.0 has no other union. */
function mergeEnums(members: Schema[], path: string, node: Schema): Schema {
  const types = new Set(members.map((m) => m.type));
  if (types.size !== 1 || !members.every((m) => Array.isArray(m.enum))) {
    throw new Error(`${path}: a union other than of literals cannot be said in Swagger 2.0`);
  }
  const type = members[0]!.type;
  const values = members.flatMap((m) => m.enum as unknown[]);
  const integers = type === 'number' && values.every((v) => Number.isInteger(v));
  return {
    type: integers ? 'integer' : type,
    enum: values,
    ...(node.description !== undefined ? { description: node.description } : {}),
  };
}

/** A query value that is the text `true` or `false` is a boolean to the designer (a Yes/No field). */
export function asQueryType(schema: Schema): Schema {
  const values = schema.enum as unknown[] | undefined;
  if (schema.type === 'string' && values?.length === 2 && values.includes('true') && values.includes('false')) {
    const { enum: _values, ...rest } = schema;
    return { ...rest, type: 'boolean' };
  }
  return schema;
}
