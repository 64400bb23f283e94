// The bodies and query strings requests bring, validated at the edge with zod
// (the same schemas feed the OpenAPI document); the field rules they are made
// of (ids, names, definitions) are the domain's, in lib/domain/schemas.ts.
import { z } from 'zod';
import { MAX_PAGE_SIZE } from '../domain/limits';
import { SHARED_ROLES } from '../domain/roles';
import { definitionSchema, displayNameSchema, idMapSchema, idSchema, schemaVersionSchema } from '../domain/schemas';

/** An API key may be this long. */
export const MAX_API_KEY_LENGTH = 4096;

export const createFlowBody = z.strictObject({
  name: displayNameSchema,
  schemaVersion: schemaVersionSchema.optional(),
  definition: definitionSchema.optional(),
});

export const updateFlowBody = z
  .strictObject({
    name: displayNameSchema.optional(),
    definition: definitionSchema.optional(),
  })
  .refine((body) => body.name !== undefined || body.definition !== undefined, 'must change name or definition');

export const sharePermissionBody = z.strictObject({
  role: z.enum(SHARED_ROLES),
});

export const pageQuery = z.object({
  top: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
  continuationToken: z.string().min(1).max(4096).optional(),
});

export const createConnectionBody = z.strictObject({
  connectorId: idSchema,
  displayName: displayNameSchema,
  apiKey: z
    .string()
    .min(1, 'must not be empty')
    .max(MAX_API_KEY_LENGTH, `must be at most ${MAX_API_KEY_LENGTH} characters`)
    .optional(),
});

export const listConnectionsQuery = z.object({ connectorId: idSchema.optional() });
export const deleteConnectionQuery = z.object({ force: z.enum(['true', 'false']).optional() });

export const putReferenceBody = z.strictObject({ connectorId: idSchema, connectionId: idSchema });
export const patchReferenceBody = z.strictObject({ embedded: z.boolean() });

export const startRunBody = z.strictObject({
  // Any mode is read, so that a user asking for one they may not use is told so (403), not 400.
  mode: z.string().min(1).max(50).optional(),
  connections: idMapSchema.optional(),
});

/**
 * A connector call's operation and parameters. The parameters are checked
 * against the operation (lib/domain/connectorOperations.ts), which also
 * keeps a parameter named like an object built-in as data.
 */
const connectorCallFields = {
  operationId: idSchema,
  parameters: z.unknown().optional(),
};

export const designCallBody = z.strictObject(connectorCallFields);
export const runCallBody = z.strictObject({ connectionReference: idSchema, ...connectorCallFields });
