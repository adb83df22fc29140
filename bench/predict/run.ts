/**
 * bench/predict: training and scoring a predictive model on 1M profiles × 50 features, in
 * process, on a generated feature matrix with a known signal (5 informative features, 45 noise,
 * 20 % positives). Measures, in one run:
 *
 * - baseline: one bare pass over the same row-major Float64Array (a dot product per row), the
 *   least any scoring can cost;
 * - training: both candidates as the service runs them on a time split (fitted on 800k rows,
 *   validated on the other 200k; the random forest on a stratified sample of 20k rows), the
 *   better AUC chosen;
 * - scoring: every one of the 1M rows scored by the chosen model, deciles, then the top-5
 *   explanation of every row (as a scoring run stores them);
 * - peak RSS (the process's maxRSS).
 *
 * Not included: building the matrix from the store (DuckDB aggregation of events and encoding of
 * traits, features.ts) and writing the 1M score rows (model-store.ts).
 *
 *   npm run bench:predict                 # writes bench/results/predict-<time>.json and predict-latest.json
 *   BENCH_ROWS=200000 npm run bench:predict
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { auc, rng } from '../../src/predict/evaluate.js';
import { deciles } from '../../src/predict/score-book.js';
import { predict, topContributions, trainAndChoose } from '../../src/predict/trainer.js';

const N = Number(process.env.BENCH_ROWS ?? 1_000_000);
const D = 50;
const TRAIN = Math.floor(N * 0.8);
const random = rng(2026);
const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const secs = (t0: number) => Math.round((performance.now() - t0)) / 1000;

const t0 = performance.now();
const X = new Float64Array(N * D);
const y = new Uint8Array(N);
const planted = [1.2, -0.9, 0.7, 0.5, -0.4];
for (let i = 0; i < N; i++) {
  let logit = -1.8;
  for (let j = 0; j < D; j++) {
    // Count-like features (non-negative, skewed) and gaussian ones, as features.ts produces.
    const v = j % 3 === 0 ? Math.floor(-Math.log(1 - random()) * 3) : gauss();
    X[i * D + j] = v;
    if (j < planted.length) logit += (planted[j] as number) * (j % 3 === 0 ? (v - 3) / 3 : v);
  }
  y[i] = random() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
}
const generateSeconds = secs(t0);

// Baseline: one pass over the matrix, a dot product per row.
const w = Float64Array.from({ length: D }, () => random());
const out = new Float64Array(N);
let t = performance.now();
for (let i = 0; i < N; i++) {
  let s = 0;
  const base = i * D;
  for (let j = 0; j < D; j++) s += (w[j] as number) * (X[base + j] as number);
  out[i] = s;
}
const baselineSeconds = secs(t);

t = performance.now();
const result = trainAndChoose({
  kind: 'time_split',
  train: { X: X.subarray(0, TRAIN * D), y: y.subarray(0, TRAIN), n: TRAIN },
  valid: { X: X.subarray(TRAIN * D), y: y.subarray(TRAIN), n: N - TRAIN },
}, D);
const trainSeconds = secs(t);

t = performance.now();
const scores = predict(result.model, X, N, D);
const dec = deciles(scores);
const scoreSeconds = secs(t);
t = performance.now();
const names = Array.from({ length: D }, (_, j) => `f${j}`);
let explained = 0;
for (let i = 0; i < N; i++) explained += topContributions(result.model, X, i, D, names).length;
const explainSeconds = secs(t);

const positives = y.reduce((a, b) => a + b, 0);
const top = [...result.importance].map((v, j) => [j, v] as const).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([j]) => `f${j}`);
const report = {
  bench: 'predict',
  at: new Date().toISOString(),
  node: process.version,
  rows: N, features: D, positiveRate: positives / N,
  generateSeconds,
  baseline: { what: 'one dot product per row over the row-major Float64Array', seconds: baselineSeconds },
  training: {
    seconds: trainSeconds, targetSeconds: 60, met: trainSeconds <= 60,
    chosen: result.algorithm, candidates: result.candidates,
    trainRows: TRAIN, validationRows: N - TRAIN,
    topFeatures: top, plantedFeatures: planted.map((_, j) => `f${j}`),
    ratioToBaseline: Math.round((trainSeconds / baselineSeconds) * 10) / 10,
  },
  scoring: {
    seconds: scoreSeconds, targetSeconds: 10, met: scoreSeconds <= 10, ratioToBaseline: Math.round((scoreSeconds / baselineSeconds) * 10) / 10,
    explanationsSeconds: explainSeconds, withExplanationsSeconds: Math.round((scoreSeconds + explainSeconds) * 1000) / 1000,
    allRowsAuc: auc(scores, y), deciles: [...new Set(dec)].length, explained,
  },
  peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
};
console.log(JSON.stringify(report, null, 2));
const dir = join(process.cwd(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const text = `${JSON.stringify(report, null, 2)}\n`;
writeFileSync(join(dir, `predict-${report.at.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`), text);
writeFileSync(join(dir, 'predict-latest.json'), text);
writeFileSync(join(dir, 'predict.json'), text);
