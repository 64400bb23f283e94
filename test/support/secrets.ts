// The suite-wide secret scan. Every test process appends what it receives
// through the shared helpers (call, Browser) and every secret it sends (API
// keys, caller tokens) to its own file under test/.logs/; vitest's main
// process adds the console of the test processes (onConsoleLog in
// vitest.config.mts, to test/.logs/console.log). When the run ends, the
// global setup's teardown searches all of it, and the stack's log, for each
// of those secrets and for every token the local issuer issued to anyone:
// a hit fails the run.
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LOG_DIR = resolve(__dirname, '..', '.logs');
const RECORD_PREFIX = 'recorded-';

/** Shorter values (the `k` of many tests) cannot be searched for without matching everything. */
export const MIN_SECRET_LENGTH = 8;

type Entry =
  | { kind: 'received'; where: string; text: string }
  | { kind: 'secret'; what: string; value: string; logsOnly?: boolean };

let file: string | undefined;
function append(entry: Entry): void {
  if (!file) {
    mkdirSync(LOG_DIR, { recursive: true });
    // One file per module instance: test files may share a process (threads) but never an instance.
    file = join(LOG_DIR, `${RECORD_PREFIX}${process.pid}-${randomUUID()}.jsonl`);
  }
  appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

/** A response as a test received it: its headers and body; `where` says which test, request and status. */
export function recordReceived(where: string, headers: Headers, text: string): void {
  append({ kind: 'received', where, text: `${JSON.stringify([...headers])}\n${text}` });
}

/**
 * A secret a test sent: it must come back in no response and no log line.
 * `logsOnly`: a credential flowshare itself hands out (a machine key, a run
 * token), which its one answer legitimately carries; it must reach no log.
 */
export function recordSecret(what: string, value: unknown, options: { logsOnly?: boolean } = {}): void {
  if (typeof value === 'string' && value.length > 0) {
    append({ kind: 'secret', what, value, ...(options.logsOnly ? { logsOnly: true } : {}) });
  }
}

/** The secrets in a request body a test sends (as a value or as JSON text). */
export function recordSecretsIn(body: unknown): void {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body) as unknown;
    } catch {
      return;
    }
  }
  if (value && typeof value === 'object' && 'apiKey' in value) recordSecret('an API key', value.apiKey);
}

/** Forgets what an earlier run recorded and logged. */
export function clearRecords(): void {
  rmSync(LOG_DIR, { recursive: true, force: true });
  mkdirSync(LOG_DIR, { recursive: true });
}

export interface Secret {
  what: string;
  value: string;
}

/** Tokens are JWTs or opaque ids: the part of each that makes it secret. */
function needleOf(secret: string): string {
  const parts = secret.split('.');
  return parts.length === 3 && parts[2] ? parts[2] : secret;
}

/**
 * Searches every recorded response and every log in test/.logs/ (the
 * stack's, the broken stack's of the health tests, the test processes'
 * console) for every recorded secret and every one of `more`. Answers a line
 * per hit, naming the secret by kind and its first characters only.
 */
export function scanForSecrets(more: Secret[]): { hits: string[]; secrets: number; texts: number } {
  const secrets = new Map<string, string>();
  const logsOnly = new Set<string>();
  const texts: { where: string; text: string; log?: boolean }[] = [];
  const names = existsSync(LOG_DIR) ? readdirSync(LOG_DIR) : [];
  for (const name of names.filter((n) => n.startsWith(RECORD_PREFIX))) {
    for (const line of readFileSync(join(LOG_DIR, name), 'utf8').split('\n')) {
      if (!line) continue;
      const entry = JSON.parse(line) as Entry;
      if (entry.kind === 'received') texts.push({ where: `the response to ${entry.where}`, text: entry.text });
      else {
        secrets.set(needleOf(entry.value), entry.what);
        if (entry.logsOnly) logsOnly.add(needleOf(entry.value));
      }
    }
  }
  for (const { what, value } of more) secrets.set(needleOf(value), what);
  for (const name of names.filter((n) => n.endsWith('.log'))) {
    texts.push({ where: join(LOG_DIR, name), text: readFileSync(join(LOG_DIR, name), 'utf8'), log: true });
  }
  const hits: string[] = [];
  for (const [needle, what] of secrets) {
    if (needle.length < MIN_SECRET_LENGTH) continue;
    for (const { where, text, log } of texts) {
      if (logsOnly.has(needle) && !log) continue;
      if (text.includes(needle)) hits.push(`${what} (${needle.slice(0, 6)}…) is in ${where}`);
    }
  }
  return { hits, secrets: secrets.size, texts: texts.length };
}
