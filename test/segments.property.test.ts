/**
 * The invariant of segmentation (fast-check): for any events and any definition, the incremental
 * engine's members equal what the definition's SQL returns on a real DuckDB over the same events
 * at the same instant. Random streams of batches (events dated in the past and the future, ties,
 * identify traits, consent), a profile merge, and time moving on between random checks — so
 * windows lapse through the engine's timers, never through a new event. A third segment is
 * created mid-stream the way the server does it: filled from the stored events up to the
 * current sequence, then following live batches.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ProfileState } from '../src/protocol/profile.js';
import type { ComputedTraitDefinition } from '../src/protocol/computed-trait.js';
import type { PropertyFilter } from '../src/protocol/filter.js';
import { validateSegmentDefinition, type SegmentCondition, type StoredSegment } from '../src/protocol/segment.js';
import { ComputedTraitEngine } from '../src/profiles/computed-traits.js';
import { applyTraits, mergeTraits } from '../src/profiles/traits.js';
import { SegmentEngine, type SegmentEvent } from '../src/segments/engine.js';
import { locationOf } from '../src/protocol/geo.js';
import { ExternalValues, externalKey } from '../src/external/external-values.js';
import { compileSegment } from '../src/segments/sql/compile.js';
import { SegmentService } from '../src/segments/segment-service.js';
import { SegmentFeed } from '../src/segments/segment-feed.js';
import { DuckDbSegmentStore } from '../src/storage/duckdb/segment-store.js';
import { createMetrics } from '../src/platform/metrics.js';
import { createLogger } from '../src/platform/logger.js';
import { Database } from '../src/storage/duckdb/database.js';
import { all } from '../src/storage/duckdb/database.js';

const WS = 'ws_seg';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2024, 0, 10);
const PROFILES = ['p0', 'p1', 'p2', 'p3', 'p4'];
const NAMES = ['Order', 'View', 'Cart'];

const COMPUTED: ComputedTraitDefinition[] = [
  { id: 'ct_spend', workspaceId: WS, name: 'spend', op: 'sum', event: 'Order', property: 'price', windowDays: 3, createdAt: T0, backfill: { events: 0, profiles: 0, ms: 0 } },
  // Only the advertising source's orders: what segment b (serving advertising) may read.
  { id: 'ct_orders', workspaceId: WS, name: 'orders', op: 'count', event: 'Order', sources: ['src'], createdAt: T0, backfill: { events: 0, profiles: 0, ms: 0 } },
];

// A shop in Paris, a point 1 km away, one 10 km away, and Berlin: radii of 0.5, 2 and 50 km fall between them.
const PLACES = [
  { latitude: 48.8606, longitude: 2.3376 }, { latitude: 48.8696, longitude: 2.3376 },
  { latitude: 48.9506, longitude: 2.3376 }, { latitude: 52.52, longitude: 13.405 },
];
const location = fc.oneof(
  fc.constantFrom(...PLACES),
  // Not locations: out of range, text, half a point.
  fc.constantFrom<unknown>({ latitude: 91, longitude: 2 }, { latitude: '48.86', longitude: 2.33 }, { latitude: 48.86 }, 'Paris'),
);
// Towns spelled as people and APIs do: case, spaces, NFD accents; a number is no key.
const TOWNS = fc.constantFrom<unknown>('Paris', ' paris ', 'LYON', 'Zu\u0308rich', 'zürich', 'Nice', 3, '');
const text = fc.constantFrom('Shoes', 'Bags', 'é', 'sh', 'S', '2024-01-05', '2024-01-12T08:00:00Z', '');
const num = fc.constantFrom(0, 1, 2, 2.5, 5, 10, -1);
const scalar = fc.oneof(text, num, fc.boolean());
/** What the weather source holds: each key with some fields, of any JSON type. */
const weather = fc.dictionary(fc.constantFrom('paris', 'lyon', 'zürich', 'nice', 'brest'),
  fc.record({ temp: fc.oneof(num, text, fc.constant(null)), sky: fc.oneof(text, fc.boolean()) }, { requiredKeys: [] }), { maxKeys: 4 });

const comparison = fc.oneof(
  fc.record({ op: fc.constantFrom('eq', 'neq'), value: scalar }),
  fc.record({ op: fc.constant('in'), value: fc.array(scalar, { minLength: 1, maxLength: 3 }) }),
  fc.record({ op: fc.constantFrom('gt', 'gte', 'lt', 'lte'), value: fc.oneof(num, text) }),
  fc.record({ op: fc.constant('between'), value: fc.oneof(fc.tuple(num, num), fc.tuple(text, text)) }),
  fc.record({ op: fc.constantFrom('contains', 'starts_with'), value: text }),
  fc.record({ op: fc.constant('exists') }),
) as fc.Arbitrary<{ op: PropertyFilter['op']; value?: unknown }>;

const filter = fc.tuple(fc.constantFrom('price', 'cat', 'product.cat'), comparison)
  .map(([property, c]) => ({ property, ...c }) as PropertyFilter);
const eventName = fc.constantFrom(...NAMES, '$page', '$any');

const leaf = (withRef: boolean): fc.Arbitrary<SegmentCondition> => fc.oneof(
  fc.tuple(fc.constantFrom('plan', 'age', 'address.city', 'missing'), comparison).map(([trait, c]) => ({ kind: 'trait', trait, ...c }) as SegmentCondition),
  fc.record({
    event: eventName,
    filters: fc.array(filter, { maxLength: 1 }),
    count: fc.record({ op: fc.constantFrom('eq', 'neq', 'gt', 'gte', 'lt', 'lte'), value: fc.integer({ min: 0, max: 3 }) }),
    window: fc.constantFrom('none', '1h', '1d', '3d', '7d', 'between'),
  }).map(({ window, ...e }) => ({
    kind: 'event', ...e,
    ...(window === 'none' ? {} : window === 'between' ? { between: { from: '2024-01-09', to: '2024-01-12T12:00:00Z' } } : { within: window }),
  }) as SegmentCondition),
  fc.record({
    steps: fc.array(fc.record({ event: eventName, filters: fc.array(filter, { maxLength: 1 }), absent: fc.boolean() }), { minLength: 2, maxLength: 3 }),
    within: fc.constantFrom('1h', '1d', '3d'),
  }).map(({ steps, within }) => ({
    kind: 'sequence', within,
    steps: steps.map((s, i) => ({ event: s.event, ...(s.filters.length ? { filters: s.filters } : {}), ...(s.absent && i > 0 ? { absent: true } : {}) })),
  }) as SegmentCondition),
  fc.tuple(fc.constantFrom('spend', 'orders'), comparison).map(([name, c]) => ({ kind: 'computed', name, ...c }) as SegmentCondition),
  fc.constantFrom('ads', 'analytics').map((purpose) => ({ kind: 'consent', purpose }) as SegmentCondition),
  fc.tuple(fc.constantFrom(...PLACES), fc.constantFrom(0.5, 2, 50)).map(([p, radiusKm]) => ({ kind: 'geo', near: { ...p, radiusKm } }) as SegmentCondition),
  fc.subarray(['FR', 'DE', 'ES'], { minLength: 1 }).map((country) => ({ kind: 'geo', country }) as SegmentCondition),
  fc.tuple(fc.constantFrom('town', 'address.city'), fc.constantFrom('temp', 'sky'), comparison)
    .map(([key, field, c]) => ({ kind: 'external', source: 'weather', key, field, ...c }) as SegmentCondition),
  // A predictive model named by key or id; scores on the edges the comparisons test.
  fc.record({
    model: fc.constantFrom('churn', 'mdl_churn'),
    test: fc.oneof(
      fc.record({ op: fc.constantFrom('eq', 'neq', 'gt', 'gte', 'lt', 'lte'), value: fc.constantFrom(0, 0.25, 0.5, 0.7, 1) }),
      fc.record({ decile: fc.record({ op: fc.constantFrom('eq', 'neq', 'gt', 'gte', 'lt', 'lte'), value: fc.integer({ min: 1, max: 10 }) }) }),
    ),
  }).map(({ model, test }) => ({ kind: 'score', model, ...test }) as SegmentCondition),
  ...(withRef ? [fc.constant({ kind: 'segment', id: 'seg_a' } as SegmentCondition)] : []),
);

const condition = (withRef: boolean): fc.Arbitrary<SegmentCondition> => fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true, maxDepth: 6 }, // the validator allows 8 levels of nesting
    leaf(withRef),
    fc.record({ kind: fc.constantFrom('and', 'or'), of: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ kind: fc.constant('not'), of: tie('node') }),
  ),
})).node as fc.Arbitrary<SegmentCondition>;

const eventSpec = fc.record({
  kind: fc.constantFrom(...NAMES, ...NAMES, '$page', '$identify'),
  profile: fc.constantFrom(...PROFILES),
  // Hours around "now": past and future; whole hours meet window edges exactly.
  offset: fc.oneof(fc.integer({ min: -96, max: 6 }).map((h) => h * HOUR), fc.constant(0)),
  price: fc.option(num, { nil: undefined }),
  cat: fc.option(fc.oneof(text, num), { nil: undefined }),
  traits: fc.record({ plan: fc.oneof(text, num), age: num, address: fc.record({ city: fc.oneof(text, TOWNS) }), town: TOWNS }, { requiredKeys: [] }),
  consent: fc.option(fc.record({ ads: fc.boolean(), analytics: fc.oneof(fc.boolean(), fc.constant('yes')) }, { requiredKeys: [] }), { nil: undefined }),
  // Purpose limitation: `src` collects for advertising, `src2` does not, so segment b reads only `src`'s events and traits.
  source: fc.constantFrom('src', 'src2'),
  location: fc.option(location, { nil: undefined }),
  country: fc.option(fc.constantFrom('FR', 'DE', 'IT'), { nil: null }),
});

const AD_SOURCES = ['src'];

const action = fc.oneof(
  { weight: 6, arbitrary: fc.array(eventSpec, { minLength: 1, maxLength: 4 }).map((events) => ({ do: 'batch' as const, events })) },
  // Often exactly a window's length: events then sit on the edge of their window at a check.
  { weight: 3, arbitrary: fc.oneof(fc.constantFrom(1, 24, 72, 168), fc.integer({ min: 1, max: 60 })).map((hours) => ({ do: 'advance' as const, ms: hours * HOUR })) },
  { weight: 2, arbitrary: fc.constant({ do: 'check' as const }) },
  { weight: 1, arbitrary: fc.constant({ do: 'merge' as const }) },
  { weight: 1, arbitrary: fc.constant({ do: 'create' as const }) },
  // Advertising consent given or withdrawn (the API, or an event's CMP choice): segment b serves advertising.
  { weight: 2, arbitrary: fc.record({ do: fc.constant('consent' as const), profile: fc.constantFrom(...PROFILES), purpose: fc.constantFrom('advertising', 'ads', 'analytics'), granted: fc.boolean() }) },
  // A pull of the external weather source replaces what it holds.
  { weight: 3, arbitrary: weather.map((values) => ({ do: 'pull' as const, values })) },
  // A scoring run of the model replaces every score (some profiles unscored).
  { weight: 2, arbitrary: fc.dictionary(fc.constantFrom(...PROFILES), fc.record({ score: fc.constantFrom(0, 0.25, 0.5, 0.6, 0.7, 0.9, 1), decile: fc.integer({ min: 1, max: 10 }) }))
    .map((scores) => ({ do: 'score' as const, scores })) },
);

interface Stored {
  seq: bigint; profileId: string; type: string; event: string | null; at: number; properties: Record<string, unknown>; messageId: string; sourceId: string;
  context: Record<string, unknown>; country: string | null;
}

let db: Database;
let conn: DuckDBConnection;
let segmentStore: DuckDbSegmentStore;
before(async () => {
  db = await Database.open(':memory:');
  conn = await db.connect();
  segmentStore = await DuckDbSegmentStore.open(db);
});
after(async () => { await db.close(); });

interface ConsentModel { profileId: string; purpose: string; granted: boolean; at: number; recordedAt: number; id: string }

type Scores = Record<string, { score: number; decile: number }>;

async function writeTables(events: readonly Stored[], profiles: ReadonlyMap<string, ProfileState>, external: ExternalValues, records: readonly ConsentModel[], scores: Scores = {}): Promise<void> {
  await conn.run('DELETE FROM models');
  await conn.run(`INSERT INTO models VALUES ('${WS}', 'mdl_churn', 'churn', '{}', 0, 0)`);
  await conn.run('DELETE FROM model_scores');
  for (const [pid, x] of Object.entries(scores)) {
    await conn.run(`INSERT INTO model_scores VALUES ('${WS}', 'mdl_churn', $1, $2, $3, '[]', 0)`, [pid, x.score, x.decile]);
  }
  await conn.run('DELETE FROM consent_records');
  if (records.length > 0) {
    await conn.run(`INSERT INTO consent_records (workspace_id, id, profile_id, purpose, status, decided_at, recorded_at, source, proof)
      SELECT '${WS}', j->>'id', j->>'profileId', j->>'purpose', CASE WHEN CAST(j->>'granted' AS BOOLEAN) THEN 'granted' ELSE 'withdrawn' END,
             CAST(j->>'at' AS BIGINT), CAST(j->>'recordedAt' AS BIGINT), 'api', '{}'
      FROM (SELECT unnest(string_split($1, chr(10)))::JSON AS j)`, [records.map((r) => JSON.stringify(r)).join('\n')]);
  }
  await conn.run('DELETE FROM external_values');
  const xs = external.keys(WS, 'weather').flatMap((key) => ['temp', 'sky'].flatMap((field) => {
    const v = external.value(WS, 'weather', key, field);
    return v === undefined ? [] : [JSON.stringify({ k: key, f: field, v })];
  }));
  if (xs.length > 0) {
    await conn.run(`INSERT INTO external_values SELECT '${WS}', 'weather', j->>'k', j->>'f', json_extract(j, '$.v'), 0
      FROM (SELECT unnest(string_split($1, chr(10)))::JSON AS j)`, [xs.join('\n')]);
  }
  await conn.run('DELETE FROM events');
  await conn.run('DELETE FROM profiles');
  const p = [...profiles.values()].map((x) => JSON.stringify({ i: x.id, t: x.traits, f: x.firstSeen, l: x.lastSeen, c: x.eventCount, m: x.mergedInto }));
  if (p.length > 0) {
    await conn.run(`INSERT INTO profiles SELECT j->>'i', '${WS}', json_extract(j, '$.t'), CAST(j->>'f' AS BIGINT), CAST(j->>'l' AS BIGINT), CAST(j->>'c' AS BIGINT), j->>'m'
      FROM (SELECT unnest(string_split($1, chr(10)))::JSON AS j)`, [p.join('\n')]);
  }
  if (events.length === 0) return;
  const lines = events.map((e) => JSON.stringify({ s: e.seq.toString(), m: e.messageId, y: e.type, e: e.event, p: e.profileId, t: e.at, r: e.properties, o: e.sourceId, x: e.context, k: e.country }));
  await conn.run(`INSERT INTO events (workspace_id, seq, message_id, type, event, profile_id, source_id, timestamp, original_timestamp, received_at, properties, context, country)
    SELECT '${WS}', CAST(j->>'s' AS BIGINT), j->>'m', j->>'y', j->>'e', j->>'p', j->>'o', make_timestamp(CAST(j->>'t' AS BIGINT) * 1000),
           make_timestamp(CAST(j->>'t' AS BIGINT) * 1000), make_timestamp(CAST(j->>'t' AS BIGINT) * 1000), json_extract(j, '$.r'),
           json_extract(j, '$.x'), j->>'k'
      FROM (SELECT unnest(string_split($1, chr(10)))::JSON AS j)`, [lines.join('\n')]);
}

test('incremental membership equals the SQL result at every checked instant', async () => {
  const scenario = fc.record({
    a: condition(false),
    b: condition(true),
    c: condition(true),
    actions: fc.array(action, { minLength: 3, maxLength: 25 }),
  });
  await fc.assert(fc.asyncProperty(scenario, async ({ a, b, c, actions }) => {
    const segments: StoredSegment[] = [
      { id: 'seg_a', workspaceId: WS, name: 'a', definition: a, createdAt: T0, updatedAt: T0 },
      { id: 'seg_b', workspaceId: WS, name: 'b', definition: b, purposes: ['advertising'], createdAt: T0, updatedAt: T0 },
    ];
    const ctx = {
      segment: (id: string) => segments.find((s) => s.id === id)?.definition,
      computedTrait: (name: string) => COMPUTED.some((c) => c.name === name),
      personalTrait: () => false,
      externalField: () => true,
      model: (ref: string) => ref === 'churn' || ref === 'mdl_churn',
    };
    assert.deepEqual(validateSegmentDefinition(a, { ...ctx, self: 'seg_a' }), [], 'generated definitions are valid');
    assert.deepEqual(validateSegmentDefinition(b, { ...ctx, self: 'seg_b' }), [], 'generated definitions are valid');

    let now = T0;
    let seq = 0n;
    const profiles = new Map<string, ProfileState>();
    const stored: Stored[] = [];
    const live = (id: string): string => {
      let p = profiles.get(id);
      while (p?.mergedInto) p = profiles.get(p.mergedInto);
      return p?.id ?? id;
    };
    // The consent ledger's records (API decisions and CMP choices carried by events), per stored
    // profile id; the decision in force is the latest in the live profile's lineage (consent-ledger.ts).
    const records: ConsentModel[] = [];
    const decision = (id: string, purpose: string): ConsentModel | undefined => {
      let best: ConsentModel | undefined;
      for (const r of records) {
        if (r.purpose !== purpose || live(r.profileId) !== live(id)) continue;
        if (!best || r.at > best.at || (r.at === best.at && (r.recordedAt > best.recordedAt || (r.recordedAt === best.recordedAt && r.id > best.id)))) best = r;
      }
      return best;
    };
    const record = (profileId: string, purpose: string, granted: boolean, at: number): void => {
      records.push({ profileId, purpose, granted, at, recordedAt: now, id: `r${String(records.length).padStart(6, '0')}` });
    };
    const consented = (id: string, purpose: string): boolean => decision(id, purpose)?.granted === true;
    let scores: Scores = {};
    const external = new ExternalValues();
    external.defineFields(WS, 'weather', ['temp', 'sky']);
    const computed = new ComputedTraitEngine();
    for (const c of COMPUTED) { computed.add(c, 0n); computed.load(c, [], (x) => x); }
    const engine = new SegmentEngine({
      live: (id) => (profiles.has(id) ? live(id) : undefined),
      traits: (id) => profiles.get(id)?.traits,
      consented,
      consentDecision: (id, purpose) => decision(id, purpose),
      restricted: () => false,
      sourceServes: (sourceId) => AD_SOURCES.includes(sourceId),
      computed: (ws, id, name, at) => computed.valueOf(ws, id, name, at),
      computedWindowed: (ws, id, name) => computed.hasState(ws, id, name),
      identifierKeys: () => [],
      liveProfiles: () => [...profiles.values()].filter((p) => !p.mergedInto).map((p) => p.id),
      eventCount: (id) => profiles.get(id)?.eventCount ?? 0,
      external: (ws, source, key, field) => external.value(ws, source, key, field),
      score: (_ws, model, id) => (model === 'churn' || model === 'mdl_churn' ? scores[id] : undefined),
    }, () => now, (_ws, name) => COMPUTED.find((c) => c.name === name)?.event, false);
    for (const s of segments) { engine.add(s, 0n); assert.equal(engine.finish(WS, s.id, 'created'), true); }
    // Batches reach the engine as the server hands them over: queued, two events at a time, later.
    const feed = new SegmentFeed(engine, { live: (id) => (profiles.has(id) ? live(id) : undefined), eventCount: (id) => profiles.get(id)?.eventCount ?? 0 }, (err) => { failures.push(err); }, { slice: 2 });
    const failures: unknown[] = [];
    external.onChange((ws, source, keys) => feed.externalChanged(ws, source, keys, externalKey));
    const service = new SegmentService({
      store: segmentStore, engine, clock: { now: () => now }, logger: createLogger('silent'), metrics: createMetrics(),
      cursor: () => seq, live, exclusive: (fn) => fn(), settled: () => feed.idle(),
      computedTrait: (_ws, name) => COMPUTED.find((x) => x.name === name),
      personalTrait: () => false,
      consented,
      classify: (x) => x,
      sourcesFor: () => AD_SOURCES,
    });
    await conn.run('DELETE FROM segments');

    const check = async (): Promise<void> => {
      await feed.idle();
      assert.deepEqual(failures, []);
      engine.timers.runDue(now);
      await writeTables(stored, profiles, external, records, scores);
      for (const s of segments) {
        const { sql, params } = compileSegment(s.definition, {
          workspaceId: WS, now, segment: ctx.segment, computedTrait: (name) => COMPUTED.find((c) => c.name === name),
          ...(s.purposes?.length ? { sources: AD_SOURCES } : {}),
        });
        const rows = await all(conn, sql, params);
        // The batch side applies the same consent gate (segment-service.ts): SQL result ∩ consent in force.
        const expected = rows.map((r) => r.profile_id as string).filter((pid) => (s.purposes ?? []).every((p) => consented(pid, p))).sort();
        const actual = [...(engine.members(WS, s.id) ?? [])].sort();
        assert.deepEqual(actual, expected, `${s.id} at +${(now - T0) / HOUR}h: ${JSON.stringify(s.definition)}`);
      }
    };

    for (const act of actions) {
      if (act.do === 'advance') now += act.ms;
      else if (act.do === 'check') await check();
      else if (act.do === 'create') {
        if (segments.length > 2) continue;
        const seg: StoredSegment = { id: 'seg_c', workspaceId: WS, name: 'c', definition: c, createdAt: now, updatedAt: now };
        assert.deepEqual(validateSegmentDefinition(c, { ...ctx, self: 'seg_c' }), []);
        await writeTables(stored, profiles, external, records, scores);
        segments.push(seg);
        await service.save(seg, 'created');
      }
      else if (act.do === 'pull') {
        external.replace(WS, 'weather', new Map(Object.entries(act.values).map(([k, fields]) => [k, new Map(Object.entries(fields))])));
      }
      else if (act.do === 'score') {
        scores = act.scores;
        feed.scoresChanged(WS, new Set(['churn', 'mdl_churn']));
      }
      else if (act.do === 'consent') {
        const pid = live(act.profile);
        if (!profiles.has(pid)) continue;
        record(pid, act.purpose, act.granted, now + records.length);
        feed.consentChanged(WS, [pid]);
      }
      else if (act.do === 'merge') {
        const from = profiles.get('p4');
        const into = profiles.get('p0');
        if (!from || !into || from.mergedInto || into.mergedInto) continue;
        from.mergedInto = into.id;
        mergeTraits(into, from, () => 'most_recent');
        into.eventCount += from.eventCount;
        computed.merge(WS, from.id, into.id);
        feed.committed([{ workspaceId: WS, fromProfile: from.id, intoProfile: into.id }], []);
      } else {
        const batch: Array<{ workspaceId: string; profileId: string; event: SegmentEvent }> = [];
        const consentFor = new Set<string>();
        for (const spec of act.events) {
          seq += 1n;
          const pid = live(spec.profile);
          const at = now + spec.offset;
          let p = profiles.get(pid);
          if (!p) { p = { id: pid, workspaceId: WS, traits: {}, firstSeen: at, lastSeen: at, eventCount: 0, mergedInto: null }; profiles.set(pid, p); }
          p.eventCount++;
          const type = spec.kind === '$page' ? 'page' : spec.kind === '$identify' ? 'identify' : 'track';
          const properties: Record<string, unknown> = JSON.parse(JSON.stringify({ price: spec.price, cat: spec.cat, product: spec.cat === undefined ? undefined : { cat: spec.cat } })) as Record<string, unknown>;
          // The consent step turns a CMP's boolean choices into ledger records dated by the event.
          for (const [purpose, v] of Object.entries(spec.consent ?? {})) if (typeof v === 'boolean') { record(pid, purpose, v, at); consentFor.add(pid); }
          const messageId = `m${seq}`;
          if (type === 'identify') applyTraits(p, JSON.parse(JSON.stringify(spec.traits)) as Record<string, unknown>, at, spec.source, messageId, () => 'most_recent');
          const context: Record<string, unknown> = spec.location === undefined ? {} : { location: spec.location };
          const event: SegmentEvent = { type, event: type === 'track' ? spec.kind : null, properties, at, seq, sourceId: spec.source, location: locationOf(context), country: spec.country };
          stored.push({ seq, profileId: pid, type, event: event.event, at, properties, messageId, sourceId: spec.source, context, country: spec.country });
          computed.observe(WS, pid, { type, event: event.event, name: null, properties, at, messageId, seq, sourceId: spec.source });
          batch.push({ workspaceId: WS, profileId: pid, event });
        }
        // As the processor does: the ledger takes the batch's records (and tells segments) before the batch.
        if (consentFor.size > 0) feed.consentChanged(WS, [...consentFor]);
        feed.committed([], batch);
      }
    }
    await check();
  }), { numRuns: 300 });
});
