/** A growable array of latency samples (ms) and its percentiles, shared by the latency benches. */
import type { LatencySummary } from './fixed-rate-protocol.js';

export class Samples {
  private data = new Float64Array(1 << 16);
  private n = 0;

  add(v: number): void {
    if (this.n === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = v;
  }

  get count(): number {
    return this.n;
  }

  /** The sorted samples (a copy). */
  sorted(): Float64Array {
    return this.data.slice(0, this.n).sort();
  }

  summary(): LatencySummary {
    if (this.n === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    const sorted = this.sorted();
    const at = (p: number): number => percentileOf(sorted, p);
    let sum = 0;
    for (const v of sorted) sum += v;
    const r = (v: number): number => Math.round(v * 1000) / 1000;
    return { p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), p999: r(at(0.999)), max: r(at(1)), mean: r(sum / sorted.length) };
  }
}

/** The nearest-rank percentile `p` (0…1) of sorted values; 0 when there are none. */
export function percentileOf(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
}
