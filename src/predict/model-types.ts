/**
 * Predictive model definitions, versions and model cards (docs/predictive.md). A definition says
 * what to predict (the target) for whom (the population), for which purpose (profiles without it
 * are neither trained on nor scored); a trained version carries its model card: how well it
 * predicts on data it was not fitted on, and whether that is better than chance.
 *
 * @example
 *   const churn: ModelInputT = { key: 'churn_60d', name: 'Churn in 60 days', target: { kind: 'churn', withinDays: 60 } };
 *   const label: ModelInputT = { key: 'crm_churn', name: 'CRM churn flag', target: { kind: 'label', trait: 'churned' } };
 */
import { Type, type Static } from '@sinclair/typebox';
import { PropertyFilter } from '../protocol/filter.js';

const KEY = '^[a-z][a-z0-9_]{0,63}$';

export const ModelTarget = Type.Union([
  Type.Object({
    kind: Type.Literal('propensity'),
    event: Type.String({ minLength: 1, maxLength: 512, description: 'Will perform this track event (or `$page`, `$any`).' }),
    filters: Type.Optional(Type.Array(PropertyFilter, { maxItems: 10, description: 'Property filters of the event (AND).' })),
    withinDays: Type.Integer({ minimum: 1, maximum: 365, description: '... within the next N days.' }),
  }, { additionalProperties: false }),
  Type.Object({
    kind: Type.Literal('churn'),
    event: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Will not perform this event (default `$any`: no event at all).' })),
    withinDays: Type.Integer({ minimum: 1, maximum: 365, description: '... within the next N days.' }),
  }, { additionalProperties: false }),
  Type.Object({
    kind: Type.Literal('lookalike'),
    segment: Type.String({ minLength: 1, maxLength: 100, description: 'Resembles the members of this segment.' }),
  }, { additionalProperties: false }),
  Type.Object({
    kind: Type.Literal('label'),
    trait: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$', description: 'A boolean trait (true = positive) or a categorical one (with `positive`), e.g. imported from a CRM.' }),
    positive: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Number(), Type.Boolean()], { description: 'The value that counts as positive (default `true`, also `"true"`, `"yes"`, `1`).' })),
  }, { additionalProperties: false }),
], { description: 'What the model predicts.' });
export type ModelTargetT = Static<typeof ModelTarget>;

const editable = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  population: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'A segment id: only its members are trained on and scored (default: every profile).' })),
  purpose: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_ -]{0,63}$', description: 'Profiling serves this purpose: profiles without it in force are neither trained on nor scored (default `analytics`).' })),
  rescoreHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 8760, description: 'Scores are refreshed this often (default 24).' })),
};

export const ModelInput = Type.Object({
  key: Type.String({ pattern: KEY, description: 'Stable name segment `score` conditions use (e.g. `churn_60d`).' }),
  ...editable,
  target: ModelTarget,
}, { additionalProperties: false });
export type ModelInputT = Static<typeof ModelInput>;

export const ModelUpdate = Type.Partial(Type.Object(editable, { additionalProperties: false }), { additionalProperties: false });
export type ModelUpdateT = Static<typeof ModelUpdate>;

export const ALGORITHMS = ['logistic_regression', 'random_forest'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export const ModelCard = Type.Object({
  dataWindow: Type.Object({
    cutoff: Type.String({ format: 'date-time', description: 'Features are computed from what was known at this instant.' }),
    labelFrom: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    labelTo: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    validation: Type.String({ description: '`time_split` (trained on an earlier window, validated on the next) or `stratified_5_fold`.' }),
  }),
  population: Type.Object({
    eligible: Type.Integer({ description: 'Profiles of the population.' }),
    withoutConsent: Type.Integer({ description: 'Left out: the purpose is not in force for them.' }),
    trainedOn: Type.Integer(),
    validatedOn: Type.Integer(),
  }),
  classBalance: Type.Object({ positives: Type.Integer(), negatives: Type.Integer(), positiveRate: Type.Number() }),
  auc: Type.Number({ description: 'ROC AUC on validation data of the chosen algorithm.' }),
  aucInterval: Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: '95 % interval (Hanley & McNeil 1982).' }),
  chosenAlgorithm: Type.Union(ALGORITHMS.map((a) => Type.Literal(a))),
  candidates: Type.Array(Type.Object({ algorithm: Type.String(), auc: Type.Number(), trainedOnSample: Type.Optional(Type.Integer()) })),
  thresholds: Type.Array(Type.Object({ threshold: Type.Number(), precision: Type.Union([Type.Number(), Type.Null()]), recall: Type.Number(), flagged: Type.Integer() })),
  calibration: Type.Array(Type.Object({ bin: Type.Integer(), predicted: Type.Number(), observed: Type.Number(), count: Type.Integer() })),
  topFeatures: Type.Array(Type.Object({ feature: Type.String(), importance: Type.Number() })),
  featureCount: Type.Integer(),
  status: Type.Union([Type.Literal('active'), Type.Literal('not_better_than_chance')]),
  statusReason: Type.String(),
  notes: Type.Array(Type.String()),
});
export type ModelCardT = Static<typeof ModelCard>;

export const ModelVersionView = Type.Object({
  version: Type.Integer(),
  trainedAt: Type.String({ format: 'date-time' }),
  status: Type.Union([Type.Literal('active'), Type.Literal('not_better_than_chance')]),
  card: ModelCard,
});

export const ModelView = Type.Object({
  id: Type.String(),
  workspaceId: Type.String(),
  key: Type.String(),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  target: Type.Unknown(),
  population: Type.Union([Type.String(), Type.Null()]),
  purpose: Type.String(),
  rescoreHours: Type.Integer(),
  status: Type.Union([Type.Literal('untrained'), Type.Literal('active'), Type.Literal('not_better_than_chance')], {
    description: 'Of the latest version; scores come from the latest active version only.',
  }),
  activeVersion: Type.Union([Type.Integer(), Type.Null()]),
  lastScoredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  scoredProfiles: Type.Integer(),
  card: Type.Union([ModelCard, Type.Null()], { description: 'The latest version\'s model card.' }),
  versions: Type.Array(Type.Object({ version: Type.Integer(), trainedAt: Type.String(), status: Type.String(), auc: Type.Number() })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type ModelViewT = Static<typeof ModelView>;

/** A definition as stored and run. Times in ms. */
export interface ModelDefinition {
  id: string;
  workspaceId: string;
  key: string;
  name: string;
  description?: string;
  target: ModelTargetT;
  population?: string;
  purpose: string;
  rescoreHours: number;
  createdAt: number;
  updatedAt: number;
}

export const DEFAULT_PURPOSE = 'analytics';
export const DEFAULT_RESCORE_HOURS = 24;
