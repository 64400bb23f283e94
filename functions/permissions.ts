import { type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { authenticate } from '../lib/auth/authenticate';
import { withProblemDetails } from '../lib/http/problem';
import { pageRequest, parseBody, pathId } from '../lib/http/request';
import { list, noContent, ok } from '../lib/http/response';
import { requestLog } from '../lib/http/log';
import { services } from '../lib/services';
import { httpRoute, READ, WRITE } from '../lib/http/routes';
import { pageQuery, sharePermissionBody } from '../lib/http/bodies';

export async function listPermissions(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const page = await services().permissions.list(caller, pathId(request, 'flowId'), pageRequest(request));
  return list(request, page);
}

export async function sharePermission(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flowId = pathId(request, 'flowId');
  const principalId = pathId(request, 'principalId');
  const { body } = await parseBody(request, sharePermissionBody);
  const { permission, etag, created } = await services().permissions.share(
    caller,
    flowId,
    principalId,
    body.role,
    requestLog(request, context),
  );
  return ok(permission, { status: created ? 201 : 200, etag });
}

export async function removePermission(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  await services().permissions.unshare(
    caller,
    pathId(request, 'flowId'),
    pathId(request, 'principalId'),
    requestLog(request, context),
  );
  return noContent();
}

httpRoute('listPermissions', {
  methods: ['GET'],
  route: 'flows/{flowId}/permissions',
  handler: withProblemDetails(listPermissions),
  doc: {
    summary: 'Who has which role',
    who: 'all roles',
    query: pageQuery,
    ok: { status: 200, schema: 'Permission', list: true },
    problems: READ,
  },
});

httpRoute('sharePermission', {
  methods: ['PUT'],
  route: 'flows/{flowId}/permissions/{principalId}',
  handler: withProblemDetails(sharePermission),
  doc: {
    summary: "Share, or change someone's role (201 when new)",
    who: 'owner, co-owner',
    body: sharePermissionBody,
    ok: { status: 200, schema: 'Permission', headers: ['ETag'] },
    problems: [...WRITE, 'Conflict'],
  },
});

httpRoute('removePermission', {
  methods: ['DELETE'],
  route: 'flows/{flowId}/permissions/{principalId}',
  handler: withProblemDetails(removePermission),
  doc: {
    summary: "Remove someone's role; anyone may remove themselves",
    who: 'owner, co-owner; anyone for themselves',
    ok: { status: 204 },
    problems: [...WRITE, 'Conflict'],
  },
});
