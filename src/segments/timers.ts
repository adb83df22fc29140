/**
 * Due times of (segment, profile) pairs whose membership may change without a new event (an
 * event leaving a window, a computed trait's day ending): a binary min-heap with one platform
 * timer armed for the earliest. Journeys keep their waits in one too, keyed (journey, profile)
 * and driven by their own tick (`arm` false). A pair has one current due time; rescheduling supersedes the
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

export class DueTimers {
  private readonly heap: Due[] = [];
  /** segment id → profile id → the current due time (nested: no key string built per pair). */
  private readonly current = new Map<string, Map<string, number>>();
  private count = 0;
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
    return this.count;
  }

  /** Sets the pair's due time (null: nothing due), replacing the previous one. */
  schedule(segmentId: string, profileId: string, at: number | null): void {
    let bySegment = this.current.get(segmentId);
    if (at === null) {
      if (bySegment?.delete(profileId)) this.count--;
      return;
    }
    if (!bySegment) { bySegment = new Map(); this.current.set(segmentId, bySegment); }
    const before = bySegment.get(profileId);
    if (before === at) return;
    if (before === undefined) this.count++;
    bySegment.set(profileId, at);
    this.push({ segmentId, profileId, at });
    if (at < this.armedAt) this.rearm();
  }

  /** Forgets every pair of a segment (deleted). */
  cancelSegment(segmentId: string): void {
    this.count -= this.current.get(segmentId)?.size ?? 0;
    this.current.delete(segmentId);
  }

  /** Forgets every pair of these profiles (gone). */
  cancelProfiles(profileIds: ReadonlySet<string>): void {
    for (const bySegment of this.current.values()) {
      for (const id of profileIds) if (bySegment.delete(id)) this.count--;
    }
  }

  /** Pops and fires everything due at or before `until`. */
  runDue(until = this.now()): void {
    const due: Due[] = [];
    while (this.heap.length > 0 && (this.heap[0] as Due).at <= until) {
      const d = this.pop();
      const bySegment = this.current.get(d.segmentId);
      if (bySegment?.get(d.profileId) !== d.at) continue; // superseded or cancelled
      bySegment.delete(d.profileId);
      this.count--;
      due.push(d);
    }
    if (due.length > 0) this.fire(due);
    this.rearm();
  }

  /** The earliest pending due time (tests and metrics). */
  next(): number | null {
    while (this.heap.length > 0) {
      const d = this.heap[0] as Due;
      if (this.current.get(d.segmentId)?.get(d.profileId) === d.at) return d.at;
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
    // Superseded entries stay in the heap until their time comes (maybe weeks): when they
    // outnumber the live ones, rebuild the heap from the current due times.
    if (this.heap.length > 2 * this.count + 1024) this.compact();
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

  private compact(): void {
    this.heap.length = 0;
    for (const [segmentId, bySegment] of this.current) {
      for (const [profileId, at] of bySegment) this.heap.push({ segmentId, profileId, at });
    }
    this.heap.sort((a, b) => a.at - b.at); // a sorted array is a valid min-heap
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
