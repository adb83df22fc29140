/**
 * SQL fragments the analytics questions share. Events keep the profile id they were processed
 * under; after a merge the person is the profile it was merged into, so questions about people
 * (funnels, attribution, active profiles) count `pid`, the live id (merges are followed one
 * level, which is what the identity engine leaves: a merge re-points earlier merges' survivors).
 */
import type { Params } from './property-path.js';
import type { TimeRange } from './time-range.js';

/**
 * The workspace's events in the range as a subquery with every column plus `pid` (the live
 * profile id); `where` is extra SQL over the events' columns (its values already bound).
 *
 * @example
 *   `SELECT count(DISTINCT pid) FROM ${liveEvents(p, ws, range, 'TRUE')}`
 */
export function liveEvents(p: Params, ws: string, r: TimeRange, where: string): string {
  const w = p.add(ws);
  return `(SELECT e.*, coalesce(m.merged_into, e.profile_id) AS pid FROM events e
    LEFT JOIN (${mergedProfiles(w)}) m ON m.id = e.profile_id
    WHERE e.workspace_id = ${w} AND e.timestamp >= epoch_ms(${p.add(r.from)}::BIGINT) AND e.timestamp < epoch_ms(${p.add(r.to)}::BIGINT) AND (${where}))`;
}

/**
 * The workspace's merged profiles and where each went (`id`, `merged_into`): LEFT JOIN it and
 * take `coalesce(merged_into, profile_id)` for the live id. `ws` is the bound parameter's SQL.
 */
export function mergedProfiles(ws: string): string {
  return `SELECT id, merged_into FROM profiles WHERE workspace_id = ${ws} AND merged_into IS NOT NULL`;
}
