/**
 * The tree ensemble: a random forest grown by the mljs library (ml-random-forest on ml-cart),
 * adapted in three ways, each for a reason:
 *
 * - **Binned features.** ml-cart tries every point where the label changes between sorted values
 *   as a split and rescans the node's rows for each, O(n²) per feature and node. Features are
 *   replaced by their quantile bin (at most 32 per feature, from the training rows) and the
 *   candidate splits by the distinct bin boundaries (`featureSplit` of ml-cart's node prototype,
 *   replaced once, process-wide, below): a tree then costs O(bins × n) per feature and level.
 * - **A sample.** Even so the library's trees copy and transpose matrices per node; the forest is
 *   grown on a stratified sample of at most `maxRows` rows (10,000 by default), which the model
 *   card states. Logistic regression always sees every row.
 * - **Our own read-out.** The grown trees are flattened (thresholds mapped back to raw values)
 *   and every node gets the positive rate of the training rows reaching it, so a score is the
 *   mean leaf rate over trees (a probability, where the library only counts votes), and a
 *   profile's explanation is the path decomposition of Saabas (2014): the change of the node
 *   rate at each split, credited to the split's feature, averaged over trees. Score = bias + sum
 *   of contributions, exactly.
 *
 * @example
 *   const f = fitForest(X, n, d, y, { seed: 1 });
 *   predictForest(f, X, n);              // Float64Array of probabilities
 *   forestContributions(f, X, 0, d);     // per-feature contributions of row 0
 */
import { RandomForestClassifier } from 'ml-random-forest';
import { rng, shuffle } from './evaluate.js';

export interface FlatTree {
  /** Global feature index of each node's split; -1 at a leaf. */
  feature: number[];
  /** Rows with x[feature] < threshold go left. */
  threshold: number[];
  left: number[];
  right: number[];
  /** Positive rate of the training rows reaching the node. */
  value: number[];
}

export interface ForestModel {
  kind: 'random_forest';
  trees: FlatTree[];
  /** Rows the forest was grown on (a sample when the data set is larger). */
  trainedOn: number;
}

export interface ForestOptions {
  seed?: number;
  trees?: number;
  maxDepth?: number;
  /** Largest training sample. */
  maxRows?: number;
}

const BINS = 32;

interface TreeNodeLike {
  splitColumn?: number;
  splitValue?: number;
  left?: TreeNodeLike;
  right?: TreeNodeLike;
  featureSplit(x: number[], y: number[]): number[];
}

let patched = false;
/** Candidate splits: midpoints between distinct (binned) values, as ml-cart would take them, but each once. */
function patchLibrary(): void {
  if (patched) return;
  const probe = new RandomForestClassifier({ nEstimators: 1, seed: 1, noOOB: true, useSampleBagging: false, replacement: false, maxFeatures: 1.0 });
  probe.train([[0], [1], [0], [1]], [0, 1, 0, 1]);
  const root = (probe.estimators?.[0] as unknown as { root: TreeNodeLike }).root;
  const proto = Object.getPrototypeOf(root) as TreeNodeLike;
  proto.featureSplit = function featureSplit(x: number[]): number[] {
    const values = [...new Set(x)].sort((a, b) => a - b);
    const out: number[] = [];
    for (let i = 1; i < values.length; i++) out.push(((values[i - 1] as number) + (values[i] as number)) / 2);
    return out;
  };
  patched = true;
}

/** Sorted distinct quantile edges of a column: the bin of x is the number of edges <= x. */
function edgesOf(X: Float64Array, n: number, d: number, j: number): number[] {
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) col[i] = X[i * d + j] as number;
  col.sort();
  const edges = new Set<number>();
  for (let q = 1; q < BINS; q++) edges.add(col[Math.min(n - 1, Math.floor((q * n) / BINS))] as number);
  edges.delete(col[0] as number);
  return [...edges].sort((a, b) => a - b);
}

function binOf(edges: readonly number[], x: number): number {
  let lo = 0, hi = edges.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if ((edges[mid] as number) <= x) lo = mid + 1; else hi = mid; }
  return lo;
}

export function fitForest(X: Float64Array, n: number, d: number, y: ArrayLike<number>, opts: ForestOptions = {}): ForestModel {
  patchLibrary();
  const random = rng(opts.seed ?? 1);
  const maxRows = opts.maxRows ?? 10_000;
  // A stratified sample: the same share of each class.
  let rows = Array.from({ length: n }, (_, i) => i);
  if (n > maxRows) {
    const pos = rows.filter((i) => y[i] === 1), neg = rows.filter((i) => y[i] !== 1);
    const share = maxRows / n;
    rows = [...shuffle(pos, random).slice(0, Math.max(1, Math.round(pos.length * share))), ...shuffle(neg, random).slice(0, Math.max(1, Math.round(neg.length * share)))];
  }
  const m = rows.length;
  const sample = new Float64Array(m * d);
  rows.forEach((r, i) => sample.set(X.subarray(r * d, r * d + d), i * d));
  const labels = rows.map((r) => (y[r] === 1 ? 1 : 0));
  const edges = Array.from({ length: d }, (_, j) => edgesOf(sample, m, d, j));
  const binned: number[][] = [];
  for (let i = 0; i < m; i++) {
    const row = new Array<number>(d);
    for (let j = 0; j < d; j++) row[j] = binOf(edges[j] as number[], sample[i * d + j] as number);
    binned.push(row);
  }
  const rf = new RandomForestClassifier({
    nEstimators: opts.trees ?? 25, seed: Math.floor(random() * 2 ** 31), noOOB: true, replacement: false, useSampleBagging: true,
    maxFeatures: Math.min(d, Math.max(1, Math.round(Math.sqrt(d) * 2))),
    treeOptions: { maxDepth: opts.maxDepth ?? 7, minNumSamples: Math.max(5, Math.floor(m / 500)) },
  });
  rf.train(binned, labels);
  const indexes = (rf as unknown as { indexes: number[][] }).indexes;
  const trees = (rf.estimators ?? []).map((est, t) => {
    const flat: FlatTree = { feature: [], threshold: [], left: [], right: [], value: [] };
    const walk = (node: TreeNodeLike): number => {
      const id = flat.feature.length;
      flat.feature.push(-1); flat.threshold.push(0); flat.left.push(-1); flat.right.push(-1); flat.value.push(0);
      if (node.left && node.right && node.splitColumn !== undefined && node.splitValue !== undefined) {
        const j = (indexes[t] as number[])[node.splitColumn] as number;
        const e = edges[j] as number[];
        const k = Math.floor(node.splitValue);
        flat.feature[id] = j;
        flat.threshold[id] = k < e.length ? (e[k] as number) : Infinity;
        flat.left[id] = walk(node.left);
        flat.right[id] = walk(node.right);
      }
      return id;
    };
    walk((est as unknown as { root: TreeNodeLike }).root);
    nodeRates(flat, sample, m, d, labels);
    return flat;
  });
  return { kind: 'random_forest', trees, trainedOn: m };
}

/** The positive rate at each node of the rows reaching it (a node no row reaches keeps its parent's). */
function nodeRates(tree: FlatTree, X: Float64Array, n: number, d: number, y: readonly number[]): void {
  const count = new Float64Array(tree.feature.length), pos = new Float64Array(tree.feature.length);
  for (let i = 0; i < n; i++) {
    let node = 0;
    for (;;) {
      count[node] = (count[node] as number) + 1;
      pos[node] = (pos[node] as number) + (y[i] as number);
      const f = tree.feature[node] as number;
      if (f < 0) break;
      node = (X[i * d + f] as number) < (tree.threshold[node] as number) ? (tree.left[node] as number) : (tree.right[node] as number);
    }
  }
  const fill = (node: number, parent: number): void => {
    tree.value[node] = (count[node] as number) > 0 ? (pos[node] as number) / (count[node] as number) : parent;
    if ((tree.feature[node] as number) >= 0) {
      fill(tree.left[node] as number, tree.value[node] as number);
      fill(tree.right[node] as number, tree.value[node] as number);
    }
  };
  fill(0, 0);
}

function leafOf(tree: FlatTree, X: Float64Array, base: number): number {
  let node = 0;
  for (;;) {
    const f = tree.feature[node] as number;
    if (f < 0) return node;
    node = (X[base + f] as number) < (tree.threshold[node] as number) ? (tree.left[node] as number) : (tree.right[node] as number);
  }
}

export function predictForest(f: ForestModel, X: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (const tree of f.trees) for (let i = 0; i < n; i++) out[i] = (out[i] as number) + (tree.value[leafOf(tree, X, i * d)] as number);
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) / f.trees.length;
  return out;
}

/** Saabas path contributions of one row (they sum, with the mean root rate, to its score). */
export function forestContributions(f: ForestModel, X: Float64Array, row: number, d: number, out: Float64Array = new Float64Array(d)): Float64Array {
  out.fill(0);
  for (const tree of f.trees) {
    let node = 0;
    for (;;) {
      const feature = tree.feature[node] as number;
      if (feature < 0) break;
      const next = (X[row * d + feature] as number) < (tree.threshold[node] as number) ? (tree.left[node] as number) : (tree.right[node] as number);
      out[feature] = (out[feature] as number) + ((tree.value[next] as number) - (tree.value[node] as number)) / f.trees.length;
      node = next;
    }
  }
  return out;
}
