/**
 * Writes the admin API's OpenAPI document (generated from the route schemas) to stdout:
 * `npm run openapi` refreshes `docs/api/openapi.json`, and a test checks the two agree.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { openEnsemble } from './app.js';

/** The OpenAPI document of a throw-away instance (nothing listens, nothing is kept). */
export async function generateOpenApi(): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'ensemble-openapi-'));
  const ensemble = await openEnsemble(parseConfig({ dataPath: join(dir, 'e.duckdb'), adminToken: 'x'.repeat(32) }), { logger: createLogger('silent') });
  try {
    await ensemble.http.ready();
    return ensemble.http.swagger();
  } finally {
    await ensemble.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await generateOpenApi(), null, 2)}\n`);
}
