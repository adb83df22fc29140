/**
 * Admin routes for purposes, the consent mapping, and a profile's consents. Changing a purpose,
 * the mapping or a consent is a configuration or personal-data change: the audit log records
 * each call (api/audit-hook.ts).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import {
  ConsentsInput, ConsentsView, PurposeInput, PurposeView, RetentionPolicy, SensitiveData,
  type ConsentRecord, type ConsentsInputT, type PurposeInputT,
} from '../protocol/privacy.js';
import { ConsentMapping } from '../privacy/consent-mapping.js';
import type { PrivacySettings } from '../privacy/privacy-settings.js';
import type { ConsentService } from '../privacy/consent-service.js';
import type { DuckDbConsentStore } from '../storage/duckdb/consent-store.js';
import type { RetentionJob } from '../privacy/retention.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';
import { liveProfileOf } from './profile-routes.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const PurposeParams = Type.Object({ ws: Type.String(), purposeId: Type.String() });
const ProfileParams = Type.Object({ ws: Type.String(), profileId: Type.String() });
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const CountsQuery = Type.Object({ sourceId: Type.Optional(Type.String()), from: Type.Optional(Day), to: Type.Optional(Day) });
const CountsView = Type.Object({
  counts: Type.Array(Type.Object({ sourceId: Type.String(), day: Type.String(), type: Type.String(), name: Type.String(), count: Type.Integer() })),
});

export interface PrivacyRouteDeps {
  catalog: Catalog;
  memory: ProfileMemory;
  settings: PrivacySettings;
  consents: ConsentService;
  store: DuckDbConsentStore;
  retention: RetentionJob;
  /** Segments follow new special-category tags (their members may change). */
  reclassify(workspaceId: string): Promise<void>;
}

export function consentRecordView(r: ConsentRecord): Static<typeof ConsentsView>['history'][number] {
  return {
    id: r.id, purpose: r.purpose, status: r.status, at: new Date(r.at).toISOString(), recordedAt: new Date(r.recordedAt).toISOString(),
    source: r.source, proof: { ...r.proof },
  };
}

async function consentsView(deps: PrivacyRouteDeps, ws: string, profileId: string): Promise<Static<typeof ConsentsView>> {
  const { current, history } = await deps.consents.history(ws, profileId);
  return {
    profileId,
    current: Object.fromEntries([...current].map(([purpose, r]) => [purpose, consentRecordView(r)])),
    history: history.map(consentRecordView),
  };
}

export function registerPrivacyRoutes(app: FastifyInstance, deps: PrivacyRouteDeps): void {
  const { catalog, settings } = deps;

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/privacy/purposes', {
    schema: { tags: ['privacy'], summary: 'The purposes of processing, with their legal basis', params: WsParams, response: { 200: Type.Object({ purposes: Type.Array(PurposeView) }), ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return { purposes: settings.purposes(req.params.ws) };
  });

  app.put<{ Params: Static<typeof PurposeParams>; Body: PurposeInputT }>('/api/workspaces/:ws/privacy/purposes/:purposeId', {
    schema: { tags: ['privacy'], summary: 'Create a purpose, or describe one again (built-in ones keep their id)', params: PurposeParams, body: PurposeInput, response: { 200: PurposeView, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return settings.putPurpose(req.params.ws, req.params.purposeId, req.body);
  });

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/privacy/consent-mapping', {
    schema: { tags: ['privacy'], summary: 'How CMP categories and IAB TCF purposes map to this workspace\'s purposes', params: WsParams, response: { 200: ConsentMapping, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return settings.mapping(req.params.ws);
  });

  app.put<{ Params: Static<typeof WsParams>; Body: unknown }>('/api/workspaces/:ws/privacy/consent-mapping', {
    // Validated by the settings, which also check that every purpose named exists.
    schema: { tags: ['privacy'], summary: 'Replace the consent mapping (applies to events processed from now on)', params: WsParams, body: ConsentMapping, response: { 200: ConsentMapping, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return settings.setMapping(req.params.ws, req.body);
  });

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/privacy/retention', {
    schema: { tags: ['privacy'], summary: 'How long each category of data is kept, in days', params: WsParams, response: { 200: RetentionPolicy, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return settings.retention(req.params.ws);
  });

  app.put<{ Params: Static<typeof WsParams>; Body: unknown }>('/api/workspaces/:ws/privacy/retention', {
    schema: { tags: ['privacy'], summary: 'Replace the retention periods (applied by the next daily run)', params: WsParams, body: RetentionPolicy, response: { 200: RetentionPolicy, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return settings.setRetention(req.params.ws, req.body);
  });

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/privacy/sensitive-data', {
    schema: { tags: ['privacy'], summary: 'Traits and event properties tagged as special-category data (art. 9)', params: WsParams, response: { 200: SensitiveData, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return settings.sensitive(req.params.ws);
  });

  app.put<{ Params: Static<typeof WsParams>; Body: unknown }>('/api/workspaces/:ws/privacy/sensitive-data', {
    schema: {
      tags: ['privacy'], summary: 'Tag traits and event properties as special-category data; segments reading them then need explicit consent and a DPO approval',
      params: WsParams, body: SensitiveData, response: { 200: SensitiveData, ...errors },
    },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    const tags = await settings.setSensitive(req.params.ws, req.body);
    await deps.reclassify(req.params.ws);
    return tags;
  });

  app.post<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/privacy/retention/run', {
    schema: {
      tags: ['privacy'], summary: 'Apply the retention periods now (the daily job does it too); answers what was deleted',
      params: WsParams,
      response: {
        200: Type.Object({ workspaceId: Type.String(), at: Type.String(), events: Type.Integer(), rawIps: Type.Integer(), profiles: Type.Integer(), consentProofs: Type.Integer(), anonymousCounts: Type.Integer() }),
        ...errors,
      },
    },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return deps.retention.runNow(req.params.ws);
  });

  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof CountsQuery> }>('/api/workspaces/:ws/privacy/anonymous-counts', {
    schema: {
      tags: ['privacy'], summary: 'What strict sources kept of visitors without analytics consent: event counts per day, type and name (at most 10,000 rows)',
      params: WsParams, querystring: CountsQuery, response: { 200: CountsView, ...errors },
    },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    const q = req.query;
    return { counts: await deps.store.anonymousCounts(req.params.ws, q.sourceId ?? null, q.from ?? null, q.to ?? null) };
  });

  app.get<{ Params: Static<typeof ProfileParams> }>('/api/workspaces/:ws/profiles/:profileId/consents', {
    schema: { tags: ['privacy'], summary: 'A profile\'s consent in force per purpose, and its whole history with proofs', params: ProfileParams, response: { 200: ConsentsView, ...errors } },
  }, async (req) => {
    const p = liveProfileOf(deps, req.params.ws, req.params.profileId);
    return consentsView(deps, p.workspaceId, p.id);
  });

  app.put<{ Params: Static<typeof ProfileParams>; Body: ConsentsInputT }>('/api/workspaces/:ws/profiles/:profileId/consents', {
    schema: {
      tags: ['privacy'], summary: 'Record consent decisions for a profile (a preference centre, a signed form); history is never rewritten',
      params: ProfileParams, body: ConsentsInput, response: { 200: ConsentsView, ...errors },
    },
  }, async (req) => {
    const p = liveProfileOf(deps, req.params.ws, req.params.profileId);
    await deps.consents.record(p.workspaceId, p.id, req.body);
    return consentsView(deps, p.workspaceId, p.id);
  });
}
