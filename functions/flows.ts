import { type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { authenticate } from '../lib/auth/authenticate';
import { memberText } from '../lib/domain/rawJson';
import { ifMatch } from '../lib/http/etags';
import { withProblemDetails } from '../lib/http/problem';
import { pageRequest, parseBody, parseQuery, pathId } from '../lib/http/request';
import { created, list, noContent, ok } from '../lib/http/response';
import { requestLog } from '../lib/http/log';
import { services } from '../lib/services';
import { httpRoute, AUTHED, CHANGE, READ, WRITE } from '../lib/http/routes';
import { createFlowBody, listFlowsQuery, updateFlowBody } from '../lib/http/bodies';

/** The definition exactly as sent: it is stored and answered byte for byte. */
function definitionJsonOf(bodyText: string): string | undefined {
  return memberText(bodyText, 'definition');
}

export async function createFlow(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const { body, text } = await parseBody(request, createFlowBody);
  const flow = await services().flows.create(caller, {
    name: body.name,
    schemaVersion: body.schemaVersion,
    definitionJson: definitionJsonOf(text),
  });
  return created(flow.value, `/api/flows/${flow.value.id}`, flow.etag);
}

/** `?cloudStartable=true`: the flows whose role lets the caller start cloud runs (the connector's flow picker). */
export async function listFlows(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const { cloudStartable } = parseQuery(request, listFlowsQuery);
  const only = cloudStartable === 'true' ? 'runCloud' : undefined;
  return list(request, await services().flows.list(caller, pageRequest(request), only));
}

export async function getFlow(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flow = await services().flows.get(caller, pathId(request, 'flowId'));
  return ok(flow.value, { etag: flow.etag });
}

export async function updateFlow(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flowId = pathId(request, 'flowId');
  const { body, text } = await parseBody(request, updateFlowBody);
  const flow = await services().flows.update(
    caller,
    flowId,
    { name: body.name, definitionJson: definitionJsonOf(text) },
    ifMatch(request),
  );
  return ok(flow.value, { etag: flow.etag });
}

export async function deleteFlow(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  await services().flows.delete(caller, pathId(request, 'flowId'), ifMatch(request), requestLog(request, context));
  return noContent();
}

export async function upgradeFlowSchema(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flow = await services().flows.upgradeSchema(caller, pathId(request, 'flowId'));
  return ok(flow.value, { etag: flow.etag });
}

httpRoute('createFlow', {
  methods: ['POST'],
  route: 'flows',
  handler: withProblemDetails(createFlow),
  doc: {
    summary: 'Create a desktop flow; you own it',
    who: 'any caller',
    body: createFlowBody,
    ok: { status: 201, schema: 'Flow', headers: ['ETag', 'Location'] },
    problems: [...CHANGE, 'ValidationFailed', 'PayloadTooLarge'],
  },
});

httpRoute('listFlows', {
  methods: ['GET'],
  route: 'flows',
  handler: withProblemDetails(listFlows),
  doc: {
    summary: 'Flows you own or that are shared with you; ?cloudStartable=true: those you may start cloud runs of',
    who: 'any caller',
    query: listFlowsQuery,
    ok: { status: 200, schema: 'Flow', list: true },
    problems: [...AUTHED, 'ValidationFailed'],
  },
});

httpRoute('getFlow', {
  methods: ['GET'],
  route: 'flows/{flowId}',
  handler: withProblemDetails(getFlow),
  doc: {
    summary: 'A flow',
    who: 'all roles',
    ok: { status: 200, schema: 'Flow', headers: ['ETag'] },
    problems: READ,
  },
});

httpRoute('updateFlow', {
  methods: ['PATCH'],
  route: 'flows/{flowId}',
  handler: withProblemDetails(updateFlow),
  doc: {
    summary: 'Rename it or replace its definition; honours If-Match',
    who: 'owner, co-owner',
    body: updateFlowBody,
    ok: { status: 200, schema: 'Flow', headers: ['ETag'] },
    problems: [...WRITE, 'PreconditionFailed', 'Conflict'],
  },
});

httpRoute('deleteFlow', {
  methods: ['DELETE'],
  route: 'flows/{flowId}',
  handler: withProblemDetails(deleteFlow),
  doc: {
    summary: 'Delete it; honours If-Match',
    who: 'owner',
    ok: { status: 204 },
    problems: [...WRITE, 'PreconditionFailed', 'Conflict'],
  },
});

httpRoute('upgradeFlowSchema', {
  methods: ['POST'],
  route: 'flows/{flowId}/upgrade-schema',
  handler: withProblemDetails(upgradeFlowSchema),
  doc: {
    summary: 'Schema v1 to v2; idempotent',
    who: 'owner, co-owner',
    ok: { status: 200, schema: 'Flow', headers: ['ETag'] },
    problems: [...WRITE, 'Conflict'],
  },
});
