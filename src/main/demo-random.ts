/** Seeded randomness for the demo data: the same seed always gives the same events. */
import { Rng } from '../platform/random.js';

/** A weighted pool with cumulative weights computed once: products are picked ~40k times a run. */
export class Table<T> {
  private readonly items: T[] = [];
  private readonly cumulative: number[] = [];
  private total = 0;

  constructor(pairs: readonly (readonly [T, number])[]) {
    for (const [item, w] of pairs) {
      this.total += w;
      this.items.push(item);
      this.cumulative.push(this.total);
    }
  }

  pick(rng: Rng): T {
    const r = rng.next() * this.total;
    let i = 0;
    while (i < this.cumulative.length - 1 && (this.cumulative[i] ?? 0) <= r) i++;
    const item = this.items[i];
    if (item === undefined) throw new Error('pick from an empty table');
    return item;
  }
}
