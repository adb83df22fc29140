/**
 * `POST /v1/hooks/{hookId}`: a third-party system (payment provider, call centre, shop) posts
 * its own JSON; the hook's mapping turns it into events committed through the collector like
 * any collected event. A 200 means every accepted event is in the durable log; items the
 * mapping cannot read come back in `rejected` (index, field, reason), never dropping the rest.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Clock } from '../../platform/clock.js';
import type { Collector } from '../collector.js';
import type { SourceRef } from '../prepare.js';
import { hookEvents, type HookRegistry } from '../import/hooks.js';
import { ErrorResponse } from '../../api/error-handler.js';

export interface HookRouteDeps {
  hooks: HookRegistry;
  collector: Collector;
  source: (workspaceId: string, sourceId: string) => SourceRef;
  clock: Clock;
}

const Params = Type.Object({ hookId: Type.String({ maxLength: 64 }) });
const Query = Type.Object({ secret: Type.Optional(Type.String({ description: 'the hook secret, when the sender cannot set the x-hook-secret header' })) });
const Result = Type.Object({
  accepted: Type.Integer(), duplicates: Type.Integer(),
  rejected: Type.Array(Type.Object({ index: Type.Integer(), column: Type.Union([Type.String(), Type.Null()]), reason: Type.String() })),
});

export function registerHookRoutes(app: FastifyInstance, deps: HookRouteDeps): void {
  app.post<{ Params: Static<typeof Params>; Querystring: Static<typeof Query>; Body: unknown }>('/v1/hooks/:hookId', {
    bodyLimit: 1024 * 1024,
    schema: { tags: ['collect'], summary: 'Inbound webhook: any JSON body becomes events through the hook\'s mapping', params: Params, querystring: Query,
      response: { 200: Result, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse } },
  }, async (req) => {
    const header = req.headers['x-hook-secret'];
    const hook = deps.hooks.authenticate(req.params.hookId, typeof header === 'string' ? header : req.query.secret);
    const { events, rejected } = hookEvents(hook, req.body);
    const source = deps.source(hook.workspaceId, hook.sourceId);
    const r = events.length > 0 ? await deps.collector.ingest({ source, events, type: null, envelope: {}, requestIp: req.ip }) : { accepted: 0, duplicates: 0, rejected: [] };
    return { accepted: r.accepted, duplicates: r.duplicates, rejected: [...rejected, ...r.rejected.map((x) => ({ index: x.index, column: null, reason: `${x.code}: ${x.message}` }))] };
  });
}
