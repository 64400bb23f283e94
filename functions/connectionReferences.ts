import { type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { authenticate } from '../lib/auth/authenticate';
import { withProblemDetails } from '../lib/http/problem';
import { parseBody, pathId } from '../lib/http/request';
import { noContent, ok } from '../lib/http/response';
import { services } from '../lib/services';
import { httpRoute, READ, WRITE } from '../lib/http/routes';
import { designCallBody, patchReferenceBody, putReferenceBody } from '../lib/http/bodies';
import { requestLog } from '../lib/http/log';

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

/** A maker tries a read through the reference's connection (theirs, or embedded) while editing the flow. */
export async function callThroughReference(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flowId = pathId(request, 'flowId');
  const logicalName = pathId(request, 'logicalName');
  const { body } = await parseBody(request, designCallBody);
  return ok(await services().designCalls.call(caller, flowId, logicalName, body, requestLog(request, context)));
}

httpRoute('listConnectionReferences', {
  methods: ['GET'],
  route: 'flows/{flowId}/connection-references',
  handler: withProblemDetails(listConnectionReferences),
  doc: {
    summary: "The flow's connection references",
    who: 'all roles',
    ok: { status: 200, schema: 'ConnectionReference', list: true },
    problems: READ,
  },
});

httpRoute('putConnectionReference', {
  methods: ['PUT'],
  route: 'flows/{flowId}/connection-references/{logicalName}',
  handler: withProblemDetails(putConnectionReference),
  doc: {
    summary: 'Add (201) or rebind a reference to a connection of yours',
    who: 'owner, co-owner; rebind: reference owner',
    body: putReferenceBody,
    ok: { status: 200, schema: 'ConnectionReference', headers: ['ETag'] },
    problems: [...WRITE, 'NotReferenceOwner', 'ConnectionUnavailable', 'Conflict'],
  },
});

httpRoute('patchConnectionReference', {
  methods: ['PATCH'],
  route: 'flows/{flowId}/connection-references/{logicalName}',
  handler: withProblemDetails(patchConnectionReference),
  doc: {
    summary: 'Embed or unembed; embedding needs a Connected connection',
    who: 'reference owner',
    body: patchReferenceBody,
    ok: { status: 200, schema: 'ConnectionReference', headers: ['ETag'] },
    problems: [...WRITE, 'NotReferenceOwner', 'ConnectionUnavailable', 'Conflict'],
  },
});

httpRoute('deleteConnectionReference', {
  methods: ['DELETE'],
  route: 'flows/{flowId}/connection-references/{logicalName}',
  handler: withProblemDetails(deleteConnectionReference),
  doc: {
    summary: 'Remove a reference',
    who: 'reference owner; the flow owner once the reference owner lost access',
    ok: { status: 204 },
    problems: [...WRITE, 'NotReferenceOwner', 'Conflict'],
  },
});

httpRoute('callThroughReference', {
  methods: ['POST'],
  route: 'flows/{flowId}/connection-references/{logicalName}/calls',
  handler: withProblemDetails(callThroughReference),
  doc: {
    summary: "Try a read operation through the reference's connection (design time); answers the provider's answer",
    who: 'owner, co-owner (through their own reference, or an embedded one); a user gets 403',
    body: designCallBody,
    ok: { status: 200, schema: 'ConnectorCallAnswer' },
    problems: [
      ...WRITE,
      'ConnectionNotAllowed',
      'ConnectionReauthRequired',
      'ConnectorCallFailed',
      'ConnectorTimeout',
      'ResponseTooLarge',
    ],
  },
});
