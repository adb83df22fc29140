/** Predictive models as the API speaks them (src/predict/model-types.ts is the source of truth). */
export type ModelTarget =
  | { kind: 'propensity'; event: string; withinDays: number; filters?: unknown[] }
  | { kind: 'churn'; event?: string; withinDays: number }
  | { kind: 'lookalike'; segment: string }
  | { kind: 'label'; trait: string; positive?: string | number | boolean };

export interface ModelCard {
  dataWindow: { cutoff: string; labelFrom: string | null; labelTo: string | null; validation: string };
  population: { eligible: number; withoutConsent: number; trainedOn: number; validatedOn: number };
  classBalance: { positives: number; negatives: number; positiveRate: number };
  auc: number;
  aucInterval?: number[];
  chosenAlgorithm: string;
  candidates: Array<{ algorithm: string; auc: number; trainedOnSample?: number }>;
  thresholds: Array<{ threshold: number; precision: number | null; recall: number; flagged?: number }>;
  calibration: Array<{ bin: number; predicted: number; observed: number; count?: number }>;
  topFeatures: Array<{ feature: string; importance: number }>;
  featureCount?: number;
  status: 'active' | 'not_better_than_chance';
  statusReason?: string;
  notes?: string[];
}

export interface ModelView {
  id: string;
  workspaceId: string;
  key: string;
  name: string;
  description?: string;
  target: ModelTarget;
  population: string | null;
  purpose: string;
  rescoreHours: number;
  status: 'untrained' | 'active' | 'not_better_than_chance';
  activeVersion: number | null;
  lastScoredAt: string | null;
  scoredProfiles: number;
  card: ModelCard | null;
  versions: Array<{ version: number; trainedAt: string; status: string; auc: number }>;
  createdAt: string;
  updatedAt: string;
}

export interface Distribution {
  deciles: Array<{ decile: number; count: number; min: number; max: number }>;
  histogram: Array<{ bin: number | string; count: number }>;
}
