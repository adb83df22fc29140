/**
 * L2-regularised logistic regression on standardised features, fitted by mini-batch Adam over
 * a row-major Float64Array. Hand-written (docs/dependencies.md says why): the npm library
 * (ml-logistic-regression) fits full-batch gradient descent over ml-matrix arrays of arrays,
 * without a penalty, and needs 1M × 50 copied into JavaScript arrays first; this loop reads the
 * typed array in place (≈ 3 passes for a million rows).
 *
 * Standardised values are clipped to ±5: a feature almost constant in training (days since
 * first seen, in a cohort that arrived together) would otherwise get an enormous standardised
 * value wherever it differs later, and one such feature would decide every score.
 *
 * Explanations are exact for this model: the log-odds is the bias plus, per feature,
 * coefficient × standardised value, so each term is that feature's contribution.
 *
 * @example
 *   const m = fitLogistic(X, n, d, y, { l2: 1e-3, seed: 1 });
 *   predictLogistic(m, X, n);            // Float64Array of probabilities
 *   logisticContributions(m, X, 0);      // [w_0·z_0, w_1·z_1, ...] of row 0
 */
import { rng } from './evaluate.js';

export interface LogisticModel {
  kind: 'logistic_regression';
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
}

export interface LogisticOptions {
  /** Penalty on the squared weights (standardised scale). */
  l2?: number;
  seed?: number;
  /** Upper bound on epochs (small data sets take more, large ones at least 3). */
  maxEpochs?: number;
}

const BATCH = 256;
const CLIP = 5;

/** The standardised value, clipped (see above). */
function z(x: number, mean: number, std: number): number {
  const v = (x - mean) / std;
  return v > CLIP ? CLIP : v < -CLIP ? -CLIP : v;
}

export function fitLogistic(X: Float64Array, n: number, d: number, y: ArrayLike<number>, opts: LogisticOptions = {}): LogisticModel {
  const l2 = opts.l2 ?? 1e-3;
  const mean = new Float64Array(d), std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (X[i * d + j] as number);
  for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) { const v = (X[i * d + j] as number) - (mean[j] as number); std[j] = (std[j] as number) + v * v; }
  for (let j = 0; j < d; j++) { const s = Math.sqrt((std[j] as number) / n); std[j] = s > 1e-12 ? s : 1; }

  const w = new Float64Array(d);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i] as number;
  const rate = Math.min(Math.max(positives / n, 1e-6), 1 - 1e-6);
  let b = Math.log(rate / (1 - rate));
  // Adam state (weights, then the bias at index d).
  const m1 = new Float64Array(d + 1), m2 = new Float64Array(d + 1), g = new Float64Array(d + 1);
  const beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  const steps = Math.ceil(n / BATCH);
  const epochs = Math.max(3, Math.min(opts.maxEpochs ?? 400, Math.ceil(3000 / steps)));
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = rng(opts.seed ?? 1);
  const zs = new Float64Array(d);
  let t = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); const x = order[i] as number; order[i] = order[j] as number; order[j] = x; }
    const lr = 0.05 / Math.sqrt(1 + epoch);
    for (let s = 0; s < steps; s++) {
      g.fill(0);
      const start = s * BATCH, end = Math.min(n, start + BATCH), size = end - start;
      for (let r = start; r < end; r++) {
        const i = order[r] as number;
        let logit = b;
        for (let j = 0; j < d; j++) { const v = z(X[i * d + j] as number, mean[j] as number, std[j] as number); zs[j] = v; logit += (w[j] as number) * v; }
        const err = 1 / (1 + Math.exp(-logit)) - (y[i] as number);
        for (let j = 0; j < d; j++) g[j] = (g[j] as number) + err * (zs[j] as number);
        g[d] = (g[d] as number) + err;
      }
      t++;
      const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
      for (let j = 0; j <= d; j++) {
        const grad = (g[j] as number) / size + (j < d ? l2 * (w[j] as number) : 0);
        m1[j] = beta1 * (m1[j] as number) + (1 - beta1) * grad;
        m2[j] = beta2 * (m2[j] as number) + (1 - beta2) * grad * grad;
        const step = (lr * ((m1[j] as number) / c1)) / (Math.sqrt((m2[j] as number) / c2) + eps);
        if (j < d) w[j] = (w[j] as number) - step;
        else b -= step;
      }
    }
  }
  return { kind: 'logistic_regression', mean: [...mean], std: [...std], weights: [...w], bias: b };
}

export function predictLogistic(m: LogisticModel, X: Float64Array, n: number): Float64Array {
  const d = m.weights.length;
  const out = new Float64Array(n);
  // Clipping in raw units: lo[j] <= x <= hi[j] keeps |z| <= 5; w·z = a·x + b per feature.
  const a = new Float64Array(d), lo = new Float64Array(d), hi = new Float64Array(d);
  let c = m.bias;
  for (let j = 0; j < d; j++) {
    const std = m.std[j] as number, mean = m.mean[j] as number;
    a[j] = (m.weights[j] as number) / std;
    c -= (a[j] as number) * mean;
    lo[j] = mean - CLIP * std;
    hi[j] = mean + CLIP * std;
  }
  for (let i = 0; i < n; i++) {
    let logit = c;
    const base = i * d;
    for (let j = 0; j < d; j++) {
      const x = X[base + j] as number;
      logit += (a[j] as number) * (x > (hi[j] as number) ? (hi[j] as number) : x < (lo[j] as number) ? (lo[j] as number) : x);
    }
    out[i] = 1 / (1 + Math.exp(-logit));
  }
  return out;
}

/** Each feature's term of the row's log-odds: coefficient × standardised value. */
export function logisticContributions(m: LogisticModel, X: Float64Array, row: number, out: Float64Array = new Float64Array(m.weights.length)): Float64Array {
  const d = m.weights.length;
  for (let j = 0; j < d; j++) out[j] = (m.weights[j] as number) * z(X[row * d + j] as number, m.mean[j] as number, m.std[j] as number);
  return out;
}

/** Global importance: |coefficient| on the standardised scale. */
export function logisticImportance(m: LogisticModel): number[] {
  return m.weights.map((w) => Math.abs(w));
}
