// `npm run openapi`: writes the API's OpenAPI document to dist/openapi.json and
// the web console's client types generated from it to web/src/api/schema.d.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../lib/http/openapi';
import { loadCompiledFunctions, SCHEMA_TYPES_FILE, schemaTypes } from './openapiTypes';
import { projectRoot } from './project';

async function main(): Promise<void> {
  const root = projectRoot();
  loadCompiledFunctions(root);
  const document = openApiDocument();
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'dist', 'openapi.json'), `${JSON.stringify(document, null, 2)}\n`);
  writeFileSync(join(root, SCHEMA_TYPES_FILE), await schemaTypes(document));
  console.log(`wrote dist/openapi.json and ${SCHEMA_TYPES_FILE}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
