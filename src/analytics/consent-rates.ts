/**
 * Consent rates per purpose over time, from the consent records (an immutable history, one row
 * per decision): per bucket, how many decisions granted, denied or withdrawn the purpose, and the
 * rate, granted / all decisions of the bucket (null when there were none). Counts only: no
 * profile id leaves this query.
 *
 * @example
 *   await consentRates(deps, 'ws_1', { interval: 'day' });
 *   // → { series: [{ purpose: 'analytics', points: [{ t: '2026-11-01T00:00:00.000Z', granted: 40, denied: 10, withdrawn: 0, rate: 0.8 }] }] }
 */
import { num, type AnalyticsReader } from './reader.js';
import { bucketStarts, iso, timeRange, truncUnit, type Interval } from './time-range.js';

export interface ConsentPoint {
  t: string;
  granted: number;
  denied: number;
  withdrawn: number;
  rate: number | null;
}

export async function consentRates(deps: { reader: AnalyticsReader; now: () => number; purposes: (ws: string) => string[] }, ws: string,
  q: { interval?: Interval; from?: string; to?: string }): Promise<{ series: Array<{ purpose: string; points: ConsentPoint[] }> }> {
  const interval = q.interval ?? 'day';
  const r = timeRange(q, deps.now(), interval);
  const rows = await deps.reader.rows(`SELECT purpose, epoch_ms(date_trunc(${truncUnit(interval)}, epoch_ms(decided_at))) AS t,
      count(*) FILTER (WHERE status = 'granted') AS granted, count(*) FILTER (WHERE status = 'denied') AS denied,
      count(*) FILTER (WHERE status = 'withdrawn') AS withdrawn
    FROM consent_records WHERE workspace_id = $1 AND decided_at >= $2 AND decided_at < $3 GROUP BY 1, 2`, [ws, r.from, r.to]);
  const byPurpose = new Map<string, Map<number, { granted: number; denied: number; withdrawn: number }>>();
  for (const p of deps.purposes(ws)) byPurpose.set(p, new Map());
  for (const x of rows) {
    const m = byPurpose.get(String(x.purpose)) ?? new Map();
    m.set(num(x.t), { granted: num(x.granted), denied: num(x.denied), withdrawn: num(x.withdrawn) });
    byPurpose.set(String(x.purpose), m);
  }
  const buckets = bucketStarts(r, interval);
  return {
    series: [...byPurpose.keys()].sort().map((purpose) => ({
      purpose,
      points: buckets.map((t) => {
        const c = byPurpose.get(purpose)?.get(t) ?? { granted: 0, denied: 0, withdrawn: 0 };
        const all = c.granted + c.denied + c.withdrawn;
        return { t: iso(t), ...c, rate: all === 0 ? null : c.granted / all };
      }),
    })),
  };
}
