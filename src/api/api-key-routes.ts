/**
 * API keys (admin only, by the route policy): bearer tokens with one role each, for scripts and
 * integrations. The token is in the creation answer only; afterwards only its digest exists.
 *
 * @example
 *   POST /api/api-keys {"name":"BI export","role":"analyst"} → 201 {id, name, role, token: "ens_key_…"}
 *   curl -H "authorization: Bearer ens_key_…" …/api/workspaces/ws_1/segments
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ErrorResponse } from './error-handler.js';
import { RoleSchema } from './auth-routes.js';
import { actorOf } from './admin-auth.js';
import type { ApiKeyService } from '../auth/api-keys.js';

const IdParams = Type.Object({ id: Type.String() });
const KeyBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), role: RoleSchema }, { additionalProperties: false });
const KeyView = Type.Object({ id: Type.String(), name: Type.String(), role: RoleSchema, createdAt: Type.String(), createdBy: Type.String() });
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

export function registerApiKeyRoutes(app: FastifyInstance, deps: { apiKeys: ApiKeyService }): void {
  app.get('/api/api-keys', {
    schema: { tags: ['users'], summary: 'List API keys (never their tokens)', response: { 200: Type.Object({ keys: Type.Array(KeyView) }), ...errors } },
  }, async () => ({ keys: deps.apiKeys.list() }));

  app.post<{ Body: Static<typeof KeyBody> }>('/api/api-keys', {
    schema: { tags: ['users'], summary: 'Create an API key with a role; the token is shown only in this answer', body: KeyBody,
      response: { 201: Type.Object({ ...KeyView.properties, token: Type.String() }), ...errors } },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return reply.code(201).send(await deps.apiKeys.create(req.body, actorOf(req)));
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/api/api-keys/:id', {
    schema: { tags: ['users'], summary: 'Revoke an API key (at once)', params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (req, reply) => {
    await deps.apiKeys.remove(req.params.id);
    return reply.code(204).send();
  });
}
