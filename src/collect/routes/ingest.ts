/**
 * The Segment-compatible HTTP API: `POST /v1/batch`, `/v1/{track,identify,page,screen,group,alias}`,
 * the analytics.js short paths `/v1/{t,i,p,s,g,a,b}`, and the GET pixel. A 2xx is sent only after
 * the accepted events are durably committed.
 *
 * Answers: 200 `{ success, accepted, duplicates, rejected: [{index, code, message}] }` when at
 * least one event was accepted or deduplicated; 400 when none was (`ENSEMBLE_ERR_BATCH_REJECTED`,
 * or the single event's own code); 401 for a missing/unknown write key; 429 with Retry-After
 * under overload.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, sendResult } from './respond.js';
import { EVENT_TYPES, SHORT_PATHS, type EventType } from '../../protocol/event.js';
import { EnsembleError } from '../../protocol/errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Collector, IngestRequest } from '../collector.js';
import type { SourceRegistry } from '../source-registry.js';
import { parseBody, writeKeyOf } from './body.js';
import { registerCors } from './cors.js';
import { registerPixel } from './pixel.js';

export interface IngestRouteDeps {
  collector: Collector;
  sources: SourceRegistry;
  clock: Clock;
  maxBatchBytes: number;
}

export async function registerIngestRoutes(app: FastifyInstance, deps: IngestRouteDeps): Promise<void> {
  // JSON arrives as text/plain, with no Content-Type, or gzipped: take every body as bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxBatchBytes }, (_req, body, done) => done(null, body));
  registerCors(app, '/v1');

  const handle = (type: EventType | 'batch') => async (req: FastifyRequest, reply: FastifyReply) => {
    const body = await parseBody(req.body as Buffer | undefined, req.headers['content-encoding'] as string | undefined, deps.maxBatchBytes);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new EnsembleError('ENSEMBLE_ERR_BATCH_INVALID', 'The body must be a JSON object.');
    const source = authenticate(deps.sources, writeKeyOf(req.headers, body), deps.clock.now());
    const envelope = body as Record<string, unknown>;
    let request: IngestRequest;
    if (type === 'batch') {
      const batch = envelope.batch;
      if (!Array.isArray(batch)) throw new EnsembleError('ENSEMBLE_ERR_BATCH_INVALID');
      request = { source, events: batch, type: null, envelope: { sentAt: envelope.sentAt, context: envelope.context, integrations: envelope.integrations }, requestIp: req.ip };
    } else {
      request = { source, events: [body], type, envelope: {}, requestIp: req.ip };
    }
    return sendResult(reply, await deps.collector.ingest(request), type !== 'batch');
  };

  for (const type of [...EVENT_TYPES, 'batch'] as const) app.post(`/v1/${type}`, handle(type));
  for (const [short, type] of Object.entries(SHORT_PATHS)) app.post(`/v1/${short}`, handle(type));
  registerPixel(app, deps);
}
