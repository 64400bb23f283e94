import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { authenticate } from '../lib/auth/authenticate';
import { startRunBody } from '../lib/domain/runs';
import { withProblemDetails } from '../lib/http/problem';
import { pageRequest, parseBody, pathId, readJson } from '../lib/http/request';
import { list, ok } from '../lib/http/response';
import { services } from '../lib/services';

/** How soon a client polling a queued run should ask again, in seconds. */
const RETRY_AFTER_SECONDS = '2';

export async function runPrompt(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return ok({ value: await services().runs.prompt(caller, pathId(request, 'flowId')) });
}

/** An attended console run; an empty body runs with the defaults. */
export async function startRun(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flowId = pathId(request, 'flowId');
  const { body } = await parseBody(request, startRunBody, { optional: true });
  const run = await services().runs.startAttended(caller, flowId, body);
  return ok(run, { status: 201, location: `/api/runs/${run.id}` });
}

export async function cloudReadiness(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return ok(await services().runs.readiness(caller, pathId(request, 'flowId')));
}

/** 202 and where to ask: the asynchronous request-reply pattern cloud flows follow. */
export async function requestCloudRun(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flowId = pathId(request, 'flowId');
  await readJson(request, { optional: true }); // a body, if any, must be JSON (and within the limit)
  const run = await services().runs.requestCloudRun(caller, flowId);
  const response = ok(run, { status: 202, location: `/api/runs/${run.id}` });
  return {
    ...response,
    headers: { ...(response.headers as Record<string, string>), 'Retry-After': RETRY_AFTER_SECONDS },
  };
}

export async function getRun(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const run = await services().runs.get(caller, pathId(request, 'runId'));
  if (run.status !== 'Queued') return ok(run);
  const response = ok(run, { status: 202, location: `/api/runs/${run.id}` });
  return {
    ...response,
    headers: { ...(response.headers as Record<string, string>), 'Retry-After': RETRY_AFTER_SECONDS },
  };
}

export async function listRuns(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return list(request, await services().runs.history(caller, pathId(request, 'flowId'), pageRequest(request)));
}

app.http('runPrompt', {
  methods: ['GET'],
  route: 'flows/{flowId}/run-prompt',
  authLevel: 'anonymous',
  handler: withProblemDetails(runPrompt),
});

app.http('startRun', {
  methods: ['POST'],
  route: 'flows/{flowId}/runs',
  authLevel: 'anonymous',
  handler: withProblemDetails(startRun),
});

app.http('listRuns', {
  methods: ['GET'],
  route: 'flows/{flowId}/runs',
  authLevel: 'anonymous',
  handler: withProblemDetails(listRuns),
});

app.http('cloudReadiness', {
  methods: ['GET'],
  route: 'flows/{flowId}/cloud-readiness',
  authLevel: 'anonymous',
  handler: withProblemDetails(cloudReadiness),
});

app.http('requestCloudRun', {
  methods: ['POST'],
  route: 'flows/{flowId}/cloud-runs',
  authLevel: 'anonymous',
  handler: withProblemDetails(requestCloudRun),
});

app.http('getRun', {
  methods: ['GET'],
  route: 'runs/{runId}',
  authLevel: 'anonymous',
  handler: withProblemDetails(getRun),
});
