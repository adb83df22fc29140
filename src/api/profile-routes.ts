/**
 * Admin routes for profiles: lookup by any identifier, read, and the event timeline. Served from
 * memory except the timeline. Personal identifiers (and traits named after them) are shown in
 * clear only to callers allowed to see personal data; others get null in their place.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { EnsembleError } from '../protocol/errors.js';
import { ProfileView, type ProfileState } from '../protocol/profile.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import { isoTime } from '../platform/iso-time.js';
import { setOwn } from '../platform/own-property.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { EventStore } from '../storage/ports.js';
import type { Catalog } from './catalog.js';
import { canSeePersonalData } from './admin-auth.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const ProfileParams = Type.Object({ ws: Type.String(), profileId: Type.String() });
const LookupQuery = Type.Object({ type: Type.String(), value: Type.String({ minLength: 1 }) });
const EventsQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })), cursor: Type.Optional(Type.String()) });
const EventView = Type.Object({}, { additionalProperties: true });
const EventsPage = Type.Object({ events: Type.Array(EventView), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export interface ProfileRouteDeps {
  catalog: Catalog;
  memory: ProfileMemory;
  events: EventStore;
  identity: IdentityService;
  /** Computed trait values of a profile now. */
  computed: (workspaceId: string, profileId: string) => Record<string, unknown>;
}

export function profileView(deps: ProfileRouteDeps, p: ProfileState, reveal: boolean): Static<typeof ProfileView> {
  const { memory, identity } = deps;
  const rules = identity.rules(p.workspaceId);
  // One pass over the traits, times through isoTime: lookups run thousands of times a second.
  const traits: Record<string, unknown> = {};
  const traitSources: Record<string, { sourceId: string; messageId: string; at: string }> = {};
  for (const k of Object.keys(p.traits)) {
    const t = p.traits[k]!;
    setOwn(traits, k, reveal || !rules.isPersonal(k) ? t.value : null);
    setOwn(traitSources, k, { sourceId: t.sourceId, messageId: t.messageId, at: isoTime(t.at) });
  }
  return {
    id: p.id,
    identifiers: memory.recordsOf(p.id).map((r) => ({ type: r.type, hash: r.hash, value: reveal || !rules.isPersonal(r.type) ? identity.clearValue(r) : null })),
    traits,
    computed: deps.computed(p.workspaceId, p.id),
    traitSources,
    mergedFrom: memory.lineage(p.id).slice(1),
    firstSeen: isoTime(p.firstSeen),
    lastSeen: isoTime(p.lastSeen),
    eventCount: p.eventCount,
  };
}

export function liveProfileOf(deps: Pick<ProfileRouteDeps, 'catalog' | 'memory'>, ws: string, id: string): ProfileState {
  deps.catalog.workspace(ws);
  const p = deps.memory.live(id);
  if (!p || p.workspaceId !== ws) throw new EnsembleError('ENSEMBLE_ERR_PROFILE_NOT_FOUND');
  return p;
}

export function registerProfileRoutes(app: FastifyInstance, deps: ProfileRouteDeps): void {
  const reveal = (req: FastifyRequest) => canSeePersonalData(req);

  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof LookupQuery> }>('/api/workspaces/:ws/profiles/lookup', {
    schema: { tags: ['profiles'], summary: 'Find the profile an identifier belongs to (the value is normalised as the workspace rules say)', params: WsParams, querystring: LookupQuery, response: { 200: ProfileView, ...errors } },
  }, async (req) => {
    deps.catalog.workspace(req.params.ws);
    const p = deps.identity.lookup(req.params.ws, req.query.type, req.query.value);
    if (!p) throw new EnsembleError('ENSEMBLE_ERR_PROFILE_NOT_FOUND');
    return profileView(deps, p, reveal(req));
  });

  app.get<{ Params: Static<typeof ProfileParams> }>('/api/workspaces/:ws/profiles/:profileId', {
    schema: { tags: ['profiles'], summary: 'Read a profile (a merged-away id answers with the profile it was merged into)', params: ProfileParams, response: { 200: ProfileView, ...errors } },
  }, async (req) => profileView(deps, liveProfileOf(deps, req.params.ws, req.params.profileId), reveal(req)));

  app.get<{ Params: Static<typeof ProfileParams>; Querystring: Static<typeof EventsQuery> }>('/api/workspaces/:ws/profiles/:profileId/events', {
    schema: { tags: ['profiles'], summary: 'A profile\'s events, newest first (personal identifiers as pseudonyms unless the caller may see them)', params: ProfileParams, querystring: EventsQuery, response: { 200: EventsPage, ...errors } },
  }, async (req) => {
    const p = liveProfileOf(deps, req.params.ws, req.params.profileId);
    const page = await deps.events.eventsOfProfiles(req.params.ws, deps.memory.lineage(p.id), req.query.limit ?? 50, req.query.cursor ?? null);
    if (!reveal(req)) return page;
    const clear = (v: unknown) => deps.identity.revealPseudonyms(p.workspaceId, v);
    return { ...page, events: page.events.map((e) => ({ ...e, traits: clear(e.traits), context: clear(e.context) })) };
  });
}
