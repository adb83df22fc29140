/**
 * Journeys of every workspace: definitions with their versions, and where each person is. The
 * fan-out (activate/fanout.ts) drives them from the same outboxes as audiences — a segment change
 * or an event enters people and moves those waiting for it — and from timers (waits, timeouts,
 * schedules). Each step's new state is written in the transaction that queues what it asked for
 * and moves past its cause, so a restart neither loses nor repeats a step and a timer fires once.
 * Memory holds the states (hot: every event asks whether its person waits for it), and their due
 * times in a min-heap (a tick costs what falls due, not a scan of everyone inside); a failed
 * write puts memory back as it was.
 */
import { createHash } from 'node:crypto';
import type { Journey, JourneyInputT, JourneyState, JourneyStatus } from '../protocol/journey.js';
import type { SegmentCondition } from '../protocol/segment.js';
import { durationMs } from '../protocol/segment.js';
import { EnsembleError } from '../protocol/errors.js';
import { newId } from '../platform/ids.js';
import { compileMatcher } from '../profiles/computed-trait-match.js';
import type { ChangeRow, DuckDbActivationStore, EventRow, JourneyWrite } from '../storage/duckdb/activation-store.js';
import { journeyProblems, type JourneyValidationContext } from './validate.js';
import { nextTimeOfDay, weekdayIn } from './time-of-day.js';
import { walk, type Effect, type WalkFacts, type WalkInput, type WalkResult } from './walk.js';
import { DueTimers, type Due } from '../segments/timers.js';

export interface JourneyDeps {
  store: DuckDbActivationStore;
  now(): number;
  validation(workspaceId: string): JourneyValidationContext;
  /** A branch condition for the person now. */
  holds(workspaceId: string, profileId: string, condition: SegmentCondition): boolean;
  /** The person's time zone (a trait), else the workspace's default. */
  timeZoneOf(workspaceId: string, profileId: string): string;
  defaultTimeZone(workspaceId: string): string;
  /** Current members of a segment (scheduled entries). */
  members(workspaceId: string, segmentId: string): Iterable<string>;
}

/** What one fan-out step changes in journeys, written with its deliveries. */
export interface JourneyBatch {
  states: Map<string, JourneyState>;
  /** The states before this batch touched them (restored if the write fails). */
  before: Map<string, JourneyState | undefined>;
  counts: Map<string, JourneyWrite['counts'][number]>;
  effects: Array<{ state: JourneyState; effects: Effect[]; priority: number }>;
  lastRuns: Map<string, number>;
}

export function journeyBatch(): JourneyBatch {
  return { states: new Map(), before: new Map(), counts: new Map(), effects: [], lastRuns: new Map() };
}

export function journeyWrite(b: JourneyBatch): JourneyWrite {
  return { states: [...b.states.values()], counts: [...b.counts.values()] };
}

interface Entry {
  journey: Journey;
  lastRunAt: number | null;
  entryMatch: ((e: { type: string; event: string | null; properties: Record<string, unknown> }) => boolean) | null;
}

const key = (journeyId: string, profileId: string) => `${journeyId}\u0000${profileId}`;

export class Journeys {
  private readonly byId = new Map<string, Entry>();
  private readonly states = new Map<string, JourneyState>();
  /** Journeys each profile is inside (events are routed by profile). */
  private readonly inside = new Map<string, Set<string>>();
  /** Due times of waiting states, keyed (journey id, profile id); driven by `tick`, never armed on its own. */
  private readonly timers = new DueTimers((due) => { for (const d of due) this.fired.push(d); }, () => this.deps.now(), false);
  private fired: Due[] = [];

  constructor(private readonly deps: JourneyDeps) {}

  async load(): Promise<void> {
    for (const j of await this.deps.store.journeys()) this.remember(j, j.lastRunAt);
    for (const s of await this.deps.store.journeyStates()) this.put(s);
  }

  list(workspaceId: string): Journey[] {
    return [...this.byId.values()].map((e) => e.journey).filter((j) => j.workspaceId === workspaceId);
  }

  get(workspaceId: string, id: string): Journey {
    const e = this.byId.get(id);
    if (!e || e.journey.workspaceId !== workspaceId) throw new EnsembleError('ENSEMBLE_ERR_JOURNEY_NOT_FOUND');
    return e.journey;
  }

  async create(workspaceId: string, input: unknown): Promise<Journey> {
    const def = this.checked(workspaceId, input);
    const now = this.deps.now();
    const j: Journey = { id: newId('jrn'), workspaceId, status: 'active', version: 1, versions: { 1: def }, createdAt: now, updatedAt: now };
    await this.deps.store.saveJourney(j, null);
    this.remember(j, null);
    return j;
  }

  /** A new version: new entrants get it, people inside finish on theirs. */
  async update(workspaceId: string, id: string, input: unknown): Promise<Journey> {
    const before = this.get(workspaceId, id);
    const def = this.checked(workspaceId, input);
    const version = before.version + 1;
    const j: Journey = { ...before, version, versions: { ...before.versions, [version]: def }, updatedAt: this.deps.now() };
    const lastRunAt = this.byId.get(id)?.lastRunAt ?? null;
    await this.deps.store.saveJourney(j, lastRunAt);
    this.remember(j, lastRunAt);
    return j;
  }

  async setStatus(workspaceId: string, id: string, status: JourneyStatus): Promise<Journey> {
    const before = this.get(workspaceId, id);
    if (before.status === 'archived') throw new EnsembleError('ENSEMBLE_ERR_JOURNEY_STATUS', 'An archived journey stays archived.');
    const j: Journey = { ...before, status, updatedAt: this.deps.now() };
    const lastRunAt = this.byId.get(id)?.lastRunAt ?? null;
    await this.deps.store.saveJourney(j, lastRunAt);
    this.remember(j, lastRunAt);
    if (status === 'active') for (const s of this.statesOf(id)) this.timers.schedule(s.journeyId, s.profileId, s.step === null ? null : s.dueAt);
    return j;
  }

  stateOf(journeyId: string, profileId: string): JourneyState | undefined {
    return this.states.get(key(journeyId, profileId));
  }

  statesOf(journeyId: string): JourneyState[] {
    return [...this.states.values()].filter((s) => s.journeyId === journeyId);
  }

  /** Whether events matter to some journey (an event entry, a goal, or people inside waiting). */
  listensToEvents(): boolean {
    for (const { journey } of this.byId.values()) if (journey.status === 'active') return true;
    return this.inside.size > 0;
  }

  /** A segment change: entries of segment-entry journeys, and people waiting for it. */
  onChange(b: JourneyBatch, c: ChangeRow): void {
    const now = this.deps.now();
    for (const e of this.byId.values()) {
      const j = e.journey;
      if (j.workspaceId !== c.workspaceId || j.status !== 'active') continue;
      const def = j.versions[j.version]!;
      if (c.entered && def.entry.kind === 'segment' && def.entry.segmentId === c.segmentId) this.enter(b, j, c.profileId, now);
    }
    this.advanceAll(b, c.workspaceId, c.profileId, { kind: 'segment', segmentId: c.segmentId, entered: c.entered }, now);
  }

  /** An event: goals, people waiting for it, then entries of event-entry journeys. */
  onEvent(b: JourneyBatch, e: EventRow): void {
    const now = this.deps.now();
    const ev = { type: e.type, event: e.event, properties: e.properties };
    this.advanceAll(b, e.workspaceId, e.profileId, { kind: 'event', event: ev }, now);
    for (const entry of this.byId.values()) {
      const j = entry.journey;
      if (j.workspaceId === e.workspaceId && j.status === 'active' && entry.entryMatch?.(ev)) this.enter(b, j, e.profileId, now);
    }
  }

  /** Timers due by now, and scheduled entries. */
  tick(b: JourneyBatch, now: number): void {
    this.timers.runDue(now);
    const due = this.fired;
    this.fired = [];
    for (const d of due) {
      const s = this.states.get(key(d.segmentId, d.profileId));
      const j = this.byId.get(d.segmentId)?.journey;
      if (!s || !j || s.dueAt !== d.at) continue;
      // A paused journey's timers wait for its resumption (which schedules them again).
      if (j.status === 'active') this.advance(b, j, s, { kind: 'timer' }, now);
    }
    for (const e of this.byId.values()) {
      const j = e.journey;
      const def = j.versions[j.version]!;
      if (j.status !== 'active' || def.entry.kind !== 'schedule') continue;
      const due = this.scheduleDue(e);
      if (due === null || due > now) continue;
      for (const pid of this.deps.members(j.workspaceId, def.entry.segmentId)) this.enter(b, j, pid, now);
      e.lastRunAt = now;
      b.lastRuns.set(j.id, now);
    }
  }

  /** The earliest timer or schedule (null: none). */
  nextDue(now: number): number | null {
    let next = this.timers.next();
    for (const e of this.byId.values()) {
      if (e.journey.status !== 'active') continue;
      const due = this.scheduleDue(e);
      if (due !== null && (next === null || due < next)) next = due;
    }
    return next;
  }

  /** The write failed: memory goes back to what the store holds. */
  rollback(b: JourneyBatch): void {
    for (const [k, s] of b.before) {
      const now = this.states.get(k);
      if (now) this.unindex(now);
      if (s) this.put(s);
      else if (now) {
        this.states.delete(k);
        this.timers.schedule(now.journeyId, now.profileId, null);
      }
    }
    for (const [id] of b.lastRuns) {
      const e = this.byId.get(id);
      if (e) e.lastRunAt = null;
    }
  }

  /** Erasure: every state of theirs goes, ended ones too (those are not in `inside`). */
  forget(profileIds: readonly string[]): void {
    const ids = new Set(profileIds);
    for (const [k, s] of this.states) if (ids.has(s.profileId)) this.states.delete(k);
    for (const pid of ids) this.inside.delete(pid);
    this.timers.cancelProfiles(ids);
  }

  /**
   * A dry run for one person: the path they would take from the start now, assuming every wait
   * times out (wait_for follows its timeout branch); nothing is written or sent.
   */
  simulate(workspaceId: string, id: string, profileId: string): { path: Array<{ step: string; kind: string; note?: string }>; outcome: string } {
    const j = this.get(workspaceId, id);
    const def = j.versions[j.version]!;
    const facts = this.facts(j, profileId, this.deps.now());
    const path: Array<{ step: string; kind: string; note?: string }> = [];
    let r = walk(def, null, { kind: 'enter' }, facts);
    for (let hops = 0; hops < 50; hops++) {
      for (const s of r.path) path.push({ step: s, kind: def.steps[s]!.kind, ...(noteOf(def, s, r) ? { note: noteOf(def, s, r)! } : {}) });
      if (r.state.step === null) return { path, outcome: r.state.outcome ?? 'exit' };
      const due = r.state.dueAt ?? facts.now;
      r = walk(def, r.state, { kind: 'timer' }, { ...facts, now: due });
    }
    return { path, outcome: 'still inside after 50 waits' };
  }

  private checked(workspaceId: string, input: unknown): JourneyInputT {
    const problems = journeyProblems(input, this.deps.validation(workspaceId));
    if (problems.length > 0) throw new EnsembleError('ENSEMBLE_ERR_JOURNEY_INVALID', `${problems[0]!.path || '/'}: ${problems[0]!.message}`, { problems });
    return input as JourneyInputT;
  }

  private remember(j: Journey, lastRunAt: number | null): void {
    const def = j.versions[j.version]!;
    const entryMatch = def.entry.kind === 'event' ? compileMatcher({ event: def.entry.event, filters: def.entry.filters ?? [] }) : null;
    this.byId.set(j.id, { journey: j, lastRunAt, entryMatch });
  }

  private put(s: JourneyState): void {
    this.states.set(key(s.journeyId, s.profileId), s);
    this.timers.schedule(s.journeyId, s.profileId, s.step === null ? null : s.dueAt);
    if (s.step !== null) {
      let set = this.inside.get(s.profileId);
      if (!set) { set = new Set(); this.inside.set(s.profileId, set); }
      set.add(s.journeyId);
    } else {
      this.unindex(s);
    }
  }

  private unindex(s: JourneyState): void {
    const set = this.inside.get(s.profileId);
    set?.delete(s.journeyId);
    if (set && set.size === 0) this.inside.delete(s.profileId);
  }

  private enter(b: JourneyBatch, j: Journey, profileId: string, now: number): void {
    const prior = this.states.get(key(j.id, profileId));
    if (prior && prior.step !== null) return;
    const def = j.versions[j.version]!;
    if (prior) {
      const policy = def.reentry ?? { policy: 'once' };
      if (policy.policy === 'once') return;
      if (policy.policy === 'cooldown' && now - (prior.endedAt ?? prior.enteredAt) < (durationMs(policy.after) ?? 0)) return;
    }
    const r = walk(def, null, { kind: 'enter' }, this.facts(j, profileId, now));
    const state: JourneyState = {
      workspaceId: j.workspaceId, journeyId: j.id, version: j.version, profileId, step: r.state.step, dueAt: r.state.dueAt,
      enteredAt: now, outcome: r.state.outcome, endedAt: r.state.step === null ? now : null, branch: r.state.branch, entries: (prior?.entries ?? 0) + 1,
    };
    this.count(b, state, '$journey', 'entered');
    this.record(b, state, r, def.priority ?? 5);
  }

  private advanceAll(b: JourneyBatch, workspaceId: string, profileId: string, input: WalkInput, now: number): void {
    for (const jid of [...(this.inside.get(profileId) ?? [])]) {
      const j = this.byId.get(jid)?.journey;
      const s = this.states.get(key(jid, profileId));
      if (!j || !s || j.workspaceId !== workspaceId || j.status !== 'active') continue;
      this.advance(b, j, s, input, now);
    }
  }

  private advance(b: JourneyBatch, j: Journey, s: JourneyState, input: WalkInput, now: number): void {
    const def = j.versions[s.version];
    if (!def) return;
    const r = walk(def, s, input, this.facts(j, s.profileId, now));
    if (!r.changed) return;
    const next: JourneyState = { ...s, step: r.state.step, dueAt: r.state.dueAt, outcome: r.state.outcome, branch: r.state.branch, endedAt: r.state.step === null ? now : null };
    this.record(b, next, r, def.priority ?? 5);
  }

  private record(b: JourneyBatch, state: JourneyState, r: WalkResult, priority: number): void {
    const k = key(state.journeyId, state.profileId);
    if (!b.before.has(k)) b.before.set(k, this.states.get(k));
    const old = this.states.get(k);
    if (old) this.unindex(old);
    this.put(state);
    b.states.set(k, state);
    for (const step of r.path) this.count(b, state, step, 'passed');
    if (state.step === null && state.outcome) this.count(b, state, '$journey', state.outcome);
    if (r.effects.length > 0) b.effects.push({ state, effects: r.effects, priority });
  }

  private count(b: JourneyBatch, s: JourneyState, step: string, counter: string): void {
    const k = `${s.journeyId}\u0000${s.version}\u0000${step}\u0000${counter}`;
    const c = b.counts.get(k) ?? { workspaceId: s.workspaceId, journeyId: s.journeyId, version: s.version, step, counter, count: 0 };
    c.count++;
    b.counts.set(k, c);
  }

  private facts(j: Journey, profileId: string, now: number): WalkFacts {
    const zone = this.deps.timeZoneOf(j.workspaceId, profileId);
    return {
      now,
      holds: (c) => this.deps.holds(j.workspaceId, profileId, c),
      draw: () => createHash('sha256').update(`${j.id}\u0000${profileId}`).digest().readUInt32BE(0) / 0x1_0000_0000 * 100,
      nextTimeOfDay: (hhmm) => nextTimeOfDay(now, hhmm, zone),
    };
  }

  /** When a scheduled journey runs next: its next `at` after the last run (or after its creation). */
  private scheduleDue(e: Entry): number | null {
    const def = e.journey.versions[e.journey.version]!;
    if (def.entry.kind !== 'schedule') return null;
    const zone = def.entry.timeZone ?? this.deps.defaultTimeZone(e.journey.workspaceId);
    let t = nextTimeOfDay(e.lastRunAt ?? e.journey.updatedAt, def.entry.at, zone);
    for (let i = 0; i < 8 && def.entry.days && !def.entry.days.includes(weekdayIn(t, zone)); i++) t = nextTimeOfDay(t, def.entry.at, zone);
    return t;
  }
}

function noteOf(def: JourneyInputT, id: string, r: WalkResult): string | null {
  const step = def.steps[id]!;
  if (step.kind === 'wait' || step.kind === 'wait_for') return r.state.step === id && r.state.dueAt !== null ? `waits until ${new Date(r.state.dueAt).toISOString()}` : null;
  if (step.kind === 'split') return r.state.branch ? `drawn: ${r.state.branch}` : null;
  return null;
}
