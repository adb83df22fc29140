/**
 * `GET /v1/personalize?anonymousId=…` (or `userId=…`), authenticated by the source's write key
 * (query `writeKey`, Basic auth or `X-Write-Key`), readable from any site (CORS): the visitor's
 * segments and exposed traits, from memory, only with `personalization` consent. Never cached.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Clock } from '../../platform/clock.js';
import { PersonalizationAnswer, personalize, type PersonalizeDeps } from '../../activate/personalization.js';
import type { SourceRegistry } from '../source-registry.js';
import { writeKeyFromHeaders } from './body.js';
import { authenticate } from './respond.js';

const Query = Type.Object({
  anonymousId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  userId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  writeKey: Type.Optional(Type.String({ maxLength: 200 })),
});

export function registerPersonalize(app: FastifyInstance, deps: PersonalizeDeps & { sources: SourceRegistry; clock: Clock }): void {
  app.get<{ Querystring: Static<typeof Query> }>('/v1/personalize', {
    schema: {
      tags: ['personalization'], summary: "The visitor's segments and exposed traits (with personalization consent)", security: [{ writeKey: [] }],
      querystring: Query, response: { 200: PersonalizationAnswer },
    },
  }, async (req, reply) => {
    const origin = req.headers.origin;
    reply.header('access-control-allow-origin', typeof origin === 'string' && origin ? origin : '*').header('vary', 'Origin').header('cache-control', 'no-store');
    const source = authenticate(deps.sources, req.query.writeKey ?? writeKeyFromHeaders(req.headers), deps.clock.now());
    return personalize(deps, source.workspaceId, { ...(req.query.anonymousId ? { anonymousId: req.query.anonymousId } : {}), ...(req.query.userId ? { userId: req.query.userId } : {}) });
  });
}
