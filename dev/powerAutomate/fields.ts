// What a cloud flow's dynamic content calls each field of the connector's
// answers (x-ms-summary) and says of it (description). Looked up by the
// field's path (`Run.actions.error.code`), else by its name alone; a field
// of a shape that has neither fails `npm run connector`, so a field added to
// lib/http/shapes.ts cannot reach a maker unnamed.

export type FieldDoc = readonly [summary: string, description: string];

const BY_PATH: Record<string, FieldDoc> = {
  'Run.id': ['Run ID', "The run's id: read it again with Get a run."],
  'Run.status': [
    'Run Status',
    'Queued, Dispatched, Running, then how it ended: Succeeded, Failed, Cancelled, TimedOut or Rejected.',
  ],
  'Run.mode': ['Run Mode', 'cloud (started from a cloud flow) or attended (started at a console).'],
  'Run.errors': ['Run Errors', 'Why it was rejected, failed or timed out: every reason at once.'],
  'Run.outputs': ['Run Outputs', 'What the desktop flow produced: a JSON object of its outputs.'],
  'Run.actions': ['Action Results', 'Each action of the desktop flow, as its machine reported it.'],
  'Run.actions.name': ['Action Name', 'The action, as the desktop flow names it.'],
  'Run.actions.status': ['Action Status', 'Succeeded, Failed, Skipped or Cancelled.'],
  'Run.actions.startedAt': ['Action Started At', 'When the action started (ISO 8601).'],
  'Run.actions.error': ['Action Error', 'Why the action did not succeed.'],
  'Run.startedAt': ['Started At', 'When its machine began running it (ISO 8601).'],
  'Run.completedAt': ['Completed At', 'When it ended (ISO 8601).'],
  'Flow.id': ['Flow ID', "The desktop flow's id."],
  'Flow.name': ['Flow Name', "The desktop flow's name."],
  'Flow.definition': ['Definition', "The flow's definition: its actions. Not in lists."],
  'Flow.definition.actions': ['Definition Actions', 'The actions of the definition, in order.'],
  'Flow.definition.actions.type': ['Action Type', 'What the action is; connector actions name a connection reference.'],
  'Flow.ownerId': ['Flow Owner', "The flow owner's user id."],
  'Machine.id': ['Machine ID', "The machine's id."],
  'Machine.name': ['Machine Name', 'The name the machine was registered with.'],
  'Machine.ownerId': ['Machine Owner', 'The user id of whoever registered the machine: you.'],
  'CloudReadiness.ready': ['Ready', 'Yes when a cloud run would pass every check now.'],
  'CloudReadiness.errors': ['Problems', 'Every reason a cloud run would be rejected now; empty when ready.'],
};

const BY_NAME: Record<string, FieldDoc> = {
  value: ['Items', 'The items of this page.'],
  nextLink: ['Next Link', 'Present when there is more: the request for the next page, with its continuation token.'],
  flowId: ['Flow ID', "The desktop flow's id."],
  initiatedBy: ['Initiated By', 'The user id of whoever started the run.'],
  machineId: ['Machine ID', 'The machine a cloud run is for.'],
  connections: [
    'Connections',
    'The connection id used for each connection reference; null where it is not yours to see.',
  ],
  leaseExpiresAt: ['Lease Expires At', 'While Running: until when its machine holds it without renewing (ISO 8601).'],
  cancelRequested: ['Cancel Requested', 'While Running: whether someone asked to cancel it.'],
  durationMs: ['Duration (ms)', 'How long the action took, in milliseconds.'],
  code: ['Code', 'A stable code for the reason, for conditions in a flow.'],
  detail: ['Detail', 'The reason, in words.'],
  logicalName: ['Connection Reference', 'The connection reference concerned, where there is one.'],
  schemaVersion: ['Schema Version', '1 or 2; cloud runs need 2.'],
  role: ['My Role', 'Your role on the flow: owner, coOwner or user.'],
  createdAt: ['Created At', 'When it was created (ISO 8601).'],
  modifiedAt: ['Modified At', 'When it was last changed (ISO 8601).'],
};

/** The summary and description of the field at `path` (`Definition.field.field`). */
export function fieldDoc(path: string): FieldDoc {
  const doc = BY_PATH[path] ?? BY_NAME[path.slice(path.lastIndexOf('.') + 1)];
  if (!doc) throw new Error(`dev/powerAutomate/fields.ts does not name the field ${path}: add it`);
  return doc;
}
