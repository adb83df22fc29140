/**
 * Inbound hooks through the admin API: create (the secret is in the answer, once), list, delete.
 * A hook belongs to a source: the source's declared purposes apply to what it brings.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { HookRegistry } from '../collect/import/hooks.js';
import { MappingSchema } from '../collect/import/mapping.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';

const Params = Type.Object({ ws: Type.String(), sourceId: Type.String() });
const HookParams = Type.Object({ ws: Type.String(), hookId: Type.String() });
const Hook = Type.Object({ id: Type.String(), sourceId: Type.String(), mapping: MappingSchema, createdAt: Type.Integer() });

export function registerHookAdminRoutes(app: FastifyInstance, deps: { catalog: Catalog; hooks: HookRegistry }): void {
  app.post<{ Params: Static<typeof Params>; Body: { mapping: unknown } }>('/api/workspaces/:ws/sources/:sourceId/hooks', {
    schema: { tags: ['imports'], summary: 'Create an inbound webhook for a source; the answer holds its secret, shown only once', params: Params,
      body: Type.Object({ mapping: Type.Unknown() }), response: { 201: Type.Object({ hook: Hook, secret: Type.String(), url: Type.String() }), 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse } },
  }, async (req, reply) => {
    const source = deps.catalog.source(req.params.ws, req.params.sourceId);
    const { hook, secret } = await deps.hooks.create(source.workspaceId, source.id, req.body.mapping);
    return reply.code(201).send({ hook, secret, url: `/v1/hooks/${hook.id}` });
  });
  app.get<{ Params: { ws: string } }>('/api/workspaces/:ws/hooks', {
    schema: { tags: ['imports'], summary: 'The workspace\'s inbound webhooks', params: Type.Object({ ws: Type.String() }), response: { 200: Type.Object({ hooks: Type.Array(Hook) }), 401: ErrorResponse, 404: ErrorResponse } },
  }, async (req) => {
    deps.catalog.workspace(req.params.ws);
    return { hooks: deps.hooks.list(req.params.ws) };
  });
  app.delete<{ Params: Static<typeof HookParams> }>('/api/workspaces/:ws/hooks/:hookId', {
    schema: { tags: ['imports'], summary: 'Delete an inbound webhook', params: HookParams, response: { 204: Type.Null(), 401: ErrorResponse, 404: ErrorResponse } },
  }, async (req, reply) => {
    deps.catalog.workspace(req.params.ws);
    await deps.hooks.remove(req.params.ws, req.params.hookId);
    return reply.code(204).send();
  });
}
