/**
 * Computed traits, maintained in memory and incrementally: each committed event is folded into
 * the state of every definition it matches, so reading a profile's computed traits costs a few
 * array walks, never a query. The state per (definition, profile) is a short array of day
 * buckets (computed-trait-buckets.ts), so windows lapse without new events.
 *
 * A new definition is filled from the stored events (the backfill) while live events keep
 * arriving. To count each event exactly once, `add(def, fromSeq)` registers it before the
 * backfill query runs: events with seq <= fromSeq come only from the backfill, later ones only
 * from `observe`. A split or an erasure (`forget`/`replay`) while a backfill runs makes that
 * backfill stale; `load` then answers false and the caller starts over.
 *
 * @example
 *   engine.add(def, cursor);                              // before the query
 *   const stale = !engine.load(def, await store.backfill(def, cursor, now), live);
 *   engine.observe(ws, profileId, event);                 // after each committed batch
 *   engine.values(ws, profileId, Date.now());             // { revenue_90d: 59.9, ... }
 */
import type { ComputedTraitDefinition } from '../protocol/computed-trait.js';
import {
  DAY_MS, REDUCERS, foldBucket, foldSlot, newSlot, pruneBefore, type BackfillRow, type Reducer, type Slot,
} from './computed-trait-buckets.js';
import { compileMatcher, readPath, segmentsOf, type EventMatcher } from './computed-trait-match.js';

export type { BackfillRow } from './computed-trait-buckets.js';

/** A committed event, as the engine needs it. */
export interface TraitEvent {
  type: string;
  event: string | null;
  name: string | null;
  properties: Record<string, unknown>;
  /** Event time (the corrected `timestamp`), ms since the epoch. */
  at: number;
  messageId: string;
  /** Log sequence number: tells backfilled events from live ones. */
  seq: bigint;
  /** The source that sent it (a definition may count only some sources). */
  sourceId: string;
}

interface Entry {
  def: ComputedTraitDefinition;
  reducer: Reducer;
  matches: EventMatcher;
  /** null for count without a property: every matching event counts. */
  path: string[] | null;
  /** Events with seq <= fromSeq belong to the backfill. */
  fromSeq: bigint;
  /** profile id → buckets. */
  state: Map<string, Slot>;
  loading: boolean;
  stale: boolean;
}

/** Present-value stand-in for count without a property. */
const PRESENT = true;

export class ComputedTraitEngine {
  private readonly workspaces = new Map<string, Map<string, Entry>>();

  /**
   * Registers a definition with empty state; replaces one with the same id (a restarted backfill).
   * Events with seq <= fromSeq are left to `load`.
   */
  add(def: ComputedTraitDefinition, fromSeq: bigint): void {
    let defs = this.workspaces.get(def.workspaceId);
    if (!defs) { defs = new Map(); this.workspaces.set(def.workspaceId, defs); }
    defs.set(def.id, {
      def, reducer: REDUCERS[def.op], matches: compileMatcher(def),
      path: def.property === undefined ? null : segmentsOf(def.property),
      fromSeq, state: new Map(), loading: true, stale: false,
    });
  }

  remove(workspaceId: string, id: string): boolean {
    return this.workspaces.get(workspaceId)?.delete(id) ?? false;
  }

  definitions(workspaceId: string): ComputedTraitDefinition[] {
    return [...(this.workspaces.get(workspaceId)?.values() ?? [])].map((e) => e.def);
  }

  definition(workspaceId: string, id: string): ComputedTraitDefinition | undefined {
    return this.workspaces.get(workspaceId)?.get(id)?.def;
  }

  /**
   * Folds backfill rows (events with seq <= fromSeq) into the definition's state. `live` maps the
   * profile id stored on an event to the profile it lives in now (after merges). Returns false
   * when a split or erasure happened since `add`: the rows may describe profiles that no longer
   * exist, so the caller must `add` again with a fresh cursor and rerun the backfill.
   */
  load(def: ComputedTraitDefinition, rows: readonly BackfillRow[], live: (profileId: string) => string): boolean {
    const entry = this.workspaces.get(def.workspaceId)?.get(def.id);
    if (!entry) return true; // removed meanwhile: nothing to fill
    if (entry.stale) return false;
    const { reducer, state } = entry;
    const windowed = def.windowDays !== undefined;
    for (const row of rows) {
      const fields = reducer.fromRow(row);
      if (fields === null) continue;
      this.put(state, live(row.profileId), reducer, windowed ? row.day : 0, fields);
    }
    entry.loading = false;
    return true;
  }

  /** Call once per event, after its batch has committed. */
  observe(workspaceId: string, profileId: string, e: TraitEvent): void {
    const defs = this.workspaces.get(workspaceId);
    if (!defs) return;
    for (const entry of defs.values()) if (e.seq > entry.fromSeq) this.fold(entry, profileId, e);
  }

  /**
   * Folds a stored event again after `forget` (a split rebuilding profiles from their events),
   * whatever its seq. Marks running backfills stale, as `forget` does.
   */
  replay(workspaceId: string, profileId: string, e: TraitEvent): void {
    const defs = this.workspaces.get(workspaceId);
    if (!defs) return;
    for (const entry of defs.values()) {
      if (entry.loading) entry.stale = true;
      else this.fold(entry, profileId, e);
    }
  }

  /** `from` was merged into `into`: its state joins into's. */
  merge(workspaceId: string, fromProfileId: string, intoProfileId: string): void {
    if (fromProfileId === intoProfileId) return;
    for (const entry of this.workspaces.get(workspaceId)?.values() ?? []) {
      const from = entry.state.get(fromProfileId);
      if (!from) continue;
      entry.state.delete(fromProfileId);
      const into = entry.state.get(intoProfileId);
      entry.state.set(intoProfileId, into ? foldSlot(into, from, entry.reducer) : from);
    }
  }

  /** Drops everything known about the profile (split rebuild, erasure). */
  forget(workspaceId: string, profileId: string): void {
    for (const entry of this.workspaces.get(workspaceId)?.values() ?? []) {
      entry.state.delete(profileId);
      if (entry.loading) entry.stale = true;
    }
  }

  /**
   * Every definition's value for the profile, by trait name: null when nothing matched (count and
   * distinct_count: 0). A definition still being backfilled is left out rather than shown half-filled.
   * Reads prune the buckets that left the window, so `now` must not go backwards between reads.
   */
  values(workspaceId: string, profileId: string, now: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const entry of this.workspaces.get(workspaceId)?.values() ?? []) {
      if (!entry.loading) out[entry.def.name] = this.valueIn(entry, profileId, now);
    }
    return out;
  }

  /** One trait's value; undefined when the workspace has no (loaded) trait of that name. */
  valueOf(workspaceId: string, profileId: string, name: string, now: number): unknown {
    for (const entry of this.workspaces.get(workspaceId)?.values() ?? []) {
      if (entry.def.name === name && !entry.loading) return this.valueIn(entry, profileId, now);
    }
    return undefined;
  }

  /** Whether a windowed trait holds buckets for the profile: its value may then change as days pass. */
  hasState(workspaceId: string, profileId: string, name: string): boolean {
    for (const entry of this.workspaces.get(workspaceId)?.values() ?? []) {
      if (entry.def.name === name && entry.def.windowDays !== undefined) return (entry.state.get(profileId)?.length ?? 0) > 0;
    }
    return false;
  }

  /** Drops lapsed buckets of every profile; reads prune as they go, this reclaims memory of profiles nobody reads. */
  prune(now: number): void {
    for (const defs of this.workspaces.values()) {
      for (const entry of defs.values()) {
        if (entry.def.windowDays === undefined) continue;
        for (const [id, slot] of entry.state) {
          this.window(entry, slot, now);
          if (slot.length === 0) entry.state.delete(id);
        }
      }
    }
  }

  private fold(entry: Entry, profileId: string, e: TraitEvent): void {
    if (entry.def.sources !== undefined && !entry.def.sources.includes(e.sourceId)) return;
    if (!entry.matches(e)) return;
    const value = entry.path === null ? PRESENT : readPath(e.properties, entry.path);
    const fields = entry.reducer.start(value, e.at, e.messageId);
    if (fields === null) return;
    this.put(entry.state, profileId, entry.reducer, entry.def.windowDays === undefined ? 0 : Math.floor(e.at / DAY_MS), fields);
  }

  private put(state: Map<string, Slot>, profileId: string, reducer: Reducer, day: number, fields: readonly unknown[]): void {
    const slot = state.get(profileId);
    const next = slot ? foldBucket(slot, reducer, day, fields) : newSlot(day, fields);
    if (next !== slot) state.set(profileId, next);
  }

  private valueIn(entry: Entry, profileId: string, now: number): unknown {
    const slot = entry.state.get(profileId);
    if (!slot) return entry.reducer.result([], 0, 0);
    const end = this.window(entry, slot, now);
    if (slot.length === 0) entry.state.delete(profileId);
    return entry.reducer.result(slot, 0, end);
  }

  /** Prunes buckets before the window; returns the offset past its last bucket (later days wait for their day). */
  private window(entry: Entry, slot: Slot, now: number): number {
    const days = entry.def.windowDays;
    if (days === undefined) return slot.length;
    const today = Math.floor(now / DAY_MS);
    return pruneBefore(slot, entry.reducer.width + 1, today - days + 1, today);
  }
}
