/**
 * How good a model's scores are on labelled data it was not fitted on: ROC AUC (the probability
 * that a random positive scores above a random negative, ties counting half — the Mann–Whitney
 * statistic), its 95 % interval (Hanley & McNeil 1982), precision and recall at thresholds, and
 * calibration (mean predicted vs observed rate per tenth of the score range). Plus the folds and
 * the deterministic random numbers training needs.
 *
 * @example
 *   auc([0.9, 0.8, 0.3], [1, 0, 0]);            // 1
 *   auc([0.5, 0.5], [1, 0]);                    // 0.5 (a tie counts half)
 *   aucInterval(0.8, 50, 50);                   // [0.71..., 0.88...]
 */
import { Rng } from '../platform/random.js';

/** ROC AUC; NaN without both classes. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0, rankSum = 0;
  // Average ranks over ties (1-based).
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) if (labels[order[k] as number] === 1) { positives++; rankSum += rank; }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** The 95 % interval of an AUC from the class sizes (Hanley & McNeil 1982, clipped to [0, 1]). */
export function aucInterval(a: number, positives: number, negatives: number): [number, number] {
  const q1 = a / (2 - a);
  const q2 = (2 * a * a) / (1 + a);
  const variance = (a * (1 - a) + (positives - 1) * (q1 - a * a) + (negatives - 1) * (q2 - a * a)) / (positives * negatives);
  const se = Math.sqrt(Math.max(variance, 0));
  return [Math.max(0, a - 1.96 * se), Math.min(1, a + 1.96 * se)];
}

/** A model is kept only when it is clearly better than guessing. */
export const MIN_AUC = 0.55;

export function betterThanChance(a: number, interval: readonly [number, number]): { ok: boolean; reason: string } {
  if (!Number.isFinite(a)) return { ok: false, reason: 'The validation data hold a single class: the AUC is undefined.' };
  if (a < MIN_AUC) return { ok: false, reason: `Validation AUC ${a.toFixed(3)} is below ${MIN_AUC}: no better than chance.` };
  if (interval[0] <= 0.5) return { ok: false, reason: `The 95 % interval of the AUC (${interval[0].toFixed(3)}–${interval[1].toFixed(3)}) includes 0.5: not distinguishable from chance.` };
  return { ok: true, reason: `Validation AUC ${a.toFixed(3)} (95 % interval ${interval[0].toFixed(3)}–${interval[1].toFixed(3)}).` };
}

export const THRESHOLDS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Precision (null when nothing is flagged) and recall of "score >= threshold". */
export function precisionRecall(scores: ArrayLike<number>, labels: ArrayLike<number>, thresholds = THRESHOLDS): Array<{ threshold: number; precision: number | null; recall: number; flagged: number }> {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  return thresholds.map((t) => {
    let tp = 0, flagged = 0;
    for (let i = 0; i < scores.length; i++) {
      if ((scores[i] as number) >= t) { flagged++; if (labels[i] === 1) tp++; }
    }
    return { threshold: t, precision: flagged === 0 ? null : tp / flagged, recall: positives === 0 ? 0 : tp / positives, flagged };
  });
}

/** Per tenth of [0, 1] holding scores: the mean score, the observed positive rate and the count (bins 1..10). */
export function calibration(scores: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): Array<{ bin: number; predicted: number; observed: number; count: number }> {
  const sum = new Float64Array(bins), pos = new Float64Array(bins), count = new Float64Array(bins);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(s * bins)));
    sum[b] = (sum[b] as number) + s;
    count[b] = (count[b] as number) + 1;
    if (labels[i] === 1) pos[b] = (pos[b] as number) + 1;
  }
  const out: Array<{ bin: number; predicted: number; observed: number; count: number }> = [];
  for (let b = 0; b < bins; b++) {
    const c = count[b] as number;
    if (c > 0) out.push({ bin: b + 1, predicted: (sum[b] as number) / c, observed: (pos[b] as number) / c, count: c });
  }
  return out;
}

/** A seeded uniform [0, 1) source (platform/random.ts): training is reproducible for the same data. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** Fold index (0..k-1) of each row, each class dealt round-robin after a shuffle: every fold has the class balance. */
export function stratifiedFolds(labels: ArrayLike<number>, k: number, seed = 1): Uint8Array {
  const random = rng(seed);
  const folds = new Uint8Array(labels.length);
  for (const cls of [0, 1]) {
    const rows: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === cls) rows.push(i);
    shuffle(rows, random);
    rows.forEach((r, i) => { folds[r] = i % k; });
  }
  return folds;
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i] as T;
    items[i] = items[j] as T;
    items[j] = t;
  }
  return items;
}
