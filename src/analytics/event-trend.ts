/**
 * Event trends: counts per hour, day or week of one event (or all), optionally filtered
 * (`where`, see property-path.ts) and broken down by a property path into at most 20 series
 * (the most frequent values; the rest is one `(other)` series). Without a breakdown there is
 * one series, `all`. Event names with their counts feed the event picker.
 *
 * @example
 *   await eventTrend(deps, 'ws_1', { event: 'Order Completed', interval: 'day', breakdown: 'context.channel' });
 *   // → { series: [{ key: 'email', points: [{ t: '2026-11-01T00:00:00.000Z', count: 12 }, ...] }, ...] }
 */
import { EnsembleError } from '../protocol/errors.js';
import { num, type AnalyticsReader } from './reader.js';
import { filterSql, Params, parseFilter, pathExpr } from './property-path.js';
import { bucketStarts, iso, timeRange, truncUnit, type Interval } from './time-range.js';

export interface TrendDeps {
  reader: AnalyticsReader;
  now: () => number;
  /** Whether a property key names personal data (an identifier type) in this workspace. */
  isPersonal: (workspaceId: string, key: string) => boolean;
}

export interface TrendQuery {
  event?: string;
  interval?: Interval;
  breakdown?: string;
  where?: string;
  from?: string;
  to?: string;
}

export interface Series {
  key: string;
  points: Array<{ t: string; count: number }>;
}

const MAX_SERIES = 20;
export const OTHER = '(other)';
export const NONE = '(none)';

/**
 * `reveal`: the caller may see personal data; a breakdown or filter on a personal key (an
 * email in properties) is refused otherwise, as its values would be the identifiers themselves.
 */
export async function eventTrend(deps: TrendDeps, ws: string, q: TrendQuery, reveal: boolean): Promise<{ series: Series[] }> {
  const interval = q.interval ?? 'day';
  const r = timeRange(q, deps.now(), interval);
  const guard = (leaf: string) => {
    if (!reveal && deps.isPersonal(ws, leaf)) throw new EnsembleError('ENSEMBLE_ERR_FORBIDDEN', `"${leaf}" is personal data: only roles allowed to see personal identifiers may break down or filter by it.`);
  };
  const p = new Params();
  const where = [`workspace_id = ${p.add(ws)}`, `timestamp >= epoch_ms(${p.add(r.from)}::BIGINT)`, `timestamp < epoch_ms(${p.add(r.to)}::BIGINT)`];
  if (q.event) where.push(`event = ${p.add(q.event)}`);
  where.push(filterSql(parseFilter(q.where), p, guard));
  let key = `'all'`;
  if (q.breakdown) {
    const b = pathExpr(q.breakdown, p);
    guard(b.leaf);
    key = `coalesce(${b.sql}::VARCHAR, '${NONE}')`;
  }
  const unit = truncUnit(interval);
  const rows = await deps.reader.rows(`WITH c AS (
      SELECT ${key} AS k, epoch_ms(date_trunc(${unit}, timestamp)) AS t, count(*) AS n FROM events WHERE ${where.join(' AND ')} GROUP BY 1, 2),
    top AS (SELECT k FROM c GROUP BY k ORDER BY sum(n) DESC, k LIMIT ${MAX_SERIES})
    SELECT CASE WHEN k IN (SELECT k FROM top) THEN k ELSE '${OTHER}' END AS k, t, sum(n) AS n FROM c GROUP BY 1, 2`, p.values);
  const byKey = new Map<string, Map<number, number>>();
  for (const x of rows) {
    const k = String(x.k);
    const m = byKey.get(k) ?? new Map<number, number>();
    m.set(num(x.t), num(x.n));
    byKey.set(k, m);
  }
  const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const buckets = bucketStarts(r, interval);
  const keys = [...byKey.keys()].sort((a, b) => (a === OTHER ? 1 : b === OTHER ? -1 : total(byKey.get(b)!) - total(byKey.get(a)!) || a.localeCompare(b)));
  if (keys.length === 0 && !q.breakdown) keys.push('all');
  return {
    series: keys.map((k) => ({ key: k, points: buckets.map((t) => ({ t: iso(t), count: byKey.get(k)?.get(t) ?? 0 })) })),
  };
}

/** Event names (track events) seen in the range, most frequent first, keyset-paginated by (count, name). */
export async function eventNames(deps: TrendDeps, ws: string, q: { from?: string; to?: string; limit?: number; cursor?: string }): Promise<{ names: Array<{ name: string; count: number }>; nextCursor: string | null }> {
  const r = timeRange(q, deps.now());
  const limit = q.limit ?? 100;
  const after = q.cursor === undefined ? null : decodeNameCursor(q.cursor);
  const rows = await deps.reader.rows(`SELECT event AS name, count(*) AS n FROM events
    WHERE workspace_id = $1 AND event IS NOT NULL AND timestamp >= epoch_ms($2::BIGINT) AND timestamp < epoch_ms($3::BIGINT)
    GROUP BY 1 HAVING $4::BIGINT IS NULL OR count(*) < $4::BIGINT OR (count(*) = $4::BIGINT AND event > $5::VARCHAR)
    ORDER BY n DESC, name LIMIT $6`, [ws, r.from, r.to, after?.count ?? null, after?.name ?? null, limit + 1]);
  const names = rows.slice(0, limit).map((x) => ({ name: String(x.name), count: num(x.n) }));
  const last = names[names.length - 1];
  return { names, nextCursor: rows.length > limit && last ? Buffer.from(JSON.stringify([last.count, last.name])).toString('base64url') : null };
}

function decodeNameCursor(cursor: string): { count: number; name: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && Number.isInteger(v[0]) && typeof v[1] === 'string') return { count: v[0] as number, name: v[1] };
  } catch { /* below */ }
  throw new EnsembleError('ENSEMBLE_ERR_CURSOR_INVALID');
}
