import { type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { authenticate } from '../lib/auth/authenticate';
import { withProblemDetails } from '../lib/http/problem';
import { pageRequest, parseBody, pathId, readJson } from '../lib/http/request';
import { list, ok } from '../lib/http/response';
import { requestLog } from '../lib/http/log';
import { services } from '../lib/services';
import { httpRoute, READ, WRITE } from '../lib/http/routes';
import { pageQuery, startRunBody } from '../lib/http/bodies';

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

export async function cloudReadiness(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return ok(await services().runs.readiness(caller, pathId(request, 'flowId'), requestLog(request, context)));
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

httpRoute('runPrompt', {
  methods: ['GET'],
  route: 'flows/{flowId}/run-prompt',
  handler: withProblemDetails(runPrompt),
  doc: {
    summary: 'For each reference: what you may pick, and the default',
    who: 'all roles',
    ok: { status: 200, schema: 'RunPromptEntry', list: true },
    problems: READ,
  },
});

httpRoute('startRun', {
  methods: ['POST'],
  route: 'flows/{flowId}/runs',
  handler: withProblemDetails(startRun),
  doc: {
    summary: 'An attended console run',
    who: 'all roles',
    body: startRunBody,
    ok: { status: 201, schema: 'Run', headers: ['Location'] },
    problems: [...WRITE, 'RunModeNotAllowed', 'ConnectionRequired', 'Conflict'],
  },
});

httpRoute('listRuns', {
  methods: ['GET'],
  route: 'flows/{flowId}/runs',
  handler: withProblemDetails(listRuns),
  doc: {
    summary: 'Run history, newest first',
    who: 'owner, co-owner',
    query: pageQuery,
    ok: { status: 200, schema: 'Run', list: true },
    problems: [...READ, 'Forbidden'],
  },
});

httpRoute('cloudReadiness', {
  methods: ['GET'],
  route: 'flows/{flowId}/cloud-readiness',
  handler: withProblemDetails(cloudReadiness),
  doc: {
    summary: "The cloud-run processor's checks, run now",
    who: 'owner, co-owner',
    ok: { status: 200, schema: 'CloudReadiness' },
    problems: [...READ, 'Forbidden'],
  },
});

httpRoute('requestCloudRun', {
  methods: ['POST'],
  route: 'flows/{flowId}/cloud-runs',
  handler: withProblemDetails(requestCloudRun),
  doc: {
    summary: 'Queue a cloud run: 202, Location and Retry-After',
    who: 'owner, co-owner',
    ok: { status: 202, schema: 'Run', headers: ['Location', 'Retry-After'] },
    problems: [...WRITE, 'Conflict'],
  },
});

httpRoute('getRun', {
  methods: ['GET'],
  route: 'runs/{runId}',
  handler: withProblemDetails(getRun),
  doc: {
    summary: '202 with Retry-After while queued, 200 once final',
    who: 'those who may read its flow',
    ok: { status: 200, schema: 'Run' },
    alsoOk: { status: 202, description: 'Still queued', schema: 'Run', headers: ['Retry-After'] },
    problems: READ,
  },
});
