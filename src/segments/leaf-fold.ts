/**
 * How events and merges change a condition's per-profile state (leaf-state.ts holds the
 * shapes): `fold` adds one event to the leaves it matches, `mergeState` moves a merged-away
 * profile's state into the survivor's.
 */
import type { StatefulLeaf } from './compile-leaf.js';
import type { SegmentEvent } from './engine.js';
import { addToCount, addToSequence, later, mergeCounts, mergeSequences, newCount, newSequence } from './leaf-state.js';

/** Folds one event into a leaf's state for a profile if it matches; true when it did. */
export function fold(leaf: StatefulLeaf, pid: string, e: SegmentEvent, now: number): boolean {
  switch (leaf.kind) {
    case 'event': {
      if (!leaf.matches(e)) return false;
      if (leaf.range && (e.at < leaf.range[0] || e.at >= leaf.range[1])) return false;
      if (leaf.windowMs !== null && e.at <= now - leaf.windowMs) return false; // lapsed already: never counts again
      const s = leaf.state.get(pid) ?? newCount(leaf.windowMs !== null);
      leaf.state.set(pid, addToCount(s, e.at, leaf.cap));
      return true;
    }
    case 'sequence': {
      let mask = 0;
      for (let i = 0; i < leaf.steps.length; i++) if ((leaf.steps[i] as (e: SegmentEvent) => boolean)(e)) mask |= 1 << i;
      if (mask === 0) return false;
      let s = leaf.state.get(pid);
      if (!s) { s = newSequence(); leaf.state.set(pid, s); }
      addToSequence(s, { at: e.at, seq: e.seq, mask });
      return true;
    }
    case 'geo': {
      const location = e.location ?? null;
      const country = e.country ?? null;
      if (leaf.reads === 'location' ? location === null : country === null) return false;
      leaf.state.set(pid, later(leaf.state.get(pid), { at: e.at, seq: e.seq, inside: leaf.test(location, country) }));
      return true;
    }
    default: {
      const unreachable: never = leaf;
      throw new Error(`unknown leaf ${JSON.stringify(unreachable)}`);
    }
  }
}

export function mergeState(leaf: StatefulLeaf, from: string, into: string): void {
  switch (leaf.kind) {
    case 'event': return moveState(leaf.state, from, into, (a, b) => mergeCounts(a, b, leaf.cap));
    case 'sequence': return moveState(leaf.state, from, into, mergeSequences);
    case 'geo': return moveState(leaf.state, from, into, (a, b) => later(a, b));
    default: {
      const unreachable: never = leaf;
      throw new Error(`unknown leaf ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Moves `from`'s state to `into`, combining with what `into` has. */
function moveState<S>(state: Map<string, S>, from: string, into: string, combine: (into: S, from: S) => S): void {
  const a = state.get(from);
  if (a === undefined) return;
  state.delete(from);
  const b = state.get(into);
  state.set(into, b === undefined ? a : combine(b, a));
}
