/**
 * The fan-out: turns what happened into deliveries, exactly once. It follows two outboxes by
 * cursor — the segment membership changes and the processed events — and queues, in one
 * transaction with the cursors it read up to:
 * - audience additions and removals for destinations mirroring a segment, as exact diffs
 *   against what each platform audience holds (`audience_members`);
 * - forwarded events for destinations with event forwarding;
 * - what triggers ask for.
 * Events feed only destinations whose purpose their source collects for (purpose limitation).
 * It also queues the diffs that come without a change: a segment newly connected is backfilled
 * with its members, a disconnected one emptied, consent given or withdrawn for a destination's
 * purpose adds or removes the person, and an erasure removes them everywhere with identifiers
 * frozen (hashed) before they are destroyed. Journeys ride the same outboxes: their steps are
 * written in the same transactions (journeys/journeys.ts).
 */
import type { Destination, Trigger, TriggerThenT } from '../protocol/activation.js';
import type { Identifiers } from '../protocol/destination.js';
import type { AudienceMember, ChangeRow, DeliveryRow, DuckDbActivationStore, EventRow, NewDelivery } from '../storage/duckdb/activation-store.js';
import type { Destinations } from './destinations.js';
import { compileForwarding, type ForwardedEvent, type Forwarding } from './event-mapping.js';
import type { Triggers } from './triggers.js';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { journeyBatch, journeyWrite, type JourneyBatch, type Journeys } from '../journeys/journeys.js';

export interface FanoutDeps {
  store: DuckDbActivationStore;
  destinations: Destinations;
  triggers: Triggers;
  now(): number;
  /** Whether the purpose may serve the profile now (consent, or another basis without objection). */
  permitted(profileId: string, purpose: string): boolean;
  /** Purpose limitation: the source collects for the purpose (events of others are not sent). */
  sourceServes(sourceId: string, purpose: string): boolean;
  /** Live segment membership (memory). */
  isMember(workspaceId: string, segmentId: string, profileId: string): boolean;
  /** The profile's identifiers in clear, by type (for freezing removals at erasure). */
  identifiersOf(workspaceId: string, profileId: string): Identifiers;
  /** Journeys ride the same outboxes (entries, waits for events and segment changes, timers). */
  journeys: Journeys;
  /** A journey's update_trait step: an identify through the collector (idempotent by messageId). */
  updateTraits(workspaceId: string, profileId: string, traits: Record<string, unknown>, messageId: string): Promise<void>;
  /**
   * Called after a commit with the destinations that got new deliveries and, when known, the
   * deliveries as stored (the delivery loops take them from memory).
   */
  queued(destinationIds: ReadonlySet<string>, rows?: readonly DeliveryRow[]): void;
  /** An erasure removed these profiles' queued deliveries (the loops' memory lets them go). */
  erased?(profileIds: readonly string[]): void;
  /** Told the main-thread time of each step's work: processing's, not collection's (processor/burst-policy.ts). */
  spent?(ms: number): void;
  onError(err: unknown): void;
}

const CHANGES = 'changes';
const EVENTS = 'events';
const PAGE = 2000;

interface Pending {
  deliveries: NewDelivery[];
  add: AudienceMember[];
  remove: AudienceMember[];
  touched: Set<string>;
  traits: Array<{ workspaceId: string; profileId: string; traits: Record<string, unknown>; messageId: string }>;
}

export class Fanout {
  /** `destination \0 segment \0 profile` → what the platform audience holds. */
  private readonly audience = new Set<string>();
  private readonly forwarding = new Map<string, { events: unknown; f: Forwarding }>();
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private seqInKey = 0;
  private cursors: { changes: bigint; events: bigint } | null = null;

  constructor(private readonly deps: FanoutDeps) {}

  async start(): Promise<void> {
    for (const m of await this.deps.store.audienceMembers()) this.audience.add(key(m.destinationId, m.segmentId, m.profileId));
    // A first start of activation begins at the present: history is not replayed to platforms.
    const cursors = new Map<string, bigint>();
    if ((await this.deps.store.cursor(CHANGES)) === null) cursors.set(CHANGES, await this.deps.store.lastChangeId());
    if ((await this.deps.store.cursor(EVENTS)) === null) cursors.set(EVENTS, await this.deps.store.lastEventSeq());
    if (cursors.size > 0) await this.deps.store.enqueue([], { add: [], remove: [] }, cursors);
    this.deps.destinations.onChange((next, before) => this.serial(() => this.reconfigured(next, before)));
    this.wake();
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    return this.chain;
  }

  /** Journey timers and schedules due by now (the engine's own timer calls this too). */
  tick(): Promise<void> {
    return this.serial(async () => {
      const now = this.deps.now();
      const b = journeyBatch();
      this.deps.journeys.tick(b, now);
      const p = pending();
      this.journeyEffects(p, b, now);
      await this.commit(p, new Map(), b);
    });
  }

  /** Something was written to an outbox: read it soon (coalesced). */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) void this.serial(() => this.drainOutboxes());
    });
  }

  /** Resolves once everything written to the outboxes so far is queued. */
  async idle(): Promise<void> {
    await this.serial(() => this.drainOutboxes());
  }

  holds(destinationId: string, segmentId: string, profileId: string): boolean {
    return this.audience.has(key(destinationId, segmentId, profileId));
  }

  /** An addition was dropped (no consent, sensitive...): the platform never got the person. */
  forgotten(members: readonly AudienceMember[]): void {
    for (const m of members) this.audience.delete(key(m.destinationId, m.segmentId, m.profileId));
  }

  /** Consent (or a restriction) changed for some profiles: audiences follow. */
  consentChanged(workspaceId: string, profileIds: readonly string[]): void {
    void this.serial(async () => {
      const p = pending();
      const now = this.deps.now();
      for (const d of this.deps.destinations.list(workspaceId)) {
        if (d.segments.length === 0) continue;
        for (const pid of profileIds) {
          const allowed = this.deps.permitted(pid, d.purpose);
          for (const seg of d.segments) {
            const has = this.holds(d.id, seg, pid);
            if (has && !allowed) this.audienceDiff(p, d, seg, pid, false, `${d.id}:k:${seg}:${pid}:${now}:${this.seqInKey++}`, now);
            else if (!has && allowed && this.deps.isMember(workspaceId, seg, pid)) this.audienceDiff(p, d, seg, pid, true, `${d.id}:k:${seg}:${pid}:${now}:${this.seqInKey++}`, now);
          }
        }
      }
      await this.commit(p, new Map());
    });
  }

  /**
   * Erasure: before the identifiers are destroyed, each platform audience holding the person
   * gets a removal whose identifiers are frozen (platform-ready: hashed), keyed by a pseudonym;
   * everything else queued for them goes.
   */
  async forget(workspaceId: string, profileIds: readonly string[], pseudonym: (id: string) => string): Promise<void> {
    await this.serial(async () => {
      const ids = new Set(profileIds);
      const removals: NewDelivery[] = [];
      const now = this.deps.now();
      for (const k of [...this.audience]) {
        const [destinationId, segmentId, profileId] = k.split('\u0000') as [string, string, string];
        if (!ids.has(profileId)) continue;
        this.audience.delete(k);
        const d = this.deps.destinations.find(destinationId);
        if (!d) continue;
        const m = this.deps.destinations.manifestOf(d);
        const identifiers = m.identify(this.deps.identifiersOf(workspaceId, profileId), d.config);
        const alias = pseudonym(profileId);
        removals.push({ workspaceId, destinationId, key: `${destinationId}:z:${segmentId}:${alias}`, kind: 'audience', action: 'remove',
          profileId: alias, segmentId, payload: { identifiers }, frozen: true, createdAt: now });
      }
      await this.deps.store.forgetProfiles(workspaceId, profileIds, removals);
      this.deps.erased?.(profileIds);
      this.deps.journeys.forget(profileIds);
      if (removals.length > 0) this.deps.queued(new Set(removals.map((r) => r.destinationId)));
    });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    // Nothing runs once stopped: the store is about to close, and a query still running on one of
    // its connections when DuckDB closes blocks the close for good.
    const run = this.chain.then(() => (this.stopped ? undefined : fn())).catch((err: unknown) => this.deps.onError(err));
    this.chain = run;
    return run;
  }

  /**
   * Where the cursors are, as last committed. The fan-out is their only writer and every step
   * runs in `serial`, so after the first read they are known without asking the store; a failed
   * commit forgets them, and the next step reads them back.
   */
  private async positions(): Promise<{ changes: bigint; events: bigint }> {
    this.cursors ??= { changes: (await this.deps.store.cursor(CHANGES)) ?? 0n, events: (await this.deps.store.cursor(EVENTS)) ?? 0n };
    return this.cursors;
  }

  private async drainOutboxes(): Promise<void> {
    for (;;) {
      const { changes: changesAt, events: eventsAt } = await this.positions();
      const changes = await this.deps.store.changesAfter(changesAt, PAGE);
      // Reading events back costs the store a scan and a JSON parse per event: only when someone
      // listens (event forwarding, event triggers, journeys); otherwise the cursor just moves on.
      const listening = this.listensToEvents();
      const events = listening ? await this.deps.store.eventsAfter(eventsAt, PAGE) : [];
      const skipTo = listening ? null : await this.deps.store.lastEventSeq();
      if (changes.length === 0 && events.length === 0 && (skipTo === null || skipTo === eventsAt)) return;
      const t = performance.now();
      const p = pending();
      const b = journeyBatch();
      for (const c of changes) { this.onChange(p, c); this.deps.journeys.onChange(b, c); }
      for (const e of events) { this.onEvent(p, e); this.deps.journeys.onEvent(b, e); }
      this.journeyEffects(p, b, this.deps.now());
      this.deps.spent?.(performance.now() - t);
      const cursors = new Map<string, bigint>();
      if (changes.length > 0) cursors.set(CHANGES, changes[changes.length - 1]!.id);
      if (events.length > 0) cursors.set(EVENTS, events[events.length - 1]!.seq);
      if (skipTo !== null && skipTo !== eventsAt) cursors.set(EVENTS, skipTo);
      await this.commit(p, cursors, b);
      if (changes.length < PAGE && events.length < PAGE) return;
    }
  }

  private listensToEvents(): boolean {
    return this.deps.destinations.list().some((d) => d.events !== undefined && d.enabled)
      || this.deps.triggers.listensToEvents() || this.deps.journeys.listensToEvents();
  }

  private onChange(p: Pending, c: ChangeRow): void {
    const now = this.deps.now();
    for (const d of this.deps.destinations.list(c.workspaceId)) {
      if (d.segments.includes(c.segmentId)) this.audienceDiff(p, d, c.segmentId, c.profileId, c.entered, `${d.id}:c:${c.id}`, c.at);
    }
    for (const t of this.deps.triggers.forChange(c.workspaceId, c.segmentId, c.entered)) {
      this.fire(p, t, c.profileId, `c:${c.id}`, now, { type: 'track', event: c.entered ? 'Segment Entered' : 'Segment Exited', properties: { segmentId: c.segmentId } });
    }
  }

  private onEvent(p: Pending, e: EventRow): void {
    const forwarded: ForwardedEvent = {
      type: e.type, event: e.event, name: e.name, messageId: e.messageId, timestamp: new Date(e.timestamp).toISOString(),
      properties: e.properties, traits: e.traits, context: e.context,
    };
    const now = this.deps.now();
    for (const d of this.deps.destinations.list(e.workspaceId)) {
      if (!d.events || !d.enabled || !this.deps.sourceServes(e.sourceId, d.purpose)) continue;
      const f = this.forwardingOf(d);
      if (!f.matches(forwarded)) continue;
      p.deliveries.push({ workspaceId: e.workspaceId, destinationId: d.id, key: `${d.id}:e:${e.seq}`, kind: 'event', profileId: e.profileId, payload: { event: f.map(forwarded) }, createdAt: Math.min(e.receivedAt, now) });
      p.touched.add(d.id);
    }
    for (const t of this.deps.triggers.forEvent(e.workspaceId, { type: e.type, event: e.event, properties: e.properties })) {
      const target = this.deps.destinations.find(t.then.destinationId);
      if (target && this.deps.sourceServes(e.sourceId, target.purpose)) this.fire(p, t, e.profileId, `e:${e.seq}`, now, { ...forwarded });
    }
  }

  private fire(p: Pending, t: Trigger, profileId: string, cause: string, now: number, event: Record<string, unknown>): void {
    const d = this.deps.destinations.find(t.then.destinationId);
    if (!d || !d.enabled) return;
    const then: TriggerThenT = t.then;
    const k = `${d.id}:t:${t.id}:${cause}`;
    switch (then.action) {
      case 'add':
      case 'remove':
        this.audienceDiff(p, d, then.segmentId, profileId, then.action === 'add', k, now);
        return;
      case 'send':
        p.deliveries.push({ workspaceId: d.workspaceId, destinationId: d.id, key: k, kind: 'message', profileId, payload: { template: then.template, triggerId: t.id }, createdAt: now });
        p.touched.add(d.id);
        return;
      case 'forward':
        p.deliveries.push({ workspaceId: d.workspaceId, destinationId: d.id, key: k, kind: 'event', profileId, payload: { event }, createdAt: now });
        p.touched.add(d.id);
        return;
      default: {
        const unreachable: never = then;
        throw new Error(`unknown trigger action ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Queues an add or a remove only when it changes what the platform holds. */
  private audienceDiff(p: Pending, d: Destination, segmentId: string, profileId: string, add: boolean, deliveryKey: string, at: number): void {
    const k = key(d.id, segmentId, profileId);
    if (this.audience.has(k) === add) return;
    const member = { workspaceId: d.workspaceId, destinationId: d.id, segmentId, profileId };
    if (add) { this.audience.add(k); p.add.push(member); } else { this.audience.delete(k); p.remove.push(member); }
    p.deliveries.push({ workspaceId: d.workspaceId, destinationId: d.id, key: deliveryKey, kind: 'audience', action: add ? 'add' : 'remove', profileId, segmentId, createdAt: Math.min(at, this.deps.now()) });
    p.touched.add(d.id);
  }

  private forwardingOf(d: Destination): Forwarding {
    const cached = this.forwarding.get(d.id);
    if (cached && cached.events === d.events) return cached.f;
    const f = compileForwarding(d.events!);
    this.forwarding.set(d.id, { events: d.events, f });
    return f;
  }

  /** A destination was created, changed or deleted: backfill new segments, empty removed ones. */
  private async reconfigured(next: Destination | null, before: Destination | null): Promise<void> {
    if (next === null) {
      for (const k of [...this.audience]) if (k.startsWith(`${before!.id}\u0000`)) this.audience.delete(k);
      this.forwarding.delete(before!.id);
      return;
    }
    const now = this.deps.now();
    const p = pending();
    const old = new Set(before?.segments ?? []);
    for (const seg of next.segments) {
      if (old.has(seg)) continue;
      for (const pid of await this.deps.store.segmentMembers(next.workspaceId, seg)) this.audienceDiff(p, next, seg, pid, true, `${next.id}:b:${seg}:${pid}:${now}`, now);
    }
    for (const seg of old) {
      if (next.segments.includes(seg)) continue;
      for (const k of [...this.audience]) {
        const [dst, s, pid] = k.split('\u0000') as [string, string, string];
        if (dst === next.id && s === seg) this.audienceDiff(p, next, seg, pid, false, `${next.id}:x:${seg}:${pid}:${now}`, now);
      }
    }
    await this.commit(p, new Map());
  }

  private async commit(p: Pending, cursors: Map<string, bigint>, b?: JourneyBatch): Promise<void> {
    const journeys = b !== undefined && (b.states.size > 0 || b.lastRuns.size > 0);
    if (p.deliveries.length === 0 && cursors.size === 0 && !journeys) { this.schedule(); return; }
    let rows: DeliveryRow[];
    try {
      if (b && b.lastRuns.size > 0) rows = await this.deps.store.journeyStep(p.deliveries, { add: p.add, remove: p.remove }, journeyWrite(b), b.lastRuns, cursors);
      else rows = await this.deps.store.enqueue(p.deliveries, { add: p.add, remove: p.remove }, cursors, b && journeys ? journeyWrite(b) : undefined);
    } catch (err) {
      // Nothing was written: memory goes back to what the store holds, and the step is retried.
      this.cursors = null;
      for (const m of p.add) this.audience.delete(key(m.destinationId, m.segmentId, m.profileId));
      for (const m of p.remove) this.audience.add(key(m.destinationId, m.segmentId, m.profileId));
      if (b) this.deps.journeys.rollback(b);
      setTimeout(() => this.wake(), 1000).unref();
      throw err;
    }
    if (this.cursors) {
      this.cursors = { changes: cursors.get(CHANGES) ?? this.cursors.changes, events: cursors.get(EVENTS) ?? this.cursors.events };
    }
    // No await between the commit and the handoff: a delivery loop cannot read and send these
    // rows from the store before it holds them in memory (it would send them twice).
    if (p.touched.size > 0) this.deps.queued(p.touched, rows);
    for (const t of p.traits) {
      // After the commit: the identify is deduplicated by its messageId if this step is ever redone.
      void this.deps.updateTraits(t.workspaceId, t.profileId, t.traits, t.messageId).catch((err: unknown) => this.deps.onError(err));
    }
    this.schedule();
  }

  /** What journey steps asked for, as deliveries (keyed by journey, version, person, entry, step). */
  private journeyEffects(p: Pending, b: JourneyBatch, now: number): void {
    for (const { state, effects, priority } of b.effects) {
      for (const e of effects) {
        const base = `j:${state.journeyId}:${state.version}:${state.profileId}:${state.entries}:${e.step}`;
        if (e.kind === 'update_trait') {
          p.traits.push({ workspaceId: state.workspaceId, profileId: state.profileId, traits: e.traits, messageId: `jrn-${createHash('sha256').update(base).digest('base64url').slice(0, 32)}` });
          continue;
        }
        const d = this.deps.destinations.find(e.destinationId);
        if (!d || !d.enabled || d.workspaceId !== state.workspaceId) continue;
        const k = `${d.id}:${base}`;
        const journey = { journeyId: state.journeyId, version: state.version, step: e.step };
        switch (e.kind) {
          case 'send':
            p.deliveries.push({ workspaceId: d.workspaceId, destinationId: d.id, key: k, kind: 'message', profileId: state.profileId, payload: { template: e.template, priority, ...journey }, createdAt: now });
            p.touched.add(d.id);
            break;
          case 'audience':
            this.audienceDiff(p, d, e.segmentId, state.profileId, e.action === 'add', k, now);
            break;
          case 'webhook':
            p.deliveries.push({ workspaceId: d.workspaceId, destinationId: d.id, key: k, kind: 'event', profileId: state.profileId,
              payload: { event: { type: 'track', event: 'Journey Step', properties: journey, timestamp: new Date(now).toISOString() }, ...journey }, createdAt: now });
            p.touched.add(d.id);
            break;
          default: {
            const unreachable: never = e;
            throw new Error(`unknown journey effect ${JSON.stringify(unreachable)}`);
          }
        }
      }
    }
  }

  /** The engine's timer: wakes at the next journey timer or schedule. */
  private schedule(): void {
    if (this.stopped) return;
    const now = this.deps.now();
    const next = this.deps.journeys.nextDue(now);
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (next === null) return;
    this.timer = setTimeout(() => { this.timer = null; void this.tick(); }, Math.min(Math.max(0, next - now), 2_147_483_647));
    this.timer.unref();
  }
}

function pending(): Pending {
  return { deliveries: [], add: [], remove: [], touched: new Set(), traits: [] };
}

function key(destinationId: string, segmentId: string, profileId: string): string {
  return `${destinationId}\u0000${segmentId}\u0000${profileId}`;
}

