/**
 * Collection first during bursts. Collection and processing share one event loop; processing an
 * event costs several times what accepting it does (~75 µs against ~10 µs on the 2-core
 * machine), so when requests arrive faster than the loop can serve both, sharing it evenly
 * halves what the collector can accept while the processor falls behind anyway. The durable log
 * exists to absorb exactly that: while collection alone keeps the event loop busy, processing
 * steps back to a small share of the time, and it takes the whole loop again as soon as the
 * burst is over or the backlog reaches its budget.
 *
 * "Collection's share" is the event loop's utilisation minus the time processing reports
 * (processor slices, segment evaluation), measured over windows of 100 ms, with hysteresis so
 * that a noisy window does not flip the mode. At normal loads the share stays low and nothing
 * changes: events reach profiles and segments within milliseconds.
 *
 * @example
 *   const burst = new BurstPolicy({ lagBudget: 1_000_000, share: 0.1 });
 *   const wait = burst.pause(processor.lag); // 0 unless a burst is being absorbed
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

const WINDOW_MS = 100;
/** Collection's share of the loop from which processing steps back, and below which it returns. */
const ENTER_SHARE = 0.5;
const EXIT_SHARE = 0.3;

export interface BurstOptions {
  /** Backlog (events) beyond which processing takes its full share again; 0 turns deferral off. */
  lagBudget: number;
  /** Fraction of the time processing keeps while it defers (it never stops). */
  share: number;
}

/** What the policy reads of the event loop (tests hand in their own). */
export interface LoopMeter {
  now(): number;
  /** Busy fraction of the loop since the previous call. */
  utilisation(): number;
}

/** The real event loop, through perf_hooks. */
export function eventLoopMeter(): LoopMeter {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return {
    now: () => performance.now(),
    utilisation() {
      const current = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(current, last).utilization;
      last = current;
      return busy;
    },
  };
}

export class BurstPolicy {
  private windowStart: number;
  private processingMs = 0;
  private owedMs = 0;
  private deferring = false;

  constructor(private readonly options: BurstOptions, private readonly loop: LoopMeter = eventLoopMeter()) {
    this.windowStart = loop.now();
  }

  /** Processing reports the main-thread time it just used (a slice of a batch, a segment pass). */
  spent(ms: number): void {
    this.processingMs += ms;
  }

  /** After a batch that took `ms`: while deferring, it is paid back by pauses before the next one. */
  batchDone(ms: number): void {
    if (this.deferring) this.owedMs += ms * (1 / this.options.share - 1);
  }

  /**
   * How long processing should wait before its next batch, given the backlog: 0 to go on. Long
   * debts are paid in window-sized pauses, so the mode is re-evaluated between them.
   */
  pause(lag: number): number {
    this.evaluate();
    if (!this.deferring || lag >= this.options.lagBudget) {
      this.owedMs = 0;
      return 0;
    }
    const wait = Math.min(this.owedMs, WINDOW_MS);
    this.owedMs -= wait;
    return wait;
  }

  private evaluate(): void {
    const now = this.loop.now();
    const span = now - this.windowStart;
    if (span < WINDOW_MS) return;
    const collecting = this.loop.utilisation() - this.processingMs / span;
    this.windowStart = now;
    this.processingMs = 0;
    if (this.options.lagBudget <= 0) return;
    this.deferring = this.deferring ? collecting >= EXIT_SHARE : collecting >= ENTER_SHARE;
  }
}
