/**
 * The incremental segment engine: memberships of every segment, kept in memory and exact at
 * every instant. Each committed event folds into the state of the conditions it matches (only
 * those) and re-evaluates only the segments that read it, for that profile; windows lapse by
 * timers (timers.ts), never by scanning. Batch (segments/sql/) and this engine implement the
 * same semantics (protocol/segment.ts); a property test and the reconciliation job compare them.
 *
 * A new or edited segment is filled from the stored events while live events keep arriving: it
 * is registered with the log position `fromSeq` before its backfill reads events with
 * seq <= fromSeq, and live events are folded only when seq > fromSeq, so each event counts once
 * (as computed traits do). A split during a backfill makes it stale: `finish` answers false and
 * the caller starts over.
 *
 * @example
 *   engine.add(segment, cursor);
 *   for (const e of storedEventsUpTo(cursor)) engine.backfill(segment.workspaceId, new Set([segment.id]), liveProfileOf(e), e);
 *   engine.finish(segment.workspaceId, segment.id, 'created');  // memberships + changes
 *   engine.committed(merges, events);                          // after each processed batch
 */
import type { TraitValue } from '../protocol/profile.js';
import { ANY_EVENT, PAGE_EVENT, awaitsApproval, requiredPurposes, segmentRefs, type SegmentCondition, type StoredSegment } from '../protocol/segment.js';
import { DAY_MS } from '../profiles/computed-trait-buckets.js';
import { compileDefinition, isStateful, traitValue, type CompiledDefinition, type ExternalLeaf, type Leaf, type StatefulLeaf, type TraitLeaf } from './compile-leaf.js';
import type { GeoPoint } from '../protocol/geo.js';
import { fold, mergeState } from './leaf-fold.js';
import { compareCount, countAt, nextLapse, sequenceHolds } from './leaf-state.js';
import { DueTimers, type Due } from './timers.js';

/** A committed event as the engine reads it. */
export interface SegmentEvent {
  type: string;
  event: string | null;
  properties: Record<string, unknown>;
  /** The source it came from (purpose limitation). */
  sourceId: string;
  /** Where it says the person is (protocol/geo.ts); absent or null: nowhere. */
  location?: GeoPoint | null;
  /** The country looked up from its IP at collection; absent or null: unknown. */
  country?: string | null;
  /** Event time, ms. */
  at: number;
  seq: bigint;
}

/** What the engine reads about profiles (from the in-memory profile store and computed traits). */
export interface ProfileFacts {
  /** The live profile behind a stored profile id, or undefined when there is none. */
  live(profileId: string): string | undefined;
  traits(profileId: string): Record<string, TraitValue> | undefined;
  computed(workspaceId: string, profileId: string, name: string, now: number): unknown;
  /** Whether the computed trait holds anything for the profile that time could change (a windowed trait). */
  computedWindowed(workspaceId: string, profileId: string, name: string): boolean;
  /** Identity keys (profiles/profile-memory.ts identityKey) of the profile's identifiers. */
  identifierKeys(profileId: string): readonly string[];
  /** Every live profile of the workspace (a segment's universe). */
  liveProfiles(workspaceId: string): Iterable<string>;
  /** Events processed for the profile so far (tells a profile first seen in a batch). */
  eventCount(profileId: string): number;
  /** Whether the profile's consent for a purpose is in force (privacy/consent-ledger.ts). */
  consented(profileId: string, purpose: string): boolean;
  /** The consent decision in force for a purpose (the ledger's, following merges), or undefined when none was made. */
  consentDecision(profileId: string, purpose: string): { granted: boolean; at: number } | undefined;
  /** Whether the profile's processing is restricted: it is then in no segment at all. */
  restricted(profileId: string): boolean;
  /** Whether a source collects for every one of these purposes (its events may feed segments serving them). */
  sourceServes(sourceId: string, purposes: readonly string[]): boolean;
  /** The value of an external source's field for a key (external/external-values.ts), or undefined. */
  external?(workspaceId: string, sourceId: string, key: string, field: string): unknown;
  /** A predictive model's latest score of the profile (src/predict/), the model by id or key; undefined when not scored. */
  score?(workspaceId: string, model: string, profileId: string): { score: number; decile: number } | undefined;
}

export type ChangeCause = 'event' | 'time' | 'merge' | 'split' | 'created' | 'updated' | 'deleted' | 'reconciled' | 'consent' | 'restriction' | 'erasure' | 'external' | 'score';

export interface MembershipChange {
  workspaceId: string;
  segmentId: string;
  profileId: string;
  entered: boolean;
  /** ms. */
  at: number;
  cause: ChangeCause;
}

interface Entry {
  segment: StoredSegment;
  compiled: CompiledDefinition;
  stateful: StatefulLeaf[];
  members: Set<string>;
  fromSeq: bigint;
  loading: boolean;
  stale: boolean;
  /** Has a windowed computed leaf: values change at UTC midnight. */
  computedWindowed: string[];
  /** Time alone can change it (a windowed count, a computed trait): it needs timers. */
  timed: boolean;
}

/**
 * Where an event goes: the segment to re-evaluate and, for a condition that keeps state, the
 * leaf to fold it into (none for conditions that only read: traits, computed traits, lists).
 */
interface Route {
  entry: Entry;
  leaf: StatefulLeaf | null;
}

interface Workspace {
  id: string;
  entries: Map<string, Entry>;
  /** Segment ids in dependency order: a segment comes after those it refers to. */
  order: string[];
  /** segment id → its place in `order`. */
  rank: Map<string, number>;
  /** segment id → segments referring to it. */
  dependents: Map<string, string[]>;
  /** Routes by what an event is: `track:<name>`, `page`, `identify`, `consent`, `location`, `country`, and `any` for every event. */
  routes: Map<string, Route[]>;
}

/** A node's outcome for `explain`. */
export interface Explanation {
  condition: SegmentCondition;
  matched: boolean;
  /** What the profile has for this condition: a trait value, an event count, a membership... */
  actual?: unknown;
  children?: Explanation[];
}

export class SegmentEngine {
  private readonly workspaces = new Map<string, Workspace>();
  private readonly listeners: Array<(changes: MembershipChange[]) => void> = [];
  /** static list id → identity keys in it. */
  private readonly lists = new Map<string, Set<string>>();
  readonly timers: DueTimers;

  /**
   * @param computedEventName the event a computed trait reads (to know which events may change it)
   * @param armTimers false when a test drives time with `timers.runDue`
   */
  constructor(
    private readonly facts: ProfileFacts,
    private readonly now: () => number,
    private readonly computedEventName: (workspaceId: string, name: string) => string | undefined,
    armTimers = true,
  ) {
    this.timers = new DueTimers((due) => this.lapse(due), now, armTimers);
  }

  onChanges(listener: (changes: MembershipChange[]) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Registers (or replaces, keeping its members for the diff) a segment; events with seq <= fromSeq
   * are left to `backfill`. `announced`: the members last announced, when starting up.
   */
  add(segment: StoredSegment, fromSeq: bigint, announced?: Set<string>): void {
    const ws = this.workspace(segment.workspaceId);
    const compiled = compileDefinition(segment.definition);
    const previous = ws.entries.get(segment.id);
    const stateful = compiled.leaves.filter(isStateful);
    ws.entries.set(segment.id, {
      segment, compiled, stateful, members: announced ?? previous?.members ?? new Set(), fromSeq, loading: true, stale: false,
      computedWindowed: compiled.leaves.flatMap((l) => (l.kind === 'computed' ? [l.cond.name] : [])),
      timed: compiled.leaves.some((l) => (l.kind === 'event' && l.windowMs !== null) || l.kind === 'computed'),
    });
    this.index(segment.workspaceId);
  }

  /** The identifiers (identity keys) of a static list. */
  setList(listId: string, keys: Set<string>): void {
    this.lists.set(listId, keys);
  }

  workspaceIds(): string[] {
    return [...this.workspaces.keys()];
  }

  /**
   * Folds one stored event (seq <= fromSeq) into the loading segments `segmentIds`, only into the
   * conditions it concerns (the same routes as live events); `profileId` is its live profile.
   */
  backfill(workspaceId: string, segmentIds: ReadonlySet<string>, profileId: string, e: SegmentEvent): void {
    const ws = this.workspaces.get(workspaceId);
    if (!ws) return;
    const now = this.now();
    this.route(ws, e, (r) => {
      if (r.leaf !== null && segmentIds.has(r.entry.segment.id) && !r.entry.stale && e.seq <= r.entry.fromSeq && this.feeds(r.entry, e)) fold(r.leaf, profileId, e, now);
    });
  }

  /** Calls `visit` with each route an event takes: every event, by kind, then what it carries (a location, a country). */
  private route(ws: Workspace, e: SegmentEvent, visit: (r: Route) => void): void {
    const take = (key: string): void => { for (const r of ws.routes.get(key) ?? []) visit(r); };
    take('any');
    if (e.type === 'track' && e.event !== null) take(`track:${e.event}`);
    else if (e.type === 'page' || e.type === 'identify') take(e.type);
    if (e.location != null) take('location');
    if (e.country != null) take('country');
  }

  /**
   * Ends a load: evaluates every live profile of the workspace and reports the differences from
   * the members it had (none for a new segment) as changes. False when the load went stale.
   */
  finish(workspaceId: string, segmentId: string, cause: ChangeCause): boolean {
    const entry = this.workspaces.get(workspaceId)?.entries.get(segmentId);
    if (!entry) return true;
    if (entry.stale) return false;
    entry.loading = false;
    const now = this.now();
    const before = entry.members;
    entry.members = new Set();
    const changes: MembershipChange[] = [];
    const decide = (pid: string, matched: boolean): void => {
      const member = matched && this.permitted(entry, pid);
      if (member) entry.members.add(pid);
      if (member !== before.has(pid)) changes.push(change(entry, pid, member, now, cause));
    };
    if (entry.stateful.length === entry.compiled.leaves.length) {
      // Only event, sequence and consent conditions: every profile without state for them gets
      // the same answer, so evaluate it once and each profile with state on its own — at a
      // million profiles that is the difference between seconds and milliseconds per segment.
      const withState = new Set<string>();
      for (const leaf of entry.stateful) for (const pid of leaf.state.keys()) if (this.facts.live(pid) === pid) withState.add(pid);
      for (const pid of withState) decide(pid, this.evaluate(entry, pid, now));
      const stateless = this.holds(entry, entry.compiled.root, NO_PROFILE, now);
      if (stateless) {
        for (const pid of this.facts.liveProfiles(workspaceId)) if (!withState.has(pid)) decide(pid, true);
      } else {
        for (const pid of before) if (!withState.has(pid) && this.facts.live(pid) === pid) decide(pid, false);
      }
    } else {
      for (const pid of this.facts.liveProfiles(workspaceId)) decide(pid, this.evaluate(entry, pid, now));
    }
    for (const pid of before) if (!entry.members.has(pid) && this.facts.live(pid) !== pid) changes.push(change(entry, pid, false, now, cause));
    this.emit(changes);
    return true;
  }

  /** Removes a segment; its members exit. */
  remove(workspaceId: string, segmentId: string): boolean {
    const ws = this.workspaces.get(workspaceId);
    const entry = ws?.entries.get(segmentId);
    if (!ws || !entry) return false;
    ws.entries.delete(segmentId);
    this.index(workspaceId);
    this.timers.cancelSegment(segmentId);
    const now = this.now();
    this.emit([...entry.members].map((pid) => change(entry, pid, false, now, 'deleted')));
    return true;
  }

  /**
   * After a processed batch committed: merges first, then its events, then the affected
   * evaluations. `firstSeen`: the profiles the batch created, when the caller knows them (a part
   * of a batch, evaluated later: segment-feed.ts); otherwise told by their event counts now.
   */
  committed(
    merges: ReadonlyArray<{ workspaceId: string; fromProfile: string; intoProfile: string }>,
    events: ReadonlyArray<{ workspaceId: string; profileId: string; event: SegmentEvent }>,
    firstSeen?: ReadonlySet<string>,
  ): void {
    const now = this.now();
    const todo = new Map<string, Map<string, Set<string> | 'all'>>();
    const mark = (workspaceId: string, pid: string, segs: Iterable<string> | 'all'): void => {
      let byProfile = todo.get(workspaceId);
      if (!byProfile) { byProfile = new Map(); todo.set(workspaceId, byProfile); }
      const cur = byProfile.get(pid);
      if (cur === 'all') return;
      if (segs === 'all') { byProfile.set(pid, 'all'); return; }
      const set = cur ?? new Set<string>();
      for (const s of segs) set.add(s);
      byProfile.set(pid, set);
    };
    const changes: MembershipChange[] = [];
    const survivors = new Set<string>();
    for (const m of merges) {
      survivors.add(m.intoProfile);
      const ws = this.workspaces.get(m.workspaceId);
      if (!ws) continue;
      for (const entry of ws.entries.values()) {
        for (const leaf of entry.stateful) mergeState(leaf, m.fromProfile, m.intoProfile);
        if (entry.members.delete(m.fromProfile)) changes.push(change(entry, m.fromProfile, false, now, 'merge'));
      }
      // The merged-away profile's timers are left to fire: it is no longer live, so they change nothing
      // (cancelling would walk every timer, per merge).
      mark(m.workspaceId, m.intoProfile, 'all');
    }
    const seen = new Map<string, number>();
    for (const c of events) {
      const ws = this.workspaces.get(c.workspaceId);
      if (!ws) continue;
      const pid = this.facts.live(c.profileId) ?? c.profileId;
      seen.set(pid, (seen.get(pid) ?? 0) + 1);
      const affected: string[] = [];
      const e = c.event;
      this.route(ws, e, (r) => {
        if (e.seq > r.entry.fromSeq && (r.leaf === null || (this.feeds(r.entry, e) && fold(r.leaf, pid, e, now)))) affected.push(r.entry.segment.id);
      });
      if (affected.length > 0 || !byProfileHas(todo, c.workspaceId, pid)) mark(c.workspaceId, pid, affected);
    }
    // A profile first seen in this batch may belong to segments none of its events names (e.g. `never`).
    for (const [workspaceId, byProfile] of todo) {
      for (const [pid, segs] of byProfile) {
        const events = seen.get(pid);
        const all = segs === 'all' || (firstSeen ? firstSeen.has(pid) : events !== undefined && this.facts.eventCount(pid) === events);
        this.reevaluate(workspaceId, pid, all ? 'all' : segs, now, survivors.has(pid) ? 'merge' : 'event', changes);
      }
    }
    this.emit(changes);
  }

  /**
   * After a split rebuilt profiles from their events: their state is dropped, the events are
   * folded again under the profiles they now belong to, and every segment is re-evaluated for them.
   */
  rebuilt(workspaceId: string, replaced: readonly string[], events: ReadonlyArray<{ profileId: string; event: SegmentEvent }>, cause: ChangeCause = 'split'): void {
    const ws = this.workspaces.get(workspaceId);
    if (!ws) return;
    const now = this.now();
    const changes: MembershipChange[] = [];
    const gone = new Set(replaced);
    for (const entry of ws.entries.values()) {
      if (entry.loading) entry.stale = true;
      for (const leaf of entry.stateful) for (const id of replaced) leaf.state.delete(id);
    }
    this.timers.cancelProfiles(gone);
    const touched = new Set<string>();
    for (const c of events) {
      const pid = this.facts.live(c.profileId) ?? c.profileId;
      touched.add(pid);
      for (const entry of ws.entries.values()) if (!entry.loading && this.feeds(entry, c.event)) for (const leaf of entry.stateful) fold(leaf, pid, c.event, now);
    }
    for (const id of replaced) if (this.facts.live(id) === id) touched.add(id);
    for (const entry of ws.entries.values()) {
      if (entry.loading) continue;
      for (const id of replaced) {
        if (!touched.has(id) && entry.members.delete(id)) changes.push(change(entry, id, false, now, cause));
      }
    }
    for (const pid of touched) this.reevaluate(workspaceId, pid, 'all', now, cause, changes);
    this.emit(changes);
  }

  isMember(workspaceId: string, segmentId: string, profileId: string): boolean {
    return this.workspaces.get(workspaceId)?.entries.get(segmentId)?.members.has(profileId) ?? false;
  }

  /** The members now (a live set: copy it before awaiting). */
  members(workspaceId: string, segmentId: string): ReadonlySet<string> | undefined {
    return this.workspaces.get(workspaceId)?.entries.get(segmentId)?.members;
  }

  /** The ids of the (loaded) segments the profile is in. */
  segmentsOf(workspaceId: string, profileId: string): string[] {
    const ws = this.workspaces.get(workspaceId);
    if (!ws) return [];
    return ws.order.filter((id) => (ws.entries.get(id) as Entry).members.has(profileId));
  }

  segment(workspaceId: string, segmentId: string): StoredSegment | undefined {
    return this.workspaces.get(workspaceId)?.entries.get(segmentId)?.segment;
  }

  segments(workspaceId: string): StoredSegment[] {
    const ws = this.workspaces.get(workspaceId);
    return ws ? ws.order.map((id) => (ws.entries.get(id) as Entry).segment) : [];
  }

  loading(workspaceId: string, segmentId: string): boolean {
    return this.workspaces.get(workspaceId)?.entries.get(segmentId)?.loading ?? false;
  }

  /** Each condition of the segment with the profile's actual value and whether it matched. */
  explain(workspaceId: string, segmentId: string, profileId: string): Explanation | undefined {
    const entry = this.workspaces.get(workspaceId)?.entries.get(segmentId);
    if (!entry) return undefined;
    return this.explainNode(entry, entry.compiled.root, profileId, this.now());
  }

  /** Memory held by segment state: entries per kind (for the benchmark and metrics). */
  stateSize(): { profiles: number; timestamps: number; sequenceEvents: number; timers: number } {
    let profiles = 0;
    let timestamps = 0;
    let sequenceEvents = 0;
    for (const ws of this.workspaces.values()) {
      for (const entry of ws.entries.values()) {
        for (const leaf of entry.stateful) {
          profiles += leaf.state.size;
          if (leaf.kind === 'event') for (const s of leaf.state.values()) timestamps += typeof s === 'number' ? 0 : s.length;
          if (leaf.kind === 'sequence') for (const s of leaf.state.values()) sequenceEvents += s.events.length;
        }
      }
    }
    return { profiles, timestamps, sequenceEvents, timers: this.timers.size };
  }

  stop(): void {
    this.timers.stop();
  }

  private lapse(due: Due[]): void {
    const now = this.now();
    const changes: MembershipChange[] = [];
    for (const d of due) {
      for (const [workspaceId, ws] of this.workspaces) {
        if (!ws.entries.has(d.segmentId)) continue;
        this.reevaluate(workspaceId, d.profileId, new Set([d.segmentId]), now, 'time', changes);
      }
    }
    this.emit(changes);
  }

  /**
   * Evaluates `segs` (and, when a membership changes, the segments referring to it) for one
   * profile, in dependency order; records the changes and reschedules the profile's timers.
   */
  private reevaluate(workspaceId: string, pid: string, segs: ReadonlySet<string> | 'all', now: number, cause: ChangeCause, changes: MembershipChange[]): void {
    const ws = this.workspaces.get(workspaceId);
    if (!ws) return;
    const alive = this.facts.live(pid) === pid;
    // The segments to look at, by rank; a changed membership adds the segments referring to it (ranked after it).
    const queue = segs === 'all' ? ws.order.map((_, i) => i) : [...segs].map((id) => ws.rank.get(id) ?? -1).filter((r) => r >= 0).sort((a, b) => a - b);
    for (let q = 0; q < queue.length; q++) {
      if (q > 0 && queue[q] === queue[q - 1]) continue;
      const segId = ws.order[queue[q] as number] as string;
      const entry = ws.entries.get(segId) as Entry;
      if (entry.loading) continue;
      const member = alive && this.evaluate(entry, pid, now);
      if (member === entry.members.has(pid)) continue;
      if (member) entry.members.add(pid);
      else entry.members.delete(pid);
      changes.push(change(entry, pid, member, now, cause));
      if (segs === 'all') continue;
      for (const dep of ws.dependents.get(segId) ?? []) insertSorted(queue, ws.rank.get(dep) as number, q + 1);
    }
  }

  /**
   * After consent changed for these profiles: the segments that require purposes or test consent
   * are evaluated again for them (a withdrawal makes the person leave at once).
   */
  consentChanged(workspaceId: string, profileIds: Iterable<string>, restriction = false): void {
    const ws = this.workspaces.get(workspaceId);
    if (!ws) return;
    const gated = restriction ? 'all' : new Set([...ws.entries.values()]
      .filter((e) => requiredPurposes(e.segment).length > 0 || e.compiled.leaves.some((l) => l.kind === 'consent')).map((e) => e.segment.id));
    if (gated !== 'all' && gated.size === 0) return;
    const now = this.now();
    const changes: MembershipChange[] = [];
    const done = new Set<string>();
    for (const id of profileIds) {
      const pid = this.facts.live(id);
      if (pid === undefined || done.has(pid)) continue;
      done.add(pid);
      this.reevaluate(workspaceId, pid, gated, now, restriction ? 'restriction' : 'consent', changes);
    }
    this.emit(changes);
  }

  /**
   * After an external source's values changed for these keys (normalised): the segments reading
   * that source are evaluated again for the profiles whose key trait is one of them — and for
   * every profile when the source's whole content changed (it was removed).
   */
  externalChanged(workspaceId: string, sourceId: string, keys: ReadonlySet<string>, normalise: (key: string) => string): void {
    const ws = this.workspaces.get(workspaceId);
    if (!ws) return;
    const readers = [...ws.entries.values()].filter((e) => !e.loading && e.compiled.leaves.some((l) => l.kind === 'external' && l.cond.source === sourceId));
    if (readers.length === 0 || keys.size === 0) return;
    const keyLeaves = readers.flatMap((e) => e.compiled.leaves.filter((l): l is ExternalLeaf => l.kind === 'external' && l.cond.source === sourceId));
    const segs = new Set(readers.map((e) => e.segment.id));
    const now = this.now();
    const changes: MembershipChange[] = [];
    for (const pid of this.facts.liveProfiles(workspaceId)) {
      const traits = this.facts.traits(pid);
      const touched = keyLeaves.some((l) => {
        const k = traitValue(traits, l.keyLeaf);
        return typeof k === 'string' && keys.has(normalise(k));
      });
      if (touched) this.reevaluate(workspaceId, pid, segs, now, 'external', changes);
    }
    this.emit(changes);
  }

  /**
   * After a scoring run of a model (named by any of `refs`: its id and key): the segments with a
   * score condition on it are evaluated again for every live profile.
   */
  scoresChanged(workspaceId: string, refs: ReadonlySet<string>): void {
    const ws = this.workspaces.get(workspaceId);
    if (!ws) return;
    const segs = new Set([...ws.entries.values()]
      .filter((e) => !e.loading && e.compiled.leaves.some((l) => l.kind === 'score' && refs.has(l.cond.model))).map((e) => e.segment.id));
    if (segs.size === 0) return;
    const now = this.now();
    const changes: MembershipChange[] = [];
    for (const pid of this.facts.liveProfiles(workspaceId)) this.reevaluate(workspaceId, pid, segs, now, 'score', changes);
    this.emit(changes);
  }

  private externalValue(workspaceId: string, leaf: ExternalLeaf, pid: string): unknown {
    const key = traitValue(this.facts.traits(pid), leaf.keyLeaf);
    if (typeof key !== 'string') return undefined;
    const v = this.facts.external?.(workspaceId, leaf.cond.source, key, leaf.cond.field);
    return v === null ? undefined : v;
  }

  /**
   * Purpose limitation for traits: a segment that serves purposes sees a trait's value only when
   * the source that set it collects for all of them (a CRM import for analytics does not feed an
   * advertising audience).
   */
  private traitFor(entry: Entry, leaf: TraitLeaf, pid: string): unknown {
    const traits = this.facts.traits(pid);
    const purposes = entry.segment.purposes;
    if (purposes !== undefined && purposes.length > 0 && traits !== undefined && Object.hasOwn(traits, leaf.key)) {
      if (!this.facts.sourceServes((traits[leaf.key] as TraitValue).sourceId, purposes)) return undefined;
    }
    return traitValue(traits, leaf);
  }

  /** Purpose limitation: a segment that serves purposes reads only events of sources collecting for all of them. */
  private feeds(entry: Entry, e: SegmentEvent): boolean {
    const purposes = entry.segment.purposes;
    return purposes === undefined || purposes.length === 0 || this.facts.sourceServes(e.sourceId, purposes);
  }

  /**
   * No segment holds a restricted profile; a segment admits only profiles with consent in force
   * for each purpose it requires; one reading special-category data, none before its approval.
   */
  private permitted(entry: Entry, pid: string): boolean {
    if (this.facts.restricted(pid) || awaitsApproval(entry.segment)) return false;
    return requiredPurposes(entry.segment).every((p) => this.facts.consented(pid, p));
  }

  /** Whether the profile is a member at `now`; schedules when it should be looked at again. */
  private evaluate(entry: Entry, pid: string, now: number): boolean {
    const member = this.holds(entry, entry.compiled.root, pid, now) && this.permitted(entry, pid);
    if (entry.timed) this.timers.schedule(entry.segment.id, pid, this.nextDue(entry, pid, now));
    return member;
  }

  private holds(entry: Entry, c: SegmentCondition, pid: string, now: number): boolean {
    switch (c.kind) {
      case 'and': return c.of.every((x) => this.holds(entry, x, pid, now));
      case 'or': return c.of.some((x) => this.holds(entry, x, pid, now));
      case 'not': return !this.holds(entry, c.of, pid, now);
      default: return this.leafMatches(entry, entry.compiled.leafOf.get(c) as Leaf, pid, now);
    }
  }

  /** The hot path of `leafHolds`: the same answer without building the explanation. */
  private leafMatches(entry: Entry, leaf: Leaf, pid: string, now: number): boolean {
    switch (leaf.kind) {
      case 'trait': return leaf.test(this.traitFor(entry, leaf, pid));
      case 'event': {
        const s = leaf.state.get(pid);
        return compareCount(s === undefined ? 0 : countAt(s, now, leaf.windowMs ?? 0), leaf.op, leaf.k);
      }
      case 'consent': return this.facts.consentDecision(pid, leaf.purpose)?.granted === true;
      case 'geo': return leaf.state.get(pid)?.inside === true;
      case 'segment': return this.isMember(entry.segment.workspaceId, leaf.id, pid);
      case 'sequence': {
        const s = leaf.state.get(pid);
        if (s === undefined) return false;
        const matched = sequenceHolds(s, leaf.shape);
        // Without absent steps a satisfied sequence stays satisfied: keep only that fact.
        if (matched && leaf.monotone && !s.done) { s.done = true; s.events = []; }
        return matched;
      }
      default: return this.leafHolds(entry, leaf, pid, now).matched;
    }
  }

  private leafHolds(entry: Entry, leaf: Leaf, pid: string, now: number): { matched: boolean; actual: unknown } {
    const ws = entry.segment.workspaceId;
    switch (leaf.kind) {
      case 'trait': {
        const v = this.traitFor(entry, leaf, pid);
        // `exists` is all a segment may ask of a personal trait: its explanation shows presence, never the value.
        return { matched: leaf.test(v), actual: leaf.cond.op === 'exists' ? v !== undefined : v ?? null };
      }
      case 'event': {
        const s = leaf.state.get(pid);
        const n = s === undefined ? 0 : countAt(s, now, leaf.windowMs ?? 0);
        return { matched: compareCount(n, leaf.op, leaf.k), actual: n >= leaf.cap ? { atLeast: n } : n };
      }
      case 'sequence': {
        const matched = this.leafMatches(entry, leaf, pid, now);
        const s = leaf.state.get(pid);
        return { matched, actual: s === undefined ? 0 : s.done ? 'completed' : s.events.length };
      }
      case 'computed': {
        const v = this.facts.computed(ws, pid, leaf.cond.name, now);
        const value = v === null ? undefined : v;
        return { matched: leaf.test(value), actual: v ?? null };
      }
      case 'segment': {
        const member = this.isMember(ws, leaf.id, pid);
        return { matched: member, actual: member };
      }
      case 'consent': {
        const d = this.facts.consentDecision(pid, leaf.purpose);
        return { matched: d?.granted === true, actual: d === undefined ? null : { granted: d.granted, at: new Date(d.at).toISOString() } };
      }
      case 'external': {
        const v = this.externalValue(ws, leaf, pid);
        return { matched: leaf.test(v), actual: v ?? null };
      }
      case 'geo': {
        // Where the person was is personal data: the explanation says only whether it matched, and when.
        const s = leaf.state.get(pid);
        return { matched: s?.inside === true, actual: s === undefined ? null : { matched: s.inside, at: new Date(s.at).toISOString() } };
      }
      case 'score': {
        const s = this.facts.score?.(ws, leaf.cond.model, pid);
        return { matched: leaf.test(s), actual: s ?? null };
      }
      case 'list': {
        const items = this.lists.get(leaf.id);
        const member = items !== undefined && this.facts.identifierKeys(pid).some((k) => items.has(k));
        return { matched: member, actual: member };
      }
      default: {
        const unreachable: never = leaf;
        throw new Error(`unknown leaf ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private explainNode(entry: Entry, c: SegmentCondition, pid: string, now: number): Explanation {
    switch (c.kind) {
      case 'and':
      case 'or': {
        const children = c.of.map((x) => this.explainNode(entry, x, pid, now));
        const matched = c.kind === 'and' ? children.every((x) => x.matched) : children.some((x) => x.matched);
        return { condition: { kind: c.kind, of: [] }, matched, children };
      }
      case 'not': {
        const child = this.explainNode(entry, c.of, pid, now);
        return { condition: { kind: 'not', of: child.condition }, matched: !child.matched, children: [child] };
      }
      default: {
        const { matched, actual } = this.leafHolds(entry, entry.compiled.leafOf.get(c) as Leaf, pid, now);
        return { condition: c, matched, actual };
      }
    }
  }

  /** The earliest instant time alone may change one of the segment's conditions for the profile. */
  private nextDue(entry: Entry, pid: string, now: number): number | null {
    let due: number | null = null;
    const sooner = (t: number | null): void => { if (t !== null && (due === null || t < due)) due = t; };
    for (const leaf of entry.stateful) {
      if (leaf.kind !== 'event' || leaf.windowMs === null) continue;
      const s = leaf.state.get(pid);
      if (s !== undefined) sooner(nextLapse(s, leaf.windowMs));
    }
    for (const name of entry.computedWindowed) {
      if (this.facts.computedWindowed(entry.segment.workspaceId, pid, name)) sooner((Math.floor(now / DAY_MS) + 1) * DAY_MS);
    }
    return due;
  }

  private workspace(id: string): Workspace {
    let ws = this.workspaces.get(id);
    if (!ws) {
      ws = { id, entries: new Map(), order: [], rank: new Map(), dependents: new Map(), routes: new Map() };
      this.workspaces.set(id, ws);
    }
    return ws;
  }

  /** Rebuilds the workspace's routes and order after a segment was added or removed. */
  private index(workspaceId: string): void {
    const ws = this.workspace(workspaceId);
    ws.routes.clear();
    ws.dependents.clear();
    const add = (key: string, entry: Entry, leaf: StatefulLeaf | null): void => {
      const list = ws.routes.get(key) ?? [];
      if (!list.some((r) => r.entry === entry && r.leaf === leaf)) list.push({ entry, leaf });
      ws.routes.set(key, list);
    };
    const byName = (name: string): string => (name === ANY_EVENT ? 'any' : name === PAGE_EVENT ? 'page' : `track:${name}`);
    for (const [id, entry] of ws.entries) {
      for (const leaf of entry.compiled.leaves) {
        switch (leaf.kind) {
          case 'trait': add('identify', entry, null); break;
          case 'event': add(byName(leaf.cond.event), entry, leaf); break;
          case 'sequence': for (const s of leaf.cond.steps) add(byName(s.event), entry, leaf); break;
          // Reads the consent ledger, whose changes re-evaluate it (consentChanged).
          case 'consent': break;
          case 'geo': add(leaf.reads, entry, leaf); break;
          // Its key is a trait: identify events may change it.
          case 'external': add('identify', entry, null); break;
          // Any event may bring an identifier of the list.
          case 'list': add('any', entry, null); break;
          // Scores change only by scoring runs (scoresChanged).
          case 'score': break;
          case 'computed': {
            const on = this.computedEventName(workspaceId, leaf.cond.name);
            if (on !== undefined) add(byName(on), entry, null);
            break;
          }
          case 'segment': {
            const list = ws.dependents.get(leaf.id) ?? [];
            list.push(id);
            ws.dependents.set(leaf.id, list);
            break;
          }
          default: {
            const unreachable: never = leaf;
            throw new Error(`unknown leaf ${JSON.stringify(unreachable)}`);
          }
        }
      }
    }
    ws.order = dependencyOrder(ws.entries);
    ws.rank = new Map(ws.order.map((id, i) => [id, i]));
  }

  private emit(changes: MembershipChange[]): void {
    if (changes.length === 0) return;
    for (const l of this.listeners) l(changes);
  }
}

/** A profile id no profile has: reads as a profile with no state at all. */
const NO_PROFILE = '\u0000';

function change(entry: Entry, profileId: string, entered: boolean, at: number, cause: ChangeCause): MembershipChange {
  return { workspaceId: entry.segment.workspaceId, segmentId: entry.segment.id, profileId, entered, at, cause };
}

/** Inserts `value` into the ascending `queue` at or after `from`, unless it is there already. */
function insertSorted(queue: number[], value: number, from: number): void {
  let i = from;
  while (i < queue.length && (queue[i] as number) < value) i++;
  if (queue[i] !== value) queue.splice(i, 0, value);
}

function byProfileHas(todo: ReadonlyMap<string, ReadonlyMap<string, unknown>>, workspaceId: string, pid: string): boolean {
  return todo.get(workspaceId)?.has(pid) ?? false;
}

/** Segments ordered so that each comes after the segments it refers to (definitions have no cycles). */
function dependencyOrder(entries: ReadonlyMap<string, Entry>): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (id: string, depth: number): void => {
    if (done.has(id) || depth > 64) return;
    done.add(id);
    const entry = entries.get(id);
    if (!entry) return;
    for (const ref of segmentRefs(entry.segment.definition)) visit(ref, depth + 1);
    out.push(id);
  };
  for (const id of entries.keys()) visit(id, 0);
  return out.filter((id) => entries.has(id));
}
