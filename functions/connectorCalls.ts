import { type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { runTokenOf } from '../lib/auth/authenticate';
import { runCallBody } from '../lib/http/bodies';
import { requestLog } from '../lib/http/log';
import { withProblemDetails } from '../lib/http/problem';
import { parseBody, pathId } from '../lib/http/request';
import { ok } from '../lib/http/response';
import { httpRoute, RUN_TOKEN } from '../lib/http/routes';
import { services } from '../lib/services';

/**
 * A connector action of a running run, made through flowshare with the run's
 * token: the executor never holds the connection's secret (docs/gateway.md).
 */
export async function callConnector(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const token = runTokenOf(request);
  const runId = pathId(request, 'runId');
  const { body } = await parseBody(request, runCallBody);
  return ok(await services().runCalls.call(token, runId, body, requestLog(request, context)));
}

httpRoute('callConnector', {
  methods: ['POST'],
  route: 'runs/{runId}/connector-calls',
  handler: withProblemDetails(callConnector),
  doc: {
    summary: "A run's connector call through the connection its run was given, checked again now",
    who: "the run's executor, with its run token",
    auth: 'runToken',
    body: runCallBody,
    ok: { status: 200, schema: 'ConnectorCallAnswer' },
    problems: [
      ...RUN_TOKEN,
      'PayloadTooLarge',
      'ConnectionNotAllowed',
      'ConnectionReauthRequired',
      'ConnectorCallFailed',
      'ConnectorTimeout',
      'ResponseTooLarge',
    ],
  },
});
