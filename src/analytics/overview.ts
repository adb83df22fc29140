/**
 * The Home page's numbers: events per day, profiles, active profiles (with an event in the
 * range), the identified share (live profiles with an identifier other than an anonymous id),
 * each source's health, and the processing lag (how long the oldest event not yet processed has
 * been waiting).
 *
 * @example
 *   await overview(deps, 'ws_1', { from: '2026-11-01' }); // → { eventsPerDay: [...], profiles: 5000, ... }
 */
import type { Source } from '../protocol/workspace.js';
import { num, type AnalyticsReader } from './reader.js';
import { bucketStarts, iso, timeRange } from './time-range.js';

export interface OverviewDeps {
  reader: AnalyticsReader;
  now: () => number;
  sources: (workspaceId: string) => Source[];
  /** Events each source had refused today (UTC), counted by the collector. */
  rejectedToday: (sourceId: string) => number;
  /** Ms the oldest committed, unprocessed event has waited (0 when the processor is caught up). */
  processingLagMs: () => Promise<number>;
}

export interface Overview {
  eventsPerDay: Array<{ day: string; count: number }>;
  profiles: number;
  activeProfiles: number;
  identifiedShare: number;
  sources: Array<{ id: string; name: string; kind: string; lastEventAt: string | null; eventsToday: number; rejectedToday: number }>;
  processingLagMs: number;
}

const DAY = 86_400_000;

export async function overview(deps: OverviewDeps, ws: string, q: { from?: string; to?: string }): Promise<Overview> {
  const now = deps.now();
  const r = timeRange(q, now, 'day');
  const perDay = await deps.reader.rows(`SELECT epoch_ms(date_trunc('day', timestamp)) AS t, count(*) AS n FROM events
    WHERE workspace_id = $1 AND timestamp >= epoch_ms($2::BIGINT) AND timestamp < epoch_ms($3::BIGINT) GROUP BY 1`, [ws, r.from, r.to]);
  // From the profiles, not the events: a profile's first and last seen are its events' times, so
  // "active" is a scan of 1 M small rows instead of a distinct count over the month's events.
  // (Exact for ranges that end now, the default; for a range in the past it counts the profiles
  // whose activity spans it.) Identifiers are re-pointed to the survivor of a merge.
  const counts = await deps.reader.rows(`SELECT
      (SELECT count(*) FROM profiles WHERE workspace_id = $1 AND merged_into IS NULL) AS profiles,
      (SELECT count(*) FROM profiles WHERE workspace_id = $1 AND merged_into IS NULL AND last_seen >= $2 AND first_seen < $3) AS active,
      (SELECT count(DISTINCT profile_id) FROM identities WHERE workspace_id = $1 AND type <> 'anonymous_id') AS identified`, [ws, r.from, r.to]);
  const today = Math.floor(now / DAY) * DAY;
  // Events are stored in arrival order, so a bound on received_at skips all but the last row groups;
  // a source quiet for a week is looked up on its own.
  const recent = await deps.reader.rows(`SELECT source_id, epoch_ms(max(received_at)) AS last, count(*) FILTER (WHERE received_at >= epoch_ms($2::BIGINT)) AS today
    FROM events WHERE workspace_id = $1 AND received_at >= epoch_ms($3::BIGINT) GROUP BY 1`, [ws, today, today - 7 * DAY]);
  const quiet = deps.sources(ws).map((x) => x.id).filter((id) => !recent.some((x) => x.source_id === id));
  const older = quiet.length === 0 ? [] : await deps.reader.rows(`SELECT source_id, epoch_ms(max(received_at)) AS last, 0 AS today FROM events
    WHERE workspace_id = $1 AND source_id IN (SELECT unnest(from_json($2::JSON, '["VARCHAR"]'))) GROUP BY 1`, [ws, JSON.stringify(quiet)]);
  const bySource = [...recent, ...older];
  const byDay = new Map(perDay.map((x) => [num(x.t), num(x.n)]));
  const profiles = num(counts[0]?.profiles);
  const stats = new Map(bySource.map((x) => [x.source_id as string, { last: num(x.last), today: num(x.today) }]));
  return {
    eventsPerDay: bucketStarts(r, 'day').map((t) => ({ day: iso(t).slice(0, 10), count: byDay.get(t) ?? 0 })),
    profiles,
    activeProfiles: num(counts[0]?.active),
    identifiedShare: profiles === 0 ? 0 : Math.min(1, num(counts[0]?.identified) / profiles),
    sources: deps.sources(ws).map((s) => {
      const st = stats.get(s.id);
      return { id: s.id, name: s.name, kind: s.kind, lastEventAt: st ? iso(st.last) : null, eventsToday: st?.today ?? 0, rejectedToday: deps.rejectedToday(s.id) };
    }),
    processingLagMs: await deps.processingLagMs(),
  };
}
