// The bodies and query strings requests bring, validated at the edge with zod
// (the same schemas feed the OpenAPI document); the field rules they are made
// of (ids, names, definitions) are the domain's, in lib/domain/schemas.ts.
import { z } from 'zod';
import { DomainError } from '../domain/errors';
import {
  MAX_ERROR_DETAIL_LENGTH,
  MAX_LEASE_WAIT_SECONDS,
  MAX_NAME_LENGTH,
  MAX_PAGE_SIZE,
  MAX_RUN_INPUTS_BYTES,
  MAX_RUN_RESULT_BYTES,
} from '../domain/limits';
import { memberText } from '../domain/rawJson';
import { SHARED_ROLES } from '../domain/roles';
import { definitionSchema, displayNameSchema, idMapSchema, idSchema, schemaVersionSchema } from '../domain/schemas';
import type { RunReport } from '../services/runLeases';
import type { CloudRunAsk } from '../services/runs';

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

export const listFlowsQuery = pageQuery.extend({
  cloudStartable: z
    .enum(['true', 'false'])
    .optional()
    .describe(
      'true: only the flows you may start cloud runs of (you own or co-own them); a page may then hold fewer than top',
    ),
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

export const createMachineBody = z.strictObject({ name: displayNameSchema });

/** A JSON object of anything, kept as the text it came in (memberText). */
const jsonObject = z.record(z.string(), z.unknown());

export const cloudRunBody = z.strictObject({
  machineId: idSchema.describe('one of your machines'),
  inputs: jsonObject.optional().describe(`the run's inputs, up to ${MAX_RUN_INPUTS_BYTES} bytes of JSON`),
});

export const cloudRunQuery = z.object({
  poll: z
    .enum(['run', 'outcome'])
    .optional()
    .describe(
      "where the 202's Location points: run (the default), GET /api/runs/{runId}; outcome, GET /api/runs/{runId}/outcome as an absolute URL, which answers an error unless the run succeeds",
    ),
});

export const getRunQuery = z.object({
  poll: z
    .enum(['run', 'none'])
    .optional()
    .describe(
      'run (the default): 202 with Location and Retry-After until the run has ended; none: 200 with the run as it is now, ended or not',
    ),
});

export const leaseQuery = z.object({
  waitSeconds: z.coerce.number().int().min(0).max(MAX_LEASE_WAIT_SECONDS).optional(),
});

export const RUN_REPORT_STATUSES = ['Succeeded', 'Failed'] as const;
export const ACTION_STATUSES = ['Succeeded', 'Failed', 'Skipped', 'Cancelled'] as const;

export const completeRunBody = z.strictObject({
  status: z.enum(RUN_REPORT_STATUSES),
  outputs: jsonObject.optional(),
  actions: z.array(
    z.strictObject({
      name: z.string().min(1).max(MAX_NAME_LENGTH),
      status: z.enum(ACTION_STATUSES),
      startedAt: z.iso.datetime({ offset: true }),
      durationMs: z.number().int().min(0),
      error: z
        .strictObject({ code: z.string().min(1).max(100), detail: z.string().max(MAX_ERROR_DETAIL_LENGTH) })
        .optional(),
    }),
  ),
});

function tooLarge(what: string, limit: number): DomainError {
  return new DomainError('PayloadTooLarge', `${what} is larger than ${limit} bytes of JSON.`);
}

/** A cloud run's ask, its inputs as the text sent: 413 past their limit. */
export function cloudRunAskOf(body: z.output<typeof cloudRunBody>, text: string): CloudRunAsk {
  const inputsJson = body.inputs === undefined ? undefined : memberText(text, 'inputs');
  if (inputsJson !== undefined && Buffer.byteLength(inputsJson, 'utf8') > MAX_RUN_INPUTS_BYTES) {
    throw tooLarge('`inputs`', MAX_RUN_INPUTS_BYTES);
  }
  return { machineId: body.machineId, ...(inputsJson !== undefined ? { inputsJson } : {}) };
}

/** A run's report, its outputs as the text sent: 413 when outputs and actions together pass their limit. */
export function runReportOf(body: z.output<typeof completeRunBody>, text: string): RunReport {
  const outputsJson = body.outputs === undefined ? undefined : memberText(text, 'outputs');
  const size = Buffer.byteLength(outputsJson ?? '', 'utf8') + Buffer.byteLength(JSON.stringify(body.actions), 'utf8');
  if (size > MAX_RUN_RESULT_BYTES) throw tooLarge('`outputs` and `actions` together', MAX_RUN_RESULT_BYTES);
  return { status: body.status, ...(outputsJson !== undefined ? { outputsJson } : {}), actions: body.actions };
}
