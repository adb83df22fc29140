/**
 * What the segmentation benchmark computes: the typical rule and its hand-written baseline, and
 * 50 varied segments as a shop's marketers would write them (event counts in windows, "never",
 * traits, sequences, consent, or/not, references to other segments). Every definition is checked
 * by the real validator before use, so a definition the API would refuse fails the bench.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { validateSegmentDefinition, type SegmentCondition } from '../../src/protocol/segment.js';
import { DAY_MS, WS } from './generate.js';

/** The "typical rule": an event count in a window and a trait filter. */
export const TYPICAL: SegmentCondition = {
  kind: 'and', of: [
    { kind: 'event', event: 'Product Added', count: { op: 'gte', value: 2 }, within: '30d' },
    { kind: 'trait', trait: 'plan', op: 'in', value: ['pro', 'team'] },
  ],
};

/**
 * The baseline: the least SQL that answers the typical rule on this data, written by hand for it
 * — the events filtered on the raw `timestamp` column (so DuckDB can skip row groups by their
 * min/max), counted per stored profile id, moved to the live profile through the ~1 % merged
 * profiles (one level deep in this data, see generate.ts; the compiler follows chains of any
 * depth with a recursive CTE over every profile), then the plan read as a string. Same output as
 * the compiled SQL: one row per member.
 */
export function baselineSql(now: number): { sql: string; params: DuckDBValue[] } {
  return {
    sql: `WITH merged AS (SELECT id, merged_into FROM profiles WHERE workspace_id = $1 AND merged_into IS NOT NULL),
adds AS (
  SELECT coalesce(m.merged_into, e.profile_id) AS pid
  FROM events e LEFT JOIN merged m ON m.id = e.profile_id
  WHERE e.workspace_id = $1 AND e.type = 'track' AND e.event = 'Product Added' AND e.timestamp > make_timestamp($2::BIGINT * 1000)
  GROUP BY 1 HAVING count(*) >= 2)
SELECT p.id AS profile_id FROM profiles p JOIN adds a ON a.pid = p.id
WHERE p.workspace_id = $1 AND p.merged_into IS NULL AND json_extract_string(p.traits, '$.plan.value') IN ('pro', 'team')`,
    params: [WS, BigInt(now - 30 * DAY_MS)],
  };
}

/** The same without moving events of merged profiles to their live profile: the floor, and what skipping it gets wrong. */
export function baselineNoMergeSql(now: number): { sql: string; params: DuckDBValue[] } {
  return {
    sql: `WITH adds AS (
  SELECT profile_id AS pid FROM events
  WHERE workspace_id = $1 AND type = 'track' AND event = 'Product Added' AND timestamp > make_timestamp($2::BIGINT * 1000)
  GROUP BY 1 HAVING count(*) >= 2)
SELECT p.id AS profile_id FROM profiles p JOIN adds a ON a.pid = p.id
WHERE p.workspace_id = $1 AND p.merged_into IS NULL AND json_extract_string(p.traits, '$.plan.value') IN ('pro', 'team')`,
    params: [WS, BigInt(now - 30 * DAY_MS)],
  };
}

export interface BenchSegment {
  id: string;
  name: string;
  /** What kind of state it needs, for the memory breakdown. */
  family: 'windowed count' | 'all-time count' | 'trait only' | 'sequence' | 'consent' | 'combined';
  definition: SegmentCondition;
}

const ev = (event: string, extra: Partial<Extract<SegmentCondition, { kind: 'event' }>> = {}): SegmentCondition => ({ kind: 'event', event, ...extra });
const trait = (t: string, op: string, value?: unknown): SegmentCondition => ({ kind: 'trait', trait: t, op, ...(value === undefined ? {} : { value }) } as SegmentCondition);
const and = (...of: SegmentCondition[]): SegmentCondition => ({ kind: 'and', of });
const or = (...of: SegmentCondition[]): SegmentCondition => ({ kind: 'or', of });
const not = (of: SegmentCondition): SegmentCondition => ({ kind: 'not', of });
const seq = (within: string, ...steps: Array<string | { event: string; absent?: boolean; filters?: Array<{ property: string; op: string; value?: unknown }> }>): SegmentCondition =>
  ({ kind: 'sequence', within, steps: steps.map((s) => (typeof s === 'string' ? { event: s } : s)) } as SegmentCondition);
const consent = (purpose: string): SegmentCondition => ({ kind: 'consent', purpose });
const ref = (id: string): SegmentCondition => ({ kind: 'segment', id });
const gte = (value: number) => ({ op: 'gte' as const, value });

/** `YYYY-MM-DD` of `now - days`. */
function dayOf(now: number, days: number): string {
  return new Date(now - days * DAY_MS).toISOString().slice(0, 10);
}

/** The 50 segments, in creation order (a referenced segment comes before those referring to it). */
export function fiftySegments(now: number): BenchSegment[] {
  const list: Array<[string, BenchSegment['family'], SegmentCondition]> = [
    ['Typical: 2+ adds in 30 days, pro or team', 'combined', TYPICAL],
    ['Added to cart this week', 'windowed count', ev('Product Added', { within: '7d' })],
    ['5+ product views in 30 days', 'windowed count', ev('Product Viewed', { count: gte(5), within: '30d' })],
    ['Buyers (90 days)', 'windowed count', ev('Order Completed', { within: '90d' })],
    ['3+ orders ever', 'all-time count', ev('Order Completed', { count: gte(3) })],
    ['10+ page views in 14 days', 'windowed count', ev('$page', { count: gte(10), within: '14d' })],
    ['Active today', 'windowed count', ev('$any', { within: '1d' })],
    ['Active this week', 'windowed count', ev('$any', { within: '7d' })],
    ['Checkout abandoners (30 days)', 'windowed count', and(ev('Checkout Started', { within: '30d' }), ev('Order Completed', { within: '30d', count: { op: 'eq', value: 0 } }))],
    ['Cart abandoners (30 days)', 'windowed count', and(ev('Product Added', { within: '30d' }), ev('Order Completed', { within: '30d', count: { op: 'eq', value: 0 } }))],
    ['Never ordered', 'all-time count', ev('Order Completed', { count: { op: 'eq', value: 0 } })],
    ['Shoe browsers (30 days)', 'windowed count', ev('Product Viewed', { count: gte(2), within: '30d', filters: [{ property: 'category', op: 'eq', value: 'shoes' }] })],
    ['Big orders (90 days)', 'windowed count', ev('Order Completed', { within: '90d', filters: [{ property: 'revenue', op: 'gte', value: 200 }] })],
    ['Mid-price adds (14 days)', 'windowed count', ev('Product Added', { within: '14d', filters: [{ property: 'price', op: 'between', value: [50, 150] }] })],
    ['Viewed products 40 to 30 days ago', 'all-time count', { kind: 'event', event: 'Product Viewed', between: { from: dayOf(now, 40), to: dayOf(now, 30) } }],
    ['Signed in (30 days)', 'windowed count', ev('Signed In', { within: '30d' })],
    ['Books or toys lists (30 days)', 'windowed count', ev('Product List Viewed', { within: '30d', filters: [{ property: 'category', op: 'in', value: ['books', 'toys'] }] })],
    ['Light visitors (3 days)', 'windowed count', ev('$page', { within: '3d', count: { op: 'lt', value: 3 } })],
    ['One-time buyers', 'all-time count', ev('Order Completed', { count: { op: 'eq', value: 1 } })],
    ['Heavy browsers (60 days)', 'windowed count', ev('Product Viewed', { count: gte(20), within: '60d' })],
    ['Enterprise plan', 'trait only', trait('plan', 'eq', 'enterprise')],
    ['France and Belgium', 'trait only', trait('country', 'in', ['FR', 'BE'])],
    ['Aged 25–34', 'trait only', trait('age', 'between', [25, 34])],
    ['65 and over', 'trait only', trait('age', 'gte', 65)],
    ['No plan', 'trait only', not(trait('plan', 'exists'))],
    ['Countries starting with U', 'trait only', trait('country', 'starts_with', 'U')],
    ['Upsell: free plan, 3+ adds in 30 days', 'combined', and(trait('plan', 'eq', 'free'), ev('Product Added', { count: gte(3), within: '30d' }))],
    ['German buyers (30 days)', 'combined', and(trait('country', 'eq', 'DE'), ev('Order Completed', { within: '30d' }))],
    ['Viewed then added within a day', 'sequence', seq('1d', 'Product Viewed', 'Product Added')],
    ['Added, checked out, ordered within 7 days', 'sequence', seq('7d', 'Product Added', 'Checkout Started', 'Order Completed')],
    ['Viewed, added, no order within 7 days', 'sequence', seq('7d', 'Product Viewed', 'Product Added', { event: 'Order Completed', absent: true })],
    ['Checkout, no order within a day', 'sequence', seq('1d', 'Checkout Started', { event: 'Order Completed', absent: true })],
    ['Page then sign-in within an hour', 'sequence', seq('1h', '$page', 'Signed In')],
    ['Added, no view since, ordered (3 days)', 'sequence', seq('3d', 'Product Added', { event: 'Product Viewed', absent: true }, 'Order Completed')],
    ['Advertising consent', 'consent', consent('advertising')],
    ['Advertising consent, added this week', 'consent', and(consent('advertising'), ev('Product Added', { within: '7d' }))],
    ['No advertising consent', 'consent', not(consent('advertising'))],
    ['Ordered or checked out twice (30 days)', 'windowed count', or(ev('Order Completed', { within: '30d' }), ev('Checkout Started', { count: gte(2), within: '30d' }))],
    ['Paid plan or repeat buyer', 'combined', or(trait('plan', 'in', ['pro', 'team', 'enterprise']), ev('Order Completed', { count: gte(2) }))],
    ['Dormant (30 days)', 'windowed count', not(ev('$any', { within: '30d' }))],
    ['Lapsing: active in 90 days, not in 30', 'windowed count', and(ev('$any', { within: '90d' }), not(ev('$any', { within: '30d' })))],
    ['Pro in the US or team in the UK', 'trait only', or(and(trait('plan', 'eq', 'pro'), trait('country', 'eq', 'US')), and(trait('plan', 'eq', 'team'), trait('country', 'eq', 'GB')))],
    ['No views nor pages (30 days)', 'windowed count', not(or(ev('Product Viewed', { within: '30d' }), ev('$page', { within: '30d' })))],
    ['Buyers who accept advertising', 'combined', and(ref('s04'), consent('advertising'))],
    ['Cart abandoners on a paid plan', 'combined', and(ref('s10'), trait('plan', 'in', ['pro', 'team']))],
    ['Abandoned after viewing or at checkout', 'combined', or(ref('s31'), ref('s09'))],
    ['Young frequent adders', 'combined', and(ev('Product Added', { count: gte(5) }), trait('age', 'lt', 30))],
    ['Power users (50+ events)', 'all-time count', ev('$any', { count: gte(50) })],
    ['USD buyers (14 days)', 'windowed count', ev('Order Completed', { within: '14d', filters: [{ property: 'currency', op: 'eq', value: 'USD' }] })],
    ['40+ who viewed then ordered (30 days)', 'combined', and(seq('30d', 'Product Viewed', 'Order Completed'), trait('age', 'gte', 40))],
  ];
  const out = list.map(([name, family, definition], i) => ({ id: `s${String(i + 1).padStart(2, '0')}`, name, family, definition }));
  const byId = new Map(out.map((s) => [s.id, s.definition]));
  for (const s of out) {
    const problems = validateSegmentDefinition(s.definition, {
      segment: (id) => byId.get(id), computedTrait: () => false, personalTrait: () => false, self: s.id,
    });
    if (problems.length > 0) throw new Error(`bench segment ${s.id} (${s.name}) is invalid: ${JSON.stringify(problems)}`);
  }
  return out;
}
