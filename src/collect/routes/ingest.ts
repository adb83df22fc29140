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
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, sendResult } from './respond.js';
import { EVENT_TYPES, SHORT_PATHS, type EventType } from '../../protocol/event.js';
import { EnsembleError } from '../../protocol/errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Collector } from '../collector.js';
import type { SourceRegistry } from '../source-registry.js';
import { prepareBody, type BodyInput, type PrepareSettings } from '../prepare.js';
import type { PreparePool } from '../prepare-pool.js';
import type { IpLookup } from '../steps/ip.js';
import { writeKeyFromHeaders } from './body.js';
import { registerCors } from './cors.js';
import { registerPixel } from './pixel.js';

export interface IngestRouteDeps {
  collector: Collector;
  sources: SourceRegistry;
  clock: Clock;
  settings: PrepareSettings;
  ip: IpLookup;
  /** Worker threads for batches; without it everything is prepared on the request's thread. */
  pool: PreparePool | null;
}

/**
 * Ingest requests log through the server's logger as it is: a per-request child (a pino child
 * with a request id, which nothing reads) cost ~2 % of the server's time under single events.
 */
const sameLogger = (logger: FastifyBaseLogger): FastifyBaseLogger => logger;

/** Smaller bodies are prepared inline: a worker round trip costs more than they do. */
const POOL_MIN_BYTES = 16 * 1024;

export async function registerIngestRoutes(app: FastifyInstance, deps: IngestRouteDeps): Promise<void> {
  // JSON arrives as text/plain, with no Content-Type, or gzipped: take every body as bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.settings.maxBatchBytes }, (_req, body, done) => done(null, body));
  registerCors(app, '/v1');

  const handle = (route: EventType | 'batch') => async (req: FastifyRequest, reply: FastifyReply) => {
    deps.collector.admit(0);
    const now = deps.clock.now();
    const headerKey = writeKeyFromHeaders(req.headers);
    const source = headerKey === null ? null : authenticate(deps.sources, headerKey, now);
    const body = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
    const input: BodyInput = {
      body, contentEncoding: req.headers['content-encoding'] as string | undefined, route,
      source: source && { id: source.id, workspaceId: source.workspaceId }, requestIp: req.ip, receivedAt: now,
    };
    const prepared = source && deps.pool && body.length >= POOL_MIN_BYTES
      ? await deps.pool.run({ input, settings: deps.settings })
      : await prepareBody(input, deps.settings, deps.ip, (key) => authenticate(deps.sources, key, now));
    if (prepared.kind === 'error') {
      if (source) deps.collector.refused(source.id, prepared.code, prepared.message);
      throw new EnsembleError(prepared.code, prepared.message, prepared.details);
    }
    return sendResult(reply, await deps.collector.commit(prepared), route !== 'batch');
  };

  // Documented in OpenAPI by name only: the bodies are the Segment spec's, validated per event.
  const doc = (summary: string) => ({ schema: { tags: ['ingest'], summary, security: [{ writeKey: [] }] }, childLoggerFactory: sameLogger });
  for (const type of EVENT_TYPES) app.post(`/v1/${type}`, doc(`Collect one ${type} event (Segment spec)`), handle(type));
  app.post('/v1/batch', doc('Collect a batch of events: { batch: [...], sentAt?, context? } (Segment spec)'), handle('batch'));
  for (const [short, type] of Object.entries(SHORT_PATHS)) app.post(`/v1/${short}`, { schema: { hide: true }, childLoggerFactory: sameLogger }, handle(type));
  registerPixel(app, deps);
}
