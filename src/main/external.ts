/**
 * Wires external data sources: their store, definitions, the in-memory values segments read and
 * the pull scheduler. Loaded before the segments (their conditions read the values from the
 * first evaluation); the scheduler starts after activation and stops before the store closes.
 *
 * The wiring is the ExternalValues view itself, with the definitions and scheduler attached, so
 * it can be handed to whatever reads values (`external.value(ws, 'weather', city, 'temperature')`).
 *
 * @example
 *   const external = await wireExternal({ db, keys, clock, logger, config: config.external });
 *   external.start();
 *   // ... at shutdown, before the store closes
 *   await external.stop();
 */
import type { Clock } from '../platform/clock.js';
import type { ExternalConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { KeyRing } from '../privacy/key-ring.js';
import type { Database } from '../storage/duckdb/database.js';
import { DuckDbExternalStore } from '../storage/duckdb/external-store.js';
import { ExternalDefinitions } from '../external/external-sources.js';
import { ExternalValues } from '../external/external-values.js';
import { PullScheduler } from '../external/scheduler.js';

export type ExternalWiring = ExternalValues & {
  definitions: ExternalDefinitions;
  scheduler: PullScheduler;
  /** Starts the schedule (sources due are pulled at once). */
  start(): void;
  /** Aborts the pulls in flight and waits for them; no store query starts after. */
  stop(): Promise<void>;
};

export async function wireExternal(deps: {
  db: Database;
  keys: Pick<KeyRing, 'sealSecret' | 'openSecret'>;
  clock: Clock;
  logger: Logger;
  config: ExternalConfig;
  /** Tests hand in their own fetch; default: the global one. */
  fetch?: typeof fetch;
}): Promise<ExternalWiring> {
  const store = await DuckDbExternalStore.open(deps.db);
  const definitions = new ExternalDefinitions({
    store, now: () => deps.clock.now(),
    seal: (ws, text, aad) => deps.keys.sealSecret(ws, text, aad),
    open: (ws, token, aad) => deps.keys.openSecret(ws, token, aad),
  });
  const values = new ExternalValues();
  const scheduler = new PullScheduler({
    definitions, values, store, settings: deps.config, clock: deps.clock, logger: deps.logger, ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  await scheduler.load();
  return Object.assign(values, {
    definitions, scheduler,
    start: () => scheduler.start(),
    stop: () => scheduler.stop(),
  });
}
