import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { authenticate } from '../lib/auth/authenticate';
import { patchReferenceBody, putReferenceBody } from '../lib/domain/references';
import { withProblemDetails } from '../lib/http/problem';
import { parseBody, pathId } from '../lib/http/request';
import { noContent, ok } from '../lib/http/response';
import { services } from '../lib/services';

export async function listConnectionReferences(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return ok({ value: await services().references.list(caller, pathId(request, 'flowId')) });
}

export async function putConnectionReference(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flowId = pathId(request, 'flowId');
  const logicalName = pathId(request, 'logicalName');
  const { body } = await parseBody(request, putReferenceBody);
  const reference = await services().references.put(caller, flowId, logicalName, body);
  return ok(reference.value, { status: reference.created ? 201 : 200, etag: reference.etag });
}

export async function patchConnectionReference(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flowId = pathId(request, 'flowId');
  const logicalName = pathId(request, 'logicalName');
  const { body } = await parseBody(request, patchReferenceBody);
  const reference = await services().references.setEmbedded(caller, flowId, logicalName, body.embedded);
  return ok(reference.value, { etag: reference.etag });
}

export async function deleteConnectionReference(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  await services().references.remove(caller, pathId(request, 'flowId'), pathId(request, 'logicalName'));
  return noContent();
}

app.http('listConnectionReferences', {
  methods: ['GET'],
  route: 'flows/{flowId}/connection-references',
  authLevel: 'anonymous',
  handler: withProblemDetails(listConnectionReferences),
});

app.http('putConnectionReference', {
  methods: ['PUT'],
  route: 'flows/{flowId}/connection-references/{logicalName}',
  authLevel: 'anonymous',
  handler: withProblemDetails(putConnectionReference),
});

app.http('patchConnectionReference', {
  methods: ['PATCH'],
  route: 'flows/{flowId}/connection-references/{logicalName}',
  authLevel: 'anonymous',
  handler: withProblemDetails(patchConnectionReference),
});

app.http('deleteConnectionReference', {
  methods: ['DELETE'],
  route: 'flows/{flowId}/connection-references/{logicalName}',
  authLevel: 'anonymous',
  handler: withProblemDetails(deleteConnectionReference),
});
