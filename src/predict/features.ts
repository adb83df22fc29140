/**
 * Features of profiles as of a cut-off instant: only what was known then enters them, so a model
 * validated on a later window is validated honestly (no leakage from the future):
 *
 * - events (aggregated by `event-aggregates.ts` from events dated before the cut-off): recency,
 *   frequency and monetary value (RFM), counts of each event type over 7, 30 and 90 days, days
 *   since first seen, the share of events per channel and per device type;
 * - traits: numbers and booleans as numbers, strings one-hot encoded (the most frequent levels);
 *   a trait last written after the cut-off counts as missing (its earlier value is not kept);
 *   personal identifiers (email, phone...) are never features;
 * - computed traits, only when the cut-off is now (their values are kept for the present only);
 * - missing values explicitly: a `:missing` indicator column and the training mean in its place.
 *
 * `extractRaw` reads one profile's facts; `fitSpec` fixes the columns on training data;
 * `toMatrix` lays any rows out in those columns (row-major Float64Array), so a model scores with
 * exactly the columns it was trained on.
 *
 * @example
 *   const raw = extractRaw(profiles, aggregates, { cutoff, isPersonal, exclude: new Set(['churned']) });
 *   const spec = fitSpec(raw);
 *   const X = toMatrix(spec, raw);            // raw.ids.length × spec.columns.length
 */
import type { TraitValue } from '../protocol/profile.js';
import type { ProfileEvents } from './event-aggregates.js';

export const DAY_MS = 86_400_000;
export const WINDOWS = [7, 30, 90] as const;
/** One-hot levels kept per categorical feature (the most frequent ones). */
const MAX_LEVELS = 10;
/** Event types kept as count features (the most frequent ones). */
const MAX_EVENT_KINDS = 12;

export interface FeatureProfile {
  id: string;
  traits: Record<string, TraitValue>;
  /** ms. */
  firstSeen: number;
}

export interface RawOptions {
  cutoff: number;
  /** Personal identifiers are never features. */
  isPersonal(key: string): boolean;
  /** Trait keys left out (a label trait must not predict itself). */
  exclude: ReadonlySet<string>;
  /** Computed trait values of a profile, read only when the cut-off is now. */
  computed?: (profileId: string) => Record<string, unknown>;
  /** Purpose limitation: whether a trait written by that source may serve the model's purpose. */
  fromSource?: (sourceId: string) => boolean;
}

/** Facts per profile before encoding: numbers (NaN: missing) and categories (null: missing). */
export interface RawTable {
  ids: string[];
  numeric: Map<string, Float64Array>;
  categorical: Map<string, Array<string | null>>;
}

export type Column =
  | { name: string; kind: 'numeric'; source: string; fill: number }
  | { name: string; kind: 'missing'; source: string }
  | { name: string; kind: 'level'; source: string; level: string }
  | { name: string; kind: 'category_missing'; source: string };

export interface FeatureSpec {
  columns: Column[];
}

export function extractRaw(profiles: readonly FeatureProfile[], events: ReadonlyMap<string, ProfileEvents>, opts: RawOptions): RawTable {
  const n = profiles.length;
  const numeric = new Map<string, Float64Array>();
  const categorical = new Map<string, Array<string | null>>();
  const num = (name: string, i: number, v: number): void => {
    let col = numeric.get(name);
    if (!col) { col = new Float64Array(n).fill(Number.NaN); numeric.set(name, col); }
    col[i] = v;
  };
  const cat = (name: string, i: number, v: string): void => {
    let col = categorical.get(name);
    if (!col) { col = new Array<string | null>(n).fill(null); categorical.set(name, col); }
    col[i] = v;
  };
  // Event counts are zero, not missing, for a profile without events: those columns start at 0.
  const zero = (name: string): void => { if (!numeric.has(name)) numeric.set(name, new Float64Array(n)); };
  for (const base of ['frequency_all', 'frequency_90d', 'monetary_all', 'monetary_90d']) zero(base);
  for (const e of events.values()) for (const kind of e.kinds.keys()) for (const w of WINDOWS) zero(`events_${w}d:${kind}`);
  for (const e of events.values()) {
    for (const c of e.channels.keys()) zero(`channel_share:${c}`);
    for (const d of e.devices.keys()) zero(`device_share:${d}`);
  }
  const withComputed = opts.computed !== undefined;
  for (let i = 0; i < n; i++) {
    const p = profiles[i] as FeatureProfile;
    const e = events.get(p.id);
    if (p.firstSeen <= opts.cutoff) num('days_since_first_seen', i, (opts.cutoff - p.firstSeen) / DAY_MS);
    if (e !== undefined && e.total > 0) {
      num('recency_days', i, (opts.cutoff - e.last) / DAY_MS);
      num('frequency_all', i, e.total);
      num('frequency_90d', i, e.total90);
      num('monetary_all', i, e.revenue);
      num('monetary_90d', i, e.revenue90);
      for (const [kind, counts] of e.kinds) WINDOWS.forEach((w, k) => num(`events_${w}d:${kind}`, i, counts[k] as number));
      for (const [c, count] of e.channels) num(`channel_share:${c}`, i, count / e.total);
      for (const [d, count] of e.devices) num(`device_share:${d}`, i, count / e.total);
    }
    for (const [key, tv] of Object.entries(p.traits)) {
      if (opts.exclude.has(key) || opts.isPersonal(key) || opts.fromSource?.(tv.sourceId) === false) continue;
      // Written after the cut-off: what it said before is not kept, so it is unknown then.
      if (tv.at > opts.cutoff) continue;
      addValue(`trait:${key}`, tv.value, i, num, cat);
    }
    if (withComputed) {
      for (const [name, v] of Object.entries(opts.computed?.(p.id) ?? {})) addValue(`computed:${name}`, v, i, num, cat);
    }
  }
  return { ids: profiles.map((p) => p.id), numeric, categorical };
}

function addValue(name: string, v: unknown, i: number, num: (name: string, i: number, v: number) => void, cat: (name: string, i: number, v: string) => void): void {
  if (typeof v === 'number' && Number.isFinite(v)) num(name, i, v);
  else if (typeof v === 'boolean') num(name, i, v ? 1 : 0);
  else if (typeof v === 'string' && v.length > 0 && v.length <= 200) cat(name, i, v);
}

/**
 * The columns, fixed on training data: numeric features with some variation (a `:missing`
 * indicator beside those with missing values, which get the training mean), the most frequent
 * event types, and the most frequent levels of each category (one column each, plus a missing one).
 */
export function fitSpec(raw: RawTable): FeatureSpec {
  const columns: Column[] = [];
  const n = raw.ids.length;
  const kindsByUse = new Map<string, number>();
  for (const [name, col] of raw.numeric) {
    if (!name.startsWith('events_90d:')) continue;
    let used = 0;
    for (let i = 0; i < n; i++) if ((col[i] as number) > 0) used++;
    kindsByUse.set(name.slice('events_90d:'.length), used);
  }
  const kinds = new Set([...kindsByUse].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_EVENT_KINDS).map(([k]) => k));
  for (const name of [...raw.numeric.keys()].sort()) {
    const m = /^events_\d+d:(.*)$/.exec(name);
    if (m && !kinds.has(m[1] as string)) continue;
    const col = raw.numeric.get(name) as Float64Array;
    let count = 0, sum = 0, min = Infinity, max = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = col[i] as number;
      if (Number.isNaN(v)) continue;
      count++; sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (count === 0) continue;
    const missing = count < n;
    // A constant column says nothing, unless whether it is there does.
    if (min !== max) columns.push({ name, kind: 'numeric', source: name, fill: sum / count });
    if (missing) columns.push({ name: `${name}:missing`, kind: 'missing', source: name });
  }
  for (const name of [...raw.categorical.keys()].sort()) {
    const col = raw.categorical.get(name) as Array<string | null>;
    const counts = new Map<string, number>();
    let missing = 0;
    for (const v of col) {
      if (v === null) missing++;
      else counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const levels = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_LEVELS);
    // One level and nothing missing: constant.
    if (levels.length + (missing > 0 ? 1 : 0) < 2) continue;
    for (const [level] of levels) columns.push({ name: `${name}=${level}`, kind: 'level', source: name, level });
    if (missing > 0) columns.push({ name: `${name}:missing`, kind: 'category_missing', source: name });
  }
  return { columns };
}

/** Rows of `raw` in the columns of `spec` (row-major; a column the rows lack reads as missing). */
export function toMatrix(spec: FeatureSpec, raw: RawTable): Float64Array {
  const n = raw.ids.length;
  const d = spec.columns.length;
  const X = new Float64Array(n * d);
  spec.columns.forEach((c, j) => {
    if (c.kind === 'numeric' || c.kind === 'missing') {
      const col = raw.numeric.get(c.source);
      for (let i = 0; i < n; i++) {
        const v = col === undefined ? Number.NaN : (col[i] as number);
        X[i * d + j] = c.kind === 'missing' ? (Number.isNaN(v) ? 1 : 0) : Number.isNaN(v) ? c.fill : v;
      }
    } else {
      const col = raw.categorical.get(c.source);
      for (let i = 0; i < n; i++) {
        const v = col === undefined ? null : (col[i] ?? null);
        X[i * d + j] = c.kind === 'level' ? (v === c.level ? 1 : 0) : v === null ? 1 : 0;
      }
    }
  });
  return X;
}

/** The rows at `rows` of a row-major matrix with `d` columns. */
export function selectRows(X: Float64Array, d: number, rows: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) out.set(X.subarray((rows[r] as number) * d, (rows[r] as number) * d + d), r * d);
  return out;
}
