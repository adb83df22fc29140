/**
 * Last-touch attribution: each conversion event in the range is credited to the person's last
 * touch at or before it within 30 days, a touch being an event the collector gave a channel
 * (a page view, a landing with UTM parameters, a referral: collect/steps/enrich.ts); its
 * campaign is that touch's `utm_campaign`. Conversions without a touch count as `direct`.
 * Revenue is the conversions' `revenue` (or `total` for Order Completed), summed.
 *
 * Two models. `last_non_direct` (the default) skips direct touches: every page after the landing
 * is classified `direct` (its referrer is the site itself), so crediting the very last touch
 * would give nearly every conversion to `direct` once the person clicks around — the reason
 * analytics tools default to "last non-direct click". `last_touch` credits the last touch of any
 * channel, direct included.
 *
 * @example
 *   await attribution(deps, 'ws_1', { conversion: 'Order Completed' });
 *   // → { rows: [{ channel: 'email', campaign: 'flash_sale', conversions: 12, revenue: 840.5 }, ...] }
 */
import { num } from './reader.js';
import { Params } from './property-path.js';
import { liveEvents } from './sql-parts.js';
import { timeRange } from './time-range.js';
import type { TrendDeps } from './event-trend.js';

export const LOOKBACK_MS = 30 * 86_400_000;

export interface AttributionRow {
  channel: string;
  campaign: string | null;
  conversions: number;
  revenue: number;
}

export const ATTRIBUTION_MODELS = ['last_non_direct', 'last_touch'] as const;
export type AttributionModel = (typeof ATTRIBUTION_MODELS)[number];

export async function attribution(deps: Pick<TrendDeps, 'reader' | 'now'>, ws: string, q: { conversion: string; model?: AttributionModel; from?: string; to?: string }): Promise<{ rows: AttributionRow[] }> {
  const r = timeRange(q, deps.now());
  const p = new Params();
  const conversions = liveEvents(p, ws, r, `event = ${p.add(q.conversion)}`);
  const touch = (q.model ?? 'last_non_direct') === 'last_touch' ? `channel IS NOT NULL` : `channel IS NOT NULL AND channel <> 'direct'`;
  const touches = liveEvents(p, ws, { from: r.from - LOOKBACK_MS, to: r.to }, touch);
  const lookback = p.add(LOOKBACK_MS);
  // Only the touches of people who converted: the as-of join then sorts thousands of rows, not millions.
  const rows = await deps.reader.rows(`WITH c AS MATERIALIZED (SELECT pid, timestamp, seq, revenue FROM ${conversions}),
      t AS (SELECT pid, timestamp, channel, utm_campaign FROM ${touches} WHERE pid IN (SELECT pid FROM c))
    SELECT CASE WHEN t.timestamp IS NULL OR t.timestamp < c.timestamp - to_milliseconds(${lookback}::BIGINT) THEN 'direct' ELSE t.channel END AS channel,
      CASE WHEN t.timestamp IS NULL OR t.timestamp < c.timestamp - to_milliseconds(${lookback}::BIGINT) THEN NULL ELSE t.utm_campaign END AS campaign,
      count(*) AS conversions, coalesce(sum(c.revenue), 0) AS revenue
    FROM c ASOF LEFT JOIN t ON c.pid = t.pid AND c.timestamp >= t.timestamp
    GROUP BY ALL ORDER BY conversions DESC, revenue DESC, channel, campaign NULLS FIRST`, p.values);
  return { rows: rows.map((x) => ({ channel: String(x.channel), campaign: x.campaign == null ? null : String(x.campaign), conversions: num(x.conversions), revenue: Math.round(num(x.revenue) * 100) / 100 })) };
}
