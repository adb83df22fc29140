/**
 * Fits both candidate algorithms, validates them on data they were not fitted on, and keeps the
 * one with the higher validation ROC AUC:
 *
 * - `time_split` (propensity, churn): fitted on an earlier window, validated on the next one; the
 *   model fitted on the earlier window is the one used (what was validated is what scores);
 * - `kfold` (label, lookalike): stratified k-fold; the AUC is that of the pooled out-of-fold
 *   scores; the chosen algorithm is then refitted on every row.
 *
 * Plus what explanations and the model card need: per-row feature contributions (explain.ts) and
 * global importance (the mean absolute contribution over up to 2,000 training rows).
 *
 * @example
 *   const r = trainAndChoose({ kind: 'kfold', X, y, n, k: 5 }, d);
 *   r.algorithm;                  // 'logistic_regression'
 *   r.candidates;                 // [{ algorithm: 'logistic_regression', auc: 0.93 }, { algorithm: 'random_forest', auc: 0.91, trainedOnSample: 20000 }]
 */
import type { Algorithm } from './model-types.js';
import { auc, stratifiedFolds } from './evaluate.js';
import { selectRows } from './features.js';
import { fitForest, forestContributions, predictForest, type ForestModel } from './forest.js';
import { fitLogistic, logisticContributions, predictLogistic, type LogisticModel } from './logistic.js';

export type Fitted = LogisticModel | ForestModel;

export type Split =
  | { kind: 'time_split'; train: { X: Float64Array; y: Uint8Array; n: number }; valid: { X: Float64Array; y: Uint8Array; n: number } }
  | { kind: 'kfold'; X: Float64Array; y: Uint8Array; n: number; k: number };

export interface TrainOptions {
  seed?: number;
  /** The forest's largest training sample (forest.ts). */
  forestRows?: number;
  forestTrees?: number;
}

export interface TrainResult {
  model: Fitted;
  algorithm: Algorithm;
  candidates: Array<{ algorithm: Algorithm; auc: number; trainedOnSample?: number }>;
  /** Validation scores and labels of the chosen algorithm (out-of-fold for k-fold). */
  validScores: Float64Array;
  validLabels: Uint8Array;
  /** Mean |contribution| per feature on training rows. */
  importance: Float64Array;
}

export function fit(algorithm: Algorithm, X: Float64Array, n: number, d: number, y: Uint8Array, opts: TrainOptions): Fitted {
  return algorithm === 'logistic_regression'
    ? fitLogistic(X, n, d, y, { seed: opts.seed ?? 1 })
    : fitForest(X, n, d, y, { seed: opts.seed ?? 1, ...(opts.forestRows ? { maxRows: opts.forestRows } : {}), ...(opts.forestTrees ? { trees: opts.forestTrees } : {}) });
}

export function predict(m: Fitted, X: Float64Array, n: number, d: number): Float64Array {
  return m.kind === 'logistic_regression' ? predictLogistic(m, X, n) : predictForest(m, X, n, d);
}

export function contributions(m: Fitted, X: Float64Array, row: number, d: number, out?: Float64Array): Float64Array {
  return m.kind === 'logistic_regression' ? logisticContributions(m, X, row, out) : forestContributions(m, X, row, d, out);
}

export function importance(m: Fitted, X: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(d);
  const rows = Math.min(n, 2000);
  const step = n / rows;
  for (let r = 0; r < rows; r++) {
    const c = contributions(m, X, Math.floor(r * step), d);
    for (let j = 0; j < d; j++) out[j] = (out[j] as number) + Math.abs(c[j] as number) / rows;
  }
  return out;
}

const ALGOS: Algorithm[] = ['logistic_regression', 'random_forest'];

export function trainAndChoose(split: Split, d: number, opts: TrainOptions = {}): TrainResult {
  if (split.kind === 'time_split') {
    const { train, valid } = split;
    const fitted = ALGOS.map((algorithm) => {
      const model = fit(algorithm, train.X, train.n, d, train.y, opts);
      const scores = predict(model, valid.X, valid.n, d);
      const sampled = model.kind === 'random_forest' && model.trainedOn < train.n ? { trainedOnSample: model.trainedOn } : {};
      return { algorithm, model, scores, auc: auc(scores, valid.y), ...sampled };
    });
    const best = pick(fitted);
    return {
      model: best.model, algorithm: best.algorithm, candidates: fitted.map(candidate), validScores: best.scores, validLabels: valid.y,
      importance: importance(best.model, train.X, train.n, d),
    };
  }
  const { X, y, n, k } = split;
  const folds = stratifiedFolds(y, k, opts.seed ?? 1);
  const fitted = ALGOS.map((algorithm) => {
    const oof = new Float64Array(n);
    let trainedOnSample: number | undefined;
    for (let f = 0; f < k; f++) {
      const trainRows: number[] = [], testRows: number[] = [];
      for (let i = 0; i < n; i++) (folds[i] === f ? testRows : trainRows).push(i);
      const trY = Uint8Array.from(trainRows, (i) => y[i] as number);
      const model = fit(algorithm, selectRows(X, d, trainRows), trainRows.length, d, trY, opts);
      if (model.kind === 'random_forest' && model.trainedOn < trainRows.length) trainedOnSample = model.trainedOn;
      const s = predict(model, selectRows(X, d, testRows), testRows.length, d);
      testRows.forEach((row, i) => { oof[row] = s[i] as number; });
    }
    return { algorithm, scores: oof, auc: auc(oof, y), ...(trainedOnSample === undefined ? {} : { trainedOnSample }) };
  });
  const best = pick(fitted);
  const model = fit(best.algorithm, X, n, d, y, opts);
  return {
    model, algorithm: best.algorithm, candidates: fitted.map(candidate), validScores: best.scores, validLabels: y,
    importance: importance(model, X, n, d),
  };
}

function pick<T extends { auc: number; algorithm: Algorithm }>(fitted: T[]): T {
  // NaN (one class) never wins; on a tie the simpler model does (listed first).
  return fitted.reduce((a, b) => ((Number.isNaN(a.auc) ? -1 : a.auc) >= (Number.isNaN(b.auc) ? -1 : b.auc) ? a : b));
}

/** `trainedOnSample` only when the forest saw fewer rows than it was given. */
function candidate(c: { algorithm: Algorithm; auc: number; trainedOnSample?: number }): { algorithm: Algorithm; auc: number; trainedOnSample?: number } {
  return { algorithm: c.algorithm, auc: c.auc, ...(c.trainedOnSample === undefined ? {} : { trainedOnSample: c.trainedOnSample }) };
}

/** The `k` features contributing most (by magnitude) to a row's score. */
export function topContributions(m: Fitted, X: Float64Array, row: number, d: number, names: readonly string[], k = 5): Array<{ feature: string; contribution: number }> {
  const c = contributions(m, X, row, d, scratch(d));
  // k passes of a linear scan: no sort, no array per feature (a scoring run explains every profile).
  const out: Array<{ feature: string; contribution: number }> = [];
  const taken = new Set<number>();
  for (let r = 0; r < k; r++) {
    let best = -1, bestAbs = 0;
    for (let j = 0; j < d; j++) {
      const a = Math.abs(c[j] as number);
      if (a > bestAbs && !taken.has(j)) { best = j; bestAbs = a; }
    }
    if (best < 0) break;
    taken.add(best);
    out.push({ feature: names[best] as string, contribution: Math.round((c[best] as number) * 1e4) / 1e4 });
  }
  return out;
}

let buffer: Float64Array = new Float64Array(0);
function scratch(d: number): Float64Array {
  if (buffer.length !== d) buffer = new Float64Array(d);
  return buffer;
}
