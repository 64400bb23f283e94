// The Power Automate connector's definition (connector/apiDefinition.swagger.json),
// built from the same registrations and schemas as the OpenAPI document:
// each action of actions.ts takes its method, path, parameters, body and
// answers from the route it names, and only the designer's words and the
// x-ms-* extensions from the table. `npm run connector` writes it; a unit
// test fails when the committed file is not what this builds.
import type { z } from 'zod';
import { idSchema } from '../../lib/domain/schemas';
import { PROBLEM_STATUS, PROBLEM_TITLES } from '../../lib/http/problemTypes';
import { API_PREFIX, documentedRoutes, type DocumentedRoute } from '../../lib/http/routes';
import { schemas, type SchemaName } from '../../lib/http/shapes';
import { CONNECTOR_ACTIONS, type ConnectorAction, type DynamicValues, type ParameterDoc } from './actions';
import { fieldDoc } from './fields';
import { asQueryType, fromZod, toSwagger, type Schema } from './swagger';

/** Where the definition is kept, from the project's root. */
export const DEFINITION_FILE = 'connector/apiDefinition.swagger.json';
/** The host the committed definition names: replaced with the app's own when it is imported (connector/README.md). */
export const HOST_PLACEHOLDER = 'your-flowshare-app.azurewebsites.net';
/** The security definition's name; connector/apiProperties.json says how its tokens are had (Entra ID). */
export const SECURITY_NAME = 'oauth2-auth';

const VERSION = '0.1.0';

export function connectorDefinition(host = HOST_PLACEHOLDER): Schema {
  const routes = new Map(documentedRoutes().map((route) => [route.operationId, route]));
  const definitions: Record<string, Schema> = {};
  const paths: Record<string, Record<string, Schema>> = {};
  for (const action of CONNECTOR_ACTIONS) {
    const route = routeNamed(routes, action.route);
    if (route.doc.anonymous || route.doc.auth) {
      throw new Error(`${action.operationId}: ${route.operationId} is not a route for people`);
    }
    const polled = action.pollsRoute ? routeNamed(routes, action.pollsRoute) : undefined;
    paths[`/${route.route}`] ??= {};
    paths[`/${route.route}`]![route.method] = {
      operationId: action.operationId,
      summary: action.summary,
      description: action.description,
      parameters: [
        ...pathParameters(action, route),
        ...queryParameters(action, route),
        ...bodyParameter(action, route),
      ],
      responses: responses(route, polled, definitions),
    };
  }
  return {
    swagger: '2.0',
    info: {
      title: 'flowshare',
      description:
        "Run the desktop flows you share in flowshare from a cloud flow: pick a flow and one of your machines, give it inputs, and get the run's outputs, or why it could not run. flowshare shares desktop flows that contain connector actions without leaking the connections behind them.",
      version: VERSION,
    },
    host,
    basePath: `/${API_PREFIX}`,
    schemes: ['https'],
    consumes: ['application/json'],
    produces: ['application/json'],
    paths,
    definitions: Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => a.localeCompare(b))),
    parameters: {},
    responses: {},
    securityDefinitions: {
      [SECURITY_NAME]: {
        type: 'oauth2',
        flow: 'accessCode',
        authorizationUrl: 'https://login.microsoftonline.com/common/oauth2/authorize',
        tokenUrl: 'https://login.microsoftonline.com/common/oauth2/token',
        scopes: {},
      },
    },
    security: [{ [SECURITY_NAME]: [] }],
    tags: [],
    'x-ms-connector-metadata': [{ propertyName: 'Categories', propertyValue: 'IT Operations;Productivity' }],
  };
}

/** The file's text: what the unit test compares the committed file with. */
export function definitionText(): string {
  return `${JSON.stringify(connectorDefinition(), null, 2)}\n`;
}

function routeNamed(routes: Map<string, DocumentedRoute>, name: string): DocumentedRoute {
  const route = routes.get(name);
  if (!route) throw new Error(`no route is registered as ${name}`);
  return route;
}

/** The designer's words and extensions for one parameter. */
function designer(doc: ParameterDoc): Schema {
  return {
    'x-ms-summary': doc.summary,
    description: doc.description,
    ...(doc.visibility ? { 'x-ms-visibility': doc.visibility } : {}),
    ...(doc.dynamicValues ? { 'x-ms-dynamic-values': dynamicValues(doc.dynamicValues) } : {}),
  };
}

/** Each item of the answer's `value`: its `id` is the value, its `name` what the dropdown shows. */
function dynamicValues(values: DynamicValues): Schema {
  return {
    operationId: values.operationId,
    parameters: Object.fromEntries(Object.entries(values.parameters).map(([name, value]) => [name, { value }])),
    'value-collection': 'value',
    'value-path': 'id',
    'value-title': 'name',
  };
}

function docFor(action: ConnectorAction, name: string): ParameterDoc {
  const doc = action.parameters[name];
  if (!doc) throw new Error(`${action.operationId}: parameter ${name} of its route has no words in actions.ts`);
  return doc;
}

function pathParameters(action: ConnectorAction, route: DocumentedRoute): Schema[] {
  return [...route.route.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    ...toSwagger(fromZod(idSchema, 'input'), name!),
    ...designer(docFor(action, name!)),
  }));
}

function queryParameters(action: ConnectorAction, route: DocumentedRoute): Schema[] {
  const shape = (route.doc.query?.shape ?? {}) as Record<string, z.ZodType>;
  const known = new Set([...Object.keys(shape), ...[...route.route.matchAll(/\{(\w+)\}/g)].map(([, n]) => n!)]);
  for (const name of Object.keys(action.parameters)) {
    if (!known.has(name)) throw new Error(`${action.operationId}: ${action.route} takes no parameter ${name}`);
  }
  return Object.entries(shape).map(([name, schema]) => {
    const doc = docFor(action, name);
    const internal = doc.visibility === 'internal';
    if (internal && (doc.value === undefined || !schema.safeParse(doc.value).success)) {
      throw new Error(`${action.operationId}: internal parameter ${name} needs a value its route accepts`);
    }
    return {
      name,
      in: 'query',
      // An internal parameter is sent only when required, with its default (Power Automate's rule).
      required: internal || !schema.safeParse(undefined).success,
      ...asQueryType(toSwagger(fromZod(schema, 'input'), name)),
      ...(internal ? { default: doc.value } : {}),
      ...designer(doc),
    };
  });
}

function bodyParameter(action: ConnectorAction, route: DocumentedRoute): Schema[] {
  const body = route.doc.body;
  if (!body) {
    if (action.body) throw new Error(`${action.operationId}: ${action.route} takes no body`);
    return [];
  }
  if (!action.body) throw new Error(`${action.operationId}: the body of ${action.route} has no words in actions.ts`);
  const { members, ...doc } = action.body;
  const schema = toSwagger(fromZod(body, 'input'), 'body');
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const name of Object.keys(members)) {
    if (!properties[name]) throw new Error(`${action.operationId}: the body of ${action.route} has no member ${name}`);
  }
  schema.properties = Object.fromEntries(
    Object.entries(properties).map(([name, member]) => {
      const memberDoc = members[name];
      if (!memberDoc) throw new Error(`${action.operationId}: body member ${name} has no words in actions.ts`);
      return [name, { ...member, ...designer(memberDoc) }];
    }),
  );
  return [{ name: 'body', in: 'body', required: !body.safeParse({}).success, schema, ...designer(doc) }];
}

/** A shape as a definition of its own, its fields named for the designer. */
function refTo(name: SchemaName, definitions: Record<string, Schema>): Schema {
  definitions[name] ??= toSwagger(fromZod(schemas[name], 'output'), name, fieldDoc);
  return { $ref: `#/definitions/${name}` };
}

function answerSchema(route: DocumentedRoute, definitions: Record<string, Schema>): Schema | undefined {
  const { schema, list } = route.doc.ok;
  if (!schema) return undefined;
  const one = refTo(schema, definitions);
  if (!list) return one;
  const named = (field: string) => {
    const [summary, description] = fieldDoc(`${schema}List.${field}`);
    return { 'x-ms-summary': summary, description };
  };
  return {
    type: 'object',
    properties: {
      value: { type: 'array', items: one, ...named('value') },
      nextLink: { type: 'string', ...named('nextLink') },
    },
    required: ['value'],
  };
}

/**
 * The success answer is the final one: for an action Power Automate polls,
 * the polled route's. Problems are listed by status, as in the OpenAPI document.
 */
function responses(route: DocumentedRoute, polled: DocumentedRoute | undefined, definitions: Record<string, Schema>) {
  const final = polled ?? route;
  const out: Record<string, Schema> = {};
  const schema = answerSchema(final, definitions);
  const description = polled ? 'The run ended and succeeded: its status, outputs and action results' : 'Success';
  out[String(final.doc.ok.status)] = { description, ...(schema ? { schema } : {}) };
  if (polled) {
    out[String(route.doc.ok.status)] = {
      description: 'Accepted: Power Automate asks Location again after Retry-After seconds until the run has ended',
      headers: {
        Location: { type: 'string', description: "Where the run's outcome is asked" },
        'Retry-After': { type: 'integer', description: 'Seconds to wait before asking' },
      },
    };
  }
  for (const code of new Set([...route.doc.problems, ...(polled?.doc.problems ?? [])])) {
    const status = String(PROBLEM_STATUS[code]);
    const existing = out[status]?.description as string | undefined;
    out[status] = { description: existing ? `${existing}; ${code}` : `${PROBLEM_TITLES[code]}: ${code}` };
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => Number(a) - Number(b)));
}
