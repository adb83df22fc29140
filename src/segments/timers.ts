/**
 * Due times of (segment, profile) pairs whose membership may change without a new event (an
 * event leaving a window, a computed trait's day ending): a binary min-heap with one platform
 * timer armed for the earliest. A pair has one current due time; rescheduling supersedes the
 * older entry, which is skipped when it surfaces (cheaper than deleting from the heap).
 *
 * @example
 *   const timers = new DueTimers((due) => engine.lapse(due), () => Date.now());
 *   timers.schedule('seg1', 'prof1', Date.now() + 30 * 86_400_000);
 */
export interface Due {
  segmentId: string;
  profileId: string;
  at: number;
}

/** setTimeout's limit: a later due time re-arms when this one fires. */
const MAX_DELAY = 2 ** 31 - 1;

function key(segmentId: string, profileId: string): string {
  return `${segmentId}\u0000${profileId}`;
}

export class DueTimers {
  private readonly heap: Due[] = [];
  private readonly current = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private armedAt = Infinity;
  private stopped = false;

  /**
   * @param fire called with the pairs that fell due (each at most once per schedule)
   * @param now the clock
   * @param arm false in tests that drive time by hand with `runDue`
   */
  constructor(private readonly fire: (due: Due[]) => void, private readonly now: () => number, private readonly arm = true) {}

  get size(): number {
    return this.current.size;
  }

  /** Sets the pair's due time (null: nothing due), replacing the previous one. */
  schedule(segmentId: string, profileId: string, at: number | null): void {
    const k = key(segmentId, profileId);
    if (at === null) { this.current.delete(k); return; }
    if (this.current.get(k) === at) return;
    this.current.set(k, at);
    this.push({ segmentId, profileId, at });
    if (at < this.armedAt) this.rearm();
  }

  /** Forgets every pair of a segment (deleted) or of a profile (gone). */
  cancel(match: (d: { segmentId: string; profileId: string }) => boolean): void {
    for (const k of [...this.current.keys()]) {
      const [segmentId, profileId] = k.split('\u0000') as [string, string];
      if (match({ segmentId, profileId })) this.current.delete(k);
    }
  }

  /** Pops and fires everything due at or before `until`. */
  runDue(until = this.now()): void {
    const due: Due[] = [];
    while (this.heap.length > 0 && (this.heap[0] as Due).at <= until) {
      const d = this.pop();
      const k = key(d.segmentId, d.profileId);
      if (this.current.get(k) !== d.at) continue; // superseded or cancelled
      this.current.delete(k);
      due.push(d);
    }
    if (due.length > 0) this.fire(due);
    this.rearm();
  }

  /** The earliest pending due time (tests and metrics). */
  next(): number | null {
    while (this.heap.length > 0) {
      const d = this.heap[0] as Due;
      if (this.current.get(key(d.segmentId, d.profileId)) === d.at) return d.at;
      this.pop();
    }
    return null;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private rearm(): void {
    if (!this.arm || this.stopped) return;
    const next = this.next();
    if (next === this.armedAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = next ?? Infinity;
    if (next === null) return;
    const delay = Math.min(Math.max(0, next - this.now()), MAX_DELAY);
    this.timer = setTimeout(() => { this.timer = null; this.armedAt = Infinity; this.runDue(); }, delay);
    this.timer.unref();
  }

  private push(d: Due): void {
    const h = this.heap;
    h.push(d);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as Due).at <= d.at) break;
      h[i] = h[parent] as Due;
      i = parent;
    }
    h[i] = d;
  }

  private pop(): Due {
    const h = this.heap;
    const top = h[0] as Due;
    const last = h.pop() as Due;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && (h[r] as Due).at < (h[l] as Due).at ? r : l;
        if ((h[c] as Due).at >= last.at) break;
        h[i] = h[c] as Due;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
