// The least any Node HTTP service could do for `GET flow`: parse the request,
// issue the one storage query with the same SDK, write the first row as JSON.
// No routing, authentication, validation or logging. `npm run bench` runs it
// as a process of its own beside the stack, to show what is left for the
// service on this machine. Not part of flowshare.
//
//   node dist/bench/bareServer.js <table connection string> <table> <OData filter>
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TableClient } from '@azure/data-tables';

const [connectionString, tableName, filter] = process.argv.slice(2);
if (!connectionString || !tableName || !filter)
  throw new Error('usage: bareServer <connection string> <table> <filter>');
const table = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });

const server = createServer((_request, response) => {
  void (async () => {
    const rows: unknown[] = [];
    for await (const row of table.listEntities({ queryOptions: { filter } })) rows.push(row);
    const body = JSON.stringify(rows[0] ?? null);
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  })().catch(() => {
    response.writeHead(503).end();
  });
});
server.keepAliveTimeout = 130_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
