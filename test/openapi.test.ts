/** docs/api/openapi.json is the document the code generates (run `npm run openapi` after changing a route). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateOpenApi } from '../src/main/openapi.js';

test('the committed OpenAPI document is up to date', async () => {
  const committed: unknown = JSON.parse(readFileSync(fileURLToPath(new URL('../../docs/api/openapi.json', import.meta.url)), 'utf8'));
  assert.deepEqual(committed, JSON.parse(JSON.stringify(await generateOpenApi())));
});
