/**
 * Wires predictive models: the store, the service (training and scoring on live profiles and
 * stored events), the rescoring schedule, consent withdrawals removing scores, and the routes.
 * The score book is made by app.ts before the segments, whose `score` conditions read it.
 *
 * @example
 *   const book = new ScoreBook();
 *   const segments = await wireSegments({ ...deps, scores: book });
 *   const predict = await wirePredict({ db, book, memory, identity, computed, segments, privacy, clock, logger });
 *   predict.start();
 */
import type { FastifyInstance } from 'fastify';
import type { Database } from '../storage/duckdb/database.js';
import { DuckDbModelStore } from '../storage/duckdb/model-store.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { ComputedTraitEngine } from '../profiles/computed-traits.js';
import type { IdentityService } from '../identity/identity-service.js';
import { purposePermitted } from '../privacy/purpose-permitted.js';
import { ModelService } from '../predict/model-service.js';
import type { ScoreBook } from '../predict/score-book.js';
import { registerModelRoutes } from '../api/model-routes.js';
import type { Catalog } from '../api/catalog.js';
import type { SegmentsWiring } from './segments.js';
import type { PrivacyWiring } from './privacy.js';

export interface PredictWiring {
  service: ModelService;
  book: ScoreBook;
  registerRoutes(scope: FastifyInstance, catalog: Pick<Catalog, 'workspace'>): void;
  /** Erasure: the people's scores. */
  forget(workspaceId: string, profileIds: readonly string[]): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/** How often the schedule looks for models whose scores are due (each model has its own interval). */
const CHECK_MS = 60_000;

export async function wirePredict(deps: {
  db: Database; book: ScoreBook; memory: ProfileMemory; identity: IdentityService; computed: ComputedTraitEngine;
  segments: SegmentsWiring; privacy: PrivacyWiring; clock: Clock; logger: Logger;
  /** The workspace's sources with the purposes they collect for. */
  sources(workspaceId: string): ReadonlyArray<{ id: string; purposes: readonly string[] }>;
}): Promise<PredictWiring> {
  const { memory, privacy, segments, clock, logger } = deps;
  const store = await DuckDbModelStore.open(deps.db);
  const service = new ModelService({
    store, conn: await deps.db.connect(), book: deps.book,
    *profiles(ws) { for (const p of memory.profiles.values()) if (p.workspaceId === ws) yield p; },
    live: (id) => memory.live(id)?.id,
    isPersonal: (ws, key) => deps.identity.rules(ws).isPersonal(key),
    sensitive: (ws, key) => Object.hasOwn(privacy.settings.sensitive(ws).traits, key),
    computed: (ws, id) => deps.computed.values(ws, id, clock.now()),
    segmentExists: (ws, id) => segments.engine.segment(ws, id) !== undefined,
    isMember: (ws, seg, pid) => segments.engine.isMember(ws, seg, pid),
    purposeExists: (ws, purpose) => privacy.settings.purpose(ws, purpose) !== undefined,
    sourcesFor: (ws, purpose) => deps.sources(ws).filter((s) => s.purposes.includes(purpose)).map((s) => s.id),
    computedSources: (ws, name) => deps.computed.definitions(ws).find((d) => d.name === name)?.sources ?? deps.sources(ws).map((s) => s.id),
    permitted: (ws, pid, purpose) => purposePermitted(privacy.ledger, privacy.settings, ws, pid, purpose),
    scoresChanged: (ws, refs) => segments.feed.scoresChanged(ws, refs),
    now: () => clock.now(),
    logger,
  });
  await service.load();
  const failed = (what: string) => (err: unknown) => logger.error({ err: err instanceof Error ? err.message : String(err) }, what);
  // A withdrawn consent (or a restriction) takes the person's scores away at once, not at the next run.
  privacy.ledger.onChange((ws, profileIds) => { service.consentChanged(ws, [...profileIds]).catch(failed('removing scores after a consent change failed')); });
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  return {
    service, book: deps.book,
    registerRoutes(scope, catalog) {
      registerModelRoutes(scope, { catalog, service, live: (ws, id) => { const p = memory.live(id); return p?.workspaceId === ws ? p.id : undefined; } });
    },
    forget: (ws, ids) => service.forget(ws, ids),
    start() {
      timer = setInterval(() => { running = service.rescoreDue().catch(failed('scheduled scoring failed')); }, CHECK_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
