/**
 * Admin routes of external data sources: define an HTTP JSON source and its mapping, see its
 * status, pull it now, and read what it holds. Header values (API keys) are write-only.
 *
 * @example
 *   POST /api/workspaces/ws_1/external-sources { "id": "weather", "url": "https://…?q={key}", "keys": ["Paris"], ... }
 *   POST /api/workspaces/ws_1/external-sources/weather/pull      // { "outcome": "ok", "itemCount": 1, ... }
 *   GET  /api/workspaces/ws_1/external-sources/weather/values?key=paris
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import {
  ExternalSourceInput, ExternalSourceUpdate, ExternalSourceView, ExternalValuesView, PullResultView,
  type ExternalSourceInputT, type ExternalSourceUpdateT,
} from '../protocol/external.js';
import type { ExternalSource } from '../external/external-sources.js';
import { externalKey } from '../external/external-values.js';
import type { ExternalWiring } from '../main/external.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const IdParams = Type.Object({ ws: Type.String(), id: Type.String() });
const ValuesQuery = Type.Object({
  key: Type.Optional(Type.String({ maxLength: 200, description: 'One key (compared trimmed and lower-cased); all keys when absent.' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
});

export interface ExternalSourceRouteDeps {
  catalog: Pick<Catalog, 'workspace'>;
  external: ExternalWiring;
}

export function registerExternalSourceRoutes(app: FastifyInstance, deps: ExternalSourceRouteDeps): void {
  const { catalog, external } = deps;
  const { definitions, scheduler } = external;
  const iso = (t: number | null) => (t === null || !Number.isFinite(t) ? null : new Date(t).toISOString());
  const view = (s: ExternalSource) => {
    const st = scheduler.status(s.workspaceId, s.id);
    return {
      ...definitions.view(s),
      status: { lastPullAt: iso(st.lastPullAt), lastSuccessAt: iso(st.lastSuccessAt), lastOutcome: st.lastOutcome, lastError: st.lastError, itemCount: st.itemCount, nextPullAt: iso(st.nextPullAt) },
    };
  };

  app.post<{ Params: Static<typeof WsParams>; Body: ExternalSourceInputT }>('/api/workspaces/:ws/external-sources', {
    schema: {
      tags: ['external'], summary: 'Define an external data source (HTTP JSON pulled every everySeconds); its first pull starts at once',
      params: WsParams, body: ExternalSourceInput, response: { 201: ExternalSourceView, ...errors },
    },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    const s = await definitions.create(req.params.ws, req.body);
    scheduler.changed(s);
    return reply.code(201).send(view(s));
  });

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/external-sources', {
    schema: { tags: ['external'], summary: 'External data sources of the workspace, with the status of their last pull (header values masked)', params: WsParams, response: { 200: Type.Object({ externalSources: Type.Array(ExternalSourceView) }), ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return { externalSources: definitions.list(req.params.ws).map(view) };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/external-sources/:id', {
    schema: { tags: ['external'], summary: 'One external data source with its status (header values masked)', params: IdParams, response: { 200: ExternalSourceView, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return view(definitions.get(req.params.ws, req.params.id));
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: ExternalSourceUpdateT }>('/api/workspaces/:ws/external-sources/:id', {
    schema: {
      tags: ['external'], summary: 'Change an external data source: given fields replace; header values sent as •••• keep the stored ones; pulled again at once',
      params: IdParams, body: ExternalSourceUpdate, response: { 200: ExternalSourceView, ...errors },
    },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    const { ws, id } = req.params;
    const s = await definitions.update(ws, id, req.body);
    scheduler.changed(s);
    return view(s);
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/external-sources/:id', {
    schema: { tags: ['external'], summary: 'Delete an external data source and every value it held', params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    const { ws, id } = req.params;
    definitions.get(ws, id);
    await scheduler.forget(ws, id);
    try {
      await definitions.delete(ws, id);
    } catch (err) {
      scheduler.resume(ws, id);
      throw err;
    }
    scheduler.removed(ws, id);
    return reply.code(204).send();
  });

  app.post<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/external-sources/:id/pull', {
    schema: {
      tags: ['external'], summary: 'Pull now and answer the result (a pull already running is joined); a failed pull keeps the previous values',
      params: IdParams, response: { 200: PullResultView, ...errors },
    },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return scheduler.pull(req.params.ws, req.params.id);
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ValuesQuery> }>('/api/workspaces/:ws/external-sources/:id/values', {
    schema: { tags: ['external'], summary: 'The values an external source holds, per key (keys normalised)', params: IdParams, querystring: ValuesQuery, response: { 200: ExternalValuesView, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    const { ws, id } = req.params;
    definitions.get(ws, id);
    const held = scheduler.held(ws, id);
    const wanted = req.query.key === undefined ? null : externalKey(req.query.key);
    const one = wanted === null ? undefined : held.get(wanted);
    const entries = wanted === null ? [...held].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : one ? [[wanted, one] as const] : [];
    return {
      values: entries.slice(0, req.query.limit ?? 1000).map(([key, v]) => ({ key, fields: Object.fromEntries(v.fields), fetchedAt: new Date(v.fetchedAt).toISOString() })),
    };
  });
}
