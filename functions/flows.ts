import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { authenticate } from '../lib/auth/authenticate';
import { memberText } from '../lib/domain/rawJson';
import { createFlowBody, updateFlowBody } from '../lib/domain/schemas';
import { withProblemDetails } from '../lib/http/problem';
import { pageRequest, parseBody, pathId } from '../lib/http/request';
import { created, list, noContent, ok } from '../lib/http/response';
import { services } from '../lib/services';

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

export async function listFlows(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return list(request, await services().flows.list(caller, pageRequest(request)));
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
    request.headers.get('if-match') ?? undefined,
  );
  return ok(flow.value, { etag: flow.etag });
}

export async function deleteFlow(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  await services().flows.delete(caller, pathId(request, 'flowId'), request.headers.get('if-match') ?? undefined);
  return noContent();
}

export async function upgradeFlowSchema(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flow = await services().flows.upgradeSchema(caller, pathId(request, 'flowId'));
  return ok(flow.value, { etag: flow.etag });
}

app.http('createFlow', {
  methods: ['POST'],
  route: 'flows',
  authLevel: 'anonymous',
  handler: withProblemDetails(createFlow),
});

app.http('listFlows', {
  methods: ['GET'],
  route: 'flows',
  authLevel: 'anonymous',
  handler: withProblemDetails(listFlows),
});

app.http('getFlow', {
  methods: ['GET'],
  route: 'flows/{flowId}',
  authLevel: 'anonymous',
  handler: withProblemDetails(getFlow),
});

app.http('updateFlow', {
  methods: ['PATCH'],
  route: 'flows/{flowId}',
  authLevel: 'anonymous',
  handler: withProblemDetails(updateFlow),
});

app.http('deleteFlow', {
  methods: ['DELETE'],
  route: 'flows/{flowId}',
  authLevel: 'anonymous',
  handler: withProblemDetails(deleteFlow),
});

app.http('upgradeFlowSchema', {
  methods: ['POST'],
  route: 'flows/{flowId}/upgrade-schema',
  authLevel: 'anonymous',
  handler: withProblemDetails(upgradeFlowSchema),
});
