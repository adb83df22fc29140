/**
 * Campaign performance by channel, destination and journey, for messages sent in the range:
 * - sent: messages the channel's provider accepted (the `message_log` the pressure caps read);
 * - delivered: sent, minus those the provider later reported undelivered or failed (SMS status
 *   callbacks; e-mail has no bounce feed, so there delivered = sent);
 * - opened / clicked: distinct messages with an `Email Opened` / `Email Link Clicked` event (the
 *   signed links of collect/routes/message-links.ts carry the message key);
 * - converted: distinct messages whose recipient did the conversion event (default
 *   `Order Completed`) within 7 days after the send — the recipient as a person: events of a
 *   profile merged with theirs count.
 * A message's key names its destination and, for journey steps, the journey
 * (`<destination>:j:<journey>:...`, see activate/fanout.ts).
 *
 * @example
 *   await campaigns(deps, 'ws_1', {}); // → { rows: [{ channel: 'email', destinationId: 'dst_..', journeyId: 'jrn_..', sent: 100, ... }] }
 */
import { num, type AnalyticsReader } from './reader.js';
import { mergedProfiles } from './sql-parts.js';
import { timeRange } from './time-range.js';

export interface CampaignRow {
  channel: string;
  destinationId: string;
  journeyId: string | null;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  converted: number;
}

export const CONVERSION_WINDOW_MS = 7 * 86_400_000;
export const DEFAULT_CONVERSION = 'Order Completed';

export async function campaigns(deps: { reader: AnalyticsReader; now: () => number }, ws: string, q: { from?: string; to?: string; conversion?: string }): Promise<{ rows: CampaignRow[] }> {
  const r = timeRange(q, deps.now());
  // The person, not the profile id: the recipient may have been merged with the profile that
  // ordered (a second device that logged in later), either way round; sql-parts.ts explains the live id.
  const rows = await deps.reader.rows(`WITH merged AS (${mergedProfiles('$1')}),
    m AS (
      SELECT key, channel, coalesce(mg.merged_into, ml.profile_id) AS pid, sent_at, split_part(key, ':', 1) AS destination_id,
        CASE WHEN split_part(key, ':', 2) = 'j' THEN split_part(key, ':', 3) END AS journey_id
      FROM message_log ml LEFT JOIN merged mg ON mg.id = ml.profile_id
      WHERE ml.workspace_id = $1 AND sent_at >= $2 AND sent_at < $3),
    fb AS (
      SELECT json_extract_string(properties, '$.messageKey') AS key,
        bool_or(event = 'Email Opened') AS opened, bool_or(event = 'Email Link Clicked') AS clicked,
        bool_or(event IN ('SMS Undelivered', 'SMS Failed')) AS failed
      FROM events WHERE workspace_id = $1 AND timestamp >= epoch_ms($2::BIGINT) AND source_id = 'messaging'
        AND event IN ('Email Opened', 'Email Link Clicked', 'SMS Undelivered', 'SMS Failed')
      GROUP BY 1),
    conv AS (
      SELECT DISTINCT m.key FROM m JOIN (
          -- Bounded by the range so DuckDB skips the row groups outside it; joined on the person.
          SELECT coalesce(mg.merged_into, ev.profile_id) AS pid, timestamp FROM events ev LEFT JOIN merged mg ON mg.id = ev.profile_id
          WHERE ev.workspace_id = $1 AND event = $4
            AND timestamp >= epoch_ms($2::BIGINT) AND timestamp <= epoch_ms($3::BIGINT + $5::BIGINT)) e
        ON e.pid = m.pid AND e.timestamp >= epoch_ms(m.sent_at) AND e.timestamp <= epoch_ms(m.sent_at + $5::BIGINT))
    SELECT m.channel, m.destination_id, m.journey_id, count(*) AS sent,
      count(*) FILTER (WHERE NOT coalesce(fb.failed, false)) AS delivered,
      count(*) FILTER (WHERE fb.opened) AS opened, count(*) FILTER (WHERE fb.clicked) AS clicked,
      count(conv.key) AS converted
    FROM m LEFT JOIN fb ON fb.key = m.key LEFT JOIN conv ON conv.key = m.key
    GROUP BY ALL ORDER BY sent DESC, m.channel, m.destination_id, m.journey_id NULLS FIRST`,
  [ws, r.from, r.to, q.conversion ?? DEFAULT_CONVERSION, CONVERSION_WINDOW_MS]);
  return {
    rows: rows.map((x) => ({
      channel: String(x.channel), destinationId: String(x.destination_id), journeyId: x.journey_id == null ? null : String(x.journey_id),
      sent: num(x.sent), delivered: num(x.delivered), opened: num(x.opened), clicked: num(x.clicked), converted: num(x.converted),
    })),
  };
}
