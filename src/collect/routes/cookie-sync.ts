/**
 * Cookie sync: how a DMP learns a partner's (DSP, SSP) user id for its visitor. The site's tag
 * loads `GET /v1/sync/{partner}?writeKey=…&anonymousId=…`; Ensemble redirects to the partner's
 * user-sync URL with its own return URL; the partner redirects back with its user id in `uid`,
 * and Ensemble stores it as an identifier of the visitor's profile (type `<partner>_id`, through
 * the collector like any event, so it is durable, deduplicated and consent-checked). Audience
 * connectors keyed by partner ids (Xandr) then find it.
 *
 * Syncing serves advertising: it happens only for a visitor whose `advertising` purpose is
 * permitted; otherwise the answer is the same 1×1 GIF and nothing is stored or redirected.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Config } from '../../platform/config.js';
import type { Clock } from '../../platform/clock.js';
import { EnsembleError } from '../../protocol/errors.js';
import type { Collector } from '../collector.js';
import type { SourceRegistry } from '../source-registry.js';
import { TRANSPARENT_GIF } from './pixel.js';
import { authenticate } from './respond.js';

const Params = Type.Object({ partner: Type.String({ maxLength: 40 }) });
const Query = Type.Object({
  writeKey: Type.Optional(Type.String({ maxLength: 200 })),
  anonymousId: Type.Optional(Type.String({ maxLength: 200 })),
  uid: Type.Optional(Type.String({ maxLength: 200 })),
});

export interface CookieSyncDeps {
  partners: Config['activation']['syncPartners'];
  sources: SourceRegistry;
  collector: Collector;
  clock: Clock;
  baseUrl(): string;
  /** Advertising is permitted for the visitor behind this anonymous id. */
  mayAdvertise(workspaceId: string, anonymousId: string): boolean;
  /** Makes sure the workspace knows the identifier type (added on first sync). */
  ensureType(workspaceId: string, type: string): Promise<void>;
}

const PARTNER_UID = /^[A-Za-z0-9._~-]{1,200}$/;

export function registerCookieSync(app: FastifyInstance, deps: CookieSyncDeps): void {
  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof Query> }>('/v1/sync/:partner', {
    schema: { tags: ['ingest'], summary: 'Cookie sync with an ad partner: redirect to the partner, then store its user id', params: Params, querystring: Query, security: [] },
  }, async (req, reply) => {
    const partner = Object.hasOwn(deps.partners, req.params.partner) ? deps.partners[req.params.partner] : undefined;
    if (!partner) throw new EnsembleError('ENSEMBLE_ERR_SYNC_PARTNER_UNKNOWN', `No cookie-sync partner "${req.params.partner}".`);
    const writeKey = req.query.writeKey ?? null;
    const source = authenticate(deps.sources, writeKey, deps.clock.now());
    const anonymousId = req.query.anonymousId;
    if (!anonymousId) throw new EnsembleError('ENSEMBLE_ERR_SYNC_INVALID', 'The sync needs the visitor\'s anonymousId.');
    reply.header('cache-control', 'no-store, max-age=0');
    const gif = () => reply.code(200).header('content-type', 'image/gif').send(TRANSPARENT_GIF);
    if (!deps.mayAdvertise(source.workspaceId, anonymousId)) return gif();
    const uid = req.query.uid;
    if (uid === undefined) {
      const back = `${deps.baseUrl()}/v1/sync/${encodeURIComponent(req.params.partner)}?writeKey=${encodeURIComponent(writeKey!)}&anonymousId=${encodeURIComponent(anonymousId)}&uid=${partner.macro}`;
      return reply.redirect(partner.url.replace('{callback}', back), 302);
    }
    // A partner that had no id for the visitor sends its macro back unreplaced, or nothing usable.
    if (uid === partner.macro || !PARTNER_UID.test(uid)) throw new EnsembleError('ENSEMBLE_ERR_SYNC_INVALID', 'The partner returned no usable user id.');
    const type = partner.type ?? `${req.params.partner}_id`;
    await deps.ensureType(source.workspaceId, type);
    const messageId = `sync-${createHash('sha256').update(`${req.params.partner}\u0000${anonymousId}\u0000${uid}`).digest('base64url').slice(0, 32)}`;
    const result = await deps.collector.ingest({
      source, type: null, envelope: {}, requestIp: req.ip,
      events: [{ type: 'identify', messageId, anonymousId, context: { externalIds: [{ type, id: uid, collection: 'users', encoding: 'none' }] } }],
    });
    if (result.rejected.length > 0) throw new EnsembleError(result.rejected[0]!.code, result.rejected[0]!.message);
    return gif();
  });
}
