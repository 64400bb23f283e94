// The web console's files as the catch-all route answers them (docs/console.md, How it is served).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { serveWebFile } from '../../lib/http/webFiles';

let root: string;
const outside = 'a file beside the console, not of it';

beforeAll(() => {
  const base = mkdtempSync(join(tmpdir(), 'flowshare-web-'));
  root = join(base, 'web');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(root, 'favicon.svg'), '<svg/>');
  writeFileSync(join(root, 'notes.xyz'), 'no type');
  writeFileSync(join(base, 'secret.txt'), outside);
});

const header = (response: { headers?: unknown }, name: string) =>
  (response.headers as Record<string, string> | undefined)?.[name];

describe("the web console's files", () => {
  it('answers a file with its type, hashed assets cached for good', async () => {
    const script = await serveWebFile(root, 'assets/index-abc123.js');
    expect(script.status).toBe(200);
    expect(header(script, 'Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(header(script, 'Cache-Control')).toContain('immutable');
    const icon = await serveWebFile(root, 'favicon.svg');
    expect(header(icon, 'Content-Type')).toBe('image/svg+xml');
    expect(header(icon, 'Cache-Control')).toBe('no-cache');
  });

  it("answers the console's page for the root and any path without an extension", async () => {
    for (const path of [undefined, '', 'flows/f1', 'connections', 'machines/m1/keys']) {
      const page = await serveWebFile(root, path);
      expect(page.status, String(path)).toBe(200);
      expect(String(page.body)).toContain('<title>console</title>');
      expect(header(page, 'Content-Type')).toBe('text/html; charset=utf-8');
      expect(header(page, 'Content-Security-Policy')).toContain("frame-ancestors 'none'");
      expect(header(page, 'Content-Security-Policy')).toContain("script-src 'self';");
      expect(header(page, 'X-Content-Type-Options')).toBe('nosniff');
    }
  });

  it('answers an empty 404 for a missing file, a file of no known type, and any path under /api', async () => {
    for (const path of ['assets/missing.js', 'notes.xyz', 'api', 'api/flows', 'API/nowhere', 'api/']) {
      const response = await serveWebFile(root, path);
      expect(response.status, path).toBe(404);
      expect(response.body, path).toBeUndefined();
    }
  });

  it('never answers a file outside the console', async () => {
    for (const path of ['../secret.txt', 'assets/../../secret.txt', '..\\secret.txt', 'assets/..%2f..%2fsecret.txt']) {
      const response = await serveWebFile(root, path);
      expect(String(response.body ?? ''), path).not.toContain(outside);
    }
  });

  it('says the console is not built when it is not', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'flowshare-web-empty-'));
    const response = await serveWebFile(empty, 'flows');
    expect(response.status).toBe(503);
    expect(String(response.body)).toContain('npm run build:web');
  });
});
