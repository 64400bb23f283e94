// The least any Node HTTP service could do for a read route: parse the
// request, issue the route's storage queries (in parallel, as the route
// does) with the same SDK, and answer the rows read as JSON. No routing,
// authentication, validation or logging. `npm run bench` runs one per read
// route, as a process of its own beside the stack, to show what is left for
// the service on this machine. Not part of flowshare.
//
// With --on-host the same function runs on the local host (dev/functionsHost.ts)
// instead, behind the request and response objects of @azure/functions that
// the Functions worker builds in Azure too, still with nothing of flowshare's:
// `--profile` measures it, to tell their cost from the service's own.
//
//   node dist/bench/bareServer.js [--on-host] <table connection string> '<JSON: [{"table": …, "filter": …, "select"?: […]}, …]>'
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TableClient } from '@azure/data-tables';
import { createFunctionsServer, type HttpRoute } from '../dev/functionsHost';

/** One table query of a route. */
export interface BareQuery {
  table: string;
  filter: string;
  select?: string[];
}

const onHost = process.argv[2] === '--on-host';
const [connectionString, spec] = process.argv.slice(onHost ? 3 : 2);
if (!connectionString || !spec) throw new Error('usage: bareServer [--on-host] <connection string> <JSON queries>');
const queries = (JSON.parse(spec) as BareQuery[]).map(({ table, filter, select }) => ({
  client: TableClient.fromConnectionString(connectionString, table, { allowInsecureConnection: true }),
  queryOptions: { filter, ...(select ? { select } : {}) },
}));

async function rowsOf({ client, queryOptions }: (typeof queries)[number]): Promise<unknown[]> {
  const rows: unknown[] = [];
  for await (const row of client.listEntities({ queryOptions })) rows.push(row);
  return rows;
}

const answer = async () => JSON.stringify(await Promise.all(queries.map(rowsOf)));

/** One function, `GET /api/bare`, answering as the plain server does. */
function onLocalHost(): Server {
  const route: HttpRoute = {
    functionName: 'bare',
    methods: new Set(['GET']),
    template: 'bare',
    pattern: /^\/bare$/i,
    paramNames: [],
    trigger: { type: 'httpTrigger', name: 'request' },
    handler: async () => ({ status: 200, body: await answer(), headers: { 'content-type': 'application/json' } }),
  };
  return createFunctionsServer({ routes: [route], routePrefix: 'api', log: () => undefined });
}

const server = onHost
  ? onLocalHost()
  : createServer((_request, response) => {
      answer().then(
        (body) => {
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          response.end(body);
        },
        () => response.writeHead(503).end(),
      );
    });
server.keepAliveTimeout = 130_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
// `--cpu-prof` writes its profile when the process exits normally, not when it is killed.
process.on('SIGTERM', () => server.close(() => process.exit(0)).closeAllConnections());
