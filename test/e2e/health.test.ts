// The health probe, the request log, and what callers get when storage cannot
// be reached: a second stack whose Azurite is taken away.
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, type SigningKey } from '../../dev/issuer';
import { signedIn } from '../support/browser';
import { call, stack, tokenFor, unique } from '../support/stack';
import { startStackProcess, type StackProcess } from '../../dev/stackProcess';

describe('the health probe', () => {
  it('answers 200 without a token while storage answers', async () => {
    const response = await call('GET', '/health');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'healthy' });
  });
});

describe('the log', () => {
  it('has one structured line per request, with invocation, caller and flow', async () => {
    const user = unique('logged');
    const token = await tokenFor(user);
    const created = await call('POST', '/flows', { token, body: { name: 'Logged' } });
    await call('GET', `/flows/${created.body.id}`, { token });
    await call('GET', '/flows/nope', { token });
    // The host writes its log through a pipe: wait until this test's lines are in.
    const linesOf = () =>
      readFileSync(stack().logFile, 'utf8')
        .split('\n')
        .map((line) => line.slice(line.indexOf('{')))
        .filter((line) => line.includes('"event":"request"') && line.includes(user))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    let lines = linesOf();
    for (let i = 0; i < 40 && lines.length < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      lines = linesOf();
    }
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          function: 'createFlow',
          callerId: user,
          status: 201,
          invocationId: expect.any(String),
        }),
        expect.objectContaining({
          function: 'getFlow',
          callerId: user,
          flowId: created.body.id,
          status: 200,
          method: 'GET',
        }),
        expect.objectContaining({ function: 'getFlow', flowId: 'nope', status: 404, code: 'NotFound' }),
      ]),
    );
  });
});

describe("a service's own log lines", () => {
  it('carry the invocation, caller and flow of the request that caused them', async () => {
    const user = unique('warned');
    const token = await tokenFor(user);
    // A connection whose grant the provider revoked: its refresh logs a warning.
    const created = await call('POST', '/connections', {
      token,
      body: { connectorId: 'shared_office365', displayName: 'Mail' },
    });
    const browser = await signedIn(user);
    const mailbox = unique('mailbox');
    expect((await browser.consent(created.body.consentUrl, mailbox)).status).toBe(200);
    await fetch(`${stack().issuerUrl}/dev/users/${mailbox}/revoke`, { method: 'POST' });
    const refreshed = await call('POST', `/connections/${created.body.id}/refresh`, { token });
    expect(refreshed.body).toMatchObject({ status: 'Error', statusReason: 'reauthRequired' });

    const linesOf = () =>
      readFileSync(stack().logFile, 'utf8')
        .split('\n')
        .map((line) => line.slice(line.indexOf('{')))
        .filter((line) => line.includes('"event":"') && line.includes(user))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const find = () => {
      const lines = linesOf();
      return {
        warning: lines.find((l) => l.event === 'log' && l.message === 'a connection failed its refresh'),
        request: lines.find((l) => l.event === 'request' && l.function === 'refreshConnection'),
      };
    };
    // The host writes its log through a pipe: wait until both lines are in.
    let { warning, request } = find();
    for (let i = 0; i < 40 && !(warning && request); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      ({ warning, request } = find());
    }
    expect(warning).toMatchObject({
      level: 'warning',
      function: 'refreshConnection',
      callerId: user,
      connectionId: created.body.id,
      invocationId: expect.any(String),
    });
    expect(warning?.invocationId).toBe(request?.invocationId);
  });
});

describe('when storage cannot be reached', () => {
  let broken: StackProcess;
  let stateDir: string;
  let token: string;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'flowshare-broken-'));
    const log = createWriteStream(join(resolve(__dirname, '..', '.logs'), 'broken-stack.log'));
    broken = await startStackProcess({ root: resolve(__dirname, '../..'), stateDir, log });
    const key = JSON.parse(readFileSync(join(stateDir, 'issuer-key.json'), 'utf8')) as SigningKey;
    token = await mintToken(key, { issuer: broken.info.issuerUrl, audience: broken.info.audience, user: 'alice' });
    process.kill(broken.info.azuritePid, 'SIGKILL');
  });

  afterAll(async () => {
    await broken?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('reports 503 from the health probe', async () => {
    const response = await call('GET', `${broken.info.apiUrl}/health`);
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({
      code: 'StorageUnavailable',
      checks: { tables: 'unavailable', blobs: 'unavailable' },
    });
  });

  it.each([
    ['POST', '/flows', { name: 'x' }],
    ['GET', '/flows', undefined],
    ['GET', '/flows/some-flow', undefined],
    ['PUT', '/flows/some-flow/permissions/bob', { role: 'user' }],
  ])('answers %s %s with 503 StorageUnavailable and Retry-After', async (method, path, body) => {
    const response = await call(method, `${broken.info.apiUrl}${path}`, { token, body });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(response.body).toMatchObject({ status: 503, code: 'StorageUnavailable' });
  });
});
