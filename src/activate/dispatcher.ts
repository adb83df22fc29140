/**
 * The delivery engine: one loop per destination reads its due deliveries from the queue in
 * batches (the connector's batch size), admits each (consent, restriction, sensitive segments),
 * materialises it (identifiers normalised and hashed by the connector, events with their
 * pseudonyms revealed, messages rendered), waits for the destination's rate limit, calls the
 * connector's `send` under a timeout, and applies the outcomes in one transaction: delivered
 * and dropped items leave the queue (counted, with the drop's reason), retried ones come back
 * after an exponential backoff with jitter (or the platform's Retry-After), and after
 * `maxAttempts` they become dead letters that an operator can inspect and replay.
 *
 * Loops are independent: a slow or failing destination waits alone, and no loop runs inside a
 * processing transaction (the queue is filled by the fan-out, after the fact). What the fan-out
 * just committed is handed over in memory (`handoff`) and sent without being read back; the store
 * stays the truth and is read whenever memory may miss something (`Loop.stale`). The loops use
 * the store's second connection, so they never wait for the fan-out's statements.
 */
import { performance } from 'node:perf_hooks';
import type { Destination } from '../protocol/activation.js';
import type { DeliveryItem, DeliveryOutcome, DestinationContext, DestinationManifest, Identifiers, MessageItem, SmtpMessage, SmtpOptions } from '../protocol/destination.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { AudienceMember, DeliveryRow, DuckDbActivationStore, Settlement } from '../storage/duckdb/activation-store.js';
import { admit, type AdmissionFacts } from './admission.js';
import { retryDelay, type BackoffPolicy } from './backoff.js';
import type { Destinations } from './destinations.js';
import { TokenBucket } from './rate-limit.js';
import { channelOf, decide, type Channel, type PressurePolicyT, type SentMessage } from './pressure.js';

export interface DispatcherDeps {
  store: DuckDbActivationStore;
  destinations: Destinations;
  facts(workspaceId: string): AdmissionFacts;
  /** The live profile an id now belongs to (merges), undefined once erased. */
  live(workspaceId: string, profileId: string): string | undefined;
  identifiersOf(workspaceId: string, profileId: string): Identifiers;
  segmentName(workspaceId: string, segmentId: string): string;
  /** A stored event with its pseudonyms replaced by the values (sent to a destination, not kept). */
  reveal(workspaceId: string, event: unknown): Record<string, unknown>;
  /** A message rendered for its person, or the drop that says why it cannot be. */
  message(d: Destination, row: DeliveryRow, profileId: string): Pick<MessageItem, 'content' | 'traits' | 'links'> | DeliveryOutcome;
  smtp(options: SmtpOptions, message: SmtpMessage): Promise<{ messageId: string; response: string }>;
  fanoutForgot(members: readonly AudienceMember[]): void;
  /** Every settled item with its outcome (journeys count their messages' fates). */
  settled(d: Destination, results: ReadonlyArray<{ row: DeliveryRow; outcome: DeliveryOutcome }>): Promise<void>;
  policy: BackoffPolicy & { sendTimeoutMs: number };
  /** The workspace's marketing-pressure policy, applied to every message. */
  pressure(workspaceId: string): PressurePolicyT;
  /** The person's time zone (quiet hours are theirs). */
  timeZoneOf(workspaceId: string, profileId: string): string;
  metrics: Metrics;
  logger: Logger;
  now(): number;
  random(): number;
  /** Told the main-thread time of each batch's work: processing's, not collection's (processor/burst-policy.ts). */
  spent?(ms: number): void;
}

/** A message the pressure policy holds back until `until`. */
interface Deferral {
  until: number;
  rule: string;
}

/** How long sent messages are remembered in memory for the caps (longer windows read the store at start). */
const HISTORY_MS = 90 * 86_400_000;

interface Loop {
  running: boolean;
  again: boolean;
  timer: NodeJS.Timeout | null;
  bucket: TokenBucket;
  latencies: number[];
  /**
   * Deliveries the fan-out just queued, handed over after its commit, oldest first: the loop
   * sends them without reading them back. Every one of them is also in the store, which stays the
   * truth: memory only saves the read.
   */
  ready: Map<string, DeliveryRow>;
  /**
   * The store may hold due deliveries that `ready` does not (at start, after a retry's or a
   * deferral's timer, a replay, an erasure's removals, a config change, `ready` overflowing):
   * the loop reads them before it is idle again.
   */
  stale: boolean;
}

const LATENCY_SAMPLES = 1000;
/** Deliveries kept in memory per destination; beyond, memory lets go and the store is read (a slow destination costs memory nothing). */
const READY_MAX = 10_000;

export class Dispatcher {
  private readonly loops = new Map<string, Loop>();
  private stopped = false;
  private readonly running = new Set<Promise<void>>();
  /** Aborts requests in flight at shutdown: their items are retried after the restart. */
  private readonly shutdown = new AbortController();
  /** Messages sent, or deferred and waiting for their turn, per profile (the pressure caps count them). */
  private readonly history = new Map<string, SentMessage[]>();
  /**
   * Waiting messages a more important one took the place of: dropped when their turn comes. Kept
   * in memory only: after a restart they are decided afresh (and usually deferred again).
   */
  private readonly displaced = new Set<string>();

  constructor(private readonly deps: DispatcherDeps) {}

  /** `sent`: the messages of the caps' windows, from the store. */
  start(sent: ReadonlyArray<{ profileId: string; channel: string; at: number; priority: number; key: string }> = []): void {
    for (const m of sent) this.remember(m.profileId, { at: m.at, channel: m.channel as Channel, priority: m.priority, key: m.key });
    for (const d of this.deps.destinations.list()) this.wake(d.id);
  }

  private remember(profileId: string, m: SentMessage): void {
    let h = this.history.get(profileId);
    if (!h) { h = []; this.history.set(profileId, h); }
    h.push(m);
    const old = m.at - HISTORY_MS;
    while (h.length > 0 && h[0]!.at <= old) h.shift();
  }

  private unremember(profileId: string, key: string): void {
    const h = this.history.get(profileId);
    const i = h?.findIndex((m) => m.key === key) ?? -1;
    if (h && i >= 0) h.splice(i, 1);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const l of this.loops.values()) if (l.timer) clearTimeout(l.timer);
    this.shutdown.abort();
    await Promise.all([...this.running]);
  }

  /** New deliveries for a destination (or its config changed): look at its queue now. */
  wake(destinationId: string): void {
    if (this.stopped) return;
    this.loopOf(destinationId).stale = true;
    this.kick(destinationId);
  }

  /**
   * Deliveries the fan-out has just committed to the queue: sent from memory, without a read.
   *
   * @example
   *   const rows = await store.enqueue(deliveries, members, cursors);
   *   dispatcher.handoff(rows);
   */
  handoff(rows: readonly DeliveryRow[]): void {
    if (this.stopped) return;
    const by = new Map<string, DeliveryRow[]>();
    for (const r of rows) {
      let list = by.get(r.destinationId);
      if (!list) { list = []; by.set(r.destinationId, list); }
      list.push(r);
    }
    for (const [id, list] of by) {
      if (!this.deps.destinations.find(id)) continue;
      const loop = this.loopOf(id);
      if (loop.ready.size + list.length > READY_MAX) {
        loop.ready.clear();
        loop.stale = true;
      } else {
        for (const r of list) loop.ready.set(r.key, r);
      }
      this.kick(id);
    }
  }

  /** An erasure removed these profiles' queued deliveries from the store: memory lets them go too. */
  forgetProfiles(profileIds: readonly string[]): void {
    const ids = new Set(profileIds);
    for (const l of this.loops.values()) for (const [k, r] of l.ready) if (ids.has(r.profileId)) l.ready.delete(k);
  }

  private kick(destinationId: string): void {
    if (this.stopped) return;
    const loop = this.loopOf(destinationId);
    if (loop.timer) { clearTimeout(loop.timer); loop.timer = null; }
    if (loop.running) { loop.again = true; return; }
    const run = this.run(destinationId, loop).catch((err: unknown) => {
      this.deps.logger.error({ destinationId, err: err instanceof Error ? err.message : String(err) }, 'delivery loop failed; retrying in a second');
      loop.timer = setTimeout(() => this.wake(destinationId), 1000);
    }).finally(() => { this.running.delete(run); });
    this.running.add(run);
  }

  /** Resolves when no due delivery is waiting or being sent (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Delivery latencies of the last deliveries (ms), for the stats view. */
  latencies(destinationId: string): readonly number[] {
    return this.loops.get(destinationId)?.latencies ?? [];
  }

  forget(destinationId: string): void {
    const l = this.loops.get(destinationId);
    if (l?.timer) clearTimeout(l.timer);
    this.loops.delete(destinationId);
  }

  private loopOf(id: string): Loop {
    let l = this.loops.get(id);
    if (!l) {
      const d = this.deps.destinations.find(id);
      l = { running: false, again: false, timer: null, bucket: new TokenBucket(d?.ratePerSecond ?? 10, this.deps.now), latencies: [], ready: new Map(), stale: true };
      this.loops.set(id, l);
    }
    return l;
  }

  /**
   * Drains the destination's due deliveries. A batch shorter than the batch size was everything
   * due when it was read, so the loop does not ask again (what the fan-out queues meanwhile wakes
   * it: `again`); the read also says when the next not-yet-due item falls due, and the settled
   * retries and deferrals say theirs, so the timer is set without another query.
   */
  private async run(id: string, loop: Loop): Promise<void> {
    loop.running = true;
    try {
      let next: number | null = null;
      do {
        loop.again = false;
        for (;;) {
          const d = this.deps.destinations.find(id);
          if (!d || !d.enabled || this.stopped) return;
          const m = this.deps.destinations.manifestOf(d);
          if (loop.ready.size < m.batchSize && loop.stale) {
            // Cleared before the read: what is handed over or woken meanwhile is looked at next time.
            loop.stale = false;
            const limit = m.batchSize + loop.ready.size;
            const { rows, later } = await this.deps.store.due(id, this.deps.now(), limit);
            next = earliest(next, later);
            if (rows.length === limit) loop.stale = true;
            merge(loop, rows);
          }
          const rows = take(loop, m.batchSize);
          if (rows.length === 0) break;
          loop.bucket.setRate(d.ratePerSecond);
          await loop.bucket.take();
          next = earliest(next, await this.deliver(d, m, rows, loop));
          if (loop.ready.size === 0 && !loop.stale) break;
        }
      } while (loop.again && !this.stopped);
      if (next !== null && !this.stopped) loop.timer = setTimeout(() => { loop.timer = null; this.wake(id); }, Math.max(0, next - this.deps.now()));
    } finally {
      loop.running = false;
    }
  }

  /** Sends one batch and settles it; returns when its earliest retry or deferral falls due (null: none). */
  private async deliver(d: Destination, m: DestinationManifest, rows: readonly DeliveryRow[], loop: Loop): Promise<number | null> {
    const facts = this.deps.facts(d.workspaceId);
    const s: Settlement = { delivered: [], dropped: [], retried: [], dead: [], counts: [], forget: [], received: [], deferred: [], sent: [] };
    const counts = new Map<string, number>();
    const count = (outcome: string, reason: string) => { const k = `${outcome}\u0000${reason}`; counts.set(k, (counts.get(k) ?? 0) + 1); };
    const sent: Array<{ row: DeliveryRow; item: DeliveryItem }> = [];
    const now = this.deps.now();
    const results: Array<{ row: DeliveryRow; outcome: DeliveryOutcome }> = [];
    const apply = (row: DeliveryRow, o: DeliveryOutcome) => {
      results.push({ row, outcome: o });
      switch (o.kind) {
        case 'ok':
          s.delivered.push(row.key);
          count('delivered', '');
          loop.latencies.push(now - row.createdAt);
          if (loop.latencies.length > LATENCY_SAMPLES) loop.latencies.shift();
          this.deps.metrics.deliverySeconds.observe({ destination: d.id }, Math.max(0, this.deps.now() - row.createdAt) / 1000);
          return;
        case 'drop':
          s.dropped.push(row.key);
          count('dropped', o.reason);
          if (row.kind === 'audience' && row.action === 'add' && row.segmentId !== undefined) {
            s.forget.push({ workspaceId: row.workspaceId, destinationId: row.destinationId, segmentId: row.segmentId, profileId: row.profileId });
          }
          return;
        case 'retry': {
          const attempts = row.attempts + 1;
          if (attempts >= d.maxAttempts) {
            s.dead.push({ key: row.key, attempts, error: `gave up after ${attempts} attempts: ${o.reason}` });
            count('dead', o.reason);
            return;
          }
          s.retried.push({ key: row.key, attempts, nextAt: now + retryDelay(attempts, this.deps.policy, this.deps.random, o.afterMs), error: o.reason });
          count('retried', o.reason);
          return;
        }
        case 'dead':
          s.dead.push({ key: row.key, attempts: row.attempts + 1, error: o.error });
          count('dead', 'error');
          return;
        default: {
          const unreachable: never = o;
          throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
        }
      }
    };
    const pressured = new Map<string, { channel: Channel; priority: number }>();
    const t = performance.now();
    // The most important messages are decided first: they take the turns (stable for equal priorities).
    for (const row of [...rows].sort((a, b) => priorityOf(b) - priorityOf(a))) {
      const built = this.build(d, m, row, facts, now, pressured);
      if ('until' in built) {
        s.deferred.push({ key: row.key, nextAt: built.until, reason: `deferred:${built.rule}` });
        count('deferred', built.rule);
        results.push({ row, outcome: { kind: 'retry', reason: `deferred:${built.rule}`, afterMs: built.until - now } });
      } else if ('kind' in built && !('key' in built)) apply(row, built);
      else sent.push({ row, item: built as DeliveryItem });
    }
    if (sent.length > 0) {
      const sending = this.send(d, m, sent.map((x) => x.item));
      this.deps.spent?.(performance.now() - t);
      const outcomes = await sending;
      const t2 = performance.now();
      sent.forEach((x, i) => apply(x.row, outcomes[i] ?? { kind: 'retry', reason: 'connector_missing_outcome' }));
      const ok = sent.filter((x, i) => outcomes[i]?.kind === 'ok' && !x.row.frozen);
      s.received = ok.map((x) => x.item.profileId);
      sent.forEach((x, i) => {
        const p = pressured.get(x.row.key);
        if (!p) return;
        if (outcomes[i]?.kind === 'ok') s.sent.push({ profileId: x.item.profileId, channel: p.channel, at: now, priority: p.priority, key: x.row.key });
        else this.unremember(x.item.profileId, x.row.key);
      });
      this.deps.spent?.(performance.now() - t2);
    } else this.deps.spent?.(performance.now() - t);
    s.counts = [...counts].map(([k, n]) => { const [outcome, reason] = k.split('\u0000') as [string, string]; return { outcome, reason, count: n }; });
    await this.deps.store.settle(d.workspaceId, d.id, s, new Date(now).toISOString().slice(0, 10), now);
    for (const c of s.counts) this.deps.metrics.deliveries.inc({ destination: d.id, outcome: c.outcome, reason: c.reason }, c.count);
    if (s.forget.length > 0) this.deps.fanoutForgot(s.forget);
    await this.deps.settled(d, results);
    return [...s.retried, ...s.deferred].reduce<number | null>((t, r) => earliest(t, r.nextAt), null);
  }

  /** The item to send, or the outcome that settles it without a request. */
  private build(d: Destination, m: DestinationManifest, row: DeliveryRow, facts: AdmissionFacts, now: number,
    pressured: Map<string, { channel: Channel; priority: number }>): DeliveryItem | DeliveryOutcome | Deferral {
    const payload = (row.payload ?? {}) as { identifiers?: Record<string, string[]>; event?: unknown };
    if (row.frozen) {
      if (row.kind !== 'audience') return { kind: 'drop', reason: 'frozen_not_audience' };
      return { kind: 'audience', key: row.key, profileId: row.profileId, action: row.action ?? 'remove', identifiers: payload.identifiers ?? {},
        audience: { segmentId: row.segmentId ?? '', name: this.deps.segmentName(d.workspaceId, row.segmentId ?? '') } };
    }
    const pid = this.deps.live(d.workspaceId, row.profileId);
    if (pid === undefined) return { kind: 'drop', reason: 'profile_erased' };
    // A message that waited for its turn is decided afresh (its turn is remembered again if it waits more).
    if (row.kind === 'message') this.unremember(pid, row.key);
    const denied = admit({ kind: row.kind, ...(row.action ? { action: row.action } : {}), profileId: pid, ...(row.segmentId ? { segmentId: row.segmentId } : {}) }, m, d.purpose, facts);
    if (denied) return denied;
    const identifiers = m.identify(this.deps.identifiersOf(d.workspaceId, pid), d.config);
    const base = { key: row.key, profileId: pid, identifiers };
    switch (row.kind) {
      case 'audience':
        return { ...base, kind: 'audience', action: row.action ?? 'add', audience: { segmentId: row.segmentId ?? '', name: this.deps.segmentName(d.workspaceId, row.segmentId ?? '') } };
      case 'event':
        return { ...base, kind: 'event', event: this.deps.reveal(d.workspaceId, payload.event) };
      case 'message': {
        // Marketing pressure: every message of every journey and trigger, decided at send time.
        const channel = channelOf(m.id);
        const priority = priorityOf(row);
        if (channel) {
          if (this.displaced.delete(row.key)) return { kind: 'drop', reason: 'suppressed:displaced' };
          const decision = decide({ policy: this.deps.pressure(d.workspaceId), channel, now, timeZone: this.deps.timeZoneOf(d.workspaceId, pid), priority, history: this.history.get(pid) ?? [] });
          if (decision.kind === 'suppress') return { kind: 'drop', reason: `suppressed:${decision.rule}` };
          for (const k of decision.displaced ?? []) { this.displaced.add(k); this.unremember(pid, k); }
          if (decision.kind === 'defer') {
            // Its turn is kept: later messages count it, and a more important one may take it.
            this.remember(pid, { at: decision.until, channel, priority, key: row.key, waiting: true });
            return { until: decision.until, rule: decision.rule };
          }
        }
        const msg = this.deps.message(d, row, pid);
        if ('kind' in msg) return msg;
        if (channel) {
          this.remember(pid, { at: now, channel, priority, key: row.key });
          pressured.set(row.key, { channel, priority });
        }
        return { ...base, kind: 'message', ...msg };
      }
      default: {
        const unreachable: never = row.kind;
        throw new Error(`unknown delivery kind ${String(unreachable)}`);
      }
    }
  }

  /** Sends items directly, outside the queue (test deliveries). */
  sendNow(d: Destination, items: DeliveryItem[]): Promise<DeliveryOutcome[]> {
    return this.send(d, this.deps.destinations.manifestOf(d), items);
  }

  private async send(d: Destination, m: DestinationManifest, items: DeliveryItem[]): Promise<DeliveryOutcome[]> {
    const timeout = this.deps.policy.sendTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<DeliveryOutcome[]>((resolve) => {
      const give = () => resolve(items.map(() => ({ kind: 'retry', reason: this.stopped ? 'shutdown' : 'timeout' })));
      timer = setTimeout(give, timeout);
      this.shutdown.signal.addEventListener('abort', give, { once: true });
    });
    try {
      const outcomes = await Promise.race([m.send(items, this.context(d, m)), expired]);
      if (outcomes.length !== items.length) {
        this.deps.logger.error({ destinationId: d.id, items: items.length, outcomes: outcomes.length }, 'connector returned the wrong number of outcomes; retrying the batch');
        return items.map(() => ({ kind: 'retry', reason: 'connector_outcomes' }));
      }
      return outcomes;
    } catch (err) {
      // A connector should not throw; if it does, the batch waits and the failure is visible.
      this.deps.logger.error({ destinationId: d.id, err: err instanceof Error ? err.name : 'error' }, 'connector threw; retrying the batch');
      return items.map(() => ({ kind: 'retry', reason: 'connector_error' }));
    } finally {
      clearTimeout(timer);
    }
  }

  private context(d: Destination, m: DestinationManifest): DestinationContext<Record<string, unknown>> {
    const secrets = m.secrets.map((k) => d.config[k]).filter((v): v is string => typeof v === 'string' && v.length > 0);
    // A safety net under the connectors' own care: no secret value reaches a log line.
    const scrub = (text: string) => secrets.reduce((t, s) => t.split(s).join('[secret]'), text);
    const log = (level: 'info' | 'warn' | 'error') => (fields: Record<string, unknown>, message: string) => {
      this.deps.logger[level]({ destinationId: d.id, connector: m.id, detail: JSON.parse(scrub(JSON.stringify(fields))) as unknown }, scrub(message));
    };
    const timeout = this.deps.policy.sendTimeoutMs;
    return {
      workspaceId: d.workspaceId,
      destinationId: d.id,
      config: d.config,
      fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.any([init?.signal ?? AbortSignal.timeout(timeout), this.shutdown.signal]) }),
      smtp: (o, msg) => this.deps.smtp(o, msg),
      log: { info: log('info'), warn: log('warn'), error: log('error') },
      now: this.deps.now,
      store: { get: (k) => this.deps.store.getState(d.id, k), set: (k, v) => this.deps.store.setState(d.id, k, v) },
    };
  }
}

/** Adds what the store says is due to what memory holds, oldest (by queue order) first. */
function merge(loop: Loop, rows: readonly DeliveryRow[]): void {
  if (rows.length === 0) return;
  const all = new Map(loop.ready);
  for (const r of rows) if (!all.has(r.key)) all.set(r.key, r);
  loop.ready = new Map([...all.values()].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0)).map((r) => [r.key, r]));
}

/** The next batch from memory, oldest first. */
function take(loop: Loop, n: number): DeliveryRow[] {
  const out: DeliveryRow[] = [];
  for (const [k, r] of loop.ready) {
    if (out.length >= n) break;
    out.push(r);
    loop.ready.delete(k);
  }
  return out;
}

/** The earlier of two due times (null: none). */
function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

/** A message's priority (journeys set 1–10; 5 by default); other deliveries are not ranked. */
function priorityOf(row: DeliveryRow): number {
  return row.kind === 'message' ? (row.payload as { priority?: number } | null)?.priority ?? 5 : 0;
}
