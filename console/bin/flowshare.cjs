#!/usr/bin/env node
// The `flowshare` command (package.json "bin"): runs the compiled console,
// building it first in a checkout where it has not been built yet
// (`npm run build:console` builds it again after a change).
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { execFileSync } = require('node:child_process');

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'console', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write('flowshare: building the command (once)…\n');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', join(root, 'tsconfig.console.json')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
require(cli)
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
