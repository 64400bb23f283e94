// `npm run connector`: writes the Power Automate connector's definition
// (connector/apiDefinition.swagger.json) from the routes' registrations and
// schemas, as `npm run openapi` writes the OpenAPI document from them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { functionFiles } from './openapiTypes';
import { DEFINITION_FILE, definitionText } from './powerAutomate/definition';
import { projectRoot } from './project';

function main(): void {
  const root = projectRoot();
  // Loading the compiled function files registers their routes' documentation; outside a
  // Functions host the library says, for each, that it registers nothing: expected here.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/test mode/.test(String(args[0]))) warn(...args);
  };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded by path, as the worker loads "main"
    for (const file of functionFiles(join(root, 'dist', 'functions'), '.js')) require(file);
  } finally {
    console.warn = warn;
  }
  writeFileSync(join(root, DEFINITION_FILE), definitionText());
  console.log(`wrote ${DEFINITION_FILE}`);
}

main();
