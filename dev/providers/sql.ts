// The local SQL provider: `POST /sql/query {query}` with an API key in the
// X-API-Key header. Keys are issued by its development endpoint (or
// registered there), and each key has its own tables, so two keys never see
// each other's data; a missing or unknown key is 401. Queries use a tiny
// grammar (keywords in any case, an optional trailing `;`):
//
//   SELECT * FROM <table> [WHERE <column> = <value>]
//   INSERT INTO <table> (<column>, ...) VALUES (<value>, ...)
//
// Names are letters, digits and `_`; a value is a 'string' (a quote doubled
// inside it) or a number. INSERT makes its table if there is none yet;
// SELECT from a table never written is 400 InvalidObjectName.
import { randomBytes } from 'node:crypto';
import { error, fingerprintOf, objectBody, type ProviderAnswer, type ReceivedRequest } from './http';
import type { Handled } from './office365';

type Value = string | number;
type Row = Record<string, Value>;
type Query =
  | { kind: 'select'; table: string; where?: { column: string; value: Value } }
  | { kind: 'insert'; table: string; columns: string[]; values: Value[] };

const NAME = '([A-Za-z_][A-Za-z0-9_]{0,63})';
const VALUE = `('(?:[^']|'')*'|-?\\d+(?:\\.\\d+)?)`;
const SELECT = new RegExp(`^SELECT\\s+\\*\\s+FROM\\s+${NAME}(?:\\s+WHERE\\s+${NAME}\\s*=\\s*${VALUE})?\\s*;?$`, 'i');
const INSERT = new RegExp(`^INSERT\\s+INTO\\s+${NAME}\\s*\\(([^)]*)\\)\\s*VALUES\\s*\\((.*)\\)\\s*;?$`, 'is');

function valueOf(literal: string): Value {
  return literal.startsWith("'") ? literal.slice(1, -1).replace(/''/g, "'") : Number(literal);
}

/** A comma-separated list of literals, or undefined when it is not one. */
function valuesOf(text: string): Value[] | undefined {
  const values: Value[] = [];
  const item = new RegExp(`^\\s*${VALUE}\\s*(,|$)`);
  let rest = text;
  while (rest.trim()) {
    const match = item.exec(rest);
    if (!match) return undefined;
    values.push(valueOf(match[1]!));
    rest = rest.slice(match[0].length);
    if (!match[2] && rest.trim()) return undefined;
  }
  return values;
}

export function parseQuery(text: string): Query | string {
  const query = text.trim();
  const select = SELECT.exec(query);
  if (select) {
    const [, table, column, literal] = select;
    return { kind: 'select', table: table!, ...(column ? { where: { column, value: valueOf(literal!) } } : {}) };
  }
  const insert = INSERT.exec(query);
  if (!insert)
    return "Only SELECT * FROM t [WHERE c = 'v'] and INSERT INTO t (c, ...) VALUES ('v', ...) are understood.";
  const columns = insert[2]!.split(',').map((c) => c.trim());
  const values = valuesOf(insert[3]!);
  if (columns.some((c) => !new RegExp(`^${NAME}$`).test(c))) return 'The column list must be names.';
  if (new Set(columns).size !== columns.length) return 'A column is named twice.';
  if (!values || values.length !== columns.length) return 'There must be one value per column.';
  return { kind: 'insert', table: insert[1]!, columns, values };
}

export class SqlProvider {
  /** Key fingerprint -> table name (lower case) -> rows. */
  private readonly databases = new Map<string, Map<string, Row[]>>();
  /** Every key issued or registered, and every key received: the test suite searches its logs for them. */
  readonly keys = new Set<string>();

  constructor(private readonly header: string) {}

  /** A new key, or `key` registered as one; its tables start empty. */
  issue(key = `sqlk_${randomBytes(24).toString('base64url')}`): { key: string; fingerprint: string } {
    this.keys.add(key);
    const fingerprint = fingerprintOf(key);
    if (!this.databases.has(fingerprint)) this.databases.set(fingerprint, new Map());
    return { key, fingerprint };
  }

  async handle(req: ReceivedRequest): Promise<Handled> {
    if (req.method !== 'POST' || req.path !== '/query') {
      return {
        operation: '(none)',
        identity: { kind: 'none', reason: 'no such operation' },
        answer: error(404, 'NotFound', 'No such resource.'),
      };
    }
    const operation = 'ExecuteQuery';
    const given = req.headers[this.header.toLowerCase()];
    const key = typeof given === 'string' ? given : undefined;
    if (key) this.keys.add(key);
    const database = key ? this.databases.get(fingerprintOf(key)) : undefined;
    if (!key || !database) {
      const reason = key ? 'an unknown API key' : 'no API key';
      return {
        operation,
        identity: { kind: 'none', reason },
        answer: error(401, 'Unauthorized', `The ${this.header} header must hold a valid API key.`, {
          'WWW-Authenticate': `ApiKey header="${this.header}"`,
        }),
      };
    }
    const identity = { kind: 'apiKey' as const, fingerprint: fingerprintOf(key) };
    const text = objectBody(req.body)?.query;
    const query = typeof text === 'string' ? parseQuery(text) : 'The body must be {query}, a string.';
    if (typeof query === 'string') return { operation, identity, answer: error(400, 'SyntaxError', query) };
    return { operation, identity, answer: run(database, query) };
  }
}

function run(database: Map<string, Row[]>, query: Query): ProviderAnswer {
  const table = query.table.toLowerCase();
  if (query.kind === 'insert') {
    const row: Row = Object.create(null) as Row;
    query.columns.forEach((column, i) => (row[column] = query.values[i]!));
    database.set(table, [...(database.get(table) ?? []), row]);
    return { status: 200, body: { rowsAffected: 1 } };
  }
  const rows = database.get(table);
  if (!rows) return error(400, 'InvalidObjectName', `Invalid object name '${query.table}'.`);
  const where = query.where;
  return { status: 200, body: { rows: where ? rows.filter((row) => row[where.column] === where.value) : rows } };
}
