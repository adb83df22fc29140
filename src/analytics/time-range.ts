/**
 * Time ranges and buckets of the analytics API. `from`/`to` are ISO dates or date-times (UTC);
 * without them a question covers the last 30 days up to now. Buckets are UTC days, hours or ISO
 * weeks (Monday), the same cut DuckDB's `date_trunc` makes, so the series the API answers has
 * every bucket of the range, empty ones at zero.
 *
 * @example
 *   const r = timeRange({ from: '2026-11-01', to: '2026-11-08' }, Date.now());
 *   bucketStarts(r, 'day').length; // → 7
 */
import { EnsembleError } from '../protocol/errors.js';

export const INTERVALS = ['hour', 'day', 'week'] as const;
export type Interval = (typeof INTERVALS)[number];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Beyond this a question scans years of events: the API says so instead of timing out. */
const MAX_RANGE_DAYS = 400;
/** Hourly series stop at 31 days (744 points): more is unreadable in a chart anyway. */
const MAX_HOURLY_DAYS = 31;
export const DEFAULT_DAYS = 30;

export interface TimeRange {
  /** Inclusive start, ms. */
  from: number;
  /** Exclusive end, ms. */
  to: number;
}

/** A date (`2026-11-01`: the whole day) or a date-time; null when absent. */
function parseInstant(text: string | undefined, name: string, endOfDay: boolean): number | null {
  if (text === undefined || text === '') return null;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const ms = Date.parse(dateOnly ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}/.test(text)) {
    throw new EnsembleError('ENSEMBLE_ERR_ANALYTICS_RANGE_INVALID', `\`${name}\` is not an ISO date or date-time: ${JSON.stringify(text.slice(0, 40))}.`);
  }
  return dateOnly && endOfDay ? ms + DAY : ms;
}

export function timeRange(q: { from?: string; to?: string }, now: number, interval?: Interval): TimeRange {
  const to = parseInstant(q.to, 'to', true) ?? now;
  const from = parseInstant(q.from, 'from', false) ?? to - DEFAULT_DAYS * DAY;
  if (from >= to) throw new EnsembleError('ENSEMBLE_ERR_ANALYTICS_RANGE_INVALID', '`from` must be before `to`.');
  const days = (to - from) / DAY;
  if (days > MAX_RANGE_DAYS) throw new EnsembleError('ENSEMBLE_ERR_ANALYTICS_RANGE_INVALID', `A range may cover at most ${MAX_RANGE_DAYS} days.`);
  if (interval === 'hour' && days > MAX_HOURLY_DAYS) {
    throw new EnsembleError('ENSEMBLE_ERR_ANALYTICS_RANGE_INVALID', `An hourly series may cover at most ${MAX_HOURLY_DAYS} days; use interval=day.`);
  }
  return { from, to };
}

/** The start of the bucket holding `ms` (UTC), as `date_trunc` computes it. */
export function bucketStart(ms: number, interval: Interval): number {
  if (interval === 'hour') return Math.floor(ms / HOUR) * HOUR;
  const day = Math.floor(ms / DAY) * DAY;
  if (interval === 'day') return day;
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return day - weekday * DAY;
}

/** Every bucket start from the one holding `from` to the one holding the last instant before `to`. */
export function bucketStarts(r: TimeRange, interval: Interval): number[] {
  const out: number[] = [];
  const step = interval === 'hour' ? HOUR : interval === 'day' ? DAY : 7 * DAY;
  for (let t = bucketStart(r.from, interval); t < r.to; t += step) out.push(t);
  return out;
}

/** The SQL literal `date_trunc` takes for an interval (from a fixed table, never from input). */
export function truncUnit(interval: Interval): string {
  return { hour: `'hour'`, day: `'day'`, week: `'week'` }[interval];
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
