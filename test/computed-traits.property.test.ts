/**
 * The invariant that makes computed traits trustworthy, on random events and definitions
 * (fast-check): the value a profile shows does not depend on how its events reached the engine.
 * Observing every event live (in any order), backfilling every event from SQL, and backfilling
 * up to a seq then observing the rest all give the same values — with filters, windows (a random
 * "now" over ~120 days of events), ties on event time, odd Unicode, and a profile merge.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  COMPUTED_TRAIT_OPS, validateComputedTrait, type ComputedTraitDefinition, type ComputedTraitInput, type PropertyFilter,
} from '../src/protocol/computed-trait.js';
import { ComputedTraitEngine } from '../src/profiles/computed-traits.js';
import { Database } from '../src/storage/duckdb/database.js';
import { DuckDbComputedTraitStore } from '../src/storage/duckdb/computed-trait-store.js';
import { DAY, T0, def, openTraitStore, insertEvents, type StoredEvent } from './helpers/trait-events.js';

const WS = 'ws_prop';
const PROFILES = ['p0', 'p1', 'p2', 'p3'];
const PATHS = ['revenue', 'cat', 'product.category', 'tags', 'product'];
// Filters mostly on the properties whose values vary most in type.
const FILTER_PATHS = ['cat', 'cat', 'tags', 'tags', 'revenue', 'product.category'];

// Characters whose order differs between UTF-16 units and code points, and a non-ASCII letter.
const chars = fc.string({ unit: fc.constantFrom('a', 'B', 'é', '\uFFFD', '😀', 'z', ' '), maxLength: 3 });
// ...and numbers written as text, which numeric ops and filters must not take for numbers.
const text = fc.oneof(chars, chars, fc.constantFrom('5', '2.5', '-1'));
// Quarters are exact in binary, so sums do not depend on the order they are added in; the
// constants meet their twins written as text ('5', '2.5', '-1').
const num = fc.oneof(fc.constantFrom(5, 2.5, -1, 0), fc.integer({ min: -400, max: 400 }).map((x) => x / 4));
const scalar = fc.oneof(num, text, fc.boolean());
const value = fc.oneof(scalar, fc.constant(null), fc.array(fc.oneof(text, num), { maxLength: 2 }));

const properties = fc.record({
  revenue: fc.oneof(num, num, value),
  cat: fc.oneof(fc.constantFrom('Shoes', 'Bags', 'é'), value),
  product: fc.oneof(fc.record({ category: fc.oneof(fc.constantFrom('Shoes', 'Bags'), value) }, { requiredKeys: [] }), value),
  tags: fc.array(fc.oneof(fc.constantFrom('sale', 'new'), text, num), { maxLength: 3 }),
}, { requiredKeys: [] });

const eventSpec = fc.record({
  kind: fc.constantFrom('Order', 'Order', 'View', '$page', '$identify'),
  profile: fc.constantFrom(...PROFILES),
  // A few fixed times make ties on event time, broken by messageId.
  at: fc.oneof(fc.integer({ min: 0, max: 120 * DAY }), fc.constantFrom(5 * DAY, 60 * DAY + 1, 119 * DAY)),
  idPrefix: text,
  properties,
  source: fc.constantFrom('src_a', 'src_b'),
});

function filter(): fc.Arbitrary<PropertyFilter> {
  const property = fc.constantFrom(...FILTER_PATHS);
  return fc.oneof(
    fc.record({ property, op: fc.constantFrom('eq', 'neq'), value: scalar }),
    fc.record({ property, op: fc.constant('in'), value: fc.array(scalar, { minLength: 1, maxLength: 3 }) }),
    fc.record({ property, op: fc.constantFrom('gt', 'gte', 'lt', 'lte'), value: fc.oneof(num, text) }),
    fc.record({ property, op: fc.constant('contains'), value: fc.oneof(fc.constantFrom('sale', 'a'), text) }),
    fc.record({ property, op: fc.constant('starts_with'), value: fc.oneof(fc.constantFrom('Sh', 'B'), text) }),
    fc.record({ property, op: fc.constant('between'), value: fc.oneof(fc.tuple(num, num), fc.tuple(text, text)) }),
    fc.record({ property, op: fc.constant('exists') }),
  ) as fc.Arbitrary<PropertyFilter>;
}

const definition: fc.Arbitrary<ComputedTraitInput> = fc.record({
  op: fc.constantFrom(...COMPUTED_TRAIT_OPS),
  event: fc.constantFrom('Order', 'View', '$page', '$any'),
  property: fc.constantFrom(...PATHS),
  filters: fc.array(filter(), { maxLength: 2 }),
  windowDays: fc.option(fc.constantFrom(1, 7, 30, 90, 365), { nil: undefined }),
  dropProperty: fc.boolean(),
  // Counting only some sources: the engine skips the others, the backfill's SQL too.
  sources: fc.option(fc.constantFrom(['src_a'], ['src_b'], ['src_a', 'src_b'], ['src_none']), { nil: undefined }),
}).map(({ dropProperty, windowDays, sources, ...d }) => {
  const input: ComputedTraitInput = { name: 'trait', ...d, ...(windowDays === undefined ? {} : { windowDays }), ...(sources === undefined ? {} : { sources: [...sources] }) };
  if (d.op === 'count' && dropProperty) delete input.property;
  return input;
});

const scenario = fc.record({
  events: fc.array(eventSpec, { minLength: 5, maxLength: 80 }),
  defs: fc.array(definition, { minLength: 1, maxLength: 3 }),
  // Read at three moments: windows move and lapse between them.
  nowDays: fc.array(fc.integer({ min: 0, max: 150 }), { minLength: 3, maxLength: 3 }).map((d) => d.sort((a, b) => a - b)),
  split: fc.double({ min: 0, max: 1, noNaN: true }),
  mergeP1IntoP0: fc.boolean(),
  order: fc.integer(),
});

type EventSpec = typeof eventSpec extends fc.Arbitrary<infer T> ? T : never;

function toEvents(specs: EventSpec[]): StoredEvent[] {
  return specs.map((s, i) => ({
    workspaceId: WS, profileId: s.profile, seq: BigInt(i + 1), messageId: `${s.idPrefix}#${i}`, at: T0 + s.at,
    // Real properties come from JSON.parse (fast-check builds some objects without a prototype).
    properties: JSON.parse(JSON.stringify(s.properties)) as Record<string, unknown>,
    type: s.kind === '$page' ? 'page' : s.kind === '$identify' ? 'identify' : 'track',
    event: s.kind.startsWith('$') ? null : s.kind, name: s.kind === '$page' ? 'Home' : null, sourceId: s.source,
  }));
}

/** A deterministic shuffle, so a failing case replays. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let x = seed | 1;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const j = Math.abs(x) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

let db: Database;
let conn: DuckDBConnection;
let store: DuckDbComputedTraitStore;
before(async () => { ({ db, conn, store } = await openTraitStore()); });
after(async () => { await db.close(); });

test('live, backfilled, and half-and-half engines agree on every value', async () => {
  await fc.assert(fc.asyncProperty(scenario, async (sc) => {
    const events = toEvents(sc.events);
    await conn.run('DELETE FROM events');
    await insertEvents(conn, events);
    const nows = sc.nowDays.map((d) => T0 + d * DAY + DAY / 2);
    const first = nows[0] as number;
    const last = BigInt(events.length);
    const upTo = BigInt(Math.floor(sc.split * events.length));
    const live = (id: string): string => (sc.mergeP1IntoP0 && id === 'p1' ? 'p0' : id);

    for (const input of sc.defs) {
      assert.deepEqual(validateComputedTrait(input), [], 'the generator makes valid definitions');
      const d: ComputedTraitDefinition = def(input, WS);

      const observed = new ComputedTraitEngine();
      observed.add(d, 0n);
      observed.load(d, [], (id) => id);
      for (const e of shuffled(events, sc.order)) observed.observe(WS, e.profileId, e);
      if (sc.mergeP1IntoP0) observed.merge(WS, 'p1', 'p0');

      const backfilled = new ComputedTraitEngine();
      backfilled.add(d, last);
      assert.equal(backfilled.load(d, await store.backfill(d, last, first), live), true);

      const half = new ComputedTraitEngine();
      half.add(d, upTo);
      // Events after the cursor arrive while the backfill runs and after it; the earlier ones,
      // handed to observe too, must be ignored (they are the backfill's).
      const later = events.filter((e) => e.seq > upTo);
      const during = [...events.filter((e) => e.seq <= upTo), ...later.slice(0, later.length >> 1)];
      for (const e of during) half.observe(WS, e.profileId, e);
      half.load(d, await store.backfill(d, upTo, first), (id) => id);
      for (const e of later.slice(later.length >> 1)) half.observe(WS, e.profileId, e);
      if (sc.mergeP1IntoP0) half.merge(WS, 'p1', 'p0');

      for (const now of nows) {
        for (const p of PROFILES) {
          const expected = observed.values(WS, p, now);
          const context = `${JSON.stringify(input)} profile ${p} at day ${(now - T0) / DAY}`;
          assert.deepEqual(backfilled.values(WS, p, now), expected, `backfill vs live: ${context}`);
          assert.deepEqual(half.values(WS, p, now), expected, `backfill to ${upTo} + live: ${context}`);
        }
      }
    }
  }), { numRuns: 400 });
});
