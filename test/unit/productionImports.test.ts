// lib/ and functions/ are exactly what runs in Azure: they may import each
// other, Node's built-ins and the package's dependencies, never dev/ (or
// test/, bench/) and never a devDependency, which a deployment does not carry.
// tsconfig.build.json refuses a static import of dev/ too; this also covers
// require(), import() and packages.
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const PRODUCTION = ['lib', 'functions'];
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
};
const dependencies = new Set(Object.keys(manifest.dependencies ?? {}));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module a file names: imports, re-exports, import(), require() and require.resolve(). */
function specifiersOf(text: string): string[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const resolved = [...text.matchAll(/\brequire\.resolve\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return [...importedFiles.map((f) => f.fileName), ...resolved];
}

/** Why `specifier`, named in `file`, has no place in production code; undefined when it does. */
function refusal(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) {
    const target = relative(root, resolve(dirname(file), specifier));
    const top = target.split(sep)[0]!;
    return PRODUCTION.includes(top) ? undefined : `imports ${target} (outside ${PRODUCTION.join('/ and ')}/)`;
  }
  if (isBuiltin(specifier)) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return dependencies.has(name) ? undefined : `imports ${name}, which is not in package.json "dependencies"`;
}

function violations(files: string[]): string[] {
  return files.flatMap((file) =>
    specifiersOf(readFileSync(file, 'utf8')).flatMap((specifier) => {
      const why = refusal(file, specifier);
      return why ? [`${relative(root, file)} ${why}`] : [];
    }),
  );
}

describe('production code (lib/, functions/)', () => {
  it('imports only itself, Node built-ins and dependencies', () => {
    const files = PRODUCTION.flatMap((dir) => sourceFiles(join(root, dir)));
    expect(files.length).toBeGreaterThan(20);
    expect(violations(files)).toEqual([]);
  });

  it('is told apart from development code by the check above', () => {
    const file = join(root, 'lib', 'domain', 'example.ts');
    const text = [
      "import { z } from 'zod';",
      "import { randomUUID } from 'node:crypto';",
      "import { problem } from '../http/problem';",
      "import type { StackInfo } from '../../dev/stack';",
      "export { mintToken } from '../../dev/issuer';",
      "const host = require('../../dev/functionsHost');",
      "const later = import('../../test/support/stack');",
      "import { OAuth2Issuer } from 'oauth2-mock-server';",
      "const azurite = require.resolve('azurite/dist/src/azurite.js');",
      "// a comment that says from '../../dev/x' names nothing",
    ].join('\n');
    expect(specifiersOf(text).flatMap((s) => refusal(file, s) ?? [])).toEqual([
      `imports ${join('dev', 'stack')} (outside lib/ and functions/)`,
      `imports ${join('dev', 'issuer')} (outside lib/ and functions/)`,
      `imports ${join('dev', 'functionsHost')} (outside lib/ and functions/)`,
      `imports ${join('test', 'support', 'stack')} (outside lib/ and functions/)`,
      'imports oauth2-mock-server, which is not in package.json "dependencies"',
      'imports azurite, which is not in package.json "dependencies"',
    ]);
  });
});
