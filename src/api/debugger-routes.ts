/**
 * The live event debugger of a source: `GET /api/workspaces/{ws}/sources/{sourceId}/debugger`
 * streams Server-Sent Events, one `data:` JSON line per accepted or rejected event as the
 * collector sees it (analytics/debugger-tap.ts says what is kept and for how long); `.../recent`
 * answers the last 100 as JSON. Opening either arms the tap for the source.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { EnsembleError } from '../protocol/errors.js';
import type { DebuggerTap, TapEntry } from '../analytics/debugger-tap.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const SourceParams = Type.Object({ ws: Type.String(), sourceId: Type.String() });
const Entry = Type.Object({
  status: Type.Union([Type.Literal('accepted'), Type.Literal('rejected')]),
  messageId: Type.Optional(Type.String()), type: Type.Optional(Type.String()), event: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  code: Type.Optional(Type.String()), message: Type.Optional(Type.String()), receivedAt: Type.String(),
});
/** A comment line now and then keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

export function registerDebuggerRoutes(app: FastifyInstance, deps: { catalog: Catalog; tap: DebuggerTap }): void {
  const sourceOf = (ws: string, id: string) => {
    deps.catalog.workspace(ws);
    const s = deps.catalog.sources.get(id);
    if (!s || s.workspaceId !== ws) throw new EnsembleError('ENSEMBLE_ERR_SOURCE_NOT_FOUND');
    return s;
  };

  app.get<{ Params: Static<typeof SourceParams> }>('/api/workspaces/:ws/sources/:sourceId/debugger/recent', {
    schema: { tags: ['sources'], summary: 'The last 100 events the source\'s requests brought, accepted or rejected (personal values masked)', params: SourceParams,
      response: { 200: Type.Object({ items: Type.Array(Entry) }), ...errors } },
  }, async (req) => ({ items: deps.tap.watch(sourceOf(req.params.ws, req.params.sourceId).id) }));

  app.get<{ Params: Static<typeof SourceParams> }>('/api/workspaces/:ws/sources/:sourceId/debugger', {
    schema: { tags: ['sources'], summary: 'Live event debugger: Server-Sent Events, one JSON per accepted or rejected event', params: SourceParams, response: errors },
  }, async (req, reply) => {
    const source = sourceOf(req.params.ws, req.params.sourceId);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 3000\n\n');
    const send = (e: TapEntry) => { res.write(`data: ${JSON.stringify(e)}\n\n`); };
    const stop = deps.tap.subscribe(source.id, send, () => res.end());
    const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    beat.unref();
    req.raw.on('close', () => {
      clearInterval(beat);
      stop();
    });
  });
}
