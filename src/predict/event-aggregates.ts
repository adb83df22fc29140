/**
 * What the stored events say about each profile before a cut-off instant, aggregated by DuckDB
 * (two GROUP BY queries over the workspace's events, never a row per event in JavaScript), and
 * the labels of time-based targets: whether a profile performed an event within a window.
 * Events are dated by their corrected `timestamp`; an event at or after the cut-off is never
 * read by `eventAggregates` (features), only by `performedBetween` (labels).
 *
 * @example
 *   const agg = await eventAggregates(conn, 'ws_1', cutoff, (id) => memory.live(id)?.id);
 *   agg.get('pr_1');   // { total: 12, last: 1767225600000, kinds: Map { 'Order Completed' => [1, 2, 4] }, ... }
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PropertyFilter } from '../protocol/filter.js';
import { all } from '../storage/duckdb/database.js';
import { SqlParams } from '../segments/sql/dialect.js';
import { duckdb } from '../segments/sql/duckdb-dialect.js';
import { eventMatchSql } from '../segments/sql/filter-sql.js';
import { DAY_MS, WINDOWS } from './features.js';

export interface ProfileEvents {
  total: number;
  total90: number;
  /** ms. */
  first: number;
  last: number;
  revenue: number;
  revenue90: number;
  /** Event kind (track name, `$page`, `$identify`...) → counts over 7, 30 and 90 days. */
  kinds: Map<string, number[]>;
  channels: Map<string, number>;
  devices: Map<string, number>;
}

const KIND = `CASE WHEN type = 'track' THEN event ELSE '$' || type END`;
const TS = (param: string): string => `make_timestamp(CAST(${param} AS BIGINT) * 1000)`;

/**
 * Purpose limitation: only the events of `sources` (those collecting for the model's purpose)
 * are read. Their ids are bound after the fixed parameters, from `$first` on.
 */
function fromSources(sources: readonly string[], first: number): { sql: string; params: string[] } {
  if (sources.length === 0) return { sql: 'false', params: [] };
  return { sql: `source_id IN (${sources.map((_s, i) => `$${first + i}`).join(', ')})`, params: [...sources] };
}

/** Per live profile, what its events dated before `cutoff`, from `sources`, add up to. */
export async function eventAggregates(conn: DuckDBConnection, workspaceId: string, cutoff: number, live: (id: string) => string | undefined, sources: readonly string[]): Promise<Map<string, ProfileEvents>> {
  const out = new Map<string, ProfileEvents>();
  const get = (id: string): ProfileEvents | undefined => {
    const pid = live(id);
    if (pid === undefined) return undefined;
    let e = out.get(pid);
    if (!e) {
      e = { total: 0, total90: 0, first: Infinity, last: -Infinity, revenue: 0, revenue90: 0, kinds: new Map(), channels: new Map(), devices: new Map() };
      out.set(pid, e);
    }
    return e;
  };
  const windows = WINDOWS.map((w, i) => `count(*) FILTER (WHERE timestamp >= ${TS(`$${i + 3}`)}) AS n${w}`).join(', ');
  const rows = await all(conn, `SELECT profile_id, ${KIND} AS kind, ${windows}, count(*) AS n,
      epoch_ms(min(timestamp)) AS first_ms, epoch_ms(max(timestamp)) AS last_ms,
      coalesce(sum(revenue), 0) AS rev, coalesce(sum(revenue) FILTER (WHERE timestamp >= ${TS('$5')}), 0) AS rev90
    FROM events WHERE workspace_id = $1 AND timestamp < ${TS('$2')} AND ${fromSources(sources, 6).sql}
    GROUP BY profile_id, kind`, [workspaceId, cutoff, ...WINDOWS.map((w) => cutoff - w * DAY_MS), ...fromSources(sources, 6).params]);
  for (const r of rows) {
    const e = get(r.profile_id as string);
    if (!e) continue;
    const counts = WINDOWS.map((w) => Number(r[`n${w}`]));
    const prev = e.kinds.get(r.kind as string);
    e.kinds.set(r.kind as string, prev ? prev.map((v, i) => v + (counts[i] as number)) : counts);
    e.total += Number(r.n);
    e.total90 += counts[WINDOWS.length - 1] as number;
    e.first = Math.min(e.first, Number(r.first_ms));
    e.last = Math.max(e.last, Number(r.last_ms));
    e.revenue += Number(r.rev);
    e.revenue90 += Number(r.rev90);
  }
  const mix = await all(conn, `SELECT profile_id, coalesce(channel, 'unknown') AS channel, coalesce(device_type, 'unknown') AS device, count(*) AS n
    FROM events WHERE workspace_id = $1 AND timestamp < ${TS('$2')} AND ${fromSources(sources, 3).sql} GROUP BY ALL`, [workspaceId, cutoff, ...fromSources(sources, 3).params]);
  for (const r of mix) {
    const e = get(r.profile_id as string);
    if (!e) continue;
    const n = Number(r.n);
    e.channels.set(r.channel as string, (e.channels.get(r.channel as string) ?? 0) + n);
    e.devices.set(r.device as string, (e.devices.get(r.device as string) ?? 0) + n);
  }
  return out;
}

/** The live profiles with at least one event from `sources` matching `event` and `filters` dated in [from, to). */
export async function performedBetween(
  conn: DuckDBConnection, workspaceId: string, event: string, filters: readonly PropertyFilter[] | undefined,
  from: number, to: number, live: (id: string) => string | undefined, sources: readonly string[],
): Promise<Set<string>> {
  const p = new SqlParams(duckdb);
  const ws = p.bind(workspaceId);
  const start = p.bind(from);
  const end = p.bind(to);
  const match = eventMatchSql(event, filters, p, 'e');
  match.push(sources.length === 0 ? 'false' : `e.source_id IN (${sources.map((s) => p.bind(s)).join(', ')})`);
  const rows = await all(conn, `SELECT DISTINCT e.profile_id FROM events e
    WHERE e.workspace_id = ${ws} AND e.timestamp >= ${TS(start)} AND e.timestamp < ${TS(end)}${match.map((m) => ` AND ${m}`).join('')}`, p.values);
  const out = new Set<string>();
  for (const r of rows) {
    const pid = live(r.profile_id as string);
    if (pid !== undefined) out.add(pid);
  }
  return out;
}
