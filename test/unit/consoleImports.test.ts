// The flowshare command talks to the service over HTTP only: console/ may
// import itself, lib/domain (pure rules and the definition format), the
// generated API types, Node's built-ins and the package's dependencies;
// never lib/storage, lib/services, functions/ or dev/. What it imports of
// lib/domain must stay pure too, so that is followed as well.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
};
const dependencies = new Set(Object.keys(manifest.dependencies ?? {}));
const ALLOWED = ['console', join('lib', 'domain'), join('web', 'src', 'api', 'schema.d.ts')];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|cjs)$/.test(entry.name) ? [path] : [];
  });
}

function fileOf(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  return [base, `${base}.ts`, `${base}.d.ts`, join(base, 'index.ts')].find((f) => existsSync(f) && f.includes('.'));
}

/** Every file reached from console/ by relative imports, and what each names that it should not. */
function violations(): { reached: number; problems: string[] } {
  const queue = sourceFiles(join(root, 'console'));
  const seen = new Set(queue);
  const problems: string[] = [];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (specifier.startsWith('.')) {
        const target = fileOf(file, specifier);
        const where = target ? relative(root, target) : specifier;
        if (!target || !ALLOWED.some((a) => where === a || where.startsWith(`${a}${sep}`))) {
          problems.push(`${relative(root, file)} imports ${where}`);
        } else if (!seen.has(target)) {
          seen.add(target);
          queue.push(target);
        }
      } else if (!isBuiltin(specifier)) {
        const parts = specifier.split('/');
        const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
        if (!dependencies.has(name)) problems.push(`${relative(root, file)} imports ${name}, not a dependency`);
      }
    }
  }
  return { reached: seen.size, problems };
}

describe('the flowshare command (console/)', () => {
  it('imports only itself, pure domain rules, the API types, built-ins and dependencies', () => {
    const { reached, problems } = violations();
    expect(reached).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });
});
