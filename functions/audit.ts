import { type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { authenticate } from '../lib/auth/authenticate';
import { withProblemDetails } from '../lib/http/problem';
import { pageRequest, pathId } from '../lib/http/request';
import { list } from '../lib/http/response';
import { services } from '../lib/services';
import { httpRoute, READ } from '../lib/http/routes';
import { pageQuery } from '../lib/http/bodies';

/** Who shared, unshared, bound, embedded, unembedded, removed and ran what, when; newest first. */
export async function listAudit(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return list(request, await services().flows.audit(caller, pathId(request, 'flowId'), pageRequest(request)));
}

httpRoute('listAudit', {
  methods: ['GET'],
  route: 'flows/{flowId}/audit',
  handler: withProblemDetails(listAudit),
  doc: {
    summary: 'The audit trail, newest first',
    who: 'owner, co-owner',
    query: pageQuery,
    ok: { status: 200, schema: 'AuditEntry', list: true },
    problems: [...READ, 'Forbidden'],
  },
});
