/**
 * Writes membership changes to the store in groups: each group is one transaction (the outbox
 * rows of Segment Entered / Exited, the members table, today's sizes). Memberships are derived
 * state — what is in memory is already true — so a group that fails stays queued and is tried
 * again; a crash before it is written is caught up at the next start, which announces the
 * difference between the stored members and the recomputed ones.
 */
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { DuckDbSegmentStore } from '../storage/duckdb/segment-store.js';
import type { MembershipChange, SegmentEngine } from './engine.js';

export class MembershipWriter {
  private queue: MembershipChange[] = [];
  private nextId = 1n;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly written: Array<() => void> = [];

  constructor(
    private readonly store: DuckDbSegmentStore,
    private readonly engine: SegmentEngine,
    private readonly deps: { flushMs: number; logger: Logger; metrics: Metrics; now: () => number },
  ) {}

  async start(): Promise<void> {
    this.nextId = (await this.store.lastChangeId()) + 1n;
    this.engine.onChanges((changes) => this.push(changes));
  }

  /** Called after each group is committed (activation reads the outbox then). */
  onWritten(listener: () => void): void {
    this.written.push(listener);
  }

  /** Changes written so far are visible to readers of the store once this resolves. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.timer) {
      if (this.timer) { clearTimeout(this.timer); this.timer = null; }
      await this.flush();
      if (this.queue.length > 0) await new Promise((r) => setTimeout(r, this.deps.flushMs));
    }
    await this.flushing;
  }

  private push(changes: readonly MembershipChange[]): void {
    // One by one: a segment filled with hundreds of thousands of members at once would overflow
    // the stack as spread arguments.
    let entered = 0;
    for (const c of changes) {
      if (c.entered) entered++;
      this.queue.push(c);
    }
    if (entered > 0) this.deps.metrics.segmentChanges.inc({ change: 'entered' }, entered);
    if (changes.length > entered) this.deps.metrics.segmentChanges.inc({ change: 'exited' }, changes.length - entered);
    if (!this.timer) this.timer = setTimeout(() => { this.timer = null; void this.flush(); }, this.deps.flushMs);
  }

  private flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      const stored = batch.map((c) => ({ ...c, id: this.nextId++ }));
      const sizes = new Map<string, { workspaceId: string; size: number }>();
      for (const c of batch) sizes.set(c.segmentId, { workspaceId: c.workspaceId, size: this.engine.members(c.workspaceId, c.segmentId)?.size ?? 0 });
      try {
        await this.store.writeChanges(stored, sizes, new Date(this.deps.now()).toISOString().slice(0, 10));
        for (const l of this.written) l();
      } catch (err) {
        // Ids are reused on retry: nothing was written.
        this.nextId -= BigInt(stored.length);
        this.queue = [...batch, ...this.queue];
        this.deps.logger.error({ err: err instanceof Error ? err.message : String(err), changes: batch.length }, 'segment membership changes not written; retrying');
        if (!this.timer) this.timer = setTimeout(() => { this.timer = null; void this.flush(); }, Math.max(this.deps.flushMs, 1000));
      }
    });
    return this.flushing;
  }
}
