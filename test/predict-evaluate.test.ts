/**
 * The evaluation maths against values computed by hand (ROC AUC with ties, the Hanley–McNeil
 * interval, precision/recall, calibration, deciles, stratified folds), fast-check properties
 * (AUC equals the pair count and flips with the scores), and the explanations' exactness: a
 * logistic regression's contributions add up to its log-odds, a forest's path contributions plus
 * the mean root rate add up to its score.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { auc, aucInterval, betterThanChance, calibration, precisionRecall, rng, stratifiedFolds } from '../src/predict/evaluate.js';
import { deciles } from '../src/predict/score-book.js';
import { fitLogistic, logisticContributions, predictLogistic } from '../src/predict/logistic.js';
import { fitForest, forestContributions, predictForest } from '../src/predict/forest.js';

const close = (a: number, b: number, eps = 1e-4) => assert.ok(Math.abs(a - b) < eps, `${a} ≠ ${b}`);

test('ROC AUC by hand: the textbook example, ties counting half, one class undefined', () => {
  // Pairs (positive, negative): (0.35, 0.1) win, (0.35, 0.4) loss, (0.8, 0.1) win, (0.8, 0.4) win → 3/4.
  assert.equal(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(auc([0.5, 0.5, 0.5], [1, 0, 0]), 0.5);
  // (0.5 vs 0.5) tie = 0.5, (0.5 vs 0.2) win = 1 → 1.5 / 2.
  assert.equal(auc([0.5, 0.5, 0.2], [1, 0, 0]), 0.75);
  assert.equal(auc([0.9, 0.1], [0, 1]), 0);
  assert.ok(Number.isNaN(auc([0.2, 0.3], [1, 1])));
});

test('the Hanley–McNeil interval by hand, and the verdict on chance', () => {
  // A = 0.8, 50/50: Q1 = 0.8/1.2, Q2 = 1.28/1.8, var = (0.16 + 49(Q1 − 0.64) + 49(Q2 − 0.64)) / 2500 = 0.0019804, se = 0.044502.
  const [lo, hi] = aucInterval(0.8, 50, 50);
  close(lo, 0.8 - 1.96 * 0.044502);
  close(hi, 0.8 + 1.96 * 0.044502);
  assert.equal(betterThanChance(0.8, [lo, hi]).ok, true);
  assert.equal(betterThanChance(0.54, [0.51, 0.57]).ok, false, 'below 0.55');
  assert.equal(betterThanChance(0.6, [0.48, 0.72]).ok, false, 'the interval includes 0.5');
  assert.equal(betterThanChance(Number.NaN, [0, 1]).ok, false);
});

test('precision, recall and calibration by hand', () => {
  const pr = precisionRecall([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0], [0.05, 0.5, 0.95]);
  assert.deepEqual(pr, [
    { threshold: 0.05, precision: 0.5, recall: 1, flagged: 4 },
    { threshold: 0.5, precision: 0.5, recall: 0.5, flagged: 2 },
    { threshold: 0.95, precision: null, recall: 0, flagged: 0 },
  ]);
  const cal = calibration([0.05, 0.15, 0.12, 0.95, 1], [0, 1, 0, 1, 1]);
  assert.deepEqual(cal.map((c) => c.bin), [1, 2, 10]);
  assert.equal(cal[1]?.count, 2);
  close(cal[1]?.predicted as number, 0.135);
  assert.equal(cal[1]?.observed, 0.5);
  assert.equal(cal[2]?.observed, 1, 'a score of 1 falls in the last bin');
});

test('deciles rank the population: 10 the top tenth, ties share one', () => {
  const scores = Float64Array.from({ length: 20 }, (_, i) => i / 20);
  const d = deciles(scores);
  assert.equal(d[19], 10);
  assert.equal(d[18], 10);
  assert.equal(d[17], 9);
  assert.equal(d[0], 1);
  for (let k = 1; k <= 10; k++) assert.equal([...d].filter((x) => x === k).length, 2);
  const tied = deciles(Float64Array.from([0.5, 0.5, 0.5, 0.1]));
  assert.deepEqual([...tied], [10, 10, 10, 3]);
});

test('stratified folds keep the class balance in every fold', () => {
  const labels = Array.from({ length: 103 }, (_, i) => (i % 4 === 0 ? 1 : 0));
  const folds = stratifiedFolds(labels, 5, 7);
  for (let f = 0; f < 5; f++) {
    const pos = labels.filter((l, i) => folds[i] === f && l === 1).length;
    assert.ok(pos === 5 || pos === 6, `fold ${f}: ${pos} positives`);
  }
});

test('property: AUC is the share of (positive, negative) pairs ranked right, and reverses with the scores', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(0, 0.1, 0.25, 0.5, 0.7, 1), fc.boolean()), { minLength: 2, maxLength: 40 }), (rows) => {
    const s = rows.map((r) => r[0]);
    const y = rows.map((r) => (r[1] ? 1 : 0));
    let wins = 0, pairs = 0;
    s.forEach((a, i) => s.forEach((b, j) => { if (y[i] === 1 && y[j] === 0) { pairs++; wins += a > b ? 1 : a === b ? 0.5 : 0; } }));
    if (pairs === 0) return Number.isNaN(auc(s, y));
    close(auc(s, y), wins / pairs, 1e-12);
    close(auc(s.map((v) => 1 - v), y), 1 - wins / pairs, 1e-12);
    return true;
  }), { numRuns: 300 });
});

function data(n: number, d: number, seed: number): { X: Float64Array; y: Uint8Array } {
  const random = rng(seed);
  const X = new Float64Array(n * d), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) X[i * d + j] = random() * 4 - 2;
    y[i] = random() < 1 / (1 + Math.exp(-2 * (X[i * d] as number))) ? 1 : 0;
  }
  return { X, y };
}

test('explanations are exact: logistic terms add up to the log-odds, forest paths to the score', () => {
  const d = 4;
  const { X, y } = data(400, d, 3);
  const lr = fitLogistic(X, 400, d, y);
  const p = predictLogistic(lr, X, 400);
  for (const row of [0, 17, 123]) {
    const c = logisticContributions(lr, X, row);
    const logit = lr.bias + c.reduce((a, b) => a + b, 0);
    close(1 / (1 + Math.exp(-logit)), p[row] as number, 1e-9);
  }
  assert.ok(Math.abs(lr.weights[0] as number) > 3 * Math.abs(lr.weights[1] as number), 'the planted feature weighs most');
  const forest = fitForest(X, 400, d, y, { seed: 2, trees: 10 });
  const f = predictForest(forest, X, 400, d);
  const bias = forest.trees.reduce((a, t) => a + (t.value[0] as number), 0) / forest.trees.length;
  for (const row of [0, 17, 123]) {
    const c = forestContributions(forest, X, row, d);
    close(bias + c.reduce((a, b) => a + b, 0), f[row] as number, 1e-9);
  }
  assert.ok(auc(f, y) > 0.75);
});

test('property: a higher score never gets a lower decile, and equal scores share one', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(0, 0.1, 0.3, 0.31, 0.5, 0.9, 1), { minLength: 1, maxLength: 60 }), (xs) => {
    const s = Float64Array.from(xs);
    const d = deciles(s);
    for (let i = 0; i < s.length; i++) {
      for (let j = 0; j < s.length; j++) {
        if ((s[i] as number) > (s[j] as number)) assert.ok((d[i] as number) >= (d[j] as number));
        if (s[i] === s[j]) assert.equal(d[i], d[j]);
      }
      assert.ok((d[i] as number) >= 1 && (d[i] as number) <= 10);
    }
    assert.ok([...d].includes(10), 'the highest score is in the top decile');
  }), { numRuns: 300 });
});
