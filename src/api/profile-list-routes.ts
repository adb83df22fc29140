/**
 * The console's profile list and search: `GET /api/workspaces/{ws}/profiles?search=&limit=&cursor=`.
 * Keyset-paginated by profile id (analytics/profile-search.ts); a search takes any identifier
 * value or a profile id. Personal identifiers are masked unless the caller may see personal data.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { listProfiles, type ProfileListDeps } from '../analytics/profile-search.js';
import type { Catalog } from './catalog.js';
import { canSeePersonalData } from './admin-auth.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const ListQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 320, description: 'An identifier value (e-mail, phone, user id, anonymous id...) or a profile id' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 400 })),
}, { additionalProperties: false });
const ListView = Type.Object({
  items: Type.Array(Type.Object({
    id: Type.String(), createdAt: Type.String(), updatedAt: Type.String(),
    identifiers: Type.Array(Type.Object({ type: Type.String(), value: Type.Union([Type.String(), Type.Null()]) })),
    traitsPreview: Type.Record(Type.String(), Type.Unknown()),
  })),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export function registerProfileListRoutes(app: FastifyInstance, deps: ProfileListDeps & { catalog: Catalog }): void {
  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof ListQuery> }>('/api/workspaces/:ws/profiles', {
    schema: { tags: ['profiles'], summary: 'List profiles (keyset-paginated by id) or find them by any identifier value or id', params: WsParams, querystring: ListQuery, response: { 200: ListView, ...errors } },
  }, async (req) => {
    deps.catalog.workspace(req.params.ws);
    return listProfiles(deps, req.params.ws, req.query, canSeePersonalData(req));
  });
}
