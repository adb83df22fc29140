/**
 * Admin routes for data-subject rights requests: file one (it is carried out at once), read
 * them, and download an access or portability bundle. Every call is in the audit log, as a
 * call about personal data.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { RightsRequestInput, RightsRequestView, rightsRequestView, type RightsRequestInputT } from '../protocol/rights.js';
import { accessBundle, accessBundleHtml, portabilityBundle, type AccessBundleDeps } from '../privacy/access-bundle.js';
import type { RightsService } from '../privacy/rights-service.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';
import { canSeePersonalData } from './admin-auth.js';
import { HTML_CSP } from '../platform/html.js';
import { EnsembleError } from '../protocol/errors.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const RequestParams = Type.Object({ ws: Type.String(), id: Type.String() });
const ListQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) });
const BundleQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('html')], { default: 'json' })) });

export interface RightsRouteDeps {
  catalog: Catalog;
  rights: RightsService;
  bundle: AccessBundleDeps;
  now: () => number;
}

export function registerRightsRoutes(app: FastifyInstance, deps: RightsRouteDeps): void {
  const { catalog, rights } = deps;

  app.post<{ Params: Static<typeof WsParams>; Body: RightsRequestInputT }>('/api/workspaces/:ws/privacy/requests', {
    schema: {
      tags: ['privacy'], summary: 'File a data-subject request (access, portability, rectification, erasure, restriction, objection); it is carried out before the answer',
      params: WsParams, body: RightsRequestInput, response: { 201: RightsRequestView, ...errors },
    },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    return reply.code(201).send(rightsRequestView(await rights.file(req.params.ws, req.body)));
  });

  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof ListQuery> }>('/api/workspaces/:ws/privacy/requests', {
    schema: { tags: ['privacy'], summary: 'The workspace\'s rights requests, newest first, with their status and due date', params: WsParams, querystring: ListQuery, response: { 200: Type.Object({ requests: Type.Array(RightsRequestView) }), ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return { requests: (await rights.list(req.params.ws, req.query.limit ?? 100)).map(rightsRequestView) };
  });

  app.get<{ Params: Static<typeof RequestParams> }>('/api/workspaces/:ws/privacy/requests/:id', {
    schema: { tags: ['privacy'], summary: 'One rights request: status, due date, result (the receipt of an erasure) and trail', params: RequestParams, response: { 200: RightsRequestView, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return rightsRequestView(await rights.get(req.params.ws, req.params.id));
  });

  app.get<{ Params: Static<typeof RequestParams>; Querystring: Static<typeof BundleQuery> }>('/api/workspaces/:ws/privacy/requests/:id/bundle', {
    schema: {
      tags: ['privacy'], summary: 'The data of an access request (JSON, or HTML for the person) or of a portability request (JSON), built from the live data',
      params: RequestParams, querystring: BundleQuery, response: { ...errors },
    },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    // The bundle is the person's data in clear: only roles that see personal data (admin, dpo).
    if (!canSeePersonalData(req)) throw new EnsembleError('ENSEMBLE_ERR_FORBIDDEN', 'Only the admin and DPO roles can download a bundle of personal data.');
    const { request, profile } = await rights.subject(req.params.ws, req.params.id);
    const bundle = await accessBundle(deps.bundle, profile, request.id, deps.now());
    reply.header('content-disposition', `attachment; filename="${request.id}.${req.query.format === 'html' ? 'html' : 'json'}"`);
    if (request.type === 'portability') return reply.type('application/json').send(JSON.stringify(portabilityBundle(bundle)));
    if (req.query.format === 'html') {
      return reply.header('content-security-policy', HTML_CSP).header('x-content-type-options', 'nosniff').type('text/html; charset=utf-8').send(accessBundleHtml(bundle));
    }
    return reply.type('application/json').send(JSON.stringify(bundle));
  });
}
