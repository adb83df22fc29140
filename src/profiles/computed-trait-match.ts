/**
 * Which events a computed trait or a segment condition reads, and the filter language
 * (protocol/filter.ts) in JavaScript. The SQL compilers (storage/duckdb/computed-trait-sql.ts,
 * segments/sql/) state the same rules for stored events; property tests check they agree, so a
 * change here needs its twin there. Strings order by code point (DuckDB's byte order of UTF-8).
 */
import { ANY_EVENT, PAGE_EVENT, type ComputedTraitDefinition } from '../protocol/computed-trait.js';
import { pathSegments, type Comparison, type FilterScalar, type PropertyFilter } from '../protocol/filter.js';

export interface MatchableEvent {
  type: string;
  event: string | null;
  properties: Record<string, unknown>;
}

export type EventMatcher = (e: MatchableEvent) => boolean;

/** The value at a dotted path; undefined when absent (missing or null). */
export function readPath(properties: Record<string, unknown>, segments: readonly string[]): unknown {
  let cur: unknown = properties;
  for (const s of segments) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, s)) return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur === null ? undefined : cur;
}

/** Code-point order, as DuckDB compares VARCHAR (JS `<` compares UTF-16 units, which differs past U+FFFF). */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length < 0 ? -1 : 1;
}

export function segmentsOf(dotted: string): string[] {
  const s = pathSegments(dotted);
  // Definitions are validated before they reach the engine; a bad path here is a programmer error.
  if (s === null) throw new Error(`invalid property path ${JSON.stringify(dotted)}`);
  return s;
}

export function compileMatcher(def: Pick<ComputedTraitDefinition, 'event' | 'filters'>): EventMatcher {
  const name = def.event;
  const byEvent: EventMatcher = name === ANY_EVENT ? () => true
    : name === PAGE_EVENT ? (e) => e.type === 'page'
      : (e) => e.type === 'track' && e.event === name;
  const filters = (def.filters ?? []).map(compileFilter);
  if (filters.length === 0) return byEvent;
  return (e) => byEvent(e) && filters.every((f) => f(e.properties));
}

function compileFilter(f: PropertyFilter): (props: Record<string, unknown>) => boolean {
  const segments = segmentsOf(f.property);
  const test = compileComparison(f);
  return (props) => test(readPath(props, segments));
}

/** A test of one value (undefined: absent) against a validated comparison. */
export function compileComparison(c: Comparison): (v: unknown) => boolean {
  const { op, value } = c;
  switch (op) {
    case 'exists': return (v) => v !== undefined;
    case 'eq': return (v) => v === value;
    case 'neq': return (v) => v !== value;
    case 'in': {
      const values = value as FilterScalar[];
      return (v) => values.includes(v as FilterScalar);
    }
    case 'gt': return ordered(value, (c) => c > 0);
    case 'gte': return ordered(value, (c) => c >= 0);
    case 'lt': return ordered(value, (c) => c < 0);
    case 'lte': return ordered(value, (c) => c <= 0);
    case 'between': {
      const [low, high] = value as [number, number] | [string, string];
      const above = ordered(low, (c) => c >= 0);
      const below = ordered(high, (c) => c <= 0);
      return (v) => above(v) && below(v);
    }
    case 'contains': {
      const needle = value as string;
      return (v) => (typeof v === 'string' && v.includes(needle)) || (Array.isArray(v) && v.includes(needle));
    }
    case 'starts_with': {
      const prefix = value as string;
      return (v) => typeof v === 'string' && v.startsWith(prefix);
    }
    default: {
      const unreachable: never = op;
      throw new Error(`unknown filter op ${String(unreachable)}`);
    }
  }
}

function ordered(value: unknown, accept: (cmp: number) => boolean): (v: unknown) => boolean {
  if (typeof value === 'number') return (v) => typeof v === 'number' && accept(v < value ? -1 : v > value ? 1 : 0);
  const text = value as string;
  return (v) => typeof v === 'string' && accept(compareText(v, text));
}
