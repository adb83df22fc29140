/**
 * The tracking pixel for places without JavaScript (emails, AMP, noscript):
 * `GET /v1/pixel.gif?data=<base64 JSON event>&writeKey=...` (type from the event, default track)
 * and Segment's `GET /v1/pixel/{type}?data=...` (write key inside the data or as a parameter).
 * A stored hit answers a 1×1 transparent GIF that is never cached.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EVENT_TYPES, type EventType } from '../../protocol/event.js';
import { EnsembleError } from '../../protocol/errors.js';
import type { IngestRouteDeps } from './ingest.js';
import { authenticate, sendResult } from './respond.js';

/** The smallest valid transparent GIF89a. */
export const TRANSPARENT_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

function decodeData(data: unknown): Record<string, unknown> {
  if (typeof data !== 'string' || data === '') throw new EnsembleError('ENSEMBLE_ERR_PIXEL_DATA', 'The pixel needs a `data` parameter.');
  try {
    const parsed: unknown = JSON.parse(Buffer.from(data.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // falls through to the error below
  }
  throw new EnsembleError('ENSEMBLE_ERR_PIXEL_DATA');
}

export function registerPixel(app: FastifyInstance, deps: IngestRouteDeps): void {
  const handle = (fixedType: EventType | null) => async (req: FastifyRequest, reply: FastifyReply) => {
    const query = req.query as Record<string, unknown>;
    const event = decodeData(query.data);
    const key = typeof query.writeKey === 'string' ? query.writeKey : typeof event.writeKey === 'string' ? event.writeKey : null;
    const source = authenticate(deps.sources, key, deps.clock.now());
    const type = fixedType ?? (typeof event.type === 'string' ? null : 'track');
    const result = await deps.collector.ingest({ source, events: [event], type, envelope: {}, requestIp: req.ip });
    if (result.accepted === 0 && result.duplicates === 0) return sendResult(reply, result, true);
    return reply.code(200).header('content-type', 'image/gif').header('cache-control', 'no-store, max-age=0').send(TRANSPARENT_GIF);
  };
  app.get('/v1/pixel.gif', { schema: { tags: ['ingest'], summary: 'Tracking pixel: ?data=<base64 JSON event>&writeKey=...', security: [] } }, handle(null));
  app.get<{ Params: { type: string } }>('/v1/pixel/:type', { schema: { hide: true } }, async (req, reply) => {
    const type = req.params.type;
    if (!(EVENT_TYPES as readonly string[]).includes(type)) throw new EnsembleError('ENSEMBLE_ERR_EVENT_TYPE', `Unknown event type "${type}".`);
    return handle(type as EventType)(req, reply);
  });
}
