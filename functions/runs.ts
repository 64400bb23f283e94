import { type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { authenticate, runTokenOf } from '../lib/auth/authenticate';
import { DomainError } from '../lib/domain/errors';
import { isFinal } from '../lib/domain/runLifecycle';
import { runOutcome } from '../lib/domain/runOutcome';
import { withProblemDetails } from '../lib/http/problem';
import { pageRequest, parseBody, parseQuery, pathId } from '../lib/http/request';
import { list, ok } from '../lib/http/response';
import { requestLog } from '../lib/http/log';
import { services } from '../lib/services';
import { API_PREFIX, httpRoute, READ, RUN_TOKEN, WRITE } from '../lib/http/routes';
import {
  cloudRunAskOf,
  cloudRunBody,
  cloudRunQuery,
  completeRunBody,
  getRunQuery,
  pageQuery,
  runReportOf,
  startRunBody,
} from '../lib/http/bodies';

/** How soon a client polling a run that has not ended should ask again, in seconds. */
const RETRY_AFTER_SECONDS = '2';

/**
 * The outcome route's address, absolute: Power Automate's connector actions
 * follow an absolute Location (the connector's gateway maps the API's host to
 * its own); it names the host the request came to.
 */
function outcomeLocation(request: HttpRequest, runId: string): string {
  return new URL(`/${API_PREFIX}/runs/${encodeURIComponent(runId)}/outcome`, request.url).toString();
}

function accepted(body: unknown, location: string): HttpResponseInit {
  const response = ok(body, { status: 202, location });
  return {
    ...response,
    headers: { ...(response.headers as Record<string, string>), 'Retry-After': RETRY_AFTER_SECONDS },
  };
}

export async function runPrompt(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return ok({ value: await services().runs.prompt(caller, pathId(request, 'flowId')) });
}

/** An attended console run, answered with its lease; an empty body runs with the defaults. */
export async function startRun(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flowId = pathId(request, 'flowId');
  const { body } = await parseBody(request, startRunBody, { optional: true });
  const lease = await services().runs.startAttended(caller, flowId, body);
  return ok(lease, { status: 201, location: `/api/runs/${lease.run.id}` });
}

export async function cloudReadiness(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return ok(await services().runs.readiness(caller, pathId(request, 'flowId'), requestLog(request, context)));
}

/**
 * 202 and where to ask: the asynchronous request-reply pattern cloud flows
 * follow. `?poll=outcome` points there at the outcome route, which fails
 * unless the run succeeds (the connector's run action asks for it).
 */
export async function requestCloudRun(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const flowId = pathId(request, 'flowId');
  const { poll } = parseQuery(request, cloudRunQuery);
  const { body, text } = await parseBody(request, cloudRunBody);
  const run = await services().runs.requestCloudRun(caller, flowId, cloudRunAskOf(body, text));
  return accepted(run, poll === 'outcome' ? outcomeLocation(request, run.id) : `/api/runs/${run.id}`);
}

/**
 * 202 with Retry-After until the run has ended, then 200 with how it ended;
 * `?poll=none`: 200 with the run as it is now (a client that would otherwise
 * follow the 202, as Power Automate's actions do, only wants to read it).
 */
export async function getRun(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const { poll } = parseQuery(request, getRunQuery);
  const run = await services().runs.get(caller, pathId(request, 'runId'));
  return isFinal(run.status) || poll === 'none' ? ok(run) : accepted(run, `/api/runs/${run.id}`);
}

/**
 * For a client that waits for the run and must then succeed or fail with it:
 * 202 with Retry-After (and itself as Location) until the run has ended, 200
 * once it Succeeded, and 409 RunNotSucceeded for any other end, saying why
 * in words and carrying the run (lib/domain/runOutcome.ts).
 */
export async function getRunOutcome(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const run = await services().runs.get(caller, pathId(request, 'runId'));
  const outcome = runOutcome(run);
  if (outcome.kind === 'pending') return accepted(run, outcomeLocation(request, run.id));
  if (outcome.kind === 'succeeded') return ok(run);
  throw new DomainError('RunNotSucceeded', outcome.detail, { runStatus: run.status, run });
}

export async function cancelRun(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const run = await services().runs.cancel(caller, pathId(request, 'runId'));
  // A Running run ends Cancelled once its executor hears of it: poll it as any run.
  return isFinal(run.status) ? ok(run) : accepted(run, `/api/runs/${run.id}`);
}

/** Keeps the run's lease alive; says whether someone asked to cancel it. */
export async function heartbeat(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const token = runTokenOf(request);
  const runId = pathId(request, 'runId');
  return ok(await services().runLeases.heartbeat(token, runId, requestLog(request, context)));
}

/** Ends the run with what its executor reports; its token stops working. */
export async function completeRun(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const token = runTokenOf(request);
  const runId = pathId(request, 'runId');
  const { body, text } = await parseBody(request, completeRunBody);
  const run = await services().runLeases.complete(token, runId, runReportOf(body, text), requestLog(request, context));
  return ok(run);
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
    summary: 'An attended console run: Running, with its lease for the console that asked',
    who: 'all roles',
    body: startRunBody,
    ok: { status: 201, schema: 'Lease', headers: ['Location'] },
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
    summary: 'Queue a cloud run for one of your machines: 202, Location and Retry-After',
    who: 'owner, co-owner',
    query: cloudRunQuery,
    body: cloudRunBody,
    ok: { status: 202, schema: 'Run', headers: ['Location', 'Retry-After'] },
    problems: [...WRITE, 'Conflict'],
  },
});

httpRoute('getRun', {
  methods: ['GET'],
  route: 'runs/{runId}',
  handler: withProblemDetails(getRun),
  doc: {
    summary: '202 with Retry-After until the run has ended, 200 once it has; ?poll=none: 200 with the run as it is now',
    who: 'those who may read its flow',
    query: getRunQuery,
    ok: { status: 200, schema: 'Run' },
    alsoOk: { status: 202, description: 'Not ended yet', schema: 'Run', headers: ['Location', 'Retry-After'] },
    problems: READ,
  },
});

httpRoute('getRunOutcome', {
  methods: ['GET'],
  route: 'runs/{runId}/outcome',
  handler: withProblemDetails(getRunOutcome),
  doc: {
    summary:
      '202 with Retry-After until the run has ended; 200 once it Succeeded, 409 RunNotSucceeded saying why otherwise',
    who: 'those who may read its flow',
    ok: { status: 200, schema: 'Run' },
    alsoOk: {
      status: 202,
      description: 'Not ended yet: ask its absolute Location again after Retry-After',
      schema: 'Run',
      headers: ['Location', 'Retry-After'],
    },
    problems: [...READ, 'RunNotSucceeded'],
  },
});

httpRoute('cancelRun', {
  methods: ['POST'],
  route: 'runs/{runId}/cancel',
  handler: withProblemDetails(cancelRun),
  doc: {
    summary: 'Cancel a run: at once if not yet Running, else at its next heartbeat (202)',
    who: "its initiator, the flow's owner and co-owners",
    ok: { status: 200, schema: 'Run' },
    alsoOk: {
      status: 202,
      description: 'Running: its executor is told at its next heartbeat',
      schema: 'Run',
      headers: ['Location', 'Retry-After'],
    },
    problems: [...READ, 'Forbidden', 'CrossSiteRequestRefused', 'RunEnded'],
  },
});

httpRoute('heartbeat', {
  methods: ['POST'],
  route: 'runs/{runId}/heartbeat',
  handler: withProblemDetails(heartbeat),
  doc: {
    summary: "Extend the run's lease; says whether someone asked to cancel it",
    who: "the run's executor, with its run token",
    auth: 'runToken',
    ok: { status: 200, schema: 'Heartbeat' },
    problems: RUN_TOKEN,
  },
});

httpRoute('completeRun', {
  methods: ['POST'],
  route: 'runs/{runId}/complete',
  handler: withProblemDetails(completeRun),
  doc: {
    summary: 'End the run with its outputs and action results',
    who: "the run's executor, with its run token",
    auth: 'runToken',
    body: completeRunBody,
    ok: { status: 200, schema: 'Run' },
    problems: [...RUN_TOKEN, 'PayloadTooLarge'],
  },
});
