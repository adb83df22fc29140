/**
 * Hands processed batches and splits to the segment engine in order, a slice at a time, between
 * turns of the event loop: the engine's work for a large batch with many segments (~40 µs per
 * event with 50 overlapping segments) would otherwise hold the collector's HTTP answers for
 * hundreds of ms. What is known only at commit time — which profiles the batch created — is
 * taken when the batch is queued, so later batches cannot blur it.
 *
 * @example
 *   const feed = new SegmentFeed(engine, facts, (err) => logger.error({ err }, 'segment engine failed'));
 *   feed.committed(merges, events);   // from the processor's observer: returns at once
 *   await feed.idle();                // before comparing with SQL
 */
import type { ChangeCause, SegmentEngine, SegmentEvent } from './engine.js';

/** Events handed to the engine per turn of the event loop. */
const SLICE = 500;

type Job = () => void;

export interface FeedFacts {
  live(profileId: string): string | undefined;
  eventCount(profileId: string): number;
}

export class SegmentFeed {
  private readonly jobs: Job[] = [];
  private running = false;
  private waiters: Array<() => void> = [];

  /** @param onError told of a job that threw (a bug): the jobs after it still run. */
  constructor(
    private readonly engine: SegmentEngine,
    private readonly facts: FeedFacts,
    private readonly onError: (err: unknown) => void,
    private readonly opts: { slice?: number; timed?: (ms: number) => void } = {},
  ) {}

  committed(
    merges: ReadonlyArray<{ workspaceId: string; fromProfile: string; intoProfile: string }>,
    events: ReadonlyArray<{ workspaceId: string; profileId: string; event: SegmentEvent }>,
  ): void {
    // Now, memory holds exactly this batch: a profile whose event count equals its events here is new.
    const counts = new Map<string, number>();
    for (const e of events) {
      const pid = this.facts.live(e.profileId) ?? e.profileId;
      counts.set(pid, (counts.get(pid) ?? 0) + 1);
    }
    const firstSeen = new Set<string>();
    for (const [pid, n] of counts) if (this.facts.eventCount(pid) === n) firstSeen.add(pid);
    if (events.length === 0) this.push(() => this.engine.committed(merges, [], firstSeen));
    const slice = this.opts.slice ?? SLICE;
    for (let i = 0; i < events.length; i += slice) {
      const part = events.slice(i, i + slice);
      const first = i === 0;
      this.push(() => this.engine.committed(first ? merges : [], part, firstSeen));
    }
  }

  rebuilt(workspaceId: string, replaced: readonly string[], events: ReadonlyArray<{ profileId: string; event: SegmentEvent }>, cause: ChangeCause = 'split'): void {
    this.push(() => this.engine.rebuilt(workspaceId, replaced, events, cause));
  }

  consentChanged(workspaceId: string, profileIds: readonly string[], restriction = false): void {
    this.push(() => this.engine.consentChanged(workspaceId, profileIds, restriction));
  }

  externalChanged(workspaceId: string, sourceId: string, keys: ReadonlySet<string>, normalise: (key: string) => string): void {
    this.push(() => this.engine.externalChanged(workspaceId, sourceId, keys, normalise));
  }

  scoresChanged(workspaceId: string, refs: ReadonlySet<string>): void {
    this.push(() => this.engine.scoresChanged(workspaceId, refs));
  }

  /** Resolves once everything queued so far has reached the engine. */
  idle(): Promise<void> {
    if (!this.running && this.jobs.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private push(job: Job): void {
    this.jobs.push(job);
    if (!this.running) {
      this.running = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    const job = this.jobs.shift();
    if (job) {
      const started = performance.now();
      try {
        job();
        this.opts.timed?.(performance.now() - started);
      } catch (err) {
        this.onError(err);
      } finally {
        // One job per turn: pending HTTP requests run in between.
        setImmediate(() => this.drain());
      }
      return;
    }
    this.running = false;
    for (const w of this.waiters.splice(0)) w();
  }
}
