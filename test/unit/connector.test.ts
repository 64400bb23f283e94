// The Power Automate connector (connector/): its definition is what the
// routes' registrations make of it now (`npm run connector`), valid Swagger
// 2.0, every action and field named for a maker, every action one of the
// registered person-facing routes with the same method and parameters, and
// its pickers fed by actions that answer ids and names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { documentedRoutes, type DocumentedRoute } from '../../lib/http/routes';
import { functionFiles } from '../../dev/openapiTypes';
import { CONNECTOR_ACTIONS } from '../../dev/powerAutomate/actions';
import { DEFINITION_FILE, definitionText, HOST_PLACEHOLDER, SECURITY_NAME } from '../../dev/powerAutomate/definition';

const root = join(__dirname, '../..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Swagger document, read field by field below
type Json = any;
const definition: Json = JSON.parse(read(DEFINITION_FILE));
const properties: Json = JSON.parse(read('connector/apiProperties.json'));

interface Operation {
  path: string;
  method: string;
  op: Json;
}
const operations: Operation[] = Object.entries(definition.paths as Record<string, Record<string, Json>>).flatMap(
  ([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })),
);
const byId = new Map(operations.map((o) => [o.op.operationId as string, o]));

function resolve(schema: Json): Json {
  return schema?.$ref ? definition.definitions[schema.$ref.replace('#/definitions/', '')] : schema;
}

/** Every property below `schema`, with its path, $refs followed once. */
function fieldsOf(schema: Json, path: string, seen = new Set<string>()): [string, Json][] {
  if (schema?.$ref) {
    if (seen.has(schema.$ref)) return [];
    seen.add(schema.$ref);
  }
  const node = resolve(schema);
  if (!node) return [];
  const own = Object.entries((node.properties ?? {}) as Record<string, Json>).flatMap(([name, child]) => [
    [`${path}.${name}`, child] as [string, Json],
    ...fieldsOf(child, `${path}.${name}`, seen),
  ]);
  return [...own, ...(node.items ? fieldsOf(node.items, `${path}[]`, seen) : [])];
}

let routes: readonly DocumentedRoute[];
beforeAll(async () => {
  for (const file of functionFiles(join(root, 'functions'), '.ts')) await import(file);
  routes = documentedRoutes();
});

function routeOf({ path, method }: Operation): DocumentedRoute | undefined {
  return routes.find((r) => `/${r.route}` === path && r.method === method);
}

describe("flowshare's Power Automate connector", () => {
  it('is generated from the routes as they are now (run `npm run connector` when this fails)', () => {
    expect(read(DEFINITION_FILE)).toBe(definitionText());
  });

  it('is valid Swagger 2.0', async () => {
    await expect(SwaggerParser.validate(structuredClone(definition))).resolves.toBeDefined();
    expect(definition.swagger).toBe('2.0');
    expect(definition.basePath).toBe('/api');
    expect(definition.host).toBe(HOST_PLACEHOLDER);
    expect(definition.schemes).toEqual(['https']);
  });

  it('has the five actions a maker needs, and no others', () => {
    expect([...byId.keys()].sort()).toEqual(
      ['CheckCloudReadiness', 'GetRun', 'ListMyFlows', 'ListMyMachines', 'RunDesktopFlow'].sort(),
    );
    expect(CONNECTOR_ACTIONS).toHaveLength(operations.length);
  });

  it('gives every action an operationId, a summary and a description', () => {
    for (const { op } of operations) {
      expect(op.operationId).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(op.summary, op.operationId).toMatch(/^[A-Z].{5,79}$/);
      expect(op.description?.length, op.operationId).toBeGreaterThan(30);
      expect(op.description).not.toBe(op.summary);
    }
  });

  it('names and describes every parameter and every member of a body, and hides only what it always sends', () => {
    for (const { op } of operations) {
      for (const parameter of op.parameters as Json[]) {
        const where = `${op.operationId} ${parameter.name}`;
        expect(parameter['x-ms-summary'], where).toMatch(/^[A-Z]/);
        expect(parameter.description?.length, where).toBeGreaterThan(10);
        if (parameter['x-ms-visibility'] === 'internal') {
          expect(parameter.required, where).toBe(true);
          expect(parameter.default, where).toBeDefined();
        }
        for (const [name, member] of Object.entries((parameter.schema?.properties ?? {}) as Record<string, Json>)) {
          expect(member['x-ms-summary'], `${where}.${name}`).toMatch(/^[A-Z]/);
          expect(member.description?.length, `${where}.${name}`).toBeGreaterThan(10);
        }
      }
    }
  });

  it('puts the rarely used paging parameters under advanced', () => {
    for (const { op } of operations) {
      for (const parameter of (op.parameters as Json[]).filter((p) => ['top', 'continuationToken'].includes(p.name))) {
        expect(parameter['x-ms-visibility'], `${op.operationId} ${parameter.name}`).toBe('advanced');
      }
    }
    expect(byId.get('ListMyFlows')!.op.parameters.map((p: Json) => p.name)).toContain('continuationToken');
  });

  it('names and describes every field of every answer, so dynamic content shows them', () => {
    for (const { op } of operations) {
      const success = Object.entries(op.responses as Record<string, Json>).filter(([status]) => status < '300');
      expect(
        success.some(([, r]) => r.schema),
        op.operationId,
      ).toBe(true);
      for (const [status, response] of success) {
        const fields = fieldsOf(response.schema, `${op.operationId} ${status}`);
        for (const [path, field] of fields) {
          expect(field['x-ms-summary'], path).toMatch(/^[A-Z]/);
          expect(field.description?.length, path).toBeGreaterThan(5);
        }
      }
    }
    // The run's outputs reach the flow: the run action's answer names them.
    const run = fieldsOf(byId.get('RunDesktopFlow')!.op.responses['200'].schema, 'Run').map(([p]) => p);
    expect(run).toEqual(expect.arrayContaining(['Run.status', 'Run.outputs', 'Run.errors', 'Run.actions']));
  });

  it('calls only registered routes for people, with the same method and parameters', () => {
    for (const operation of operations) {
      const { op } = operation;
      const route = routeOf(operation);
      expect(
        route,
        `${op.operationId}: no route ${operation.method.toUpperCase()} /api${operation.path}`,
      ).toBeDefined();
      // Never a machine's route, a run token's, or an anonymous one.
      expect(route!.doc.auth, op.operationId).toBeUndefined();
      expect(route!.doc.anonymous, op.operationId).toBeUndefined();

      const parameters = op.parameters as Json[];
      const named = (where: string) => parameters.filter((p) => p.in === where).map((p) => p.name as string);
      const pathNames = [...route!.route.matchAll(/\{(\w+)\}/g)].map(([, n]) => n);
      expect(named('path'), op.operationId).toEqual(pathNames);
      const query = (route!.doc.query?.shape ?? {}) as Record<string, z.ZodType>;
      expect(named('query').sort(), op.operationId).toEqual(Object.keys(query).sort());
      for (const parameter of parameters.filter((p) => p.in === 'query')) {
        const schema = query[parameter.name]!;
        // What the connector may send is what the route takes.
        if (parameter.default !== undefined) expect(schema.safeParse(parameter.default).success).toBe(true);
        for (const value of parameter.enum ?? []) expect(schema.safeParse(String(value)).success).toBe(true);
        if (!schema.safeParse(undefined).success) expect(parameter.required, parameter.name).toBe(true);
      }

      const body = parameters.find((p) => p.in === 'body');
      expect(Boolean(body), `${op.operationId} body`).toBe(Boolean(route!.doc.body));
      if (body) {
        const shape = (route!.doc.body as z.ZodObject).shape as Record<string, z.ZodType>;
        expect(Object.keys(body.schema.properties).sort()).toEqual(Object.keys(shape).sort());
        const required = Object.keys(shape).filter((name) => !shape[name]!.safeParse(undefined).success);
        expect((body.schema.required ?? []).sort()).toEqual(required.sort());
      }
    }
  });

  it('waits for the run through the outcome route, which fails unless the run succeeded', () => {
    const run = byId.get('RunDesktopFlow')!;
    expect(run.op.parameters.find((p: Json) => p.name === 'poll')).toMatchObject({
      'x-ms-visibility': 'internal',
      default: 'outcome',
    });
    expect(Object.keys(run.op.responses)).toEqual(expect.arrayContaining(['200', '202', '409']));
    expect(run.op.responses['202'].headers).toHaveProperty('Location');
    expect(run.op.responses['202'].headers).toHaveProperty('Retry-After');
    const outcome = routes.find((r) => r.operationId === 'getRunOutcome')!;
    expect(outcome.doc.problems).toContain('RunNotSucceeded');
    // Get a run reads the run as it is: Power Automate would otherwise follow its 202.
    expect(byId.get('GetRun')!.op.parameters.find((p: Json) => p.name === 'poll')).toMatchObject({
      'x-ms-visibility': 'internal',
      default: 'none',
    });
  });

  it('fills its pickers from actions that list ids and names, asked the way those actions take', () => {
    const pickers: [string, Json][] = operations.flatMap(({ op }) =>
      (op.parameters as Json[]).flatMap((p) => [
        [`${op.operationId} ${p.name}`, p] as [string, Json],
        ...Object.entries((p.schema?.properties ?? {}) as Record<string, Json>).map(
          ([name, member]) => [`${op.operationId} ${name}`, member] as [string, Json],
        ),
      ]),
    );
    const dynamic = pickers.filter(([, p]) => p['x-ms-dynamic-values']);
    expect(dynamic.map(([where]) => where).sort()).toEqual(
      ['CheckCloudReadiness flowId', 'RunDesktopFlow flowId', 'RunDesktopFlow machineId'].sort(),
    );
    for (const [where, parameter] of dynamic) {
      const values = parameter['x-ms-dynamic-values'];
      const source = byId.get(values.operationId);
      expect(source, where).toBeDefined();
      const taken = new Set((source!.op.parameters as Json[]).map((p) => p.name));
      for (const name of Object.keys(values.parameters)) expect(taken.has(name), `${where}: ${name}`).toBe(true);
      const answer = resolve(source!.op.responses['200'].schema);
      const item = resolve(answer.properties[values['value-collection']].items);
      expect(item.properties, where).toHaveProperty(values['value-path']);
      expect(item.properties, where).toHaveProperty(values['value-title']);
    }
    // The flow picker offers only flows the caller may start cloud runs of.
    expect(byId.get('RunDesktopFlow')!.op.parameters[0]['x-ms-dynamic-values'].parameters).toEqual({
      cloudStartable: { value: true },
      top: { value: 100 },
    });
  });

  it('signs in with OAuth 2.0 through Entra ID, its placeholders explained in its README', () => {
    expect(definition.securityDefinitions[SECURITY_NAME]).toMatchObject({ type: 'oauth2', flow: 'accessCode' });
    expect(definition.security).toEqual([{ [SECURITY_NAME]: [] }]);
    const token = properties.properties.connectionParameters.token;
    expect(token.type).toBe('oauthSetting');
    expect(token.oAuthSettings.identityProvider).toBe('aad');
    expect(token.oAuthSettings.redirectMode).toBe('GlobalPerConnector');
    expect(properties.properties.iconBrandColor).toMatch(/^#[0-9a-f]{6}$/);
    const readme = read('connector/README.md');
    const placeholders = new Set(read('connector/apiProperties.json').match(/<[a-z-]+>/g));
    expect([...placeholders].sort()).toEqual([
      '<api-app-id-uri>',
      '<api-scope>',
      '<connector-client-id>',
      '<tenant-id>',
    ]);
    for (const placeholder of [...placeholders, HOST_PLACEHOLDER]) {
      expect(readme, `connector/README.md does not explain ${placeholder}`).toContain(`\`${placeholder}\``);
    }
  });

  it('has a square PNG icon of a size the portal takes', () => {
    const png = readFileSync(join(root, 'connector/icon.png'));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    expect(width).toBe(height);
    expect(width).toBeGreaterThanOrEqual(100);
    expect(width).toBeLessThanOrEqual(500);
    expect(png.length).toBeLessThan(1024 * 1024);
  });
});
