/**
 * Wires one Ensemble node: the embedded store, the collector with group commit, the processor,
 * in-memory profile state, and the HTTP server (ingest, admin API, health, metrics).
 * This is the only place that knows which adapter implements which port.
 *
 * @example
 *   const ensemble = await openEnsemble(parseConfig({ dataPath: './data/e.duckdb' }));
 *   await ensemble.listen();
 *   // ... later
 *   await ensemble.close();
 */
import { BurstPolicy } from '../processor/burst-policy.js';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import fastifyCookie from '@fastify/cookie';
import type { Config } from '../platform/config.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { createMetrics, type Metrics } from '../platform/metrics.js';
import { systemClock, type Clock } from '../platform/clock.js';
import { Database } from '../storage/duckdb/database.js';
import { DuckDbConfigStore } from '../storage/duckdb/config-store.js';
import { compactStore, PURGE_PENDING } from '../storage/duckdb/compact.js';
import { DuckDbEventLog } from '../storage/duckdb/event-log.js';
import { DuckDbProcessingStore } from '../storage/duckdb/processing-store.js';
import { DuckDbEventStore } from '../storage/duckdb/event-store.js';
import { SourceRegistry } from '../collect/source-registry.js';
import { DedupeIndex, dedupeKey } from '../collect/dedupe.js';
import { GroupCommitLog } from '../collect/group-commit.js';
import { Collector } from '../collect/collector.js';
import { PreparePool } from '../collect/prepare-pool.js';
import { openIpLookup } from '../collect/steps/ip.js';
import { registerIngestRoutes } from '../collect/routes/ingest.js';
import { registerTagRoutes } from '../collect/routes/tag.js';
import { ScoreBook } from '../predict/score-book.js';
import { wirePredict, type PredictWiring } from './predict.js';
import { registerConsoleStatic } from '../api/console-static.js';
import { registerProfileJourneyRoutes } from '../api/profile-journey-routes.js';
import { ProfileMemory } from '../profiles/profile-memory.js';
import { IdentityService } from '../identity/identity-service.js';
import { decodeProfile } from '../identity/personal-data.js';
import { ProfileRebuilder } from '../identity/split.js';
import { KeyRing } from '../privacy/key-ring.js';
import { loadMasterKey } from '../privacy/master-key.js';
import { generateMasterKeyText, parseMasterKey } from '../platform/crypto.js';
import { Processor } from '../processor/processor.js';
import { Catalog } from '../api/catalog.js';
import { ensureAdminToken, requireApiToken } from '../api/admin-auth.js';
import { wireAuth, type AuthWiring } from './auth.js';
import { registerIdentityRoutes } from '../api/identity-routes.js';
import { registerImportRoutes } from '../api/import-routes.js';
import { openImports } from '../collect/import/imports.js';
import { backfillDefinition, registerComputedTraitRoutes } from '../api/computed-trait-routes.js';
import { ComputedTraitEngine } from '../profiles/computed-traits.js';
import { DuckDbComputedTraitStore } from '../storage/duckdb/computed-trait-store.js';
import { followComputedTraits } from '../profiles/computed-trait-follower.js';
import { hashSecret } from '../platform/secret-hash.js';
import { registerErrorHandling } from '../api/error-handler.js';
import { useTypeBoxValidation } from '../api/validator.js';
import { trackInFlight } from '../api/graceful-close.js';
import { registerWorkspaceRoutes } from '../api/workspace-routes.js';
import { registerProfileRoutes } from '../api/profile-routes.js';
import { registerSegmentRoutes } from '../api/segment-routes.js';
import { wireSegments, type SegmentsWiring } from './segments.js';
import { wireExternal, type ExternalWiring } from './external.js';
import { registerExternalSourceRoutes } from '../api/external-source-routes.js';
import { loadPrivacySettings, wirePrivacy, wireRights, type PrivacyWiring } from './privacy.js';
import { registerRightsRoutes } from '../api/rights-routes.js';
import { registerBreachRoutes } from '../api/breach-routes.js';
import { SecurityMonitor } from '../privacy/security-monitor.js';
import { BreachService } from '../privacy/breaches.js';
import { DuckDbBreachStore } from '../storage/duckdb/breach-store.js';
import { registerRegisterRoutes } from '../api/register-routes.js';
import { ControllerSettings } from '../privacy/controller-settings.js';
import { requireComputedSourcesFor, requireSourceFor } from '../privacy/purpose-limitation.js';
import type { RightsService } from '../privacy/rights-service.js';
import type { RetentionJob } from '../privacy/retention.js';
import { registerPrivacyRoutes } from '../api/privacy-routes.js';
import { AuditLog } from '../privacy/audit-log.js';
import { DuckDbAuditStore } from '../storage/duckdb/audit-store.js';
import { registerAuditHook } from '../api/audit-hook.js';
import { registerAuditRoutes } from '../api/audit-routes.js';
import { leaves } from '../protocol/segment.js';
import { wireActivation, type ActivationWiring } from './activation.js';
import { registerDestinationRoutes } from '../api/destination-routes.js';
import { registerJourneyRoutes } from '../api/journey-routes.js';
import { PersonalizationSettings } from '../activate/personalization.js';
import { registerPersonalize } from '../collect/routes/personalize.js';
import { registerCookieSync } from '../collect/routes/cookie-sync.js';
import { registerMessageLinks } from '../collect/routes/message-links.js';
import { traitValues } from '../profiles/traits.js';
import { verifyTwilioSignature } from '../activate/twilio-sms/index.js';
import { channelOf } from '../activate/pressure.js';
import { SegmentLog } from '../storage/file-log/segment-log.js';
import type { EventLog, EventStore } from '../storage/ports.js';
import { wireGeo, type GeoWiring } from './geo.js';
import { registerGeofenceRoutes } from '../api/geofence-routes.js';
import { AnalyticsReader } from '../analytics/reader.js';
import { DebuggerTap } from '../analytics/debugger-tap.js';
import { registerAnalyticsRoutes } from '../api/analytics-routes.js';
import { registerProfileListRoutes } from '../api/profile-list-routes.js';
import { registerDebuggerRoutes } from '../api/debugger-routes.js';

/** The source id the traits a journey sets are attributed to. */
const JOURNEY_SOURCE = 'journeys';

export interface Ensemble {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  http: FastifyInstance;
  catalog: Catalog;
  collector: Collector;
  processor: Processor;
  memory: ProfileMemory;
  identity: IdentityService;
  rebuilder: ProfileRebuilder;
  segments: SegmentsWiring;
  privacy: PrivacyWiring;
  audit: AuditLog;
  rights: RightsService;
  retention: RetentionJob;
  activation: ActivationWiring;
  /** External data sources (weather, open data) and the values segment conditions read. */
  external: ExternalWiring;
  geo: GeoWiring;
  /** Predictive models: training, scoring, the score book. */
  predict: PredictWiring;
  /** File import jobs and inbound hooks. */
  imports: Awaited<ReturnType<typeof openImports>>;
  events: EventStore;
  /** The admin token when it was generated by this start (to print once), else null. */
  generatedAdminToken: string | null;
  /** Console users, sessions and API keys (src/auth/). */
  auth: AuthWiring;
  /** Every route registered on `http` (method, pattern): the route-policy test walks them. */
  routes: ReadonlyArray<{ method: string; url: string }>;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  /** Graceful stop: refuse new events, answer those in flight, flush, stop the processor, close the store. */
  close(): Promise<void>;
}

/** The log folder: configured, or `<data file without extension>-log` beside the data file. */
export function logDirFor(config: Config): string {
  if (config.storage.logDir) return config.storage.logDir;
  const base = config.dataPath === ':memory:' ? join(tmpdir(), `ensemble-${process.pid}`) : config.dataPath.replace(/\.[^./\\]+$/, '');
  return `${base}-log`;
}

export interface OpenOptions {
  logger?: Logger;
  clock?: Clock;
}

export async function openEnsemble(config: Config, opts: OpenOptions = {}): Promise<Ensemble> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? systemClock;
  const metrics = createMetrics();
  let db = await Database.open(config.dataPath, { checkpointThreshold: config.storage.checkpointThreshold });
  let configStore = await DuckDbConfigStore.open(db);
  if (config.dataPath !== ':memory:' && (await configStore.getSetting(PURGE_PENDING)) !== null) {
    // An erasure happened since the last compaction: rewrite the file so none of its bytes stay behind.
    await db.close();
    const { bytesBefore, bytesAfter } = await compactStore(config.dataPath);
    logger.info({ bytesBefore, bytesAfter }, 'store compacted after erasures');
    db = await Database.open(config.dataPath, { checkpointThreshold: config.storage.checkpointThreshold });
    configStore = await DuckDbConfigStore.open(db);
    await configStore.deleteSetting(PURGE_PENDING);
  }
  const eventLog: EventLog = config.storage.log === 'duckdb' ? await DuckDbEventLog.open(db) : await SegmentLog.open(logDirFor(config));
  const processingStore = await DuckDbProcessingStore.open(db);
  const eventStore = await DuckDbEventStore.open(db);

  const admin = await ensureAdminToken(configStore, config.adminToken);
  const auth = await wireAuth({ db, config: config.auth, clock, logger });
  const privacySettings = await loadPrivacySettings(configStore);
  const controllerSettings = new ControllerSettings(configStore);
  await controllerSettings.load();
  const catalog = new Catalog(configStore, new SourceRegistry(), clock, privacySettings);
  await catalog.load();
  const audit = await AuditLog.open(await DuckDbAuditStore.open(db), {
    clock,
    onError: (err) => logger.error({ err: { name: err.name, message: err.message } }, 'audit log write failed; entries kept and retried'),
  });
  // Breach support: the audit hook shows the monitor every call; detections are audited too.
  const breachStore = await DuckDbBreachStore.open(db);
  const monitor = new SecurityMonitor({ store: breachStore, audit, metrics, logger, clock, config: config.security });
  const breaches = new BreachService({ store: breachStore, monitor, now: () => clock.now() });
  // 100k unwrapped data keys (~15 MB): a profile read then costs one AES-GCM open, not two.
  const keys = new KeyRing(masterKeyFor(config, logger), { cacheSize: 100_000 });
  for (const k of await processingStore.loadKeys()) keys.load(k.workspaceId, k.profileId, k.wrapped);
  const memory = new ProfileMemory();
  const identity = new IdentityService(configStore, keys, memory);
  await identity.load();
  identity.barriers.load(await processingStore.loadBarriers());
  memory.load((await processingStore.loadProfiles()).map((p) => decodeProfile(p, keys)), await processingStore.loadIdentities());
  const rebuilder = new ProfileRebuilder({ memory, store: processingStore, identity, now: () => clock.now() });
  // Profiles are derived data: when a store has events but no profiles (an upgrade from a version
  // that kept identifiers in clear dropped them), they are rebuilt from the events.
  if (memory.profiles.size === 0) {
    for (const ws of catalog.listWorkspaces()) {
      const ids = await processingStore.profileIdsWithEvents(ws.id);
      if (ids.length === 0) continue;
      logger.warn({ workspaceId: ws.id, profiles: ids.length }, 'rebuilding profiles from stored events');
      await rebuilder.rebuild(ws.id, ids, []);
    }
  }

  const windowMs = config.collect.dedupeWindowSeconds * 1000;
  const dedupe = new DedupeIndex(windowMs, clock.now());
  const since = clock.now() - windowMs;
  for (const [ws, id] of await eventStore.recentMessageIds(since)) dedupe.remember(dedupeKey(ws, id));
  for (const [ws, id] of await eventLog.recentMessageIds(since)) dedupe.remember(dedupeKey(ws, id));

  // The log may have been pruned up to the cursor: never reuse a seq the processor has seen.
  const logEnd = await eventLog.lastSeq();
  const cursor = await processingStore.cursor();
  const groupCommit = new GroupCommitLog(eventLog, (logEnd > cursor ? logEnd : cursor) + 1n, metrics, config.collect.maxGroupEvents);
  const privacy = await wirePrivacy({ db, settings: privacySettings, catalog, memory, identity, clock });
  const burst = new BurstPolicy({ lagBudget: config.processor.burstLagBudget, share: config.processor.burstShare });
  const processor = new Processor({
    log: eventLog, store: processingStore, memory, policy: identity, config: config.processor,
    metrics, logger, clock, committedSeq: () => groupCommit.committedSeq, burst, consent: privacy.step,
  });
  groupCommit.onCommit(() => processor.wake());
  const ip = await openIpLookup();
  // The live event debugger's tap: one Map lookup per request while nobody watches.
  const tap = new DebuggerTap(() => clock.now());
  const collector = new Collector({ config: config.collect, log: groupCommit, dedupe, ip, metrics, clock, logLag: () => processor.lag, tap });
  const analyticsReader = await AnalyticsReader.open(db);
  const pool = config.collect.prepareThreads > 0 ? new PreparePool(config.collect.prepareThreads) : null;
  const computedStore = await DuckDbComputedTraitStore.open(db);
  const computed = new ComputedTraitEngine();
  followComputedTraits(computed, identity, rebuilder, memory);
  // External values (not personal data) are loaded before segments: their conditions read them.
  const external = await wireExternal({ db, keys, clock, logger, config: config.external });
  // Predictive models' scores: segment `score` conditions read them (src/predict/).
  const scoreBook = new ScoreBook();
  // Segments read computed traits: they follow committed batches after them.
  const segments = await wireSegments({
    db, memory, computed, identity, rebuilder, clock, logger, metrics, config: config.segments,
    cursor: () => processor.cursor, exclusive: (fn) => processor.exclusive(fn), burst, consents: privacy.ledger, privacy: privacy.settings,
    sources: (id) => catalog.sources.get(id), sourcesOf: (ws) => catalog.sources.list(ws), external,
    scores: scoreBook,
  });
  const predict = await wirePredict({ db, book: scoreBook, memory, identity, computed, segments, privacy, clock, logger, sources: (ws) => catalog.sources.list(ws) });
  const computedDeps = {
    catalog, store: computedStore, engine: computed, clock, live: (_ws: string, id: string) => memory.live(id)?.id ?? id, cursor: () => processor.cursor,
    usedBy: (ws: string, name: string) => segments.engine.segments(ws)
      .filter((s) => leaves(s.definition).some((l) => l.kind === 'computed' && l.name === name)).map((s) => ({ id: s.id, name: s.name })),
  };
  let baseUrl = config.activation.publicUrl ?? `http://${config.host}:${config.port}`;
  const activation = await wireActivation({
    db, keys, memory, identity, segments, privacy, config: config.activation, metrics, logger, clock, baseUrl: () => baseUrl,
    sources: (ws) => catalog.sources.list(ws), source: (id) => catalog.sources.get(id),
    computed: (ws, id, name, at) => computed.valueOf(ws, id, name, at),
    computedExists: (ws, name) => computed.definitions(ws).some((d) => d.name === name),
    configStore,
    spent: (ms) => burst.spent(ms),
    updateTraits: async (ws, pid, traits, messageId) => {
      const who = identity.eventIdentity(pid);
      if (!who) return;
      await collector.ingest({ source: { id: JOURNEY_SOURCE, workspaceId: ws }, type: null, envelope: {}, events: [{ type: 'identify', messageId, traits, ...who }] });
    },
  });
  const personalization = new PersonalizationSettings(configStore, (ws, trait) => identity.rules(ws).isPersonal(trait));
  await personalization.load();
  const { rights, retention } = await wireRights(privacy, {
    db, memory, identity, clock, logger, audit, truncateIp: config.collect.truncateIp, log: eventLog, processor, collector, computed, segments,
    workspaces: () => catalog.listWorkspaces().map((w) => w.id),
    beforeForget: (ws, ids) => { geo.tracker.forget(ids); return Promise.all([activation.forget(ws, ids), predict.forget(ws, ids)]).then(() => undefined); },
  });
  const geo = await wireGeo({ db, configStore, clock, logger, memory, identity, collector });
  // Before the processor: its catch-up reads the stored events as they are now; what follows is observed live.
  await geo.start();
  await processor.start();
  const imports = await openImports({ db, collector, catalog, identity, memory, clock, logger, dataPath: config.dataPath, watch: config.imports, lag: () => processor.lag });
  // After start: the cursor is the stored one, and events processed meanwhile are observed live.
  for (const def of await computedStore.list()) await backfillDefinition(computedDeps, def);
  await segments.start();
  await activation.start();
  external.start();
  predict.start();
  // Daily; the first run a minute after start, off the start-up path.
  retention.start(86_400_000, 60_000, (err) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'retention run failed'));

  const http = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Request lines would log client IPs and URLs with ids: personal data stays out of logs.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    // Signed message links carry their payload in the path (a click target up to 4 KB).
    routerOptions: { maxParamLength: 12 * 1024 },
  });
  const routes: Array<{ method: string; url: string }> = [];
  http.addHook('onRoute', (r) => { for (const method of [r.method].flat()) routes.push({ method, url: r.url }); });
  useTypeBoxValidation(http);
  const httpClose = trackInFlight(http);
  registerErrorHandling(http);
  // Parses cookies before the /api scope's hooks run (the console's session cookie, api/admin-auth.ts).
  await http.register(fastifyCookie, { hook: 'onRequest' });
  await http.register(swagger, {
    openapi: {
      info: { title: 'Ensemble admin API', version: '0.1.0', description: 'Workspaces, sources and profiles. Ingest is Segment-compatible under /v1.' },
      components: {
        securitySchemes: {
          adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token, the reader token or an API key (ens_key_…); see docs/users-and-roles.md.' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'ensemble_session', description: 'A console session from POST /api/auth/login; state-changing calls also send x-csrf-token.' },
          writeKey: { type: 'http', scheme: 'basic', description: 'The source write key as the username, empty password (or X-Write-Key, or writeKey in the body).' },
        },
      },
      security: [{ adminToken: [] }, { sessionCookie: [] }],
    },
  });
  await http.register(async (scope) => registerIngestRoutes(scope, { collector, sources: catalog.sources, clock, settings: config.collect, ip, pool }));
  await http.register(async (scope) => imports.registerPublic(scope));
  await http.register(async (scope) => registerTagRoutes(scope, { sources: catalog.sources, clock }));
  // The web console at / (static files + SPA fallback; never under /api, /v1, /tag*, /health*, /metrics).
  await http.register(async (scope) => registerConsoleStatic(scope));
  const profileByIdentifier = (ws: string, type: 'anonymous_id' | 'user_id', value: string) => {
    try {
      return identity.lookup(ws, type, value);
    } catch {
      return undefined; // a blocked value points to no one
    }
  };
  await http.register(async (scope) => {
    registerPersonalize(scope, {
      sources: catalog.sources, clock, settings: personalization,
      profileOf: (ws, type, value) => { const p = profileByIdentifier(ws, type, value); return p ? { id: p.id, traits: traitValues(p) } : undefined; },
      permitted: (ws, pid, purpose) => activation.permitted(ws, pid, purpose),
      segmentsOf: (ws, pid) => segments.engine.segments(ws).filter((s) => (s.sensitive ?? []).length === 0 && segments.engine.isMember(ws, s.id, pid)).map((s) => s.id),
    });
    registerCookieSync(scope, {
      partners: config.activation.syncPartners, sources: catalog.sources, collector, clock, baseUrl: () => baseUrl,
      mayAdvertise: (ws, anonymousId) => { const p = profileByIdentifier(ws, 'anonymous_id', anonymousId); return p !== undefined && activation.permitted(ws, p.id, 'advertising'); },
      ensureType: async (ws, type) => {
        const cfg = identity.config(ws);
        if (cfg.types.some((t) => t.type === type)) return;
        const priority = Math.max(...cfg.types.map((t) => t.priority)) + 1;
        await identity.setConfig(ws, { ...cfg, types: [...cfg.types, { type, priority, limit: 5, normaliser: 'id', personal: true, blocked: [], blockedPatterns: [] }] });
      },
    });
    registerMessageLinks(scope, {
      collector, clock, verify: (token) => activation.messages.verify(token),
      who: (_ws, pid) => identity.eventIdentity(pid),
      channel: (p) => channelOf(activation.destinations.find(p.d)?.type ?? ''),
      baseUrl: () => baseUrl,
      genuineStatus: (p, url, form, headers) => {
        const d = activation.destinations.find(p.d);
        if (d?.type !== 'twilio-sms') return false;
        const signature = headers['x-twilio-signature'];
        return verifyTwilioSignature(String(d.config.authToken), url, form, typeof signature === 'string' ? signature : null);
      },
      unsubscribe: async (p) => {
        const d = activation.destinations.find(p.d);
        const purpose = d?.purpose ?? 'email_marketing';
        const live = memory.live(p.p);
        if (live) await privacy.consents.record(p.w, live.id, { consents: [{ purpose, status: 'withdrawn' }], reference: `unsubscribe:${p.m}` }, 'unsubscribe');
        return privacy.settings.purpose(p.w, purpose)?.name ?? purpose;
      },
    });
  });
  await http.register(async (scope) => {
    requireApiToken(scope, { admin: admin.hash, reader: config.readerToken ? hashSecret(config.readerToken) : null }, new Set(['/api/openapi.json']), auth.session);
    registerAuditHook(scope, audit, { catalog, pseudonym: (ws, id) => keys.pseudonym(ws, 'profile', id), monitor });
    registerAuditRoutes(scope, { audit, catalog });
    auth.register(scope);
    scope.get('/api/openapi.json', { schema: { hide: true } }, async () => http.swagger());
    registerWorkspaceRoutes(scope, catalog);
    const profileDeps = { catalog, memory, events: eventStore, identity, computed: (ws: string, id: string) => ({ ...computed.values(ws, id, clock.now()), ...scoreBook.traitsOf(ws, id) }) };
    registerProfileRoutes(scope, profileDeps);
    registerIdentityRoutes(scope, { ...profileDeps, store: processingStore, rebuilder, exclusive: (fn) => processor.exclusive(fn) });
    registerImportRoutes(scope, { catalog, collector, identity, memory, clock, settings: config.collect, jobs: imports.routes });
    imports.registerAdmin(scope);
    registerComputedTraitRoutes(scope, computedDeps);
    registerPrivacyRoutes(scope, { catalog, memory, settings: privacy.settings, consents: privacy.consents, store: privacy.store, retention,
      reclassify: (ws) => segments.reclassify(ws) });
    registerRegisterRoutes(scope, {
      catalog, settings: privacy.settings, controller: controllerSettings, now: () => clock.now(),
      recipients: (ws) => activation.destinations.list(ws).map((d) => ({
        id: d.id, name: d.name, kind: activation.destinations.manifestOf(d).name, purpose: d.purpose,
        country: d.recipient.country, transferSafeguard: d.recipient.transferSafeguard,
      })),
      facts: (ws) => ({
        ipTruncation: config.collect.truncateIp,
        personalIdentifierTypes: identity.config(ws).types.filter((t) => t.personal).map((t) => t.type),
        auditLog: true,
        readerToken: config.readerToken !== undefined,
        logRetentionSeconds: config.processor.logRetentionSeconds,
      }),
    });
    registerBreachRoutes(scope, { catalog, breaches, controller: controllerSettings, now: () => clock.now() });
    registerRightsRoutes(scope, {
      catalog, rights, now: () => clock.now(),
      bundle: {
        memory, identity, events: eventStore, segments: segments.engine,
        computed: (ws, id, at) => ({ ...computed.values(ws, id, at), ...scoreBook.traitsOf(ws, id) }),
        consents: (ws, id) => privacy.consents.history(ws, id),
        sources: (ws) => catalog.sources.list(ws),
        retention: (ws) => privacy.settings.retention(ws),
        recipients: (ws, id) => activation.receipts(ws, memory.lineage(id)),
      },
    });
    registerDestinationRoutes(scope, { catalog, activation, personalization, now: () => clock.now() });
    registerGeofenceRoutes(scope, { catalog, fences: geo.fences });
    registerAnalyticsRoutes(scope, {
      catalog, reader: analyticsReader, now: () => clock.now(), sources: (ws) => catalog.sources.list(ws), rejectedToday: (id) => tap.rejectedToday(id),
      isPersonal: (ws, key) => identity.rules(ws).isPersonal(key), purposes: (ws) => privacy.settings.purposes(ws).map((p) => p.id),
      processingLagMs: async () => {
        if (processor.lag === 0) return 0;
        const [oldest] = await eventLog.readAfter(processor.cursor, 1);
        return oldest ? Math.max(0, clock.now() - oldest.receivedAt) : 0;
      },
    });
    registerProfileListRoutes(scope, { catalog, reader: analyticsReader, memory, identity });
    registerDebuggerRoutes(scope, { catalog, tap });
    registerJourneyRoutes(scope, { catalog, journeys: activation.journeys, store: activation.store, pressure: activation.pressure });
    registerProfileJourneyRoutes(scope, { catalog, memory, journeys: activation.journeys });
    registerExternalSourceRoutes(scope, { catalog, external });
    predict.registerRoutes(scope, catalog);
    registerSegmentRoutes(scope, { catalog, service: segments.service, engine: segments.engine, store: segments.store, memory, identity, clock, written: () => segments.writer.drain(),
      purposes: (ws, ids, definition) => {
        privacy.settings.requirePurposes(ws, ids);
        requireSourceFor(catalog.sources.list(ws), ids);
        const read = new Set(leaves(definition).flatMap((l) => (l.kind === 'computed' ? [l.name] : [])));
        requireComputedSourcesFor(catalog.sources.list(ws), ids, computed.definitions(ws).filter((d) => read.has(d.name)));
      },
      approve: (ws, id, approval) => privacy.settings.setApproval(ws, id, approval) });
  });
  http.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok', logLag: processor.lag, processedSeq: processor.cursor.toString() }));
  http.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    metrics.logLag.set(processor.lag);
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  let closed = false;
  return {
    config, logger, metrics, http, catalog, collector, processor, memory, identity, rebuilder, events: eventStore, segments, privacy, audit, rights, retention, activation, geo,
    external, imports, predict,
    generatedAdminToken: admin.generated,
    auth, routes,
    async listen() {
      const address = await http.listen({ port: config.port, host: config.host });
      if (!config.activation.publicUrl) baseUrl = address;
      logger.info({ address }, 'listening');
      return address;
    },
    async close() {
      if (closed) return;
      closed = true;
      // Derived geofence events already underway reach the log (the rest are re-derived at the next start).
      await geo.tracker.flushed();
      await imports.stop();
      collector.close();
      retention.stop();
      tap.close();
      await httpClose.close();
      // After the HTTP server: the answers in flight have recorded their entries.
      await monitor.close();
      await audit.close().catch((err: Error) => logger.error({ err: { name: err.name, message: err.message } }, 'audit log not flushed at shutdown'));
      await groupCommit.flush();
      await pool?.close();
      await processor.stop();
      await predict.stop();
      await segments.stop();
      await activation.stop();
      await external.stop();
      await eventLog.close();
      await db.close();
      logger.info('stopped');
    },
  };
}

/**
 * The master key: configured; else, for an in-memory store, an ephemeral one; else the key file
 * beside the data file (generated on first start).
 */
function masterKeyFor(config: Config, logger: Logger): Buffer {
  if (config.dataPath === ':memory:') return parseMasterKey(config.masterKey ?? generateMasterKeyText());
  const keyFile = config.dataPath.replace(/\.[^./\\]+$/, '') + '.key';
  const loaded = loadMasterKey({ configured: config.masterKey, keyFile });
  if (loaded.source === 'generated') logger.warn('generated a master key beside the data file: keep it out of the data backups, or set ENSEMBLE_MASTER_KEY');
  if (loaded.warning) logger.warn(loaded.warning);
  return loaded.key;
}
