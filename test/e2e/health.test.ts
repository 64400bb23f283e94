// The health probe, and what callers get when storage cannot be reached: a
// second stack whose Azurite is taken away.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, type SigningKey } from '../../lib/local-host/issuer';
import { call } from '../support/stack';
import { startStackProcess, type StackProcess } from '../support/stackProcess';
import { readFileSync } from 'node:fs';

describe('the health probe', () => {
  it('answers 200 without a token while storage answers', async () => {
    const response = await call('GET', '/health');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'healthy' });
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
