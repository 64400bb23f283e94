import { type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { authenticate, machineKeyOf, noteCaller } from '../lib/auth/authenticate';
import { parseWith } from '../lib/domain/schemas';
import { withProblemDetails } from '../lib/http/problem';
import { pageRequest, parseBody, pathId } from '../lib/http/request';
import { created, list, noContent, ok } from '../lib/http/response';
import { requestLog } from '../lib/http/log';
import { services } from '../lib/services';
import { httpRoute, AUTHED, CHANGE, READ } from '../lib/http/routes';
import { createMachineBody, leaseQuery, pageQuery } from '../lib/http/bodies';

export async function createMachine(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  const { body } = await parseBody(request, createMachineBody);
  const machine = await services().machines.create(caller, body.name);
  return created(machine, `/api/machines/${machine.id}`);
}

export async function listMachines(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return list(request, await services().machines.list(caller, pageRequest(request)));
}

export async function getMachine(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return ok(await services().machines.get(caller, pathId(request, 'machineId')));
}

export async function deleteMachine(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  await services().machines.delete(caller, pathId(request, 'machineId'));
  return noContent();
}

export async function rotateMachineKey(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = await authenticate(request);
  return ok(await services().machines.rotateKey(caller, pathId(request, 'machineId')));
}

/** The calling machine's oldest dispatched run, leased to it; 204 when none came within `waitSeconds`. */
export async function leaseRun(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const key = machineKeyOf(request);
  const { waitSeconds } = parseWith(leaseQuery, { waitSeconds: request.query.get('waitSeconds') ?? undefined });
  const lease = await services().runLeases.lease(key, waitSeconds ?? 0, requestLog(request, context));
  // Logged as its owner's: a machine acts for the person who registered it.
  noteCaller(request, { tenantId: key.tenantId, principalId: key.ownerId });
  if (!lease) return noContent();
  return ok(lease, { status: 200, location: `/api/runs/${lease.run.id}` });
}

httpRoute('createMachine', {
  methods: ['POST'],
  route: 'machines',
  handler: withProblemDetails(createMachine),
  doc: {
    summary: 'Register a machine: its key is shown this once',
    who: 'any caller (a person)',
    body: createMachineBody,
    ok: { status: 201, schema: 'MachineWithKey', headers: ['Location'] },
    problems: [...CHANGE, 'ValidationFailed', 'PayloadTooLarge'],
  },
});

httpRoute('listMachines', {
  methods: ['GET'],
  route: 'machines',
  handler: withProblemDetails(listMachines),
  doc: {
    summary: 'Your own machines, oldest first',
    who: 'any caller (a person)',
    query: pageQuery,
    ok: { status: 200, schema: 'Machine', list: true },
    problems: [...AUTHED, 'ValidationFailed'],
  },
});

httpRoute('getMachine', {
  methods: ['GET'],
  route: 'machines/{machineId}',
  handler: withProblemDetails(getMachine),
  doc: {
    summary: 'One of your machines',
    who: 'its owner',
    ok: { status: 200, schema: 'Machine' },
    problems: READ,
  },
});

httpRoute('deleteMachine', {
  methods: ['DELETE'],
  route: 'machines/{machineId}',
  handler: withProblemDetails(deleteMachine),
  doc: {
    summary: 'Delete a machine: its key stops working',
    who: 'its owner',
    ok: { status: 204 },
    problems: [...READ, 'CrossSiteRequestRefused'],
  },
});

httpRoute('rotateMachineKey', {
  methods: ['POST'],
  route: 'machines/{machineId}/key',
  handler: withProblemDetails(rotateMachineKey),
  doc: {
    summary: 'A new key for the machine, shown this once; the old one stops working at once',
    who: 'its owner',
    ok: { status: 200, schema: 'MachineWithKey' },
    problems: [...READ, 'CrossSiteRequestRefused'],
  },
});

httpRoute('leaseRun', {
  methods: ['POST'],
  route: 'machine/lease',
  handler: withProblemDetails(leaseRun),
  doc: {
    summary: "The machine's oldest dispatched run as a lease; 204 when none arrived within waitSeconds",
    who: 'a machine, with its key',
    auth: 'machineKey',
    query: leaseQuery,
    ok: { status: 200, schema: 'Lease', headers: ['Location'] },
    alsoOk: { status: 204, description: 'No run arrived within waitSeconds' },
    problems: ['Unauthenticated', 'ValidationFailed', 'StorageUnavailable'],
  },
});
