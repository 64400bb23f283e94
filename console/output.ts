// What the flowshare command prints: people's lines on stdout, or, with
// --json, one JSON document on stdout and the lines on stderr. Nothing it
// prints ever holds a token or a key: it never has a connection's, and the
// person's own never leave the configuration folder and the Authorization
// header.
import type { ActionReport } from './engine/engine';

export interface Output {
  /** A line for the person. */
  line(text: string): void;
  /** Where prompts and progress go: stderr when stdout carries JSON. */
  readonly stream: NodeJS.WriteStream;
  readonly json: boolean;
  /** The one JSON document of a --json command. */
  result(value: unknown): void;
}

export function output(json: boolean): Output {
  const stream = json ? process.stderr : process.stdout;
  return {
    json,
    stream,
    line: (text) => stream.write(`${text}\n`),
    result: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}

export function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** An action as it ends: `  Succeeded  Query (140 ms)`, with its error when it failed. */
export function actionLine(report: ActionReport): string {
  const time = report.status === 'Skipped' ? '' : ` (${duration(report.durationMs)})`;
  const error = report.error ? `: ${report.error.code}: ${report.error.detail}` : '';
  return `  ${report.status.padEnd(9)}  ${report.name}${time}${error}`;
}

/** A table of rows, each column as wide as its widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * Action lines as a run goes: in a terminal, the action under way shows as
 * `Running` and its result replaces it; elsewhere only results are written.
 */
export function progress(out: Output): {
  start(name: string): void;
  end(report: ActionReport): void;
  note(text: string): void;
} {
  let running = false;
  const clear = () => {
    if (running) out.stream.write('\r\x1b[2K');
    running = false;
  };
  return {
    start(name) {
      if (!out.stream.isTTY) return;
      clear();
      out.stream.write(`  ${'Running'.padEnd(9)}  ${name}…`);
      running = true;
    },
    end(report) {
      clear();
      out.line(actionLine(report));
    },
    note(text) {
      if (running) out.stream.write('\n');
      running = false;
      out.line(text);
    },
  };
}
