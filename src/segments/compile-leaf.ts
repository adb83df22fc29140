/**
 * A segment definition prepared for the incremental engine: each leaf gets its event matchers,
 * its comparison test and, for the leaves that read events (event counts, sequences, consent),
 * its own per-profile state map. Pure: no I/O, no clock.
 */
import { compileComparison, compileMatcher, readPath, segmentsOf, type EventMatcher } from '../profiles/computed-trait-match.js';
import {
  countOf, durationMs, instantMs, leaves, type CountOp, type LeafCondition, type SegmentCondition,
} from '../protocol/segment.js';
import type { CountState, GeoState, SequenceShape, SequenceState } from './leaf-state.js';
import { distanceKm, type GeoPoint } from '../protocol/geo.js';

interface Base<K extends LeafCondition['kind']> {
  kind: K;
  cond: Extract<LeafCondition, { kind: K }>;
}

export interface TraitLeaf extends Base<'trait'> { key: string; rest: string[]; test: (v: unknown) => boolean }
export interface EventLeaf extends Base<'event'> {
  matches: EventMatcher;
  op: CountOp;
  k: number;
  /** k + 1: more events than that decide every comparison with k. */
  cap: number;
  windowMs: number | null;
  /** `between`: [from, to) in ms. */
  range: [number, number] | null;
  state: Map<string, CountState>;
}
export interface SequenceLeaf extends Base<'sequence'> {
  steps: EventMatcher[];
  shape: SequenceShape;
  /** No absent step: chains are never undone, so a satisfied state can be kept as a flag. */
  monotone: boolean;
  state: Map<string, SequenceState>;
}
export interface ComputedLeaf extends Base<'computed'> { test: (v: unknown) => boolean }
export interface SegmentLeaf extends Base<'segment'> { id: string }
/** Reads the consent ledger (privacy/consent-ledger.ts): no state of its own. */
export interface ConsentLeaf extends Base<'consent'> { purpose: string }
export interface ListLeaf extends Base<'list'> { id: string }
/**
 * `reads`: which events it folds (`location`: those carrying one; `country`: those with one);
 * `test`: whether such an event satisfies it.
 */
export interface GeoLeaf extends Base<'geo'> {
  reads: 'location' | 'country';
  test: (location: GeoPoint | null, country: string | null) => boolean;
  state: Map<string, GeoState>;
}

/** `keyLeaf` reads the trait holding the key, as a trait leaf reads its trait. */
export interface ExternalLeaf extends Base<'external'> { keyLeaf: TraitLeaf; test: (v: unknown) => boolean }

/** A model's score and decile (undefined: not scored) against the condition. */
export interface ScoreLeaf extends Base<'score'> { test: (s: { score: number; decile: number } | undefined) => boolean }

export type Leaf = TraitLeaf | EventLeaf | SequenceLeaf | ComputedLeaf | SegmentLeaf | ConsentLeaf | ListLeaf | GeoLeaf | ExternalLeaf | ScoreLeaf;
export type StatefulLeaf = EventLeaf | SequenceLeaf | GeoLeaf;

export function isStateful(leaf: Leaf): leaf is StatefulLeaf {
  return leaf.kind === 'event' || leaf.kind === 'sequence' || leaf.kind === 'geo';
}

export interface CompiledDefinition {
  root: SegmentCondition;
  leaves: Leaf[];
  /** The leaf prepared for each leaf node of `root` (by object identity). */
  leafOf: Map<LeafCondition, Leaf>;
}

export function compileDefinition(root: SegmentCondition): CompiledDefinition {
  const leafOf = new Map<LeafCondition, Leaf>();
  for (const c of leaves(root)) leafOf.set(c, compileLeaf(c));
  return { root, leaves: [...leafOf.values()], leafOf };
}

function compileLeaf(c: LeafCondition): Leaf {
  switch (c.kind) {
    case 'trait': {
      const [key, ...rest] = segmentsOf(c.trait) as [string, ...string[]];
      return { kind: 'trait', cond: c, key, rest, test: compileComparison(c) };
    }
    case 'event': {
      const { op, value } = countOf(c);
      const range: [number, number] | null = c.between ? [instantMs(c.between.from) as number, instantMs(c.between.to) as number] : null;
      return {
        kind: 'event', cond: c, matches: compileMatcher(c), op, k: value, cap: value + 1,
        windowMs: c.within === undefined ? null : (durationMs(c.within) as number), range, state: new Map(),
      };
    }
    case 'sequence': {
      const positive: number[] = [];
      const absentAfter: number[] = [];
      c.steps.forEach((s, i) => {
        if (s.absent) absentAfter[positive.length - 1] = (absentAfter[positive.length - 1] ?? 0) | (1 << i);
        else { positive.push(1 << i); absentAfter.push(0); }
      });
      return {
        kind: 'sequence', cond: c, steps: c.steps.map((s) => compileMatcher(s)),
        shape: { positive, absentAfter, withinMs: durationMs(c.within) as number },
        monotone: c.steps.every((s) => !s.absent), state: new Map(),
      };
    }
    case 'computed': return { kind: 'computed', cond: c, test: compileComparison(c) };
    case 'segment': return { kind: 'segment', cond: c, id: c.id };
    case 'consent': return { kind: 'consent', cond: c, purpose: c.purpose };
    case 'list': return { kind: 'list', cond: c, id: c.id };
    case 'external': {
      const [key, ...rest] = segmentsOf(c.key) as [string, ...string[]];
      const keyLeaf: TraitLeaf = { kind: 'trait', cond: { kind: 'trait', trait: c.key, op: 'exists' }, key, rest, test: () => true };
      return { kind: 'external', cond: c, keyLeaf, test: compileComparison(c) };
    }
    case 'score': {
      const { op, value } = c.decile ?? { op: c.op as CountOp, value: c.value as number };
      const byDecile = c.decile !== undefined;
      return { kind: 'score', cond: c, test: (s) => s !== undefined && compareNumber(byDecile ? s.decile : s.score, op, value) };
    }
    case 'geo': {
      if ('near' in c) {
        const { radiusKm, ...point } = c.near;
        return { kind: 'geo', cond: c, reads: 'location', test: (loc) => loc !== null && distanceKm(loc, point) <= radiusKm, state: new Map() };
      }
      const countries = new Set(c.country);
      return { kind: 'geo', cond: c, reads: 'country', test: (_loc, country) => country !== null && countries.has(country), state: new Map() };
    }
    default: {
      const unreachable: never = c;
      throw new Error(`unknown leaf ${JSON.stringify(unreachable)}`);
    }
  }
}

function compareNumber(a: number, op: CountOp, b: number): boolean {
  switch (op) {
    case 'eq': return a === b;
    case 'neq': return a !== b;
    case 'gt': return a > b;
    case 'gte': return a >= b;
    case 'lt': return a < b;
    case 'lte': return a <= b;
  }
}

/** A trait's value on a profile (undefined: absent), by the filter language's path rules. */
export function traitValue(traits: Record<string, { value: unknown }> | undefined, leaf: TraitLeaf): unknown {
  if (traits === undefined || !Object.hasOwn(traits, leaf.key)) return undefined;
  const v = (traits[leaf.key] as { value: unknown }).value;
  if (v === null || v === undefined) return undefined;
  return leaf.rest.length === 0 ? v : readPath(v as Record<string, unknown>, leaf.rest);
}
