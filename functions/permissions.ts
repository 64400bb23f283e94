import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { authenticate } from '../lib/auth/authenticate';
import { sharePermissionBody } from '../lib/domain/schemas';
import { withProblemDetails } from '../lib/http/problem';
import { pageRequest, parseBody, pathId } from '../lib/http/request';
import { list, noContent, ok } from '../lib/http/response';
import { services } from '../lib/services';

export async function listPermissions(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const page = await services().permissions.list(caller, pathId(request, 'flowId'), pageRequest(request));
  return list(request, page);
}

export async function sharePermission(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flowId = pathId(request, 'flowId');
  const principalId = pathId(request, 'principalId');
  const { body } = await parseBody(request, sharePermissionBody);
  const { permission, etag, created } = await services().permissions.share(caller, flowId, principalId, body.role);
  return ok(permission, { status: created ? 201 : 200, etag });
}

export async function removePermission(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  await services().permissions.unshare(caller, pathId(request, 'flowId'), pathId(request, 'principalId'));
  return noContent();
}

app.http('listPermissions', {
  methods: ['GET'],
  route: 'flows/{flowId}/permissions',
  authLevel: 'anonymous',
  handler: withProblemDetails(listPermissions),
});

app.http('sharePermission', {
  methods: ['PUT'],
  route: 'flows/{flowId}/permissions/{principalId}',
  authLevel: 'anonymous',
  handler: withProblemDetails(sharePermission),
});

app.http('removePermission', {
  methods: ['DELETE'],
  route: 'flows/{flowId}/permissions/{principalId}',
  authLevel: 'anonymous',
  handler: withProblemDetails(removePermission),
});
