/**
 * Wires file imports and inbound hooks into the server: the store, the job runner (resumed at
 * start), the hook registry, and their routes. Kept here so app.ts gains a few lines only.
 *
 * @example
 *   const imports = await openImports({ db, collector, catalog, identity, memory, clock, logger, dataPath });
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/logger.js';
import type { Collector } from '../collector.js';
import type { Catalog } from '../../api/catalog.js';
import type { IdentityService } from '../../identity/identity-service.js';
import type { ProfileMemory } from '../../profiles/profile-memory.js';
import type { Database } from '../../storage/duckdb/database.js';
import { ImportStore } from '../../storage/duckdb/import-store.js';
import { registerHookAdminRoutes } from '../../api/hook-routes.js';
import { registerHookRoutes } from '../routes/hooks.js';
import { hashEmail, ImportJobs } from './import-jobs.js';
import { HookRegistry } from './hooks.js';
import { WatchDir } from './watch-dir.js';

export interface ImportsDeps {
  db: Database;
  collector: Collector;
  catalog: Catalog;
  identity: IdentityService;
  memory: ProfileMemory;
  clock: Clock;
  logger: Logger;
  dataPath: string;
  watch: { watchDir?: string; watchIntervalMs: number };
  lag: () => number;
}

export async function openImports(deps: ImportsDeps) {
  const store = await ImportStore.open(deps.db);
  const source = (ws: string, id: string) => deps.catalog.source(ws, id);
  const jobs = new ImportJobs({
    store, collector: deps.collector, source, clock: deps.clock, log: deps.logger, lag: deps.lag,
    hashedEmails: (ws) => emailIndex(deps, ws),
  });
  const hooks = new HookRegistry(store, () => deps.clock.now());
  await hooks.load();
  await jobs.resume();
  const dir = deps.dataPath === ':memory:' ? join(tmpdir(), `ensemble-${process.pid}-imports`) : `${deps.dataPath.replace(/\.[^./\\]+$/, '')}-imports`;
  const watcher = deps.watch.watchDir
    ? new WatchDir({ dir: deps.watch.watchDir, intervalMs: deps.watch.watchIntervalMs, jobs, store, catalog: deps.catalog, log: deps.logger, uploadDir: dir })
    : null;
  watcher?.start();
  return {
    store, jobs, hooks, watcher,
    routes: { jobs, store, dir },
    registerPublic: (app: FastifyInstance) => registerHookRoutes(app, { hooks, collector: deps.collector, source, clock: deps.clock }),
    registerAdmin: (app: FastifyInstance) => registerHookAdminRoutes(app, { catalog: deps.catalog, hooks }),
    stop: async () => {
      await watcher?.stop();
      await jobs.stop();
    },
  };
}

/**
 * sha256(email) → how events name the profile holding that email, for third-party attributes.
 * Identifiers are stored sealed with keyed lookup hashes, which a third party cannot compute;
 * so the job opens the workspace's email identifiers once and hashes them the third party's way.
 * The index lives only for the job and holds no clear email.
 */
function emailIndex(deps: ImportsDeps, ws: string): Map<string, { userId: string } | { anonymousId: string }> {
  const out = new Map<string, { userId: string } | { anonymousId: string }>();
  for (const rec of deps.memory.identities.values()) {
    if (rec.workspaceId !== ws || rec.type !== 'email') continue;
    const clear = deps.identity.clearValue(rec);
    const who = clear === null ? undefined : deps.identity.eventIdentity(rec.profileId);
    if (clear !== null && who) out.set(hashEmail(clear), who);
  }
  return out;
}
