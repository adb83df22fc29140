/**
 * Wires segmentation: the incremental engine reads profiles from memory and computed traits,
 * follows committed batches and splits (after computed traits, whose values it reads), and its
 * membership changes go to the store through the writer; the reconciliation job runs on a timer.
 */
import type { BurstPolicy } from '../processor/burst-policy.js';
import type { Clock } from '../platform/clock.js';
import type { SegmentsConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { ProfileRebuilder } from '../identity/split.js';
import type { CommittedEvent } from '../processor/processor.js';
import type { ComputedTraitEngine } from '../profiles/computed-traits.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import { SegmentEngine, type ProfileFacts, type SegmentEvent } from '../segments/engine.js';
import { locationOf } from '../protocol/geo.js';
import { externalKey, type ExternalValues } from '../external/external-values.js';
import { MembershipWriter } from '../segments/membership-writer.js';
import { SegmentService } from '../segments/segment-service.js';
import { SegmentFeed } from '../segments/segment-feed.js';
import type { Database } from '../storage/duckdb/database.js';
import type { ConsentLedger } from '../privacy/consent-ledger.js';
import type { PrivacySettings } from '../privacy/privacy-settings.js';
import { sensitiveCategoriesOf } from '../privacy/sensitive-data.js';
import { purposePermitted } from '../privacy/purpose-permitted.js';
import type { StoredSegment } from '../protocol/segment.js';
import type { Source } from '../protocol/workspace.js';
import type { ComputedTraitDefinition } from '../protocol/computed-trait.js';
import { DuckDbSegmentStore } from '../storage/duckdb/segment-store.js';

export interface SegmentsWiring {
  engine: SegmentEngine;
  /** Resolves once every processed batch has reached the engine. */
  feed: SegmentFeed;
  service: SegmentService;
  store: DuckDbSegmentStore;
  writer: MembershipWriter;
  /** After the special-category tags changed: segments whose classification changed are saved again (and refilled). */
  reclassify(workspaceId: string): Promise<void>;
  /** Fills every stored segment (after the processor started) and starts the reconciliation job. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Whether a source collects for all these purposes (an unknown source — e.g. a rectification — for none). */
function serves(source: Source | undefined, purposes: readonly string[]): boolean {
  return source !== undefined && purposes.every((p) => source.purposes.includes(p));
}

/** The segment with the special categories its rule reads now, and its approval if it is for this rule. */
function classify(s: StoredSegment, privacy: PrivacySettings, computedDef: (ws: string, name: string) => ComputedTraitDefinition | undefined): StoredSegment {
  const sensitive = sensitiveCategoriesOf(s.definition, privacy.sensitive(s.workspaceId), (name) => {
    const d = computedDef(s.workspaceId, name);
    return d ? [...(d.property ? [d.property] : []), ...(d.filters ?? []).map((f) => f.property)] : [];
  });
  const approval = privacy.approval(s.workspaceId, s.id);
  const { sensitive: _s, approvedAt: _a, ...rest } = s;
  return {
    ...rest,
    ...(sensitive.length > 0 ? { sensitive } : {}),
    ...(sensitive.length > 0 && approval && approval.definition === JSON.stringify(s.definition) ? { approvedAt: approval.at } : {}),
  };
}

function segmentEvent(c: CommittedEvent): SegmentEvent {
  const e = c.event;
  return {
    type: e.type, event: e.event ?? null, properties: e.properties, at: c.at, seq: c.seq, sourceId: e.sourceId,
    location: locationOf(e.context), country: e.country,
  };
}

export async function wireSegments(deps: {
  db: Database; memory: ProfileMemory; computed: ComputedTraitEngine; identity: IdentityService; rebuilder: ProfileRebuilder;
  clock: Clock; logger: Logger; metrics: Metrics; config: SegmentsConfig;
  cursor: () => bigint; exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Segment evaluation is processing too: its time counts against processing's share in a burst. */
  burst: BurstPolicy;
  consents: ConsentLedger;
  privacy: PrivacySettings;
  sources: (sourceId: string) => Source | undefined;
  sourcesOf: (workspaceId: string) => Source[];
  /** Values of external data sources (conditions of kind `external`). */
  external?: ExternalValues;
  /** Predictive models' latest scores (conditions of kind `score`; src/predict/score-book.ts). */
  scores?: {
    score(workspaceId: string, model: string, profileId: string): { score: number; decile: number } | undefined;
    hasModel(workspaceId: string, ref: string): boolean;
  };
}): Promise<SegmentsWiring> {
  const { memory, computed, clock } = deps;
  const now = (): number => clock.now();
  const computedDef = (ws: string, name: string) => computed.definitions(ws).find((d) => d.name === name);
  // A segment serving a purpose holds a profile only while the purpose may serve it (its legal basis decides how).
  const permitted = (id: string, purpose: string): boolean => {
    const ws = memory.live(id)?.workspaceId;
    return ws !== undefined && purposePermitted(deps.consents, deps.privacy, ws, id, purpose);
  };
  const facts: ProfileFacts = {
    live: (id) => memory.live(id)?.id,
    traits: (id) => memory.profiles.get(id)?.traits,
    computed: (ws, id, name, at) => computed.valueOf(ws, id, name, at),
    computedWindowed: (ws, id, name) => computed.hasState(ws, id, name),
    identifierKeys: (id) => memory.identifiersOf.get(id) ?? [],
    *liveProfiles(ws) {
      for (const p of memory.profiles.values()) if (p.workspaceId === ws && !p.mergedInto) yield p.id;
    },
    eventCount: (id) => memory.profiles.get(id)?.eventCount ?? 0,
    consented: (id, purpose) => permitted(id, purpose),
    consentDecision: (id, purpose) => {
      const d = deps.consents.decision(id, purpose);
      return d === undefined ? undefined : { granted: d.status === 'granted', at: d.at };
    },
    restricted: (id) => deps.consents.restricted(id),
    sourceServes: (sourceId, purposes) => serves(deps.sources(sourceId), purposes),
    external: (ws, source, key, field) => deps.external?.value(ws, source, key, field),
    score: (ws, model, id) => deps.scores?.score(ws, model, id),
  };
  const engine = new SegmentEngine(facts, now, (ws, name) => computedDef(ws, name)?.event);
  const store = await DuckDbSegmentStore.open(deps.db);
  const writer = new MembershipWriter(store, engine, { flushMs: deps.config.flushMs, logger: deps.logger, metrics: deps.metrics, now });
  await writer.start();
  const service = new SegmentService({
    store, engine, clock, logger: deps.logger, metrics: deps.metrics, cursor: deps.cursor, exclusive: deps.exclusive, settled: () => feed.idle(),
    live: (id) => memory.live(id)?.id ?? id,
    computedTrait: computedDef,
    personalTrait: (ws, key) => deps.identity.rules(ws).isPersonal(key),
    externalField: (ws, source, field) => deps.external?.hasField(ws, source, field) ?? false,
    model: (ws, ref) => deps.scores?.hasModel(ws, ref) ?? false,
    consented: (id, purpose) => permitted(id, purpose),
    classify: (s) => classify(s, deps.privacy, (ws, name) => computedDef(ws, name)),
    sourcesFor: (ws, purposes) => deps.sourcesOf(ws).filter((src) => serves(src, purposes)).map((src) => src.id),
  });
  // Batches reach the engine a slice at a time, off the processor's turn of the event loop.
  const feed = new SegmentFeed(engine, facts, (err) => deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'segment engine failed on a batch'), {
    timed: (ms) => {
      deps.metrics.segmentBatchSeconds.observe(ms / 1000);
      deps.burst.spent(ms);
    },
  });
  deps.identity.observe({
    committed(merges, events) {
      feed.committed(merges, events.map((c) => ({ workspaceId: c.event.workspaceId, profileId: c.profileId, event: segmentEvent(c) })));
    },
  });
  // Consent changes (events, the API) re-evaluate the segments that require purposes, after the
  // batches already handed to the feed, so a withdrawal never lands before the events it follows.
  deps.consents.onChange((ws, profileIds, restriction) => feed.consentChanged(ws, profileIds, restriction));
  // New values pulled from an external source move people in and out without any event of theirs.
  deps.external?.onChange((ws, source, keys) => feed.externalChanged(ws, source, keys, externalKey));
  deps.rebuilder.observe({
    rebuilt(workspaceId, replaced, events) {
      feed.rebuilt(workspaceId, replaced, events.map((c) => ({ profileId: c.profileId, event: segmentEvent(c) })));
    },
  });
  let job: NodeJS.Timeout | null = null;
  return {
    engine, feed, service, store, writer,
    async reclassify(workspaceId) {
      for (const s of engine.segments(workspaceId)) {
        const next = classify(s, deps.privacy, computedDef);
        if (JSON.stringify(next.sensitive ?? []) !== JSON.stringify(s.sensitive ?? []) || next.approvedAt !== s.approvedAt) await service.save(s, 'updated');
      }
    },
    async start() {
      await service.start();
      const every = deps.config.reconcileSeconds * 1000;
      if (every > 0) {
        job = setInterval(() => {
          service.reconcileAll().catch((err: unknown) => deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'segment reconciliation failed'));
        }, every);
        job.unref();
      }
    },
    async stop() {
      if (job) clearInterval(job);
      await feed.idle();
      engine.stop();
      await writer.drain();
    },
  };
}
