// Builds the web console into dist/web/, which the Function App serves at the
// site's root (functions/web.ts). No inline script is emitted: the page's
// content security policy allows scripts from its own origin only.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // Inlined assets would be data: URLs in scripts and styles; files are simpler under the policy.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 2048,
  },
  server: { port: 5173 },
});
