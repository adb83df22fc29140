/**
 * The processor: consumes the durable log in micro-batches from its stored cursor, enriches
 * events, attaches them to profiles, updates traits, and commits events + profiles + identities
 * + merges + the new cursor in ONE transaction. A crash at any point replays from the last
 * committed cursor, so no acknowledged event is lost and none is applied twice. In-memory
 * profile state changes only after the commit succeeded.
 */
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { ProcessorConfig } from '../platform/config.js';
import type { Clock } from '../platform/clock.js';
import type { CollectedEvent, ProcessedEvent } from '../protocol/event.js';
import type { MergeRecord, ProfileState } from '../protocol/profile.js';
import type { IdentityResolver } from '../identity/resolver.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import { ProfileTx } from '../profiles/profile-tx.js';
import { applyTraits, type StrategyOf } from '../profiles/traits.js';
import { enrich } from '../collect/steps/enrich.js';
import type { EventLog, LogRecord, NewProfileKey, ProcessingStore, StoredProfile } from '../storage/ports.js';
import { performance } from 'node:perf_hooks';
import type { BurstPolicy } from './burst-policy.js';
import type { ConsentStep } from '../privacy/consent-step.js';

/** An event of a committed batch and the profile it went to (for computed traits, segments...). */
export interface CommittedEvent {
  seq: bigint;
  profileId: string;
  event: CollectedEvent;
  at: number;
}

/** The identity and privacy rules the processor applies (identity/identity-service.ts). */
export interface ProcessingPolicy {
  resolver: IdentityResolver;
  strategyOf(workspaceId: string): StrategyOf;
  /** The profile as stored: personal traits sealed. */
  encode(p: ProfileState): StoredProfile;
  /** The event as stored: personal identifiers replaced by pseudonyms (undefined: none to replace). */
  pseudonymise(e: CollectedEvent): CollectedEvent | undefined;
  /** Profile data keys created while preparing the batch (persisted with it). */
  newKeys(): NewProfileKey[];
  /** After the batch's transaction committed: new keys become usable, observers see the batch. */
  committed(merges: readonly MergeRecord[], events: readonly CommittedEvent[]): void;
  /** After the batch's transaction failed: forget what it prepared. */
  aborted(): void;
}

/** Records resolved between two yields to the event loop (~30 µs each: ~1.5 ms per slice). */
const SLICE = 50;

/** A batch that failed this many times in a row is processed record by record. */
const ISOLATE_AFTER_FAILURES = 3;

export interface ProcessorDeps {
  log: EventLog;
  store: ProcessingStore;
  memory: ProfileMemory;
  policy: ProcessingPolicy;
  config: ProcessorConfig;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  /** The last seq committed to the log (for the lag gauge). */
  committedSeq: () => bigint;
  /** Steps processing back while collection saturates the event loop; none: always full speed. */
  burst?: BurstPolicy;
  /** Consent records and strict-source admission; none: consent is only kept with the events. */
  consent?: ConsentStep;
}

export class Processor {
  private cursorSeq = 0n;
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private lastPrune = 0;
  private idleWaiters: Array<() => void> = [];
  private lock: Promise<void> = Promise.resolve();
  /** Waiting out a burst: new commits must not cut the pause short. */
  private pausing = false;

  constructor(private readonly deps: ProcessorDeps) {}

  get cursor(): bigint {
    return this.cursorSeq;
  }

  /** Events committed to the log and not yet processed. */
  get lag(): number {
    const lag = this.deps.committedSeq() - this.cursorSeq;
    return lag > 0n ? Number(lag) : 0;
  }

  async start(): Promise<void> {
    this.cursorSeq = await this.deps.store.cursor();
    this.running = true;
    this.loop = this.run();
  }

  /** Called when new events are committed to the log: a full batch is worth starting at once. */
  wake(): void {
    if (!this.running || (!this.pausing && this.lag >= this.deps.config.batchSize)) this.wakeUp?.();
  }

  /** Stops after the batch in progress (which commits or rolls back as a whole). */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves once the processor has caught up with everything committed so far (or stopped). */
  async idle(): Promise<void> {
    if (this.lag === 0 || !this.running) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Processes one micro-batch; returns how many log records it consumed. */
  async runOnce(): Promise<number> {
    const records = await this.deps.log.readAfter(this.cursorSeq, this.deps.config.batchSize);
    if (records.length === 0) return 0;
    await this.process(records);
    return records.length;
  }

  /**
   * After repeated failures of one batch: processes its records one by one, and sets aside (dead
   * letter, with the error) a record that fails alone, so one poison event cannot stall every
   * event behind it. Nothing is dropped: the dead letter keeps the record for inspection and replay.
   */
  async isolate(): Promise<number> {
    const { log, store, metrics, logger } = this.deps;
    const records = await log.readAfter(this.cursorSeq, this.deps.config.batchSize);
    for (const r of records) {
      try {
        await this.process([r]);
      } catch (err) {
        const reason = errorSummary(err).message;
        await store.deadLetter(r, reason);
        this.cursorSeq = r.seq;
        metrics.deadLettered.inc();
        logger.error({ seq: r.seq.toString(), workspaceId: r.workspaceId, reason }, 'event set aside in the dead letter table');
      }
    }
    return records.length;
  }

  private async process(records: readonly LogRecord[]): Promise<void> {
    await this.exclusive(async () => {
      const { store, memory, policy, metrics } = this.deps;
      const stop = metrics.processorBatchSeconds.startTimer();
      const tx = new ProfileTx(memory);
      const events: ProcessedEvent[] = [];
      const committed: CommittedEvent[] = [];
      const burst = this.deps.burst;
      const consent = this.deps.consent?.begin();
      let sliceStart = performance.now();
      for (const [i, r] of records.entries()) {
        // The processor shares the event loop with the collector: between slices, pending HTTP
        // requests run first, so a large batch never holds ingest for more than a few ms.
        if (i > 0 && i % SLICE === 0) {
          burst?.spent(performance.now() - sliceStart);
          await new Promise((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
        const e = JSON.parse(r.payload) as CollectedEvent;
        const at = Date.parse(e.timestamp);
        if (consent && !consent.admit(e, r.seq, at)) continue;
        const { profileId } = policy.resolver.resolve(e, at, tx, r.seq);
        consent?.observe(e, r.seq, at, profileId);
        const profile = tx.profile(profileId);
        if (profile) touch(profile, e, at, policy.strategyOf(e.workspaceId));
        const stored = policy.pseudonymise(e);
        events.push({ seq: r.seq, profileId, enrichment: enrich(e), payload: stored ? JSON.stringify(stored) : r.payload });
        committed.push({ seq: r.seq, profileId, event: e, at });
      }
      const cursor = (records[records.length - 1] as { seq: bigint }).seq;
      const changes = tx.changes();
      try {
        const profiles = changes.profiles.map((p) => policy.encode(p));
        // The rows are built before the store's first await: that time is the processor's too.
        const commit = store.commitBatch({
          cursor, events, ...changes, profiles, keys: policy.newKeys(), consents: consent?.records, anonymous: consent?.anonymous, liftedSuppressions: consent?.lifted,
        });
        burst?.spent(performance.now() - sliceStart);
        await commit;
      } catch (err) {
        policy.aborted();
        throw err;
      }
      const applyStart = performance.now();
      tx.apply();
      if (consent) this.deps.consent?.committed(consent);
      this.cursorSeq = cursor;
      policy.committed(changes.merges, committed);
      burst?.spent(performance.now() - applyStart);
      stop();
      metrics.processed.inc(records.length);
      if (consent && consent.suppressed > 0) metrics.suppressed.inc(consent.suppressed);
      metrics.logLag.set(this.lag);
    });
  }

  /**
   * Runs `fn` while no batch is being processed, and holds the processor until it is done: a
   * split rewrites profiles the processor would otherwise change under it.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((resolve) => { release = resolve; });
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const wait = this.deps.burst?.pause(this.lag) ?? 0;
      if (wait > 0) {
        this.deps.metrics.processorDeferred.inc(wait / 1000);
        this.pausing = true;
        await this.sleep(wait);
        this.pausing = false;
        continue;
      }
      const started = performance.now();
      let n = 0;
      try {
        n = failures >= ISOLATE_AFTER_FAILURES ? await this.isolate() : await this.runOnce();
        failures = 0;
        await this.maybePrune();
      } catch (err) {
        failures++;
        this.deps.logger.error({ err: errorSummary(err), failures }, 'processor batch failed; retrying from the last cursor');
        await this.sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
        continue;
      }
      if (n > 0) this.deps.burst?.batchDone(performance.now() - started);
      if (n === 0) for (const w of this.idleWaiters.splice(0)) w();
      // A partial batch means the processor has caught up: wait for more to gather instead of
      // committing a DuckDB transaction per few events (each has a fixed cost of several ms).
      if (n < this.deps.config.batchSize) await this.sleep(this.deps.config.idleMs);
    }
  }

  private async maybePrune(): Promise<void> {
    const now = this.deps.clock.now();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    const removed = await this.deps.log.prune(this.cursorSeq, now - this.deps.config.logRetentionSeconds * 1000);
    if (removed > 0) this.deps.logger.debug({ removed }, 'pruned processed log records');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}

function errorSummary(err: unknown): { message: string; name: string } {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'unknown', message: String(err) };
}

/** What every event does to its profile: counts, first/last seen, and identify traits. */
export function touch(profile: ProfileState, e: CollectedEvent, at: number, strategyOf: StrategyOf): void {
  profile.eventCount++;
  profile.firstSeen = Math.min(profile.firstSeen, at);
  profile.lastSeen = Math.max(profile.lastSeen, at);
  if (e.type === 'identify') applyTraits(profile, e.traits, at, e.sourceId, e.messageId, strategyOf);
}
