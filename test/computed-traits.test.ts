/**
 * Computed traits: validation, every op with filters and windows (with a fake "now", so windows
 * are seen to lapse without new events), ties, merges, forgetting, the live/backfill boundary,
 * and the DuckDB store (backfill, bound parameters against SQL injection).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DuckDBConnection } from '@duckdb/node-api';
import { validateComputedTrait, type ComputedTraitInput, type PropertyFilter } from '../src/protocol/computed-trait.js';
import { compareText } from '../src/profiles/computed-trait-match.js';
import { ComputedTraitEngine } from '../src/profiles/computed-traits.js';
import { Database, all } from '../src/storage/duckdb/database.js';
import { DuckDbComputedTraitStore } from '../src/storage/duckdb/computed-trait-store.js';
import { backfillDefinition } from '../src/api/computed-trait-routes.js';
import { DAY, T0, def, openTraitStore, ev, insertEvents, type StoredEvent } from './helpers/trait-events.js';

const WS = 'ws_1';

/** An engine with one definition, fed `events` for profile p1 (seq > 0 so all are live). */
function run(input: ComputedTraitInput, events: ReturnType<typeof ev>[]): ComputedTraitEngine {
  const engine = new ComputedTraitEngine();
  const d = def(input);
  engine.add(d, 0n);
  engine.load(d, [], (id) => id);
  for (const e of events) engine.observe(WS, 'p1', e);
  return engine;
}

function valueOf(input: ComputedTraitInput, events: ReturnType<typeof ev>[], now = T0 + 200 * DAY): unknown {
  return run(input, events).valueOf(WS, 'p1', input.name, now);
}

test('validation: precise problems for what the schema cannot say', () => {
  const codes = (input: unknown) => validateComputedTrait(input).map((p) => `${p.path} ${p.code}`);
  assert.deepEqual(codes({ name: 'orders', op: 'count', event: 'Order Completed' }), []);
  assert.deepEqual(codes({ name: 'revenue', op: 'sum', event: 'Order Completed' }), ['/property required_for_op']);
  assert.deepEqual(codes({ name: 'x', op: 'max', event: 'E', property: "x'); DROP TABLE events; --" }), ['/property invalid_path']);
  assert.deepEqual(codes({ name: 'x', op: 'max', event: 'E', property: 'a..b' }), ['/property invalid_path']);
  assert.deepEqual(codes({ name: 'x', op: 'count', event: '$click' }), ['/event unknown_special_event']);
  assert.deepEqual(codes({
    name: 'x', op: 'count', event: 'E',
    filters: [
      { property: 'a', op: 'eq' }, { property: 'a', op: 'exists', value: 1 }, { property: 'a', op: 'in', value: 'x' },
      { property: 'a', op: 'in', value: [1, { b: 2 }] }, { property: 'a', op: 'gt', value: true }, { property: 'a', op: 'contains', value: 3 },
      { property: 'a', op: 'eq', value: [1] }, { property: 'a"b', op: 'exists' }, { property: 'a', op: 'in', value: [] },
    ],
  }), [
    '/filters/0/value required_for_filter', '/filters/1/value not_allowed_for_filter', '/filters/2/value expected_array',
    '/filters/3/value/1 expected_scalar', '/filters/4/value expected_number_or_string', '/filters/5/value expected_string',
    '/filters/6/value expected_scalar', '/filters/7/property invalid_path', '/filters/8/value array_size',
  ]);
  const schema = validateComputedTrait({ name: 'Bad Name', op: 'median', event: 'E', windowDays: 0, extra: 1 });
  assert.ok(schema.length >= 3 && schema.every((p) => p.code === 'schema'), JSON.stringify(schema));
  assert.ok(schema.some((p) => p.path === '/name') && schema.some((p) => p.path === '/windowDays'));
  assert.deepEqual(codes({ name: 'cat', op: 'most_frequent', event: 'E', property: 'product.sub category', windowDays: 3650 }), []);
});

test('count, sum, avg, min, max: numeric ops ignore values that are not JSON numbers', () => {
  const events = [
    ev('Order Completed', { revenue: 10 }, T0), ev('Order Completed', { revenue: '59.9' }, T0 + 1),
    ev('Order Completed', { revenue: 30.5 }, T0 + DAY), ev('Order Completed', {}, T0 + 2 * DAY),
    ev('Order Completed', { revenue: null }, T0 + 2 * DAY), ev('Product Viewed', { revenue: 1000 }, T0 + 3 * DAY),
  ];
  const base = { event: 'Order Completed', property: 'revenue' } as const;
  assert.equal(valueOf({ name: 'n', op: 'count', event: 'Order Completed' }, events), 5);
  assert.equal(valueOf({ name: 'n', op: 'count', ...base }, events), 3, 'count with a property counts events that have it');
  assert.equal(valueOf({ name: 's', op: 'sum', ...base }, events), 40.5);
  assert.equal(valueOf({ name: 'a', op: 'avg', ...base }, events), 20.25);
  assert.equal(valueOf({ name: 'lo', op: 'min', ...base }, events), 10);
  assert.equal(valueOf({ name: 'hi', op: 'max', ...base }, events), 30.5);
  assert.equal(valueOf({ name: 's', op: 'sum', event: 'Nothing', property: 'revenue' }, events), null, 'nothing matched: null');
  assert.equal(valueOf({ name: 'n', op: 'count', event: 'Nothing' }, events), 0, 'count of nothing: 0');
  assert.equal(valueOf({ name: 'd', op: 'distinct_count', event: 'Nothing', property: 'x' }, events), 0);
});

const FILTER_EVENTS = [
  ev('Order', { total: 5, currency: 'EUR', tags: ['sale', 'new', 5], product: { category: 'Shoes' }, note: 'gift wrap', ok: true }, T0),
  ev('Order', { total: '5', currency: 'USD', tags: ['new', '😀'], product: { category: 'Bags' }, ok: 'true' }, T0 + 1),
  ev('Order', { total: 20, currency: 'EUR', tags: 'sale', product: { category: null }, note: '\uFFFD' }, T0 + 2),
  ev('Order', { total: 50, product: 'flat', date: '2024-03-01', ok: false }, T0 + 3),
];
/** Each filter with the number of FILTER_EVENTS it matches; the JS and SQL tests share them. */
const FILTER_CASES: Array<[PropertyFilter, number]> = [
  // eq/in compare type and value: the string "5" is not the number 5; neq matches events without the property
  [{ property: 'total', op: 'eq', value: 5 }, 1], [{ property: 'total', op: 'eq', value: '5' }, 1],
  [{ property: 'ok', op: 'eq', value: true }, 1], [{ property: 'ok', op: 'neq', value: true }, 3],
  [{ property: 'currency', op: 'neq', value: 'EUR' }, 2], [{ property: 'currency', op: 'in', value: ['EUR', 'GBP'] }, 2],
  [{ property: 'total', op: 'in', value: ['5', 20] }, 2],
  // gt..lte: numbers with numbers, text with text by code point (U+FFFD before U+1F600)
  [{ property: 'total', op: 'gt', value: 5 }, 2], [{ property: 'total', op: 'gte', value: 5 }, 3],
  [{ property: 'total', op: 'lt', value: 20 }, 1], [{ property: 'total', op: 'lte', value: 20 }, 2],
  [{ property: 'total', op: 'gte', value: '5' }, 1], [{ property: 'date', op: 'gte', value: '2024-02-01' }, 1],
  [{ property: 'note', op: 'gt', value: '😀' }, 0], [{ property: 'note', op: 'lt', value: '😀' }, 2],
  // contains: a substring or a string element (the number 5 is not '5'); null is absent; paths walk own keys of objects only
  [{ property: 'tags', op: 'contains', value: 'sale' }, 2], [{ property: 'tags', op: 'contains', value: '5' }, 0],
  [{ property: 'note', op: 'contains', value: 'gift' }, 1], [{ property: 'product.category', op: 'exists' }, 2],
  [{ property: 'constructor', op: 'exists' }, 0], [{ property: 'tags.0', op: 'exists' }, 0],
];

test('filters: eq/neq/in compare type and value, gt..lte numbers or text, contains text or array, exists', () => {
  const events = FILTER_EVENTS;
  const count = (filters: ComputedTraitInput['filters']) => valueOf({ name: 'n', op: 'count', event: 'Order', filters }, events);
  for (const [f, n] of FILTER_CASES) assert.equal(count([f]), n, JSON.stringify(f));
  assert.equal(count([{ property: 'product.category', op: 'eq', value: 'Shoes' }, { property: 'currency', op: 'eq', value: 'EUR' }]), 1, 'filters AND');
});

test('$page and $any; first/last ties broken by messageId; most_frequent ties by smallest JSON text', () => {
  assert.ok(compareText('\uFFFD', '😀') < 0 && '\uFFFD' > '😀', 'code-point order, as DuckDB, not UTF-16 order');
  const uni = ['😀', '\uFFFD', '😀', '\uFFFD'].map((c, i) => ev('View', { c }, T0 + i));
  assert.equal(valueOf({ name: 'u', op: 'most_frequent', event: 'View', property: 'c' }, uni), '\uFFFD');
  const page = ev(null, { path: '/a' }, T0, { type: 'page', name: 'Home' });
  const identify = ev(null, {}, T0, { type: 'identify' });
  const track = ev('Signed Up', {}, T0);
  assert.equal(valueOf({ name: 'p', op: 'count', event: '$page' }, [page, identify, track]), 1);
  assert.equal(valueOf({ name: 'a', op: 'count', event: '$any' }, [page, identify, track]), 3);

  const tie = [
    ev('View', { cat: 'b' }, T0 + 5, { messageId: 'm-b' }), ev('View', { cat: 'a' }, T0 + 5, { messageId: 'm-a' }),
    ev('View', { cat: 'c' }, T0 + 5, { messageId: 'm-c' }), ev('View', { cat: 'z' }, T0 + 9, { messageId: 'm-0' }),
  ];
  assert.equal(valueOf({ name: 'f', op: 'first', event: 'View', property: 'cat' }, tie), 'a');
  assert.equal(valueOf({ name: 'l', op: 'last', event: 'View', property: 'cat' }, tie), 'z');
  assert.equal(valueOf({ name: 'l', op: 'last', event: 'View', property: 'cat' }, tie.slice(0, 3)), 'c');
  assert.equal(valueOf({ name: 'f', op: 'first', event: 'View', property: 'cat' }, [...tie].reverse()), 'a', 'order of arrival does not matter');

  const cats = ['Shoes', 'Bags', 'Bags', 'Shoes', 'Hats', 7, 7, 7].map((c, i) => ev('View', { product: { category: c } }, T0 + i));
  const fav = { name: 'fav', op: 'most_frequent', event: 'View', property: 'product.category' } as const;
  assert.equal(valueOf(fav, cats), 7);
  assert.equal(valueOf(fav, cats.slice(0, 5)), 'Bags', 'a tie: "Bags" has the smaller JSON text');
  const numbers = [7, 10, 7, 10].map((c, i) => ev('View', { product: { category: c } }, T0 + i));
  assert.equal(valueOf(fav, numbers), 10, 'a tie: JSON text order, "10" before "7"');
  assert.equal(valueOf({ ...fav, op: 'distinct_count' }, cats), 4);
  assert.deepEqual(valueOf({ ...fav, op: 'last', property: 'product' }, cats), { category: 7 }, 'values may be objects');
});

test('windows lapse at the right day without new events; day granularity; later days wait', () => {
  const revenue = { name: 'revenue_90d', op: 'sum', event: 'Order', property: 'revenue', windowDays: 90 } as const;
  const bought = T0 + 10 * DAY + 23 * 3600_000; // late on day 10
  const engine = run(revenue, [ev('Order', { revenue: 100 }, bought), ev('Order', { revenue: 1 }, T0 + 40 * DAY)]);
  const at = (day: number, ms = 0) => engine.valueOf(WS, 'p1', 'revenue_90d', T0 + day * DAY + ms);
  assert.equal(at(10, 0), 100, 'same day, even before the event time (day granularity); day 40 not yet');
  assert.equal(at(99, DAY - 1), 101, 'day 10 is the first of the 90 days ending on day 99');
  assert.equal(at(100), 1, 'on day 100 the purchase of day 10 has left the window');
  assert.equal(at(129, DAY - 1), 1);
  assert.equal(at(130), null, 'everything lapsed');
  assert.equal(at(20), null, 'pruned buckets are gone for good (reads are expected to move forward in time)');

  const visits = run({ name: 'v7', op: 'distinct_count', event: 'View', property: 'sku', windowDays: 7 },
    [0, 1, 2, 3, 8].map((d) => ev('View', { sku: `s${d % 3}` }, T0 + d * DAY)));
  assert.equal(visits.valueOf(WS, 'p1', 'v7', T0 + 6 * DAY), 3);
  assert.equal(visits.valueOf(WS, 'p1', 'v7', T0 + 8 * DAY), 2, 'days 2..8: s2, s0, s2');
  assert.equal(visits.valueOf(WS, 'p1', 'v7', T0 + 10 * DAY), 1, 'days 4..10: s2 (day 8)');
});

test('merge folds the state of both profiles; forget drops it; values() lists every definition', () => {
  const engine = new ComputedTraitEngine();
  const defs = [
    def({ name: 'orders', op: 'count', event: 'Order' }), def({ name: 'spent_30d', op: 'sum', event: 'Order', property: 'total', windowDays: 30 }),
    def({ name: 'first_city', op: 'first', event: 'Order', property: 'city' }), def({ name: 'cities', op: 'distinct_count', event: 'Order', property: 'city' }),
  ];
  for (const d of defs) { engine.add(d, 0n); engine.load(d, [], (id) => id); }
  engine.observe(WS, 'anon', ev('Order', { total: 5, city: 'Lyon' }, T0 + DAY));
  engine.observe(WS, 'anon', ev('Order', { total: 7, city: 'Paris' }, T0 + 3 * DAY));
  engine.observe(WS, 'user', ev('Order', { total: 10, city: 'Paris' }, T0 + 2 * DAY));
  engine.observe(WS, 'other-ws', ev('Order', { total: 1 }, T0));
  engine.merge(WS, 'anon', 'user');
  const now = T0 + 5 * DAY;
  assert.deepEqual(engine.values(WS, 'user', now), { orders: 3, spent_30d: 22, first_city: 'Lyon', cities: 2 });
  assert.deepEqual(engine.values(WS, 'anon', now), { orders: 0, spent_30d: null, first_city: null, cities: 0 });
  engine.observe(WS, 'user', ev('Order', { total: 1, city: 'Nice' }, T0 + 2 * DAY));
  assert.equal(engine.valueOf(WS, 'user', 'spent_30d', now), 23, 'a merged same-day bucket keeps folding');
  engine.forget(WS, 'user');
  assert.deepEqual(engine.values(WS, 'user', now), { orders: 0, spent_30d: null, first_city: null, cities: 0 });
  assert.equal(engine.valueOf(WS, 'user', 'nope', now), undefined);
  assert.equal(engine.remove(WS, defs[0]!.id), true);
  assert.deepEqual(Object.keys(engine.values(WS, 'user', now)), ['spent_30d', 'first_city', 'cities']);
});

test('the live/backfill boundary: observe takes only seq > fromSeq; a split during a backfill makes it stale', () => {
  const engine = new ComputedTraitEngine();
  const d = def({ name: 'n', op: 'count', event: 'E' });
  engine.add(d, 10n);
  engine.observe(WS, 'p1', ev('E', {}, T0, { seq: 10n }));
  engine.observe(WS, 'p1', ev('E', {}, T0, { seq: 11n }));
  assert.deepEqual(engine.values(WS, 'p1', T0), {}, 'not shown while its backfill runs');
  const row = { profileId: 'old', day: 0, events: 4, sum: null, min: null, max: null, first: null, last: null, tally: null };
  assert.equal(engine.load(d, [row], (id) => (id === 'old' ? 'p1' : id)), true);
  assert.equal(engine.valueOf(WS, 'p1', 'n', T0), 5, '4 backfilled (under the live id) + 1 live');

  engine.add(d, 20n);
  engine.forget(WS, 'p2');
  assert.equal(engine.load(d, [row], (id) => id), false, 'stale: start over');
  engine.add(d, 20n);
  assert.equal(engine.load(d, [row], (id) => id), true);
  engine.replay(WS, 'p3', ev('E', {}, T0, { seq: 3n }));
  assert.equal(engine.valueOf(WS, 'p3', 'n', T0), 1, 'replay folds old events again after a split');
});

let db: Database;
let conn: DuckDBConnection;
let store: DuckDbComputedTraitStore;
before(async () => { ({ db, conn, store } = await openTraitStore()); });
after(async () => { await db.close(); });

function stored(profileId: string, e: ReturnType<typeof ev>, workspaceId = WS): StoredEvent {
  return { ...e, profileId, workspaceId };
}

test('store: definitions round-trip; backfill groups by profile and day and honours seq and window', async () => {
  const d = def({ name: 'spent', op: 'sum', event: 'Order', property: 'total', windowDays: 30, filters: [{ property: 'ok', op: 'eq', value: true }] }, 'ws_store');
  await store.insert(d);
  assert.deepEqual((await store.list()).filter((x) => x.workspaceId === 'ws_store'), [d]);
  const e = (p: string, total: unknown, day: number, ok = true) => stored(p, ev('Order', { total, ok }, T0 + day * DAY + 3600_000), 'ws_store');
  const events = [e('c', 1, 10), e('a', 10, 50), e('a', 5, 50), e('a', 1, 60), e('b', 2.5, 55), e('b', 100, 55, false), e('b', 'x', 55), e('d', 1, 60)];
  await insertEvents(conn, events);
  const last = events[events.length - 2]!.seq;
  const rows = await store.backfill(d, last, T0 + 70 * DAY);
  const brief = rows.map((r) => `${r.profileId}@${r.day - T0 / DAY}:${r.events}/${r.sum}`).sort();
  assert.deepEqual(brief, ['a@50:2/15', 'a@60:1/1', 'b@55:1/2.5'], 'c: before the window; d: after the seq; ok=false and "x" left out');
  const engine = new ComputedTraitEngine();
  engine.add(d, last);
  engine.load(d, rows, (id) => id);
  assert.equal(engine.valueOf('ws_store', 'a', 'spent', T0 + 70 * DAY), 16);
  assert.equal(await store.delete('ws_store', d.id), true);
  assert.equal(await store.delete('ws_store', d.id), false);
});

test('store: every op backfills to the value observing gives', async () => {
  const ws = 'ws_ops';
  const events = [
    ev('Buy', { p: { cat: 'Shoes' }, n: 3, tags: ['x'] }, T0 + 3), ev('Buy', { p: { cat: 'Bags' }, n: 1.5 }, T0 + DAY),
    ev('Buy', { p: { cat: 'Shoes' }, n: '7' }, T0 + 2 * DAY), ev('Buy', { p: { cat: { deep: [1, 'é'] } }, n: -2 }, T0 + 2 * DAY),
    ev(null, { p: { cat: 'Page' } }, T0 + 1, { type: 'page', name: 'Home' }),
  ];
  await insertEvents(conn, events.map((e) => stored('p1', e, ws)));
  for (const op of ['count', 'sum', 'avg', 'min', 'max', 'first', 'last', 'most_frequent', 'distinct_count'] as const) {
    for (const [event, property] of [['Buy', op === 'sum' || op === 'avg' || op === 'min' || op === 'max' ? 'n' : 'p.cat'], ['$any', 'p.cat']] as const) {
      const d = def({ name: op, op, event, property }, ws);
      const live = new ComputedTraitEngine();
      live.add(d, 0n);
      live.load(d, [], (id) => id);
      for (const e of events) live.observe(ws, 'p1', e);
      const backfilled = new ComputedTraitEngine();
      backfilled.add(d, 1n << 40n);
      backfilled.load(d, await store.backfill(d, 1n << 40n, T0), (id) => id);
      assert.deepEqual(backfilled.valueOf(ws, 'p1', op, T0), live.valueOf(ws, 'p1', op, T0), `${op} of ${event}`);
    }
  }
});

test('store: the SQL filters match the same events as the JavaScript ones', async () => {
  const ws = 'ws_filters';
  await insertEvents(conn, FILTER_EVENTS.map((e) => stored('p1', e, ws)));
  for (const [f, n] of FILTER_CASES) {
    const rows = await store.backfill(def({ name: 'n', op: 'count', event: 'Order', filters: [f] }, ws), 1n << 40n, T0);
    assert.equal(rows.reduce((sum, r) => sum + r.events, 0), n, JSON.stringify(f));
  }
});

test('store: property names and filter values are bound parameters; an injection attempt breaks nothing', async () => {
  const ws = 'ws_inject';
  const nasty = "x'); DROP TABLE events; --";
  const quoted = `O'Brien "the" \\ 'best'`;
  await insertEvents(conn, [stored('p1', ev("Evil'); DROP TABLE events; --", { [nasty]: 4, name: quoted }, T0), ws)]);
  const d = def({
    name: 'evil', op: 'sum', event: "Evil'); DROP TABLE events; --", property: nasty,
    filters: [{ property: 'name', op: 'eq', value: quoted }, { property: 'name', op: 'in', value: [quoted, "'; DELETE FROM events; --"] }],
  }, ws);
  const rows = await store.backfill(d, 1n << 40n, T0);
  assert.deepEqual(rows.map((r) => [r.profileId, r.events, r.sum]), [['p1', 1, 4]], 'the odd names are plain names');
  await store.insert(d);
  assert.ok((await store.list()).some((x) => x.property === nasty), 'stored and read back verbatim');
  const tables = await all(conn, `SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'events'`);
  assert.equal(Number(tables[0]?.n), 1, 'the events table still exists');
  assert.ok(Number((await all(conn, 'SELECT count(*) AS n FROM events'))[0]?.n) > 0, 'and still has its rows');
});

test('backfillDefinition: events committed while the backfill query runs are counted exactly once, merges included', async () => {
  const ws = 'ws_race';
  const d = def({ name: 'orders', op: 'count', event: 'Order' }, ws);
  const early = [1, 2, 3].map((i) => stored(i === 3 ? 'anon' : 'user', ev('Order', {}, T0 + i), ws));
  await insertEvents(conn, early);
  let cursor = early[early.length - 1]!.seq;
  const engine = new ComputedTraitEngine();
  const merged = new Map<string, string>();
  const racing: DuckDbComputedTraitStore = Object.create(store) as DuckDbComputedTraitStore;
  racing.backfill = async (...args) => {
    const query = store.backfill(...args);
    // The processor commits two more events and merges anon into user while the query runs.
    const late = [stored('anon', ev('Order', {}, T0 + 10), ws), stored('user', ev('Order', {}, T0 + 11), ws)];
    await insertEvents(conn, late);
    cursor = late[1]!.seq;
    for (const e of late) engine.observe(ws, e.profileId, e);
    merged.set('anon', 'user');
    engine.merge(ws, 'anon', 'user');
    return query;
  };
  const stats = await backfillDefinition({
    store: racing, engine, clock: { now: () => T0 + DAY }, cursor: () => cursor,
    live: (_ws, id) => merged.get(id) ?? id,
  }, d);
  assert.equal(engine.valueOf(ws, 'user', 'orders', T0 + DAY), 5);
  assert.deepEqual([stats.events, stats.profiles], [3, 1], 'the backfill took the 3 events up to the cursor, under the live profile');
});
