/**
 * Which events a computed trait reads, and the value it reads from each, in JavaScript. The
 * backfill SQL (storage/duckdb/computed-trait-sql.ts) states the same rules for stored events;
 * the property test checks the two agree, so a change here needs its twin there.
 *
 * Rules: a path walks plain objects only (never array indices or inherited keys); a property
 * that is missing or JSON null is absent; `eq`/`in` compare type and value (the string "5" is
 * not the number 5); `neq` also matches events without the property; `gt`..`lte` compare
 * numbers with numbers and strings with strings by code point (DuckDB's byte order of UTF-8);
 * `contains` finds a substring of a string or a string element of an array.
 */
import {
  ANY_EVENT, PAGE_EVENT, pathSegments, type ComputedTraitDefinition, type FilterScalar, type PropertyFilter,
} from '../protocol/computed-trait.js';

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
  const value = f.value;
  const test = filterTest(f.op, value);
  return (props) => test(readPath(props, segments));
}

function filterTest(op: PropertyFilter['op'], value: unknown): (v: unknown) => boolean {
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
    case 'contains': {
      const needle = value as string;
      return (v) => (typeof v === 'string' && v.includes(needle)) || (Array.isArray(v) && v.includes(needle));
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
