// The contract in docs/ against the code: every route and every error code is
// written down, and no link leads out of the repository or to nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { documentedRoutes } from '../../lib/http/routes';
import { PROBLEM_STATUS } from '../../lib/http/problemTypes';

const root = join(__dirname, '../..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const markdown = ['README.md', 'bench/README.md', ...readdirSync(join(root, 'docs')).map((f) => `docs/${f}`)].filter(
  (file) => file.endsWith('.md'),
);

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsIn(file: string): Set<string> {
  const text = read(file).replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1]!)));
}

// Loading the function files registers their routes (in plain Node the
// library keeps no functions, but httpRoute keeps each route's documentation).
beforeAll(async () => {
  const dir = join(root, 'functions');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) await import(join(dir, file));
});

describe('the contract in docs/', () => {
  it('lists every route the OpenAPI document describes', () => {
    const api = read('docs/api.md');
    expect(documentedRoutes().length).toBeGreaterThan(30);
    for (const route of documentedRoutes()) {
      const written = `\`${route.method.toUpperCase()} /api/${route.route}\``;
      expect(api, `docs/api.md does not list ${written}`).toContain(written);
    }
  });

  it('lists every error code with its status', () => {
    const errors = read('docs/errors.md');
    for (const [code, status] of Object.entries(PROBLEM_STATUS)) {
      expect(errors, `docs/errors.md does not list ${code}`).toMatch(new RegExp(`\\| ${status} +\\| \`${code}\` `));
    }
  });

  it('links only within the repository, to files and headings that exist', () => {
    for (const file of markdown) {
      const text = read(file).replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^https?:/.test(target!)) continue;
        const [path, anchor] = target!.split('#');
        const resolved = path ? join(dirname(join(root, file)), path) : join(root, file);
        expect(relative(root, resolved).startsWith('..'), `${file} links outside the repository: ${target}`).toBe(
          false,
        );
        expect(existsSync(resolved), `${file} links to a missing file: ${target}`).toBe(true);
        if (anchor) {
          expect(anchorsIn(relative(root, resolved)), `${file} links to a missing heading: ${target}`).toContain(
            anchor,
          );
        }
      }
    }
  });
});
