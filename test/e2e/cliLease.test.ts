// Exit code 6 of `flowshare run` (docs/cli.md, Exit codes): an attended run
// whose lease lapses before it ends is TimedOut, on the service and in what
// the command says. The shared stack leases runs for a minute, so this file
// starts its own with RUN_LEASE_SECONDS=5, and the command reaches it through
// a proxy that can hold its heartbeats back, as a network that stalls does.
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, type SigningKey } from '../../dev/issuer';
import { DEFAULT_NAMES } from '../../lib/config';
import { createServices } from '../../lib/services';
import { createStorage } from '../../lib/storage/clients';
import { startStackProcess, type StackProcess } from '../../dev/stackProcess';
import { cli, startCli, tempHome } from '../support/cli';
import { call, testServiceSettings, unique, type Body } from '../support/stack';

const LEASE_SECONDS = 5;

let own: StackProcess;
let stateDir: string;
let proxy: HeartbeatProxy;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'flowshare-lease-'));
  const log = createWriteStream(join(resolve(__dirname, '..', '.logs'), 'lease-stack.log'));
  own = await startStackProcess({
    root: resolve(__dirname, '../..'),
    stateDir,
    log,
    extraEnv: { RUN_LEASE_SECONDS: String(LEASE_SECONDS) },
  });
  proxy = await heartbeatProxy(new URL(own.info.apiUrl!));
});

afterAll(async () => {
  await proxy?.close();
  await own?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** Forwards every request to the API; while `holding`, heartbeats wait until released; while `refusing`, they are cut off. */
interface HeartbeatProxy {
  apiUrl: string;
  holding: boolean;
  refusing: boolean;
  refused: number;
  held: number;
  release(): void;
  close(): Promise<void>;
}

async function heartbeatProxy(target: URL): Promise<HeartbeatProxy> {
  const waiting: Array<() => void> = [];
  const state = { holding: false, held: 0, refusing: false, refused: 0 };
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const upstream = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  const server: Server = createServer((req, res) => {
    const heartbeat = /\/heartbeat$/.test(req.url ?? '');
    if (state.refusing && heartbeat) {
      state.refused += 1;
      req.socket.destroy();
    } else if (state.holding && heartbeat) {
      state.held += 1;
      waiting.push(() => forward(req, res));
    } else {
      forward(req, res);
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    apiUrl: `http://127.0.0.1:${port}${target.pathname}`,
    release: () => {
      state.holding = false;
      for (const go of waiting.splice(0)) go();
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  });
}

/** A token of `user` from this file's stack's issuer. */
async function tokenFor(user: string): Promise<string> {
  const key = JSON.parse(readFileSync(join(stateDir, 'issuer-key.json'), 'utf8')) as SigningKey;
  return mintToken(key, { issuer: own.info.issuerUrl, audience: own.info.audience, user });
}

/** The owner's flow that waits a minute, and their home signed in through the proxy. */
async function slowFlow() {
  const owner = unique('owner');
  const token = await tokenFor(owner);
  const name = unique('Slow');
  const created = await call('POST', `${own.info.apiUrl}/flows`, {
    token,
    body: {
      name,
      schemaVersion: 2,
      definition: {
        actions: [
          { name: 'Pause', type: 'wait', seconds: 60 },
          { type: 'output', output: 'done', value: 'yes' },
        ],
      },
    },
  });
  expect(created.status, created.text).toBe(201);
  const home = tempHome();
  const env = { FLOWSHARE_API: proxy.apiUrl };
  const login = await cli(['login', '--user', owner, '--issuer', own.info.issuerUrl, '--audience', own.info.audience], {
    home,
    env,
  });
  expect(login.code, login.stderr).toBe(0);
  return { token, name, flowId: created.body.id as string, home, env };
}

describe('flowshare run, when the lease lapses', () => {
  it('ends with exit code 6 and the run TimedOut, when its heartbeats came through too late', async () => {
    const { token, name, flowId, home, env } = await slowFlow();
    proxy.holding = true;
    const run = startCli(['run', name, '--yes', '--json'], { home, env });
    // The first heartbeat comes a third of the lease in, and is held past the lease.
    await expect.poll(() => proxy.held, { timeout: 15_000 }).toBeGreaterThan(0);
    const runs = await call('GET', `${own.info.apiUrl}/flows/${flowId}/runs`, { token });
    const [running] = runs.body.value as Body[];
    expect(running).toMatchObject({ status: 'Running', leaseExpiresAt: expect.any(String) });
    await new Promise((done) => setTimeout(done, Date.parse(running.leaseExpiresAt) - Date.now() + 1_000));
    proxy.release();

    const ended = await run.ended;
    expect(ended.code, ended.stderr).toBe(6);
    expect(ended.stderr).toMatch(/Run TimedOut/);
    const result = JSON.parse(ended.stdout);
    expect(result).toMatchObject({ started: true, run: { id: running.id, status: 'TimedOut' }, exitCode: 6 });
    expect(result.outputs).toEqual({});
    const onService = await call('GET', `${own.info.apiUrl}/runs/${running.id}`, { token });
    expect(onService.body).toMatchObject({
      status: 'TimedOut',
      errors: [expect.objectContaining({ code: 'LeaseExpired' })],
    });
  }, 60_000);

  it('ends with exit code 6 when no heartbeat gets through before the lease lapses, and the run is TimedOut', async () => {
    const { token, name, flowId, home, env } = await slowFlow();
    proxy.refusing = true;
    try {
      const run = startCli(['run', name, '--yes'], { home, env });
      const ended = await run.ended;
      expect(ended.code, ended.stderr).toBe(6);
      expect(proxy.refused).toBeGreaterThan(1); // tried again every two seconds
      expect(ended.stdout).toMatch(/Heartbeat failed .*trying again until the lease lapses/);
      expect(ended.stdout).toMatch(/The lease lapsed before the service could be reached: the run is TimedOut/);
      expect(ended.stdout).toMatch(/Run TimedOut/);
    } finally {
      proxy.refusing = false;
    }
    // Nothing more came from the command; the service's run-repair sweep ends the run (it runs each minute).
    const storage = createStorage(
      { kind: 'connectionString', connectionString: own.info.storageConnectionString },
      DEFAULT_NAMES,
    );
    await createServices(storage, testServiceSettings()).runRepairs.sweep();
    const runs = await call('GET', `${own.info.apiUrl}/flows/${flowId}/runs`, { token });
    expect(runs.body.value).toEqual([
      expect.objectContaining({ status: 'TimedOut', errors: [expect.objectContaining({ code: 'LeaseExpired' })] }),
    ]);
  }, 60_000);
});
