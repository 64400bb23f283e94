// The JSON shapes responses carry, in zod, for the OpenAPI document only:
// requests are validated by the schemas beside their routes.
import { z } from 'zod';
import { CONNECTION_STATUSES, STATUS_REASONS } from '../domain/connections';
import { PARAMETER_LOCATIONS, PARAMETER_TYPES } from '../domain/connectorOperations';
import { AUTH_TYPES } from '../domain/connectors';
import { ERROR_CODES } from '../domain/errors';
import { AUDIT_ACTIONS } from '../domain/flows';
import { ROLES } from '../domain/roles';
import { PUBLIC_RUN_STATUSES } from '../domain/runLifecycle';
import { RUN_MODES } from '../domain/runs';
import { idSchema } from '../domain/schemas';
import { ACTION_STATUSES } from './bodies';

const timestamp = z.string().describe('ISO 8601 time');
const role = z.enum(ROLES);
const connectionStatus = z.enum(CONNECTION_STATUSES);
const runError = z.object({ code: z.string(), detail: z.string(), logicalName: idSchema.optional() });
const machine = {
  id: idSchema,
  name: z.string(),
  ownerId: z.string(),
  createdAt: timestamp,
};
const run = z.object({
  id: z.string(),
  flowId: idSchema,
  mode: z.enum(RUN_MODES),
  status: z.enum(PUBLIC_RUN_STATUSES),
  initiatedBy: z.string(),
  machineId: idSchema.optional().describe('a cloud run: the machine it is for'),
  connections: z.record(idSchema, idSchema.nullable()),
  errors: z.array(runError).optional(),
  leaseExpiresAt: timestamp.optional().describe('while Running'),
  cancelRequested: z.boolean().optional().describe('while Running: someone asked to cancel it'),
  outputs: z.record(z.string(), z.unknown()).optional().describe('once completed; its initiator and makers only'),
  actions: z
    .array(
      z.object({
        name: z.string(),
        status: z.enum(ACTION_STATUSES),
        startedAt: timestamp,
        durationMs: z.number().int(),
        error: z.object({ code: z.string(), detail: z.string() }).optional(),
      }),
    )
    .optional()
    .describe('once completed; its initiator and makers only'),
  createdAt: timestamp,
  startedAt: timestamp.optional(),
  completedAt: timestamp.optional(),
});

export const schemas = {
  Flow: z.object({
    id: idSchema,
    name: z.string(),
    schemaVersion: z.union([z.literal(1), z.literal(2)]),
    ownerId: z.string(),
    role: role.describe("the caller's role"),
    definition: z.looseObject({ actions: z.array(z.looseObject({ type: z.string() })) }).optional(),
    createdAt: timestamp,
    modifiedAt: timestamp,
  }),
  Permission: z.object({ principalId: z.string(), role, grantedBy: z.string(), grantedAt: timestamp }),
  Connector: z.object({
    id: idSchema,
    displayName: z.string(),
    authType: z.enum(AUTH_TYPES),
    scopes: z.array(z.string()).optional(),
    operations: z
      .array(
        z.object({
          id: idSchema,
          displayName: z.string().optional(),
          read: z.boolean().describe('a read only; design-time calls may make reads alone'),
          scopes: z.array(z.string()).optional().describe('the OAuth scopes it needs'),
          parameters: z.array(
            z.object({
              name: z.string(),
              in: z.enum(PARAMETER_LOCATIONS).describe('body: a member of the one JSON body object'),
              type: z.enum(PARAMETER_TYPES),
              required: z.boolean().optional().describe('path parameters are always required'),
              description: z.string().optional(),
              maxLength: z.number().int().optional(),
              enum: z.array(z.union([z.string(), z.number()])).optional(),
            }),
          ),
        }),
      )
      .describe("what a call through flowshare may ask the connector's provider to do"),
  }),
  Connection: z.object({
    id: idSchema,
    connectorId: idSchema,
    displayName: z.string(),
    status: connectionStatus,
    statusReason: z.enum(Object.keys(STATUS_REASONS) as [string, ...string[]]).optional(),
    account: z.string().optional().describe('the provider account that consented ("connected as ...")'),
    createdAt: timestamp,
    consentUrl: z
      .url()
      .optional()
      .describe(
        'when created or reauthorized, for oauth2 connectors: the flowshare page where the owner, signed in, gives consent',
      ),
  }),
  ConnectorCallAnswer: z.object({
    status: z.number().int().describe("the provider's status"),
    contentType: z.string().optional(),
    body: z.unknown().describe('JSON when the provider said JSON, else text; base64 when bodyEncoding says so'),
    bodyEncoding: z.literal('base64').optional(),
  }),
  Session: z.object({
    tenantId: z.string(),
    principalId: z.string(),
    name: z.string(),
    expiresAt: timestamp,
    csrfToken: z.string().describe('send it as X-CSRF-Token with every change made with the session cookie'),
  }),
  ConnectionUsage: z.object({ flowId: idSchema, flowName: z.string(), logicalName: idSchema, embedded: z.boolean() }),
  ConnectionReference: z.object({
    logicalName: idSchema,
    connectorId: idSchema,
    ownerId: z.string(),
    embedded: z.boolean(),
    status: connectionStatus,
    connection: z.object({ id: idSchema, displayName: z.string() }).optional().describe('only for the reference owner'),
  }),
  RunPromptEntry: z.object({
    logicalName: idSchema,
    connectorId: idSchema,
    embedded: z.boolean(),
    candidates: z.array(
      z.object({
        id: idSchema,
        displayName: z.string(),
        status: connectionStatus,
        source: z.enum(['embedded', 'own']),
      }),
    ),
    defaultConnectionId: idSchema.nullable(),
  }),
  RunError: runError,
  Run: run,
  Lease: z.object({
    run,
    definition: z.looseObject({ actions: z.array(z.looseObject({ type: z.string() })) }),
    inputs: z.record(z.string(), z.unknown()),
    references: z.array(z.object({ logicalName: idSchema, connectorId: idSchema })),
    token: z.string().describe('the run token: for this run alone, while it is Running and its lease holds'),
    leaseExpiresAt: timestamp,
  }),
  Heartbeat: z.object({ cancelRequested: z.boolean(), leaseExpiresAt: timestamp }),
  Machine: z.object(machine),
  MachineWithKey: z.object({
    ...machine,
    key: z.string().describe('the machine key: shown this once, stored only as a hash'),
  }),
  CloudReadiness: z.object({
    ready: z.boolean(),
    errors: z.array(runError),
  }),
  AuditEntry: z.object({
    id: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    actorId: z.string(),
    at: timestamp,
    subjectId: z.string().optional(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  }),
  Health: z.object({ status: z.literal('healthy'), checks: z.record(z.string(), z.string()) }),
  Problem: z.looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(ERROR_CODES),
    errors: z
      .array(z.object({ field: z.string(), detail: z.string() }))
      .optional()
      .describe('ValidationFailed: each invalid field'),
    missing: z
      .array(z.object({ logicalName: idSchema, connectorId: idSchema }))
      .optional()
      .describe('ConnectionRequired'),
    runStatus: z.enum(PUBLIC_RUN_STATUSES).optional().describe('RunEnded, RunNotSucceeded: how the run ended'),
    run: run.optional().describe('RunNotSucceeded: the run, as the caller may see it'),
  }),
} as const;

export type SchemaName = keyof typeof schemas;
