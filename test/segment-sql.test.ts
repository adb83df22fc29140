/**
 * The batch compiler of segment definitions (segments/sql/): the exact statements it writes for
 * representative definitions, then member sets on a real DuckDB for hand-made data at the edges
 * of the semantics (window bounds, absent profiles and values, ties on event time, absent
 * sequence steps, the latest consent, merge chains), computed traits against the in-memory
 * engine, and hostile values that must stay data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ComputedTraitDefinition, ComputedTraitInput } from '../src/protocol/computed-trait.js';
import type { Comparison } from '../src/protocol/filter.js';
import type { SegmentCondition } from '../src/protocol/segment.js';
import { compileComparison } from '../src/profiles/computed-trait-match.js';
import { ComputedTraitEngine } from '../src/profiles/computed-traits.js';
import { compileSegment, type CompileContext } from '../src/segments/sql/compile.js';
import { Database, all } from '../src/storage/duckdb/database.js';
import { externalKey } from '../src/external/external-values.js';
import { DAY, T0, def as traitDef } from './helpers/trait-events.js';

/** Noon of 2024-01-11: windows end here. */
const NOW = T0 + 10 * DAY + DAY / 2;
const HOSTILE = ["'; DROP TABLE events; --", 'it\'s "quoted"', 'back\\slash\\', '$1', '$.a', "x' OR '1'='1"];

let db: Database;
let conn: DuckDBConnection;
before(async () => {
  db = await Database.open(':memory:');
  conn = await db.connect();
  // Static list items: created here until the schema has them (same columns).
  await conn.run('CREATE TABLE IF NOT EXISTS segment_list_items (workspace_id VARCHAR, list_id VARCHAR, type VARCHAR, hash VARCHAR)');
});
after(async () => { await db.close(); });

interface Profile { id: string; traits?: Record<string, unknown>; mergedInto?: string }

/** Profile ids are unique across workspaces: each test names its profiles inside its workspace. */
const stored = (ws: string, id: string): string => `${ws}/${id}`;
interface Ev {
  profile: string;
  at: number;
  event?: string | null;
  type?: string;
  properties?: unknown;
  consent?: unknown;
  context?: unknown;
  country?: string;
  seq?: number;
  messageId?: string;
}

async function addProfiles(ws: string, profiles: readonly Profile[]): Promise<void> {
  const lines = profiles.map((p) => JSON.stringify({
    id: stored(ws, p.id), w: ws, m: p.mergedInto === undefined ? null : stored(ws, p.mergedInto),
    t: Object.fromEntries(Object.entries(p.traits ?? {}).map(([k, value]) => [k, { value, at: T0, sourceId: 'src_test', messageId: 'm0' }])),
  }));
  await conn.run(`INSERT INTO profiles (id, workspace_id, traits, first_seen, last_seen, event_count, merged_into)
    SELECT j->>'id', j->>'w', json_extract(j, '$.t'), 0, 0, 0, j->>'m' FROM (SELECT unnest(string_split($1, chr(10)))::JSON AS j)`, [lines.join('\n')]);
}

let seq = 0;
async function addEvents(ws: string, events: readonly Ev[]): Promise<void> {
  const lines = events.map((e) => {
    const s = e.seq ?? ++seq;
    const type = e.type ?? (e.event === undefined || e.event === null ? 'identify' : 'track');
    return JSON.stringify({
      w: ws, s: String(s), m: e.messageId ?? `msg${s}`, y: type, e: type === 'track' ? e.event : null, p: stored(ws, e.profile), t: e.at,
      r: e.properties ?? {}, c: e.consent ?? null, x: e.context ?? {}, k: e.country ?? null,
    });
  });
  await conn.run(`INSERT INTO events (workspace_id, seq, message_id, type, event, name, profile_id, source_id, timestamp,
      original_timestamp, received_at, properties, consent, context, country)
    SELECT j->>'w', CAST(j->>'s' AS BIGINT), j->>'m', j->>'y', j->>'e', NULL, j->>'p', 'src_test',
           make_timestamp(CAST(j->>'t' AS BIGINT) * 1000), make_timestamp(CAST(j->>'t' AS BIGINT) * 1000),
           make_timestamp(CAST(j->>'t' AS BIGINT) * 1000), json_extract(j, '$.r'), json_extract(j, '$.c'),
           json_extract(j, '$.x'), j->>'k'
      FROM (SELECT unnest(string_split($1, chr(10)))::JSON AS j)`, [lines.join('\n')]);
}

let consentIds = 0;
async function addConsents(ws: string, records: ReadonlyArray<{ profile: string; status: string; at: number; recordedAt?: number; id?: string; purpose?: string }>): Promise<void> {
  const lines = records.map((r) => JSON.stringify({ w: ws, i: r.id ?? `c${String(++consentIds).padStart(6, '0')}`, p: stored(ws, r.profile), u: r.purpose ?? 'marketing', s: r.status, a: r.at, r: r.recordedAt ?? r.at }));
  await conn.run(`INSERT INTO consent_records (workspace_id, id, profile_id, purpose, status, decided_at, recorded_at, source, proof)
    SELECT j->>'w', j->>'i', j->>'p', j->>'u', j->>'s', CAST(j->>'a' AS BIGINT), CAST(j->>'r' AS BIGINT), 'api', '{}'
      FROM (SELECT unnest(string_split($1, chr(10)))::JSON AS j)`, [lines.join('\n')]);
}

function context(ws: string, more: Partial<CompileContext> = {}): CompileContext {
  return { workspaceId: ws, now: NOW, segment: () => undefined, computedTrait: () => undefined, ...more };
}

async function members(ws: string, definition: SegmentCondition, more: Partial<CompileContext> = {}): Promise<string[]> {
  const { sql, params } = compileSegment(definition, context(ws, more));
  const rows = await all(conn, sql, params);
  const ids = rows.map((r) => (r.profile_id as string).slice(stored(ws, '').length));
  assert.equal(new Set(ids).size, ids.length, 'one row per member');
  return ids.sort();
}

async function count(table: string): Promise<number> {
  return Number((await all(conn, `SELECT count(*) AS n FROM ${table}`))[0]?.n);
}

/** The same head for every statement that reads events: merged profile ids → live profile ids. */
const LIVE = `WITH RECURSIVE
chain (id, live_id, depth) AS (
  SELECT id, merged_into, 1 FROM profiles WHERE workspace_id = $1 AND merged_into IS NOT NULL
  UNION ALL
  SELECT c.id, p.merged_into, c.depth + 1 FROM chain c JOIN profiles p ON p.id = c.live_id WHERE p.workspace_id = $1 AND p.merged_into IS NOT NULL
),
live (id, live_id) AS (
  SELECT id, arg_max(live_id, depth) FROM chain GROUP BY id
)`;
/** The live profiles of the workspace, with each trait value read extracted once (`columns`). */
function universe(columns = ''): string {
  return `SELECT u.id AS profile_id
FROM (SELECT id${columns} FROM profiles WHERE workspace_id = $1 AND merged_into IS NULL) u`;
}

function compiled(definition: SegmentCondition, more: Partial<CompileContext> = {}): { sql: string; params: unknown[] } {
  return compileSegment(definition, context('ws_1', more));
}

test('SQL: a trait filter reads the value inside the trait, every value bound', () => {
  assert.deepEqual(compiled({ kind: 'trait', trait: 'address.city', op: 'eq', value: 'Paris' }), {
    sql: `${universe(', json_extract(traits, $2) AS t1')}
WHERE coalesce(json_type(u.t1) = 'VARCHAR' AND json_extract_string(u.t1, '$') = $3, false)`,
    params: ['ws_1', '$."address"."value"."city"', 'Paris'],
  });
});

test('SQL: an event count in a window aggregates per live profile, LEFT JOINed so a count of 0 is seen', () => {
  assert.deepEqual(compiled({ kind: 'event', event: 'Order Completed', within: '30d', count: { op: 'gte', value: 3 } }), {
    sql: `${LIVE},
c1 AS (
  SELECT coalesce(l.live_id, e.profile_id) AS profile_id, count(*) AS n
  FROM events e LEFT JOIN live l ON l.id = e.profile_id
  WHERE e.workspace_id = $1 AND e.type = 'track' AND e.event = $2 AND e.timestamp > make_timestamp(CAST($3 AS BIGINT) * 1000)
  GROUP BY coalesce(l.live_id, e.profile_id)
)
${universe()}
LEFT JOIN c1 ON c1.profile_id = u.id
WHERE coalesce(c1.n, 0) >= $4`,
    params: ['ws_1', 'Order Completed', NOW - 30 * DAY, 3],
  });
});

test('SQL: and of an event count with a property filter and a trait', () => {
  const definition: SegmentCondition = {
    kind: 'and',
    of: [
      { kind: 'event', event: 'Product Added', filters: [{ property: 'price', op: 'gt', value: 10 }], within: '7d' },
      { kind: 'trait', trait: 'plan', op: 'neq', value: 'free' },
    ],
  };
  assert.deepEqual(compiled(definition), {
    sql: `${LIVE},
c1 AS (
  SELECT coalesce(l.live_id, e.profile_id) AS profile_id, count(*) AS n
  FROM events e LEFT JOIN live l ON l.id = e.profile_id
  WHERE e.workspace_id = $1 AND e.type = 'track' AND e.event = $2 AND e.timestamp > make_timestamp(CAST($3 AS BIGINT) * 1000) AND coalesce(json_type(json_extract(e.properties, $4)) IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND TRY_CAST(json_extract(e.properties, $4) AS DOUBLE) > CAST($5 AS DOUBLE), false)
  GROUP BY coalesce(l.live_id, e.profile_id)
)
${universe(', json_extract(traits, $7) AS t1')}
LEFT JOIN c1 ON c1.profile_id = u.id
WHERE (coalesce(c1.n, 0) >= $6 AND NOT coalesce(json_type(u.t1) = 'VARCHAR' AND json_extract_string(u.t1, '$') = $8, false))`,
    params: ['ws_1', 'Product Added', NOW - 7 * DAY, '$."price"', 10, 1, '$."plan"."value"', 'free'],
  });
});

test('SQL: not of page views between two dates', () => {
  assert.deepEqual(compiled({ kind: 'not', of: { kind: 'event', event: '$page', between: { from: '2024-01-01', to: '2024-02-01' } } }), {
    sql: `${LIVE},
c1 AS (
  SELECT coalesce(l.live_id, e.profile_id) AS profile_id, count(*) AS n
  FROM events e LEFT JOIN live l ON l.id = e.profile_id
  WHERE e.workspace_id = $1 AND e.type = 'page' AND e.timestamp >= make_timestamp(CAST($2 AS BIGINT) * 1000) AND e.timestamp < make_timestamp(CAST($3 AS BIGINT) * 1000)
  GROUP BY coalesce(l.live_id, e.profile_id)
)
${universe()}
LEFT JOIN c1 ON c1.profile_id = u.id
WHERE NOT (coalesce(c1.n, 0) >= $4)`,
    params: ['ws_1', Date.UTC(2024, 0, 1), Date.UTC(2024, 1, 1), 1],
  });
});

test('SQL: a sequence with a trailing absent step, by window functions over the events of its steps', () => {
  const definition: SegmentCondition = {
    kind: 'sequence', within: '7d',
    steps: [{ event: 'Product Viewed' }, { event: 'Product Added' }, { event: 'Order Completed', absent: true }],
  };
  assert.deepEqual(compiled(definition), {
    sql: `${LIVE},
c1_e AS (
  SELECT *, CASE WHEN m0 THEN at_ms END AS l0 FROM (
    SELECT coalesce(l.live_id, e.profile_id) AS profile_id, epoch_ms(e.timestamp) AS at_ms, e.seq,
      (e.type = 'track' AND e.event = $2) AS m0,
      (e.type = 'track' AND e.event = $3) AS m1,
      (e.type = 'track' AND e.event = $4) AS m2
    FROM events e LEFT JOIN live l ON l.id = e.profile_id
    WHERE e.workspace_id = $1 AND ((e.type = 'track' AND e.event = $2) OR (e.type = 'track' AND e.event = $3) OR (e.type = 'track' AND e.event = $4))
  ) WHERE m0 OR m1 OR m2
),
c1_s1 AS (
  SELECT *, CASE WHEN m1 THEN max(l0) OVER (PARTITION BY profile_id ORDER BY at_ms, seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) END AS l1
  FROM c1_e
),
c1 AS (
  SELECT DISTINCT profile_id FROM (
    SELECT *, min(CASE WHEN m2 THEN at_ms END)
      OVER (PARTITION BY profile_id ORDER BY at_ms, seq ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_absent
    FROM c1_s1
  ) WHERE l1 IS NOT NULL AND at_ms - l1 <= $5 AND (next_absent IS NULL OR next_absent - at_ms > $5)
)
${universe()}
LEFT JOIN c1 ON c1.profile_id = u.id
WHERE c1.profile_id IS NOT NULL`,
    params: ['ws_1', 'Product Viewed', 'Product Added', 'Order Completed', 7 * DAY],
  });
});

test('SQL: an absent step between positive steps counts the absent events before each row', () => {
  const definition: SegmentCondition = { kind: 'sequence', within: '1h', steps: [{ event: 'A' }, { event: 'B', absent: true }, { event: 'C' }] };
  const { sql } = compiled(definition);
  assert.ok(sql.includes(`c1_x2 AS (
  SELECT *, sum(CASE WHEN m1 THEN 1 ELSE 0 END) OVER (PARTITION BY profile_id ORDER BY at_ms, seq ROWS UNBOUNDED PRECEDING) AS xa2
  FROM c1_e
),
c1_s2 AS (
  SELECT *, CASE WHEN m2 AND b2.x = xa2 - CASE WHEN m1 THEN 1 ELSE 0 END THEN b2.l END AS l2
  FROM (SELECT *, max(CASE WHEN l0 IS NOT NULL THEN {'x': xa2, 'l': l0} END) OVER (PARTITION BY profile_id ORDER BY at_ms, seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS b2 FROM c1_x2)
),
c1 AS (
  SELECT DISTINCT profile_id FROM c1_s2 WHERE l2 IS NOT NULL AND at_ms - l2 <= $5
)`), sql);
});

test('SQL: consent reads the decision in force in the consent records (decision time, recording time, id)', () => {
  assert.deepEqual(compiled({ kind: 'consent', purpose: 'marketing' }), {
    sql: `${LIVE},
c1 AS (
  SELECT coalesce(l.live_id, r.profile_id) AS profile_id, arg_max(r.status = 'granted', {'k1': r.decided_at, 'k2': r.recorded_at, 'k3': r.id}) AS granted
  FROM consent_records r LEFT JOIN live l ON l.id = r.profile_id
  WHERE r.workspace_id = $1 AND r.purpose = $2
  GROUP BY coalesce(l.live_id, r.profile_id)
)
${universe()}
LEFT JOIN c1 ON c1.profile_id = u.id
WHERE coalesce(c1.granted, false)`,
    params: ['ws_1', 'marketing'],
  });
});

test('SQL: a geo country condition takes the latest event with a country, codes bound', () => {
  assert.deepEqual(compiled({ kind: 'geo', country: ['FR', 'BE'] }), {
    sql: `${LIVE},
c1 AS (
  SELECT coalesce(l.live_id, e.profile_id) AS profile_id, arg_max(e.country IN ($2, $3), {'k1': epoch_ms(e.timestamp), 'k2': e.seq}) AS inside
  FROM events e LEFT JOIN live l ON l.id = e.profile_id
  WHERE e.workspace_id = $1 AND e.country IS NOT NULL
  GROUP BY coalesce(l.live_id, e.profile_id)
)
${universe()}
LEFT JOIN c1 ON c1.profile_id = u.id
WHERE coalesce(c1.inside, false)`,
    params: ['ws_1', 'FR', 'BE'],
  });
});

test('SQL: a segment reference compiles the other definition inline', () => {
  const segments: Record<string, SegmentCondition> = { vip: { kind: 'trait', trait: 'plan', op: 'in', value: ['pro', 'team'] } };
  assert.deepEqual(compiled({ kind: 'or', of: [{ kind: 'segment', id: 'vip' }, { kind: 'consent', purpose: 'marketing' }] }, { segment: (id) => segments[id] }), {
    sql: `${LIVE},
c1 AS (
  SELECT coalesce(l.live_id, r.profile_id) AS profile_id, arg_max(r.status = 'granted', {'k1': r.decided_at, 'k2': r.recorded_at, 'k3': r.id}) AS granted
  FROM consent_records r LEFT JOIN live l ON l.id = r.profile_id
  WHERE r.workspace_id = $1 AND r.purpose = $5
  GROUP BY coalesce(l.live_id, r.profile_id)
)
${universe(', json_extract(traits, $2) AS t1')}
LEFT JOIN c1 ON c1.profile_id = u.id
WHERE ((coalesce(json_type(u.t1) = 'VARCHAR' AND json_extract_string(u.t1, '$') = $3, false) OR coalesce(json_type(u.t1) = 'VARCHAR' AND json_extract_string(u.t1, '$') = $4, false)) OR coalesce(c1.granted, false))`,
    params: ['ws_1', '$."plan"."value"', 'pro', 'team', 'marketing'],
  });
});

test('event count: window bounds (now - d out, now - d + 1 in, the future in), between, count eq 0 for profiles without events', async () => {
  const ws = 'ws_window';
  await addProfiles(ws, ['p_out', 'p_in', 'p_future', 'p_none', 'p_two', 'p_page'].map((id) => ({ id })));
  await addEvents(ws, [
    { profile: 'p_out', event: 'Order', at: NOW - DAY },
    { profile: 'p_in', event: 'Order', at: NOW - DAY + 1 },
    { profile: 'p_future', event: 'Order', at: NOW + 5 * DAY },
    { profile: 'p_two', event: 'Order', at: NOW - 1 },
    { profile: 'p_two', event: 'Order', at: NOW - 2 },
    { profile: 'p_two', event: 'Other', at: NOW - 2 },
    { profile: 'p_page', type: 'page', at: NOW - 2 },
    { profile: 'p_none', at: NOW - 2 },
  ]);
  const order = (more: Partial<Extract<SegmentCondition, { kind: 'event' }>>): SegmentCondition => ({ kind: 'event', event: 'Order', ...more });
  assert.deepEqual(await members(ws, order({ within: '1d' })), ['p_future', 'p_in', 'p_two']);
  assert.deepEqual(await members(ws, order({ within: '1d', count: { op: 'eq', value: 0 } })), ['p_none', 'p_out', 'p_page']);
  assert.deepEqual(await members(ws, order({ within: '1d', count: { op: 'gte', value: 2 } })), ['p_two']);
  assert.deepEqual(await members(ws, order({ within: '1d', count: { op: 'lt', value: 2 } })), ['p_future', 'p_in', 'p_none', 'p_out', 'p_page']);
  assert.deepEqual(await members(ws, order({ within: '1d', count: { op: 'neq', value: 1 } })), ['p_none', 'p_out', 'p_page', 'p_two']);
  assert.deepEqual(await members(ws, order({ count: { op: 'gt', value: 0 } })), ['p_future', 'p_in', 'p_out', 'p_two']);
  assert.deepEqual(await members(ws, order({ count: { op: 'lte', value: 1 } })), ['p_future', 'p_in', 'p_none', 'p_out', 'p_page']);
  assert.deepEqual(await members(ws, { kind: 'event', event: '$page' }), ['p_page']);
  assert.deepEqual(await members(ws, { kind: 'event', event: '$any', count: { op: 'eq', value: 1 } }), ['p_future', 'p_in', 'p_none', 'p_out', 'p_page']);
  // between: from included, to excluded.
  const from = new Date(NOW - DAY + 1).toISOString();
  const to = new Date(NOW - 1).toISOString();
  assert.deepEqual(await members(ws, order({ between: { from, to } })), ['p_in', 'p_two']);
  assert.deepEqual(await members(ws, order({ between: { from: '2024-01-10T12:00:00.001Z', to: '2024-01-11T11:59:59.999Z' } })), ['p_in', 'p_two']);
  assert.deepEqual(await members(ws, order({ between: { from: '2024-01-10', to: '2024-01-11' } })), ['p_in', 'p_out']);
});

test('event filters on properties: typed equality, neq on absent values, contains in arrays', async () => {
  const ws = 'ws_filters';
  await addProfiles(ws, ['a', 'b', 'c', 'd'].map((id) => ({ id })));
  await addEvents(ws, [
    { profile: 'a', event: 'Order', at: T0, properties: { total: 5, tags: ['sale', 7], product: { category: 'Shoes' } } },
    { profile: 'b', event: 'Order', at: T0, properties: { total: '5', tags: 'sale', product: { category: null } } },
    { profile: 'c', event: 'Order', at: T0, properties: { total: 50, tags: ['7'], product: 'flat' } },
  ]);
  const filtered = (filters: Extract<SegmentCondition, { kind: 'event' }>['filters']): SegmentCondition => ({ kind: 'event', event: 'Order', filters });
  assert.deepEqual(await members(ws, filtered([{ property: 'total', op: 'eq', value: 5 }])), ['a']);
  assert.deepEqual(await members(ws, filtered([{ property: 'total', op: 'eq', value: '5' }])), ['b']);
  assert.deepEqual(await members(ws, filtered([{ property: 'product.category', op: 'neq', value: 'Shoes' }])), ['b', 'c']);
  assert.deepEqual(await members(ws, filtered([{ property: 'tags', op: 'contains', value: 'sale' }])), ['a', 'b']);
  assert.deepEqual(await members(ws, filtered([{ property: 'tags', op: 'contains', value: '7' }])), ['c']);
  assert.deepEqual(await members(ws, filtered([{ property: 'total', op: 'between', value: [5, 50] }, { property: 'tags', op: 'exists' }])), ['a', 'c']);
  assert.deepEqual(await members(ws, filtered([{ property: 'product.category', op: 'starts_with', value: 'Sh' }])), ['a']);
});

test('trait: a path inside the trait value, neq matches absent values (missing trait, null, missing path)', async () => {
  const ws = 'ws_traits';
  await addProfiles(ws, [
    { id: 'paris', traits: { plan: 'pro', address: { city: 'Paris' }, seats: 3 } },
    { id: 'lyon', traits: { plan: 'team', address: { city: 'Lyon' }, seats: '3' } },
    { id: 'null_city', traits: { plan: null, address: { city: null } } },
    { id: 'no_traits' },
    { id: 'flat_address', traits: { address: 'Paris', value: { city: 'Paris' } } },
  ]);
  const trait = (t: string, op: Comparison['op'], value?: unknown): SegmentCondition => ({ kind: 'trait', trait: t, op, value });
  assert.deepEqual(await members(ws, trait('address.city', 'eq', 'Paris')), ['paris']);
  assert.deepEqual(await members(ws, trait('address.city', 'neq', 'Paris')), ['flat_address', 'lyon', 'no_traits', 'null_city']);
  assert.deepEqual(await members(ws, trait('address', 'exists')), ['flat_address', 'lyon', 'null_city', 'paris']);
  assert.deepEqual(await members(ws, trait('plan', 'in', ['pro', 'team'])), ['lyon', 'paris']);
  assert.deepEqual(await members(ws, trait('plan', 'neq', 'pro')), ['flat_address', 'lyon', 'no_traits', 'null_city']);
  assert.deepEqual(await members(ws, trait('seats', 'gte', 3)), ['paris']);
  assert.deepEqual(await members(ws, { kind: 'not', of: trait('plan', 'exists') }), ['flat_address', 'no_traits', 'null_city']);
});

test("merged profiles: events of a merge chain A → B → C count for C; merged profiles are not members", async () => {
  const ws = 'ws_merge';
  await addProfiles(ws, [{ id: 'A', mergedInto: 'B' }, { id: 'B', mergedInto: 'C' }, { id: 'C' }, { id: 'D' }, { id: 'E', mergedInto: 'D' }]);
  await addEvents(ws, [
    { profile: 'A', event: 'Order', at: T0 }, { profile: 'B', event: 'Order', at: T0 + 1 }, { profile: 'C', event: 'Order', at: T0 + 2 },
    { profile: 'E', event: 'Order', at: T0 },
  ]);
  assert.deepEqual(await members(ws, { kind: 'event', event: 'Order', count: { op: 'eq', value: 3 } }), ['C']);
  assert.deepEqual(await members(ws, { kind: 'event', event: 'Order', count: { op: 'eq', value: 1 } }), ['D']);
  assert.deepEqual(await members(ws, { kind: 'event', event: 'Order', count: { op: 'eq', value: 0 } }), []);
  // A sequence across the chain: a view on A, a purchase on C.
  await addEvents(ws, [{ profile: 'A', event: 'View', at: T0 - 1 }]);
  assert.deepEqual(await members(ws, { kind: 'sequence', within: '1h', steps: [{ event: 'View' }, { event: 'Order' }] }), ['C']);
});

test('sequence: strict (time, seq) order, ties broken by seq, t_last - t_first <= within', async () => {
  const ws = 'ws_seq';
  await addProfiles(ws, ['in_order', 'tie_before', 'tie_after', 'edge', 'too_long', 'one_event', 'restart'].map((id) => ({ id })));
  await addEvents(ws, [
    { profile: 'in_order', event: 'View', at: T0 }, { profile: 'in_order', event: 'Cart', at: T0 + 1 },
    // Same time: the log sequence decides.
    { profile: 'tie_before', event: 'Cart', at: T0, seq: 1001 }, { profile: 'tie_before', event: 'View', at: T0, seq: 1002 },
    { profile: 'tie_after', event: 'View', at: T0, seq: 1003 }, { profile: 'tie_after', event: 'Cart', at: T0, seq: 1004 },
    { profile: 'edge', event: 'View', at: T0 }, { profile: 'edge', event: 'Cart', at: T0 + DAY },
    { profile: 'too_long', event: 'View', at: T0 }, { profile: 'too_long', event: 'Cart', at: T0 + DAY + 1 },
    // One event cannot be two steps.
    { profile: 'one_event', event: 'View', at: T0 },
    // A later start fits where the first does not.
    { profile: 'restart', event: 'View', at: T0 }, { profile: 'restart', event: 'View', at: T0 + 5 * DAY }, { profile: 'restart', event: 'Cart', at: T0 + 5 * DAY + 1 },
  ]);
  const seqOf = (steps: Array<{ event: string; absent?: boolean }>, within = '1d'): SegmentCondition => ({ kind: 'sequence', within, steps });
  assert.deepEqual(await members(ws, seqOf([{ event: 'View' }, { event: 'Cart' }])), ['edge', 'in_order', 'restart', 'tie_after']);
  assert.deepEqual(await members(ws, seqOf([{ event: 'View' }, { event: 'View' }], '10d')), ['restart']);
  assert.deepEqual(await members(ws, seqOf([{ event: 'Cart' }, { event: 'View' }])), ['tie_before']);
  assert.deepEqual(await members(ws, seqOf([{ event: '$any' }, { event: '$any' }, { event: '$any' }], '10d')), ['restart']);
});

test('sequence: absent steps between positive steps and trailing, several in a row', async () => {
  const ws = 'ws_absent';
  const ids = ['blocked', 'clear', 'later_start', 'endpoint', 'trail_in', 'trail_out', 'trail_tie_before', 'trail_tie_after', 'trail_two', 'trail_none'];
  await addProfiles(ws, ids.map((id) => ({ id })));
  const H = 3_600_000;
  await addEvents(ws, [
    { profile: 'blocked', event: 'View', at: T0 }, { profile: 'blocked', event: 'Leave', at: T0 + 1 }, { profile: 'blocked', event: 'Cart', at: T0 + 2 },
    { profile: 'clear', event: 'View', at: T0 }, { profile: 'clear', event: 'Cart', at: T0 + 1 }, { profile: 'clear', event: 'Leave', at: T0 + 2 },
    { profile: 'later_start', event: 'View', at: T0 }, { profile: 'later_start', event: 'Leave', at: T0 + 1 },
    { profile: 'later_start', event: 'View', at: T0 + 2 }, { profile: 'later_start', event: 'Cart', at: T0 + 3 },
    // The absent step matches the first step's own event: it is not strictly between.
    { profile: 'endpoint', event: 'View', at: T0, properties: { leave: true } }, { profile: 'endpoint', event: 'Cart', at: T0 + 1 },
    // Trailing: a Buy at t_last + within still counts against; one ms later it does not.
    { profile: 'trail_in', event: 'View', at: T0 }, { profile: 'trail_in', event: 'Cart', at: T0 + H }, { profile: 'trail_in', event: 'Buy', at: T0 + H + DAY },
    { profile: 'trail_out', event: 'View', at: T0 }, { profile: 'trail_out', event: 'Cart', at: T0 + H }, { profile: 'trail_out', event: 'Buy', at: T0 + H + DAY + 1 },
    // A Buy at the same time as the Cart: before it (lower seq) it does not count, after it it does.
    { profile: 'trail_tie_before', event: 'View', at: T0, seq: 2001 }, { profile: 'trail_tie_before', event: 'Buy', at: T0 + H, seq: 2002 },
    { profile: 'trail_tie_before', event: 'Cart', at: T0 + H, seq: 2003 },
    { profile: 'trail_tie_after', event: 'View', at: T0, seq: 2004 }, { profile: 'trail_tie_after', event: 'Cart', at: T0 + H, seq: 2005 },
    { profile: 'trail_tie_after', event: 'Buy', at: T0 + H, seq: 2006 },
    // Two trailing absent steps both apply; a second Cart after the Buy starts a clear chain.
    { profile: 'trail_two', event: 'View', at: T0 }, { profile: 'trail_two', event: 'Cart', at: T0 + 1 }, { profile: 'trail_two', event: 'Return', at: T0 + 2 },
    { profile: 'trail_none', event: 'View', at: T0 }, { profile: 'trail_none', event: 'Cart', at: T0 + 1 }, { profile: 'trail_none', event: 'Buy', at: T0 + 2 },
    { profile: 'trail_none', event: 'Cart', at: T0 + 3 },
  ]);
  const between: SegmentCondition = { kind: 'sequence', within: '7d', steps: [{ event: 'View' }, { event: 'Leave', absent: true }, { event: 'Cart' }] };
  assert.deepEqual(await members(ws, between), ['clear', 'endpoint', 'later_start', 'trail_in', 'trail_none', 'trail_out', 'trail_tie_after', 'trail_tie_before', 'trail_two']);
  const selfAbsent: SegmentCondition = {
    kind: 'sequence', within: '7d',
    steps: [{ event: 'View' }, { event: 'View', filters: [{ property: 'leave', op: 'eq', value: true }], absent: true }, { event: 'Cart' }],
  };
  assert.ok((await members(ws, selfAbsent)).includes('endpoint'));
  const trailing: SegmentCondition = { kind: 'sequence', within: '1d', steps: [{ event: 'View' }, { event: 'Cart' }, { event: 'Buy', absent: true }] };
  assert.deepEqual(await members(ws, trailing), ['blocked', 'clear', 'endpoint', 'later_start', 'trail_none', 'trail_out', 'trail_tie_before', 'trail_two']);
  const twoTrailing: SegmentCondition = {
    kind: 'sequence', within: '1d', steps: [{ event: 'View' }, { event: 'Cart' }, { event: 'Buy', absent: true }, { event: 'Return', absent: true }],
  };
  assert.deepEqual(await members(ws, twoTrailing), ['blocked', 'clear', 'endpoint', 'later_start', 'trail_none', 'trail_out', 'trail_tie_before']);
  const twoBetween: SegmentCondition = {
    kind: 'sequence', within: '7d',
    steps: [{ event: 'View' }, { event: 'Leave', absent: true }, { event: 'Buy', absent: true }, { event: 'Cart' }, { event: 'Return', absent: true }],
  };
  assert.deepEqual(await members(ws, twoBetween), ['clear', 'endpoint', 'later_start', 'trail_in', 'trail_none', 'trail_out', 'trail_tie_after']);
});

test('consent: the decision in force wins (latest decision, then latest recording, then id), across a merge; denied and withdrawn are not granted', async () => {
  const ws = 'ws_consent';
  await addProfiles(ws, ['granted', 'revoked', 'tie_recorded', 'tie_id', 'denied', 'never', 'other_purpose', 'survivor', { id: 'merged', mergedInto: 'survivor' }]
    .map((p) => (typeof p === 'string' ? { id: p } : p)));
  await addConsents(ws, [
    { profile: 'granted', status: 'withdrawn', at: T0 }, { profile: 'granted', status: 'granted', at: T0 + 1 },
    // A late-arriving old decision never overrides a newer one.
    { profile: 'revoked', status: 'withdrawn', at: T0 + 1, recordedAt: T0 + 1 }, { profile: 'revoked', status: 'granted', at: T0, recordedAt: T0 + 9 },
    { profile: 'tie_recorded', status: 'withdrawn', at: T0, recordedAt: T0 + 2 }, { profile: 'tie_recorded', status: 'granted', at: T0, recordedAt: T0 + 1 },
    { profile: 'tie_id', status: 'granted', at: T0, recordedAt: T0, id: 'c2' }, { profile: 'tie_id', status: 'withdrawn', at: T0, recordedAt: T0, id: 'c1' },
    { profile: 'denied', status: 'denied', at: T0 },
    { profile: 'other_purpose', status: 'granted', at: T0, purpose: 'analytics' },
    { profile: 'survivor', status: 'withdrawn', at: T0 }, { profile: 'merged', status: 'granted', at: T0 + 1 },
  ]);
  assert.deepEqual(await members(ws, { kind: 'consent', purpose: 'marketing' }), ['granted', 'survivor', 'tie_id']);
  assert.deepEqual(await members(ws, { kind: 'consent', purpose: 'analytics' }), ['other_purpose']);
  assert.deepEqual(await members(ws, { kind: 'not', of: { kind: 'consent', purpose: 'marketing' } }), ['denied', 'never', 'other_purpose', 'revoked', 'tie_recorded']);
});

test('geo: the latest located event decides `near` (edge included, bad points ignored); the latest country decides `country`', async () => {
  const ws = 'ws_geo';
  // The Louvre; 1 km due north is 0.008993° of latitude on the mean sphere.
  const shop = { latitude: 48.8606, longitude: 2.3376 };
  const at = (latitude: number, longitude = shop.longitude): unknown => ({ location: { latitude, longitude } });
  await addProfiles(ws, ['inside', 'left', 'returned', 'bad_point', 'never', 'survivor', { id: 'merged', mergedInto: 'survivor' }]
    .map((p) => (typeof p === 'string' ? { id: p } : p)));
  await addEvents(ws, [
    { profile: 'inside', at: T0, context: at(shop.latitude + 0.004), country: 'FR' },
    { profile: 'left', at: T0, context: at(shop.latitude) }, { profile: 'left', at: T0 + 1, context: at(shop.latitude + 0.02), country: 'DE' },
    { profile: 'returned', at: T0 + 1, context: at(shop.latitude) }, { profile: 'returned', at: T0, context: at(52.52, 13.405) },
    // Later but not a location: out of range, text.
    { profile: 'bad_point', at: T0, context: at(shop.latitude) }, { profile: 'bad_point', at: T0 + 1, context: at(91) },
    { profile: 'bad_point', at: T0 + 2, context: { location: { latitude: '48.86', longitude: 2.3 } }, country: 'FR' },
    { profile: 'never', at: T0, country: 'BE' },
    { profile: 'survivor', at: T0, context: at(10, 10), country: 'FR' }, { profile: 'merged', at: T0 + 1, context: at(shop.latitude), country: 'DE' },
  ]);
  assert.deepEqual(await members(ws, { kind: 'geo', near: { ...shop, radiusKm: 1 } }), ['bad_point', 'inside', 'returned', 'survivor']);
  assert.deepEqual(await members(ws, { kind: 'geo', near: { ...shop, radiusKm: 0.4 } }), ['bad_point', 'returned', 'survivor']);
  assert.deepEqual(await members(ws, { kind: 'geo', country: ['FR'] }), ['bad_point', 'inside']);
  assert.deepEqual(await members(ws, { kind: 'geo', country: ['DE', 'BE'] }), ['left', 'never', 'survivor']);
  assert.deepEqual(await members(ws, { kind: 'not', of: { kind: 'geo', near: { ...shop, radiusKm: 1 } } }), ['left', 'never']);
});

test('external data: the key trait is normalised as the engine does (NFC, JavaScript whitespace, case); missing keys and values are absent', async () => {
  const ws = 'ws_external';
  await addProfiles(ws, [
    { id: 'zurich_nfd', traits: { city: 'Zu\u0308rich' } }, { id: 'paris_spaced', traits: { city: '\u00a0PARIS\t' } },
    { id: 'number', traits: { city: 75 } }, { id: 'unknown_city', traits: { city: 'Brest' } }, { id: 'no_city' },
    { id: 'nested', traits: { home: { city: 'paris' } } },
  ]);
  await conn.run(`INSERT INTO external_values VALUES ($1, 'weather', 'zürich', 'temp', '18', 0), ($1, 'weather', 'paris', 'temp', '27', 0),
    ($1, 'weather', 'paris', 'sky', '"sunny"', 0), ($1, 'other', 'brest', 'temp', '30', 0)`, [ws]);
  const hot = { kind: 'external', source: 'weather', key: 'city', field: 'temp', op: 'gt', value: 25 } as const;
  assert.deepEqual(await members(ws, hot), ['paris_spaced']);
  assert.deepEqual(await members(ws, { ...hot, op: 'exists' }), ['paris_spaced', 'zurich_nfd']);
  assert.deepEqual(await members(ws, { ...hot, op: 'neq', value: 18 }), ['nested', 'no_city', 'number', 'paris_spaced', 'unknown_city'], 'neq holds for absent values');
  assert.deepEqual(await members(ws, { ...hot, key: 'home.city', field: 'sky', op: 'eq', value: 'sunny' }), ['nested']);
  // The engine's key function agrees on the same texts.
  for (const text of ['Zu\u0308rich', '\u00a0PARIS\t']) assert.ok(['zürich', 'paris'].includes(externalKey(text)));
});

test('static lists: profiles owning an identifier of the list, through merges', async () => {
  const ws = 'ws_list';
  await addProfiles(ws, [{ id: 'p1' }, { id: 'p2' }, { id: 'p3' }, { id: 'old', mergedInto: 'p3' }]);
  await conn.run(`INSERT INTO identities (workspace_id, type, hash, profile_id, first_seen) VALUES
    ($1, 'email', 'h1', $2, 0), ($1, 'phone', 'h1', $3, 0), ($1, 'email', 'h3', $4, 0), ($1, 'email', 'h4', $2, 0)`,
    [ws, stored(ws, 'p1'), stored(ws, 'p2'), stored(ws, 'old')]);
  await conn.run(`INSERT INTO segment_list_items VALUES ($1, 'vip', 'email', 'h1'), ($1, 'vip', 'email', 'h3'), ($1, 'vip', 'email', 'h4'),
    ($1, 'other', 'phone', 'h1'), ('ws_else', 'vip', 'phone', 'h1')`, [ws]);
  assert.deepEqual(await members(ws, { kind: 'list', id: 'vip' }), ['p1', 'p3']);
  assert.deepEqual(await members(ws, { kind: 'list', id: 'other' }), ['p2']);
  assert.deepEqual(await members(ws, { kind: 'list', id: 'none' }), []);
});

test('and / or / not and segment references (inline, a repeated leaf read once, unknown segments have no members)', async () => {
  const ws = 'ws_logic';
  await addProfiles(ws, [
    { id: 'pro_buyer', traits: { plan: 'pro' } }, { id: 'pro_idle', traits: { plan: 'pro' } }, { id: 'free_buyer', traits: { plan: 'free' } }, { id: 'none' },
  ]);
  await addEvents(ws, [{ profile: 'pro_buyer', event: 'Order', at: NOW - 1 }, { profile: 'free_buyer', event: 'Order', at: NOW - 1 }]);
  const buyers: SegmentCondition = { kind: 'event', event: 'Order', within: '7d' };
  const pro: SegmentCondition = { kind: 'trait', trait: 'plan', op: 'eq', value: 'pro' };
  const segments: Record<string, SegmentCondition> = { buyers, pro, proBuyers: { kind: 'and', of: [{ kind: 'segment', id: 'buyers' }, { kind: 'segment', id: 'pro' }] } };
  const more = { segment: (id: string) => segments[id] };
  assert.deepEqual(await members(ws, { kind: 'and', of: [buyers, pro] }), ['pro_buyer']);
  assert.deepEqual(await members(ws, { kind: 'or', of: [buyers, pro] }), ['free_buyer', 'pro_buyer', 'pro_idle']);
  assert.deepEqual(await members(ws, { kind: 'not', of: { kind: 'or', of: [buyers, pro] } }), ['none']);
  assert.deepEqual(await members(ws, { kind: 'segment', id: 'proBuyers' }, more), ['pro_buyer']);
  const both: SegmentCondition = { kind: 'or', of: [{ kind: 'segment', id: 'proBuyers' }, { kind: 'not', of: { kind: 'segment', id: 'buyers' } }] };
  assert.deepEqual(await members(ws, both, more), ['none', 'pro_buyer', 'pro_idle']);
  assert.equal(compileSegment(both, context(ws, more)).sql.match(/^c\d+ AS \(/gm)?.length, 1, 'the buyers leaf is one CTE');
  assert.deepEqual(await members(ws, { kind: 'segment', id: 'deleted' }), []);
  assert.deepEqual(await members(ws, { kind: 'not', of: { kind: 'segment', id: 'deleted' } }), ['free_buyer', 'none', 'pro_buyer', 'pro_idle']);
});

/** Computed trait definitions of the workspace, by name. */
const COMPUTED: ComputedTraitInput[] = [
  { name: 'orders', op: 'count', event: 'Order' },
  { name: 'orders_2d', op: 'count', event: 'Order', windowDays: 2 },
  { name: 'with_total', op: 'count', event: 'Order', property: 'total' },
  { name: 'revenue', op: 'sum', event: 'Order', property: 'total' },
  { name: 'revenue_2d', op: 'sum', event: 'Order', property: 'total', windowDays: 2 },
  { name: 'basket', op: 'avg', event: 'Order', property: 'total' },
  { name: 'smallest', op: 'min', event: 'Order', property: 'total', filters: [{ property: 'cat', op: 'neq', value: 'Bags' }] },
  { name: 'largest', op: 'max', event: '$any', property: 'total' },
  { name: 'first_cat', op: 'first', event: 'Order', property: 'cat' },
  { name: 'last_cat', op: 'last', event: 'Order', property: 'cat' },
  { name: 'fav', op: 'most_frequent', event: 'Order', property: 'cat' },
  { name: 'fav_2d', op: 'most_frequent', event: 'Order', property: 'cat', windowDays: 2 },
  { name: 'cats', op: 'distinct_count', event: 'Order', property: 'cat' },
];

test('computed traits: the value the in-memory engine shows, compared by the filter language', async () => {
  const ws = 'ws_computed';
  const ids = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'quiet'];
  await addProfiles(ws, [...ids.map((id) => ({ id })), { id: 'p5_old', mergedInto: 'p5' }]);
  const events: Ev[] = [
    { profile: 'p1', event: 'Order', at: NOW - 5 * DAY, properties: { total: 10, cat: 'Shoes' } },
    { profile: 'p1', event: 'Order', at: NOW - DAY, properties: { total: 2.5, cat: 'Bags' } },
    { profile: 'p1', event: 'Order', at: NOW + DAY, properties: { total: 100, cat: 'Bags' } },
    { profile: 'p1', event: 'Order', at: NOW - DAY, properties: { total: '7', cat: 'Shoes' } },
    // Ties: same time, messageId decides first/last; equal counts, the smallest JSON text wins.
    { profile: 'p2', event: 'Order', at: NOW - DAY, messageId: 'b', properties: { cat: 'zeta' } },
    { profile: 'p2', event: 'Order', at: NOW - DAY, messageId: 'a', properties: { cat: 'alpha' } },
    { profile: 'p2', event: 'Order', at: NOW - DAY, messageId: 'c', properties: { cat: 'Alpha' } },
    // Values whose text differs between DuckDB and JavaScript (1e21 against 1e+21) tie.
    { profile: 'p3', event: 'Order', at: NOW - 3 * DAY, properties: { cat: [1e-7, 'small'], total: 1 } },
    { profile: 'p3', event: 'Order', at: NOW - 3 * DAY, properties: { cat: [1e21, 'big'], total: 2 } },
    { profile: 'p6', event: 'Order', at: NOW - 3 * DAY, properties: { cat: 1e-7 } },
    { profile: 'p6', event: 'Order', at: NOW - 3 * DAY, properties: { cat: 1e21 } },
    { profile: 'p4', event: 'Order', at: NOW - DAY, properties: { cat: { a: 1 }, total: null } },
    { profile: 'p4', event: 'Order', at: NOW - DAY, properties: { cat: true } },
    { profile: 'p4', event: 'Order', at: NOW - DAY, properties: { cat: { a: 1 } } },
    { profile: 'p4', event: 'View', at: NOW - DAY, properties: { total: 1000 } },
    { profile: 'p5', event: 'Order', at: NOW - DAY, properties: { cat: 'x', total: 1 } },
    { profile: 'p5_old', event: 'Order', at: NOW - 2 * DAY, properties: { cat: 'y', total: 2 } },
    { profile: 'p5_old', event: 'Order', at: NOW - DAY + 1, properties: { cat: 'y', total: 3 } },
  ].map((e, i) => ({ ...e, messageId: e.messageId ?? `e${i}` }));
  await addEvents(ws, events);

  const defs = COMPUTED.map((input) => traitDef(input, ws));
  const engine = new ComputedTraitEngine();
  for (const d of defs) { engine.add(d, 0n); engine.load(d, [], (id) => id); }
  const live = (id: string): string => (id === 'p5_old' ? 'p5' : id);
  for (const [i, e] of events.entries()) {
    engine.observe(ws, live(e.profile), {
      type: 'track', event: e.event ?? null, name: null, properties: e.properties as Record<string, unknown>, at: e.at,
      messageId: e.messageId as string, seq: BigInt(i + 1), sourceId: 'src_test',
    });
  }
  const computedTrait = (name: string): ComputedTraitDefinition | undefined => defs.find((d) => d.name === name);
  // The engine's values are what the comparisons must see; compare them with a few values each.
  for (const d of defs) {
    const values = ids.map((id) => engine.valueOf(ws, id, d.name, NOW));
    const comparisons: Comparison[] = [
      { op: 'exists' }, { op: 'neq', value: 'Bags' }, { op: 'gt', value: 1 }, { op: 'lte', value: 'Shoes' }, { op: 'contains', value: 'big' },
      ...values.filter((v) => v !== null && typeof v !== 'object').map((value) => ({ op: 'eq' as const, value: value as string | number | boolean })),
    ];
    for (const c of comparisons) {
      const test = compileComparison(c);
      const expected = ids.filter((_, i) => test(values[i] === null ? undefined : values[i])).sort();
      assert.deepEqual(await members(ws, { kind: 'computed', name: d.name, ...c }, { computedTrait }), expected,
        `${d.name} ${JSON.stringify(c)}: engine values ${JSON.stringify(values)}`);
    }
  }
  assert.deepEqual(engine.valueOf(ws, 'p2', 'fav', NOW), 'Alpha', 'the tie goes to the smallest text');
  assert.deepEqual(engine.valueOf(ws, 'p3', 'fav', NOW), [1e21, 'big'], 'JavaScript writes 1e+21, which sorts before 1e-7');
  assert.deepEqual(engine.valueOf(ws, 'p6', 'fav', NOW), 1e21);
  assert.deepEqual(await members(ws, { kind: 'computed', name: 'fav', op: 'eq', value: 1e21 }, { computedTrait }), ['p6']);
  assert.deepEqual(await members(ws, { kind: 'computed', name: 'fav', op: 'contains', value: 'big' }, { computedTrait }), ['p3']);
  assert.deepEqual(await members(ws, { kind: 'computed', name: 'fav', op: 'contains', value: 'small' }, { computedTrait }), []);
  assert.deepEqual(await members(ws, { kind: 'computed', name: 'orders', op: 'eq', value: 0 }, { computedTrait }), ['quiet']);
  assert.deepEqual(await members(ws, { kind: 'computed', name: 'deleted', op: 'neq', value: 1 }, { computedTrait }), ids.slice().sort());
});

test('hostile values are bound, matched literally, and the tables survive', async () => {
  const ws = HOSTILE[0] as string;
  const ids = HOSTILE.map((_, i) => `p${i}`);
  await addProfiles(ws, ids.map((id, i) => ({ id, traits: { plan: HOSTILE[i] } })));
  await addEvents(ws, HOSTILE.map((h, i) => ({
    profile: `p${i}`, event: h, at: NOW - 1, properties: { note: h },
  })));
  await addConsents(ws, HOSTILE.map((h, i) => ({ profile: `p${i}`, status: 'granted', at: NOW - 1, purpose: h })));
  const eventsBefore = await count('events');
  for (const [i, h] of HOSTILE.entries()) {
    const expected = [`p${i}`];
    assert.deepEqual(await members(ws, { kind: 'event', event: h, within: '1d' }), expected, `event ${h}`);
    assert.deepEqual(await members(ws, { kind: 'trait', trait: 'plan', op: 'eq', value: h }), expected, `trait ${h}`);
    assert.deepEqual(await members(ws, { kind: 'event', event: '$any', filters: [{ property: 'note', op: 'in', value: [h] }] }), expected, `property ${h}`);
    assert.deepEqual(await members(ws, { kind: 'consent', purpose: h }), expected, `purpose ${h}`);
    assert.deepEqual(await members(ws, { kind: 'sequence', within: '1d', steps: [{ event: h }, { event: h, absent: true }] }), expected, `sequence ${h}`);
    assert.deepEqual(await members(ws, { kind: 'list', id: h }), [], `list ${h}`);
    assert.deepEqual(await members(ws, { kind: 'trait', trait: 'plan', op: 'starts_with', value: h.slice(0, 3) }),
      ids.filter((_, j) => (HOSTILE[j] as string).startsWith(h.slice(0, 3))), `prefix ${h}`);
  }
  for (const h of HOSTILE.slice(1)) assert.deepEqual(await members(h, { kind: 'event', event: '$any', count: { op: 'eq', value: 0 } }), [], `workspace ${h}`);
  assert.equal(await count('events'), eventsBefore);
  assert.ok(await count('profiles') > 0);
  const { sql, params } = compileSegment({ kind: 'and', of: HOSTILE.map((h) => ({ kind: 'event', event: h, filters: [{ property: 'note', op: 'eq', value: h }] })) }, context(ws));
  for (const h of HOSTILE.filter((x) => /['"\\]/.test(x))) assert.ok(!sql.includes(h), `${h} is not in the text`);
  assert.ok(HOSTILE.every((h) => params.includes(h)));
});
