// The web console's client types are generated from the OpenAPI document
// (`npm run openapi`); a route, body or shape changed without regenerating
// them fails here, and the console, typed against them, cannot drift.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/http/openapi';
import { functionFiles, SCHEMA_TYPES_FILE, schemaTypes } from '../../dev/openapiTypes';

const root = join(__dirname, '../..');

beforeAll(async () => {
  for (const file of functionFiles(join(root, 'functions'), '.ts')) await import(file);
});

describe("the web console's API client", () => {
  it('is generated from the OpenAPI document as it is now (run `npm run openapi` when this fails)', async () => {
    const committed = readFileSync(join(root, SCHEMA_TYPES_FILE), 'utf8');
    expect(committed).toBe(await schemaTypes(openApiDocument()));
  }, 60_000);
});
