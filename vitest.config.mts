import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Where test/support/secrets.ts looks for the console of the test processes.
const logDir = fileURLToPath(new URL('./test/.logs/', import.meta.url));

// Two projects: pure unit tests that need nothing, and tests that need the
// local stack (a real Azurite, the local OpenID issuer and the functions host),
// which one global setup starts once and shares across files.
export default defineConfig({
  test: {
    // What the code under test prints is searched for secrets too (test/support/secrets.ts).
    onConsoleLog: (log) => {
      mkdirSync(logDir, { recursive: true });
      appendFileSync(join(logDir, 'console.log'), `${log}\n`);
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'stack',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/globalSetup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
