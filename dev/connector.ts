// `npm run connector`: writes the Power Automate connector's definition
// (connector/apiDefinition.swagger.json) from the routes' registrations and
// schemas, as `npm run openapi` writes the OpenAPI document from them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCompiledFunctions } from './openapiTypes';
import { DEFINITION_FILE, definitionText } from './powerAutomate/definition';
import { projectRoot } from './project';

function main(): void {
  const root = projectRoot();
  loadCompiledFunctions(root);
  writeFileSync(join(root, DEFINITION_FILE), definitionText());
  console.log(`wrote ${DEFINITION_FILE}`);
}

main();
