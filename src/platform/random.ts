/**
 * Seeded randomness: the same seed always gives the same numbers (demo data, model training,
 * generated benchmark and test data). mulberry32 is tiny, fast and good enough for all of them;
 * Math.random cannot be seeded.
 *
 * @example
 *   const r = new Rng(7);
 *   r.next();      // uniform in [0, 1), the same for seed 7 on every run
 *   r.int(1, 6);   // a die
 */

/** murmur3's 32-bit finaliser: a bijection, so distinct inputs give distinct outputs. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uint32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty pool');
    return item;
  }

  /** Picks from `[item, weight]` pairs; weights need not sum to 1. For hot pools use `Table`. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    const last = items[items.length - 1];
    if (last === undefined) throw new Error('weighted pick from an empty pool');
    return last[0];
  }

  /** Exponentially distributed with the given mean: gaps between clicks are memoryless. */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += this.uint32().toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }

  /** Letters and digits, like click ids (gclid, fbclid) look. */
  token(chars: number): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let s = '';
    for (let i = 0; i < chars; i++) s += alphabet[Math.floor(this.next() * 64)] ?? 'A';
    return s;
  }
}
