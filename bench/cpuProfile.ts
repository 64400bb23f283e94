// Sums a V8 .cpuprofile (`node --cpu-prof`) by function and by where the code
// lives, for `npm run bench -- --profile <scenario>` (bench/README.md). Also
// runnable on its own:
//
//   node dist/bench/cpuProfile.js <file.cpuprofile>
//
// (summed over the timed stretch, and in CPU µs per request, when
// <file>.window.json, written beside it by --profile, says when that was, how
// many requests ran and the CPU they took)
import { existsSync, readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Stretches of time, in microseconds on the profile's clock (CLOCK_MONOTONIC, as process.hrtime). */
export interface Window {
  turns: Array<{ fromUs: number; toUs: number }>;
}

export interface ProfileSummary {
  /** Sampled time not idle, in ms. */
  busyMs: number;
  /** Self time by where the code lives: ours (lib/, functions/), the local host (dev/), a package, Node, GC. */
  byOrigin: Array<{ origin: string; ms: number }>;
  /** The same, with Node's own code (and native calls) counted for the code that called it. */
  byCaller: Array<{ origin: string; ms: number }>;
  /** Functions by self time. */
  topSelf: Array<{ frame: string; ms: number }>;
  /** Our own functions (lib/, functions/) by total time: themselves and all they call. */
  oursTotal: Array<{ frame: string; ms: number }>;
}

/** Where a script lives, in the few groups the README speaks of. */
function originOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node';
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage) return inPackage[1]!;
  if (/\/dist\/(lib|functions)\//.test(url)) return 'ours (lib/, functions/)';
  if (/\/dist\/dev\//.test(url)) return 'local host (dev/)';
  return url;
}

function isOurs(url: string): boolean {
  return /\/dist\/(lib|functions)\//.test(url) && !url.includes('node_modules');
}

function frameName({ functionName, url, lineNumber }: ProfileNode['callFrame']): string {
  const where = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist)\//, '');
  return `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`;
}

/** Sums the samples taken within `window` (all of them without one). */
export function summarizeProfile(file: string, options: { window?: Window; top?: number } = {}): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const top = options.top ?? 25;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  const self = new Map<string, number>();
  const origins = new Map<string, number>();
  const callers = new Map<string, number>();
  const ours = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
  let busyUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    // As DevTools does: a sample lasts until the next one.
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (options.window && !options.window.turns.some(({ fromUs, toUs }) => at >= fromUs && at <= toUs)) continue;
    const leaf = byId.get(profile.samples[i]!)!;
    if (leaf.callFrame.functionName === '(idle)') continue;
    busyUs += us;
    add(self, frameName(leaf.callFrame), us);
    add(origins, originOf(leaf.callFrame.url, leaf.callFrame.functionName), us);
    let caller: ProfileNode | undefined = leaf;
    while (caller && ['node', '(native)'].includes(originOf(caller.callFrame.url, caller.callFrame.functionName))) {
      const parent = parentOf.get(caller.id);
      caller = parent === undefined ? undefined : byId.get(parent);
    }
    const from = caller ? originOf(caller.callFrame.url, caller.callFrame.functionName) : '(root)';
    add(callers, from === '(root)' ? 'node (from the event loop)' : from, us);
    // Each of our functions on the stack, once even if it recurses.
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parentOf.get(id)) {
      const { callFrame } = byId.get(id)!;
      if (!isOurs(callFrame.url)) continue;
      const name = frameName(callFrame);
      if (!seen.has(name)) add(ours, name, us);
      seen.add(name);
    }
  }
  const ranked = (map: Map<string, number>, n: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  return {
    busyMs: busyUs / 1000,
    byOrigin: ranked(origins, top).map(([origin, us]) => ({ origin, ms: us / 1000 })),
    byCaller: ranked(callers, top).map(([origin, us]) => ({ origin, ms: us / 1000 })),
    topSelf: ranked(self, top).map(([frame, us]) => ({ frame, ms: us / 1000 })),
    oursTotal: ranked(ours, top).map(([frame, us]) => ({ frame, ms: us / 1000 })),
  };
}

/** What the profiled stretch did, from outside the profile. */
export interface Timed {
  requests: number;
  /** The process's CPU per request (from /proc), what the samples' shares are shares of. */
  cpuMsPerRequest?: number;
}

/**
 * The summary as text: each row's share of the busy samples and, when the
 * stretch is known, that share of the CPU the process spent per request, in
 * µs. (Samples are taken on the wall clock: on a busy machine a process waits
 * for a core inside whatever it runs, so a share is sound and a sample's
 * length is not.)
 */
export function formatSummary(title: string, summary: ProfileSummary, timed?: Timed): string {
  const cpuUs = timed?.cpuMsPerRequest === undefined ? undefined : timed.cpuMsPerRequest * 1000;
  const unit = cpuUs === undefined ? 'ms of samples' : 'CPU µs/request';
  const value = (ms: number) => (cpuUs === undefined ? ms.toFixed(0) : ((cpuUs * ms) / summary.busyMs).toFixed(1));
  const share = (ms: number) => `${((100 * ms) / summary.busyMs).toFixed(1)}%`.padStart(6);
  const rows = (list: Array<{ ms: number; name: string }>) =>
    list.map(({ ms, name }) => `  ${value(ms).padStart(8)} ${share(ms)}  ${name}`).join('\n');
  return [
    `${title}: ${summary.busyMs.toFixed(0)} ms of busy samples` +
      (timed ? ` over ${timed.requests} requests` : '') +
      (cpuUs === undefined ? '' : `, ${cpuUs.toFixed(0)} CPU µs per request`),
    `Self time by origin (${unit}):`,
    rows(summary.byOrigin.map(({ origin, ms }) => ({ name: origin, ms }))),
    `Self time by origin, Node's own counted for its caller (${unit}):`,
    rows(summary.byCaller.map(({ origin, ms }) => ({ name: origin, ms }))),
    `Functions by self time (${unit}):`,
    rows(summary.topSelf.map(({ frame, ms }) => ({ name: frame, ms }))),
    `Our own functions (lib/, functions/) by total time (${unit}):`,
    rows(summary.oursTotal.map(({ frame, ms }) => ({ name: frame, ms }))),
  ].join('\n');
}

if (require.main === module) {
  const [file] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpuProfile <file.cpuprofile>');
  const sidecar = file.replace(/\.cpuprofile$/, '.window.json');
  const timed = existsSync(sidecar) ? (JSON.parse(readFileSync(sidecar, 'utf8')) as Window & Timed) : undefined;
  console.log(formatSummary(file, summarizeProfile(file, { window: timed }), timed));
}
