/**
 * What the incremental engine keeps per (segment condition, profile), and how events fold into
 * it. Each kind keeps the least that still answers exactly at any later instant:
 *
 * - an event count compared with k needs at most k + 1 events: beyond that every comparison with
 *   k is decided. A windowed count keeps the k + 1 most recent event times (older ones lapse
 *   first, so dropping them never changes a later answer); other counts keep a capped counter.
 * - a sequence keeps the events matching any of its steps, ordered by (time, seq); one without
 *   absent steps only ever gains chains, so once satisfied it keeps just that fact.
 * - a geo condition keeps whether the latest located event (or the latest with a country)
 *   satisfied it. (A consent condition keeps nothing: it asks the consent ledger.)
 *
 * Merging two profiles' states gives the state of the union of their events.
 */
import { MAX_SEQUENCE_STEPS, type CountOp } from '../protocol/segment.js';

/** The k + 1 most recent event times, descending (windowed) — or a count capped at k + 1. */
export type CountState = number[] | number;

export function newCount(windowed: boolean): CountState {
  return windowed ? [] : 0;
}

/** Adds one event time; `cap` = k + 1. Returns the state (a counter is a new number). */
export function addToCount(s: CountState, at: number, cap: number): CountState {
  if (typeof s === 'number') return Math.min(s + 1, cap);
  if (s.length === cap && at <= (s[cap - 1] as number)) return s;
  let i = s.length;
  while (i > 0 && (s[i - 1] as number) < at) i--;
  s.splice(i, 0, at);
  if (s.length > cap) s.length = cap;
  return s;
}

export function mergeCounts(a: CountState, b: CountState, cap: number): CountState {
  if (typeof a === 'number' || typeof b === 'number') return Math.min(Number(a) + Number(b), cap);
  for (const at of b) addToCount(a, at, cap);
  return a;
}

/**
 * Events counted at `now`: for a windowed count, those with at > now - window (pruning the
 * lapsed ones, so `now` must not go backwards between calls).
 */
export function countAt(s: CountState, now: number, windowMs: number): number {
  if (typeof s === 'number') return s;
  const since = now - windowMs;
  while (s.length > 0 && (s[s.length - 1] as number) <= since) s.pop();
  return s.length;
}

/** When the next counted event lapses (the count may then change), or null when nothing will. */
export function nextLapse(s: CountState, windowMs: number): number | null {
  if (typeof s === 'number' || s.length === 0) return null;
  return (s[s.length - 1] as number) + windowMs;
}

export function compareCount(n: number, op: CountOp, k: number): boolean {
  switch (op) {
    case 'eq': return n === k;
    case 'neq': return n !== k;
    case 'gt': return n > k;
    case 'gte': return n >= k;
    case 'lt': return n < k;
    case 'lte': return n <= k;
    default: {
      const unreachable: never = op;
      throw new Error(`unknown count op ${String(unreachable)}`);
    }
  }
}

/** One event of a sequence: which steps it matches (bit i = step i). */
export interface SeqEvent {
  at: number;
  seq: bigint;
  mask: number;
}

/** The events matching a sequence's steps, ordered by (at, seq); `done` once satisfied for good. */
export interface SequenceState {
  events: SeqEvent[];
  done: boolean;
}

export function newSequence(): SequenceState {
  return { events: [], done: false };
}

function before(a: SeqEvent, b: SeqEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export function addToSequence(s: SequenceState, e: SeqEvent): void {
  if (s.done) return;
  const list = s.events;
  let i = list.length;
  while (i > 0 && before(e, list[i - 1] as SeqEvent)) i--;
  if (i > 0 && (list[i - 1] as SeqEvent).seq === e.seq) return; // the same event again (a replay)
  list.splice(i, 0, e);
}

export function mergeSequences(a: SequenceState, b: SequenceState): SequenceState {
  if (a.done || b.done) return { events: [], done: true };
  for (const e of b.events) addToSequence(a, e);
  return a;
}

/** The shape of a sequence: its steps as bit masks, in order. */
export interface SequenceShape {
  /** Mask bit of each positive step, in order. */
  positive: number[];
  /** For each gap after positive step i: the mask of the absent steps there (the last gap trails). */
  absentAfter: number[];
  withinMs: number;
}

/**
 * Whether some chain of events satisfies the sequence (semantics in protocol/segment.ts), in one
 * pass. For each positive step, the latest event that completes the steps so far is the best one
 * to continue from: it has the latest start (so the most room within the duration), and it is
 * the one most likely to lie after an absent event of the next gap ("strictly between": the
 * chain's own events do not count as absent events, even when they match an absent step).
 */
export function sequenceHolds(s: SequenceState, shape: SequenceShape): boolean {
  if (s.done) return true;
  const { positive, absentAfter, withinMs } = shape;
  const n = positive.length;
  const events = s.events;
  // Scratch arrays reused across calls (sequences have at most MAX_SEQUENCE_STEPS steps).
  const { reachPos, reachStart, lastAbsent, newReach } = SCRATCH;
  reachPos.fill(-1, 0, n);
  lastAbsent.fill(-1, 0, n);
  const trailing = absentAfter[n - 1] as number;
  for (let j = 0; j < events.length; j++) {
    const e = events[j] as SeqEvent;
    for (let i = 0; i < n; i++) {
      newReach[i] = NaN;
      if ((e.mask & (positive[i] as number)) === 0) continue;
      if (i === 0) { newReach[i] = e.at; continue; }
      const k = reachPos[i - 1] as number;
      if (k >= 0 && k >= (lastAbsent[i - 1] as number) && e.at - (reachStart[i - 1] as number) <= withinMs) newReach[i] = reachStart[i - 1] as number;
    }
    for (let i = 0; i < n; i++) {
      const start = newReach[i] as number;
      if (!Number.isNaN(start)) { reachPos[i] = j; reachStart[i] = start; }
      if ((e.mask & (absentAfter[i] as number)) !== 0) lastAbsent[i] = j;
    }
    if (!Number.isNaN(newReach[n - 1] as number) && !trailingAbsentFollows(events, j, trailing, withinMs)) return true;
  }
  return false;
}

const SCRATCH = {
  reachPos: new Array<number>(MAX_SEQUENCE_STEPS).fill(-1),
  reachStart: new Array<number>(MAX_SEQUENCE_STEPS).fill(0),
  lastAbsent: new Array<number>(MAX_SEQUENCE_STEPS).fill(-1),
  /** The start of the chain event j completes at each step; NaN: none. */
  newReach: new Array<number>(MAX_SEQUENCE_STEPS).fill(Number.NaN),
};

function trailingAbsentFollows(events: readonly SeqEvent[], j: number, trailing: number, withinMs: number): boolean {
  if (trailing === 0) return false;
  const end = (events[j] as SeqEvent).at + withinMs;
  for (let x = j + 1; x < events.length && (events[x] as SeqEvent).at <= end; x++) {
    if (((events[x] as SeqEvent).mask & trailing) !== 0) return true;
  }
  return false;
}

/** Whether the latest event the geo condition reads (located, or with a country) satisfied it. */
export interface GeoState {
  at: number;
  seq: bigint;
  inside: boolean;
}

/** The later of two observations, by event time then log sequence. */
export function later<S extends { at: number; seq: bigint }>(a: S | undefined, b: S): S {
  if (a === undefined || a.at < b.at || (a.at === b.at && a.seq < b.seq)) return b;
  return a;
}
