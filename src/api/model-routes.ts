/**
 * Admin routes of predictive models (docs/predictive.md): define, train (answers the new version
 * with its model card), read the scores and their distribution, and a profile's scores with the
 * features that contributed most (the logic of profiling, GDPR art. 15(1)(h)).
 *
 * @example
 *   POST /api/workspaces/ws_1/models { "key": "crm_churn", "name": "CRM churn", "target": { "kind": "label", "trait": "churned" } }
 *   POST /api/workspaces/ws_1/models/crm_churn/train       // 201 { version: 1, status: 'active', card: {...} }
 *   GET  /api/workspaces/ws_1/profiles/pr_1/scores          // [{ modelId, score, decile, explanation }]
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ModelInput, ModelUpdate, ModelVersionView, ModelView, type ModelInputT, type ModelUpdateT, type ModelViewT } from '../predict/model-types.js';
import type { ModelService, ModelState } from '../predict/model-service.js';
import type { StoredVersion } from '../storage/duckdb/model-store.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';
import { EnsembleError } from '../protocol/errors.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const IdParams = Type.Object({ ws: Type.String(), id: Type.String({ description: 'The model id or key.' }) });
const ProfileParams = Type.Object({ ws: Type.String(), profileId: Type.String() });
const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'The `nextCursor` of the previous page.' })),
});
const Explanation = Type.Array(Type.Object({ feature: Type.String(), contribution: Type.Number() }), {
  description: 'The features that moved this score most: logistic regression, coefficient × standardised value (log-odds); random forest, path contributions (probability).',
});
const ScoresPage = Type.Object({
  items: Type.Array(Type.Object({ profileId: Type.String(), score: Type.Number(), decile: Type.Integer() })),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
const Distribution = Type.Object({
  deciles: Type.Array(Type.Object({ decile: Type.Integer(), count: Type.Integer(), min: Type.Number(), max: Type.Number() })),
  histogram: Type.Array(Type.Object({ bin: Type.Number({ description: 'Lower edge of a twentieth of [0, 1].' }), count: Type.Integer() })),
});
const ProfileScores = Type.Array(Type.Object({ modelId: Type.String(), modelKey: Type.String(), score: Type.Number(), decile: Type.Integer(), explanation: Explanation }));

export interface ModelRouteDeps {
  catalog: Pick<Catalog, 'workspace'>;
  service: ModelService;
  /** The live profile of the workspace behind a profile id (merges), or undefined. */
  live(workspaceId: string, profileId: string): string | undefined;
}

export function registerModelRoutes(app: FastifyInstance, deps: ModelRouteDeps): void {
  const { catalog, service } = deps;
  const iso = (t: number) => new Date(t).toISOString();
  const versionView = (v: StoredVersion) => ({ version: v.version, trainedAt: iso(v.trainedAt), status: v.status, card: v.card });
  const view = (m: ModelState): ModelViewT => {
    const { def } = m;
    const latest = m.versions.at(-1);
    const scoredAt = service.book.scoredAt(def.workspaceId, def.id);
    return {
      id: def.id, workspaceId: def.workspaceId, key: def.key, name: def.name, ...(def.description === undefined ? {} : { description: def.description }),
      target: def.target, population: def.population ?? null, purpose: def.purpose, rescoreHours: def.rescoreHours,
      status: latest?.status ?? 'untrained', activeVersion: m.activeVersion,
      lastScoredAt: scoredAt === null ? null : iso(scoredAt), scoredProfiles: service.book.entries(def.workspaceId, def.id).size,
      card: latest?.card ?? null,
      versions: m.versions.map((v) => ({ version: v.version, trainedAt: iso(v.trainedAt), status: v.status, auc: v.card.auc })),
      createdAt: iso(def.createdAt), updatedAt: iso(def.updatedAt),
    };
  };

  app.post<{ Params: Static<typeof WsParams>; Body: ModelInputT }>('/api/workspaces/:ws/models', {
    schema: { tags: ['models'], summary: 'Define a predictive model (propensity, churn, lookalike or label target); train it with POST .../train', params: WsParams, body: ModelInput, response: { 201: ModelView, ...errors } },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    const def = await service.create(req.params.ws, req.body);
    return reply.code(201).send(view(service.get(req.params.ws, def.id)));
  });

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/models', {
    schema: { tags: ['models'], summary: 'Predictive models of the workspace, each with its latest model card', params: WsParams, response: { 200: Type.Object({ models: Type.Array(ModelView) }), ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return { models: service.list(req.params.ws).map(view) };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/models/:id', {
    schema: { tags: ['models'], summary: 'One model (by id or key) with its latest model card and its versions', params: IdParams, response: { 200: ModelView, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return view(service.get(req.params.ws, req.params.id));
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: ModelUpdateT }>('/api/workspaces/:ws/models/:id', {
    schema: { tags: ['models'], summary: 'Change a model\'s name, description, population, purpose or rescore interval (the target and key are fixed: define a new model)', params: IdParams, body: ModelUpdate, response: { 200: ModelView, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    const def = await service.update(req.params.ws, req.params.id, req.body);
    return view(service.get(req.params.ws, def.id));
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/models/:id', {
    schema: { tags: ['models'], summary: 'Delete a model, its versions and its scores (score conditions on it then match no one)', params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    await service.delete(req.params.ws, req.params.id);
    return reply.code(204).send();
  });

  app.post<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/models/:id/train', {
    schema: {
      tags: ['models'], summary: 'Train a new version now; answers it with its model card. A version better than chance is activated and scores the population',
      params: IdParams, response: { 201: ModelVersionView, ...errors },
    },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    return reply.code(201).send(versionView(await service.train(req.params.ws, req.params.id)));
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof PageQuery> }>('/api/workspaces/:ws/models/:id/scores', {
    schema: { tags: ['models'], summary: 'The latest scores, highest first (paginated)', params: IdParams, querystring: PageQuery, response: { 200: ScoresPage, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    const m = service.get(req.params.ws, req.params.id);
    const limit = req.query.limit ?? 100;
    const offset = req.query.cursor === undefined ? 0 : Number.parseInt(req.query.cursor, 10);
    const all = [...service.book.entries(m.def.workspaceId, m.def.id)].sort((a, b) => b[1].score - a[1].score || (a[0] < b[0] ? -1 : 1));
    const start = Number.isFinite(offset) && offset > 0 ? offset : 0;
    const items = all.slice(start, start + limit).map(([profileId, s]) => ({ profileId, score: s.score, decile: s.decile }));
    return { items, nextCursor: start + limit < all.length ? String(start + limit) : null };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/models/:id/distribution', {
    schema: { tags: ['models'], summary: 'How the latest scores are distributed: per decile and in twentieths of [0, 1]', params: IdParams, response: { 200: Distribution, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    const m = service.get(req.params.ws, req.params.id);
    const byDecile = new Map<number, { count: number; min: number; max: number }>();
    const histogram = new Array<number>(20).fill(0);
    for (const s of service.book.entries(m.def.workspaceId, m.def.id).values()) {
      const d = byDecile.get(s.decile) ?? { count: 0, min: Infinity, max: -Infinity };
      d.count++; d.min = Math.min(d.min, s.score); d.max = Math.max(d.max, s.score);
      byDecile.set(s.decile, d);
      const bin = Math.min(19, Math.floor(s.score * 20));
      histogram[bin] = (histogram[bin] as number) + 1;
    }
    return {
      deciles: [...byDecile].sort((a, b) => a[0] - b[0]).map(([decile, d]) => ({ decile, ...d })),
      histogram: histogram.map((count, i) => ({ bin: i / 20, count })),
    };
  });

  app.get<{ Params: Static<typeof ProfileParams> }>('/api/workspaces/:ws/profiles/:profileId/scores', {
    schema: { tags: ['models'], summary: 'The profile\'s scores from every model, each with the features that contributed most', params: ProfileParams, response: { 200: ProfileScores, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    const pid = deps.live(req.params.ws, req.params.profileId);
    if (pid === undefined) throw new EnsembleError('ENSEMBLE_ERR_PROFILE_NOT_FOUND');
    return service.book.scoresOf(req.params.ws, pid).map((s) => ({ modelId: s.modelId, modelKey: s.key, score: s.score, decile: s.decile, explanation: s.explanation }));
  });
}
