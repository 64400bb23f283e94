import { defineConfig } from 'vitest/config';

// Two projects: pure unit tests that need nothing, and tests that need the
// local stack (a real Azurite, the local OpenID issuer and the functions host),
// which one global setup starts once and shares across files.
export default defineConfig({
  test: {
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
