/**
 * Ordered funnels: how many people did step 1 in the range, then step 2 after it, then step 3
 * after that..., every later step within `within` (e.g. `7d`) of their first step 1. A person
 * counts from their earliest step 1 in the range, and each next step is their earliest
 * occurrence after the previous one (ties on the same millisecond are ordered by log position).
 * `conversion` is the share of step 1's people who reached the step.
 *
 * @example
 *   await funnel(deps, 'ws_1', { steps: [{ event: 'Product Viewed' }, { event: 'Order Completed' }], within: '7d' }, false);
 *   // → { steps: [{ event: 'Product Viewed', count: 120, conversion: 1 }, { event: 'Order Completed', count: 30, conversion: 0.25 }] }
 */
import { EnsembleError } from '../protocol/errors.js';
import { num } from './reader.js';
import { filterSql, Params } from './property-path.js';
import { liveEvents } from './sql-parts.js';
import { timeRange } from './time-range.js';
import type { TrendDeps } from './event-trend.js';

export interface FunnelInput {
  steps: Array<{ event: string; where?: Record<string, unknown> }>;
  within: string;
  from?: string;
  to?: string;
}

const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30m`, `12h`, `7d` → ms (at most 90 days). */
export function windowMs(text: string): number {
  const m = /^(\d{1,4})([mhd])$/.exec(text);
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : NaN;
  if (!(ms > 0 && ms <= 90 * 86_400_000)) throw new EnsembleError('ENSEMBLE_ERR_ANALYTICS_FILTER_INVALID', '`within` is a duration like 30m, 12h or 7d (at most 90 days).');
  return ms;
}

export async function funnel(deps: TrendDeps, ws: string, input: FunnelInput, reveal: boolean): Promise<{ steps: Array<{ event: string; count: number; conversion: number }> }> {
  const r = timeRange(input, deps.now());
  const within = windowMs(input.within);
  const guard = (leaf: string) => {
    if (!reveal && deps.isPersonal(ws, leaf)) throw new EnsembleError('ENSEMBLE_ERR_FORBIDDEN', `"${leaf}" is personal data: only roles allowed to see personal identifiers may filter by it.`);
  };
  const p = new Params();
  // Later steps may happen after `to` (within the window of a step 1 inside the range).
  const span = { from: r.from, to: r.to + within };
  // One scan of the events of every step (a flag per step), then one join per step on that set;
  // an event's order key is its time in ms then its log position, as one HUGEINT.
  const flags = input.steps.map((s, i) => `(event = ${p.add(s.event)} AND ${filterSql(s.where, p, guard)}) AS f${i}`);
  const names = p.add(JSON.stringify([...new Set(input.steps.map((s) => s.event))]));
  const ctes = [`ev AS MATERIALIZED (SELECT pid, epoch_ms(timestamp) AS ms, epoch_ms(timestamp)::HUGEINT * 1000000000000 + seq AS k, ${flags.join(', ')}
    FROM ${liveEvents(p, ws, span, `event IN (SELECT unnest(from_json(${names}::JSON, '["VARCHAR"]')))`)})`];
  const to = p.add(r.to);
  const w = p.add(within);
  input.steps.forEach((_s, i) => {
    ctes.push(i === 0
      ? `s0 AS MATERIALIZED (SELECT pid, min(k) AS k, min(ms) AS t0 FROM ev WHERE f0 AND ms < ${to} GROUP BY pid)`
      : `s${i} AS MATERIALIZED (SELECT ev.pid, min(ev.k) AS k, any_value(prev.t0) AS t0 FROM ev JOIN s${i - 1} prev ON ev.pid = prev.pid
          WHERE ev.f${i} AND ev.k > prev.k AND ev.ms <= prev.t0 + ${w} GROUP BY ev.pid)`);
  });
  const counts = input.steps.map((_s, i) => `(SELECT count(*) FROM s${i}) AS c${i}`).join(', ');
  const rows = await deps.reader.rows(`WITH ${ctes.join(',\n')} SELECT ${counts}`, p.values);
  const row = rows[0] ?? {};
  const first = num(row.c0);
  return {
    steps: input.steps.map((s, i) => {
      const count = num(row[`c${i}`]);
      return { event: s.event, count, conversion: first === 0 ? 0 : count / first };
    }),
  };
}
