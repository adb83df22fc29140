/**
 * Predictive models of a workspace: definitions, training runs (features as of a cut-off,
 * labels, validation, the better algorithm, the model card) and scoring runs (every consenting
 * profile of the population gets a score, a decile and its top contributions; segments and the
 * profile API see them). See docs/predictive.md.
 *
 * Privacy: profiling serves the model's purpose; a profile without that purpose in force
 * (privacy/purpose-permitted.ts) is neither trained on nor scored, and its score goes when the
 * purpose stops being in force. Model cards hold aggregates only. An erasure removes the
 * person's scores (`forget`).
 *
 * @example
 *   const def = await service.create('ws_1', { key: 'crm_churn', name: 'CRM churn', target: { kind: 'label', trait: 'churned' } });
 *   const v = await service.train('ws_1', def.id);     // { version: 1, status: 'active', card }
 *   service.book.score('ws_1', 'crm_churn', 'pr_1');   // { score: 0.82, decile: 9, explanation: [...] }
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { EnsembleError } from '../protocol/errors.js';
import type { ProfileState } from '../protocol/profile.js';
import { newId } from '../platform/ids.js';
import type { Logger } from '../platform/logger.js';
import type { DuckDbModelStore, StoredVersion } from '../storage/duckdb/model-store.js';
import { aucInterval, betterThanChance, calibration, precisionRecall } from './evaluate.js';
import { eventAggregates } from './event-aggregates.js';
import { extractRaw, fitSpec, toMatrix, type FeatureProfile, type FeatureSpec } from './features.js';
import {
  DEFAULT_PURPOSE, DEFAULT_RESCORE_HOURS, type ModelCardT, type ModelDefinition, type ModelInputT, type ModelUpdateT,
} from './model-types.js';
import { deciles, ScoreBook, type ScoreEntry } from './score-book.js';
import { labelled, MIN_PER_CLASS, trainingWindows } from './targets.js';
import { predict, topContributions, type Fitted, type Split, type TrainOptions } from './trainer.js';
import { trainInWorker } from './train-worker.js';

export interface PredictDeps {
  store: DuckDbModelStore;
  /** A connection of its own for the event queries. */
  conn: DuckDBConnection;
  book: ScoreBook;
  profiles(workspaceId: string): Iterable<ProfileState>;
  live(profileId: string): string | undefined;
  isPersonal(workspaceId: string, key: string): boolean;
  /** Whether a trait is tagged as a special category of data (art. 9): never a feature, never a label. */
  sensitive(workspaceId: string, key: string): boolean;
  computed(workspaceId: string, profileId: string): Record<string, unknown>;
  segmentExists(workspaceId: string, id: string): boolean;
  isMember(workspaceId: string, segmentId: string, profileId: string): boolean;
  purposeExists(workspaceId: string, purpose: string): boolean;
  /** Purpose limitation: the sources collecting for a purpose, the only ones whose data feed a model serving it. */
  sourcesFor(workspaceId: string, purpose: string): string[];
  /** The sources a computed trait counts (its own `sources`, else every source of the workspace). */
  computedSources(workspaceId: string, name: string): readonly string[];
  permitted(workspaceId: string, profileId: string, purpose: string): boolean;
  /** After a model's scores changed: segments with score conditions on it are evaluated again. */
  scoresChanged(workspaceId: string, refs: ReadonlySet<string>): void;
  now(): number;
  logger: Logger;
  train?: TrainOptions;
}

/** What scoring needs besides the fitted model. */
interface Artifact {
  spec: FeatureSpec;
  model: Fitted;
  /** Computed traits are features only of models whose cut-off was "now" (label, lookalike). */
  computed: boolean;
  /** Trait keys never read (the label). */
  exclude: string[];
}

export interface ModelState {
  def: ModelDefinition;
  versions: StoredVersion[];
  activeVersion: number | null;
}

export class ModelService {
  private readonly models = new Map<string, Map<string, ModelState>>();
  private readonly busy = new Set<string>();
  private readonly artifacts = new Map<string, Artifact>();

  constructor(private readonly deps: PredictDeps) {}

  get book(): ScoreBook {
    return this.deps.book;
  }

  /** Definitions, versions and the latest scores from the store. */
  async load(): Promise<void> {
    const { store, book } = this.deps;
    for (const def of await store.models()) {
      const versions = await store.versions(def.workspaceId, def.id);
      const active = [...versions].reverse().find((v) => v.status === 'active');
      this.put({ def, versions, activeVersion: active?.version ?? null });
      book.register(def.workspaceId, def.id, def.key);
      const { rows, scoredAt } = await store.scores(def.workspaceId, def.id);
      if (rows.length > 0 && scoredAt !== null) book.replace(def.workspaceId, def.id, new Map(rows.map((r) => [r.profileId, { score: r.score, decile: r.decile, explanation: r.explanation }])), scoredAt);
    }
  }

  list(workspaceId: string): ModelState[] {
    return [...(this.models.get(workspaceId)?.values() ?? [])];
  }

  /** By id or key. */
  get(workspaceId: string, ref: string): ModelState {
    const ws = this.models.get(workspaceId);
    const m = ws?.get(ref) ?? [...(ws?.values() ?? [])].find((x) => x.def.key === ref);
    if (!m) throw new EnsembleError('ENSEMBLE_ERR_MODEL_NOT_FOUND');
    return m;
  }

  async create(workspaceId: string, input: ModelInputT): Promise<ModelDefinition> {
    if (this.list(workspaceId).some((m) => m.def.key === input.key)) throw new EnsembleError('ENSEMBLE_ERR_MODEL_EXISTS');
    this.check(workspaceId, input);
    const now = this.deps.now();
    const def: ModelDefinition = {
      id: newId('mdl'), workspaceId, key: input.key, name: input.name, target: input.target,
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.population === undefined ? {} : { population: input.population }),
      purpose: input.purpose ?? DEFAULT_PURPOSE, rescoreHours: input.rescoreHours ?? DEFAULT_RESCORE_HOURS,
      createdAt: now, updatedAt: now,
    };
    await this.deps.store.saveModel(def);
    this.put({ def, versions: [], activeVersion: null });
    this.deps.book.register(workspaceId, def.id, def.key);
    return def;
  }

  async update(workspaceId: string, ref: string, patch: ModelUpdateT): Promise<ModelDefinition> {
    const m = this.get(workspaceId, ref);
    const next: ModelDefinition = { ...m.def, ...patch, updatedAt: this.deps.now() };
    this.check(workspaceId, next);
    await this.deps.store.saveModel(next);
    m.def = next;
    return next;
  }

  async delete(workspaceId: string, ref: string): Promise<void> {
    const m = this.get(workspaceId, ref);
    if (this.busy.has(m.def.id)) throw new EnsembleError('ENSEMBLE_ERR_MODEL_BUSY');
    const refs = this.deps.book.refs(workspaceId, m.def.id);
    await this.deps.store.deleteModel(workspaceId, m.def.id);
    this.models.get(workspaceId)?.delete(m.def.id);
    this.artifacts.delete(m.def.id);
    this.deps.book.unregister(workspaceId, m.def.id);
    this.deps.scoresChanged(workspaceId, refs);
  }

  /**
   * A training run: a new version with its model card. Only a version better than chance is
   * activated and scores the population; otherwise the scores of the last active version (if
   * any) stay.
   */
  async train(workspaceId: string, ref: string): Promise<StoredVersion> {
    const m = this.get(workspaceId, ref);
    const { def } = m;
    if (this.busy.has(def.id)) throw new EnsembleError('ENSEMBLE_ERR_MODEL_BUSY');
    this.busy.add(def.id);
    try {
      const now = this.deps.now();
      const population = this.population(def);
      const consenting = population.filter((p) => this.deps.permitted(workspaceId, p.id, def.purpose));
      const exclude = def.target.kind === 'label' ? [def.target.trait] : [];
      const windows = trainingWindows(def.target, now);
      const notes: string[] = [];
      let split: Split;
      let spec: FeatureSpec;
      let trainedOn: number, validatedOn: number;
      let positives = 0, negatives = 0;
      const computed = windows === null;
      if (windows === null) {
        const allowed = this.allowedSources(def);
        const rows = await labelled(def.target, consenting, (pid) => this.deps.isMember(workspaceId, (def.target as { segment: string }).segment, pid), undefined, (id) => allowed.has(id));
        const raw = await this.raw(def, rows.map((r) => r.profile), now, exclude, true);
        spec = fitSpec(raw);
        const y = Uint8Array.from(rows, (r) => r.label);
        for (const v of y) { if (v === 1) positives++; else negatives++; }
        this.enough(positives, negatives, {});
        split = { kind: 'kfold', X: toMatrix(spec, raw), y, n: rows.length, k: 5 };
        trainedOn = rows.length;
        validatedOn = rows.length;
        notes.push('Validation: stratified 5-fold cross-validation; the chosen algorithm was then refitted on every labelled profile.');
        if (def.target.kind === 'lookalike') notes.push('Lookalike: members of the segment are the positives; features the segment rule reads predict membership almost by definition.');
      } else {
        const sets = [];
        for (const w of [windows.train, windows.valid]) {
          const eligible = consenting.filter((p) => p.firstSeen < w.cutoff);
          const sources = this.deps.sourcesFor(workspaceId, def.purpose);
          const agg = await eventAggregates(this.deps.conn, workspaceId, w.cutoff, this.deps.live, sources);
          const rows = await labelled(def.target, eligible, undefined, { conn: this.deps.conn, workspaceId, window: w, live: this.deps.live, sources, aggregates: agg });
          sets.push({ rows, agg, cutoff: w.cutoff });
        }
        const [tr, va] = sets as [typeof sets[number], typeof sets[number]];
        const rawTrain = this.rawFrom(def, tr.rows.map((r) => r.profile), tr.agg, tr.cutoff, exclude, false);
        spec = fitSpec(rawTrain);
        const rawValid = this.rawFrom(def, va.rows.map((r) => r.profile), va.agg, va.cutoff, exclude, false);
        const yTrain = Uint8Array.from(tr.rows, (r) => r.label), yValid = Uint8Array.from(va.rows, (r) => r.label);
        let tp = 0, vp = 0;
        for (const v of yTrain) tp += v;
        for (const v of yValid) vp += v;
        positives = vp; negatives = yValid.length - vp;
        this.enough(Math.min(tp, vp), Math.min(yTrain.length - tp, yValid.length - vp), { train: { positives: tp, negatives: yTrain.length - tp }, validation: { positives: vp, negatives: yValid.length - vp } });
        split = { kind: 'time_split', train: { X: toMatrix(spec, rawTrain), y: yTrain, n: tr.rows.length }, valid: { X: toMatrix(spec, rawValid), y: yValid, n: va.rows.length } };
        trainedOn = tr.rows.length;
        validatedOn = va.rows.length;
        notes.push('Validation: time split. Fitted on features as of the first cut-off with labels from the window after it; validated on features as of the second cut-off with labels from the last window. The model fitted on the earlier window is the one that scores.');
        notes.push('Computed traits are not features of time-split models (their past values are not kept); the population segment is read as it is today.');
      }
      const d = spec.columns.length;
      // In a worker thread: the main thread keeps serving ingest and the API meanwhile.
      const result = await trainInWorker(split, d, this.deps.train);
      const forest = result.candidates.find((c) => c.algorithm === 'random_forest');
      if (forest?.trainedOnSample !== undefined) notes.push(`The random forest was grown on a stratified sample of ${forest.trainedOnSample} profiles per fit; logistic regression on every profile.`);
      const auc = result.candidates.find((c) => c.algorithm === result.algorithm)?.auc ?? Number.NaN;
      const interval = Number.isFinite(auc) ? aucInterval(auc, positives, negatives) : [0, 1] as [number, number];
      const verdict = betterThanChance(auc, interval);
      const names = spec.columns.map((c) => c.name);
      const top = [...result.importance].map((v, j) => ({ feature: names[j] as string, importance: round(v) })).sort((a, b) => b.importance - a.importance).slice(0, 10);
      const iso = (t: number) => new Date(t).toISOString();
      const card: ModelCardT = {
        dataWindow: windows === null
          ? { cutoff: iso(now), labelFrom: null, labelTo: null, validation: 'stratified_5_fold' }
          : { cutoff: iso(windows.valid.cutoff), labelFrom: iso(windows.train.cutoff), labelTo: iso(windows.valid.to), validation: 'time_split' },
        population: { eligible: population.length, withoutConsent: population.length - consenting.length, trainedOn, validatedOn },
        classBalance: { positives, negatives, positiveRate: round(positives / Math.max(1, positives + negatives)) },
        auc: round(auc), aucInterval: [round(interval[0]), round(interval[1])],
        chosenAlgorithm: result.algorithm,
        candidates: result.candidates.map((c) => ({ ...c, auc: round(c.auc) })),
        thresholds: precisionRecall(result.validScores, result.validLabels).map((t) => ({ ...t, precision: t.precision === null ? null : round(t.precision), recall: round(t.recall) })),
        calibration: calibration(result.validScores, result.validLabels).map((c) => ({ ...c, predicted: round(c.predicted), observed: round(c.observed) })),
        topFeatures: top, featureCount: d,
        status: verdict.ok ? 'active' : 'not_better_than_chance', statusReason: verdict.reason, notes,
      };
      const version: StoredVersion = { version: (m.versions.at(-1)?.version ?? 0) + 1, trainedAt: now, status: card.status, card };
      const artifact: Artifact = { spec, model: result.model, computed, exclude };
      await this.deps.store.addVersion(workspaceId, def.id, version, artifact);
      m.versions.push(version);
      this.deps.logger.info({ workspaceId, modelId: def.id, version: version.version, auc: card.auc, status: card.status }, 'model trained');
      if (verdict.ok) {
        m.activeVersion = version.version;
        this.artifacts.set(def.id, artifact);
        await this.scoreWith(def, artifact);
      }
      return version;
    } finally {
      this.busy.delete(def.id);
    }
  }

  /** A scoring run with the active version (a model without one is left as it is). */
  async score(workspaceId: string, ref: string): Promise<number> {
    const m = this.get(workspaceId, ref);
    if (m.activeVersion === null) return 0;
    let artifact = this.artifacts.get(m.def.id);
    if (!artifact) {
      artifact = await this.deps.store.artifact(workspaceId, m.def.id, m.activeVersion) as Artifact | undefined;
      if (!artifact) return 0;
      this.artifacts.set(m.def.id, artifact);
    }
    return this.scoreWith(m.def, artifact);
  }

  private async scoreWith(def: ModelDefinition, artifact: Artifact): Promise<number> {
    const ws = def.workspaceId;
    const now = this.deps.now();
    const profiles = this.population(def).filter((p) => this.deps.permitted(ws, p.id, def.purpose));
    const raw = await this.raw(def, profiles, now, artifact.exclude, artifact.computed);
    const X = toMatrix(artifact.spec, raw);
    const d = artifact.spec.columns.length;
    const scores = predict(artifact.model, X, profiles.length, d);
    const dec = deciles(scores);
    const names = artifact.spec.columns.map((c) => c.name);
    const entries = new Map<string, ScoreEntry>();
    const rows: Array<{ profileId: string } & ScoreEntry> = [];
    for (let i = 0; i < profiles.length; i++) {
      // Explaining a million profiles takes seconds: let other work in between.
      if (i > 0 && i % 50_000 === 0) await new Promise((resolve) => setImmediate(resolve));
      const p = profiles[i] as ProfileState;
      const entry = { score: round(scores[i] as number, 6), decile: dec[i] as number, explanation: topContributions(artifact.model, X, i, d, names) };
      entries.set(p.id, entry);
      rows.push({ profileId: p.id, ...entry });
    }
    await this.deps.store.replaceScores(ws, def.id, rows, now);
    this.deps.book.replace(ws, def.id, entries, now);
    this.deps.scoresChanged(ws, this.deps.book.refs(ws, def.id));
    return rows.length;
  }

  /** Models whose scores are older than their rescore interval are scored again. */
  async rescoreDue(): Promise<void> {
    const now = this.deps.now();
    for (const ws of this.models.values()) {
      for (const m of ws.values()) {
        if (m.activeVersion === null || this.busy.has(m.def.id)) continue;
        const at = this.deps.book.scoredAt(m.def.workspaceId, m.def.id);
        if (at !== null && now - at < m.def.rescoreHours * 3_600_000) continue;
        this.busy.add(m.def.id);
        try {
          await this.score(m.def.workspaceId, m.def.id);
        } finally {
          this.busy.delete(m.def.id);
        }
      }
    }
  }

  /** Erasure: the profiles' scores, everywhere. */
  async forget(workspaceId: string, profileIds: readonly string[]): Promise<void> {
    const touched = this.deps.book.forget(workspaceId, profileIds);
    await this.deps.store.forget(workspaceId, profileIds);
    for (const id of touched) this.deps.scoresChanged(workspaceId, this.deps.book.refs(workspaceId, id));
  }

  /** Consent changed: profiles whose model purpose is no longer in force lose that model's score at once. */
  async consentChanged(workspaceId: string, profileIds: readonly string[]): Promise<void> {
    for (const m of this.list(workspaceId)) {
      const gone = profileIds.map((id) => this.deps.live(id) ?? id).filter((pid) => this.deps.book.score(workspaceId, m.def.id, pid) !== undefined && !this.deps.permitted(workspaceId, pid, m.def.purpose));
      if (gone.length === 0) continue;
      this.deps.book.forgetIn(workspaceId, m.def.id, gone);
      await this.deps.store.forget(workspaceId, gone, m.def.id);
      this.deps.scoresChanged(workspaceId, this.deps.book.refs(workspaceId, m.def.id));
    }
  }

  private population(def: ModelDefinition): ProfileState[] {
    const out: ProfileState[] = [];
    for (const p of this.deps.profiles(def.workspaceId)) {
      if (p.mergedInto) continue;
      if (def.population !== undefined && !this.deps.isMember(def.workspaceId, def.population, p.id)) continue;
      out.push(p);
    }
    return out;
  }

  private async raw(def: ModelDefinition, profiles: readonly FeatureProfile[], cutoff: number, exclude: readonly string[], computed: boolean) {
    const agg = await eventAggregates(this.deps.conn, def.workspaceId, cutoff, this.deps.live, this.deps.sourcesFor(def.workspaceId, def.purpose));
    return this.rawFrom(def, profiles, agg, cutoff, exclude, computed);
  }

  /**
   * Features from what may serve the model's purpose: events and traits of sources collecting
   * for it, and computed traits counting only such sources (purpose limitation, as segments).
   */
  private rawFrom(def: ModelDefinition, profiles: readonly FeatureProfile[], agg: Awaited<ReturnType<typeof eventAggregates>>, cutoff: number, exclude: readonly string[], computed: boolean) {
    const ws = def.workspaceId;
    const allowed = this.allowedSources(def);
    const computedAllowed = (name: string): boolean => {
      return this.deps.computedSources(ws, name).every((s) => allowed.has(s));
    };
    return extractRaw(profiles, agg, {
      cutoff, exclude: new Set(exclude), isPersonal: (key) => this.deps.isPersonal(ws, key) || this.deps.sensitive(ws, key),
      fromSource: (sourceId) => allowed.has(sourceId),
      ...(computed ? { computed: (id: string) => Object.fromEntries(Object.entries(this.deps.computed(ws, id)).filter(([name]) => computedAllowed(name))) } : {}),
    });
  }

  /** The sources whose data may serve the model's purpose. */
  private allowedSources(def: ModelDefinition): Set<string> {
    return new Set(this.deps.sourcesFor(def.workspaceId, def.purpose));
  }

  private enough(positives: number, negatives: number, details: Record<string, unknown>): void {
    if (positives < MIN_PER_CLASS || negatives < MIN_PER_CLASS) {
      throw new EnsembleError('ENSEMBLE_ERR_MODEL_DATA_INSUFFICIENT', undefined, { positives, negatives, minimumPerClass: MIN_PER_CLASS, ...details });
    }
  }

  private check(workspaceId: string, def: Pick<ModelDefinition, 'target' | 'population'> & { purpose?: string }): void {
    const problems: Array<{ path: string; code: string; message: string }> = [];
    if (def.population !== undefined && !this.deps.segmentExists(workspaceId, def.population)) problems.push({ path: '/population', code: 'unknown_segment', message: `The workspace has no segment "${def.population}".` });
    if (def.target.kind === 'lookalike' && !this.deps.segmentExists(workspaceId, def.target.segment)) problems.push({ path: '/target/segment', code: 'unknown_segment', message: `The workspace has no segment "${def.target.segment}".` });
    if (def.target.kind === 'label' && (this.deps.sensitive(workspaceId, def.target.trait) || this.deps.isPersonal(workspaceId, def.target.trait))) {
      problems.push({ path: '/target/trait', code: 'sensitive_trait', message: `"${def.target.trait}" is a personal identifier or a special category of data: it cannot be a label.` });
    }
    if (def.purpose !== undefined && !this.deps.purposeExists(workspaceId, def.purpose)) problems.push({ path: '/purpose', code: 'unknown_purpose', message: `The workspace has no purpose "${def.purpose}".` });
    if (problems.length > 0) throw new EnsembleError('ENSEMBLE_ERR_MODEL_INVALID', undefined, { problems });
  }

  private put(state: ModelState): void {
    let ws = this.models.get(state.def.workspaceId);
    if (!ws) { ws = new Map(); this.models.set(state.def.workspaceId, ws); }
    ws.set(state.def.id, state);
  }
}

function round(v: number, digits = 4): number {
  if (!Number.isFinite(v)) return 0;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
