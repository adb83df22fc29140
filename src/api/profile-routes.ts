/** Admin routes for profiles: lookup by identifier, read, and the event timeline. Served from memory except the timeline. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { EnsembleError } from '../protocol/errors.js';
import { IDENTIFIER_TYPES, ProfileView, type ProfileState } from '../protocol/profile.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import { traitValues } from '../profiles/traits.js';
import type { EventStore } from '../storage/ports.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const ProfileParams = Type.Object({ ws: Type.String(), profileId: Type.String() });
const LookupQuery = Type.Object({ type: Type.String(), value: Type.String({ minLength: 1 }) });
const EventsQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })), cursor: Type.Optional(Type.String()) });
const EventView = Type.Object({}, { additionalProperties: true });
const EventsPage = Type.Object({ events: Type.Array(EventView), nextCursor: Type.Union([Type.String(), Type.Null()]) });

/** How the lookup API normalises a value of each type (as the resolver stores it). */
function normaliseValue(type: string, value: string): string {
  return type === 'email' ? value.trim().toLowerCase() : value.trim();
}

export function profileView(memory: ProfileMemory, p: ProfileState): Static<typeof ProfileView> {
  const lineage = memory.lineage(p.id);
  return {
    id: p.id,
    identifiers: lineage.flatMap((id) => memory.identifiersOf.get(id) ?? []).map((i) => ({ type: i.type, value: i.value })),
    traits: traitValues(p),
    traitSources: Object.fromEntries(Object.entries(p.traits).map(([k, t]) => [k, { sourceId: t.sourceId, messageId: t.messageId, at: new Date(t.at).toISOString() }])),
    mergedFrom: lineage.slice(1),
    firstSeen: new Date(p.firstSeen).toISOString(),
    lastSeen: new Date(p.lastSeen).toISOString(),
    eventCount: p.eventCount,
  };
}

export function registerProfileRoutes(app: FastifyInstance, deps: { catalog: Catalog; memory: ProfileMemory; events: EventStore }): void {
  const { catalog, memory } = deps;
  const liveProfile = (ws: string, id: string): ProfileState => {
    catalog.workspace(ws);
    const p = memory.live(id);
    if (!p || p.workspaceId !== ws) throw new EnsembleError('ENSEMBLE_ERR_PROFILE_NOT_FOUND');
    return p;
  };

  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof LookupQuery> }>('/api/workspaces/:ws/profiles/lookup', {
    schema: { tags: ['profiles'], summary: 'Find the profile an identifier belongs to', params: WsParams, querystring: LookupQuery, response: { 200: ProfileView, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    const { type, value } = req.query;
    if (!(IDENTIFIER_TYPES as readonly string[]).includes(type)) {
      throw new EnsembleError('ENSEMBLE_ERR_IDENTIFIER_TYPE', `Unknown identifier type "${type}"; expected one of ${IDENTIFIER_TYPES.join(', ')}.`);
    }
    const p = memory.lookup(req.params.ws, type, normaliseValue(type, value));
    if (!p) throw new EnsembleError('ENSEMBLE_ERR_PROFILE_NOT_FOUND');
    return profileView(memory, p);
  });

  app.get<{ Params: Static<typeof ProfileParams> }>('/api/workspaces/:ws/profiles/:profileId', {
    schema: { tags: ['profiles'], summary: 'Read a profile (a merged-away id answers with the profile it was merged into)', params: ProfileParams, response: { 200: ProfileView, ...errors } },
  }, async (req) => profileView(memory, liveProfile(req.params.ws, req.params.profileId)));

  app.get<{ Params: Static<typeof ProfileParams>; Querystring: Static<typeof EventsQuery> }>('/api/workspaces/:ws/profiles/:profileId/events', {
    schema: { tags: ['profiles'], summary: 'A profile\'s events, newest first', params: ProfileParams, querystring: EventsQuery, response: { 200: EventsPage, ...errors } },
  }, async (req) => {
    const p = liveProfile(req.params.ws, req.params.profileId);
    return deps.events.eventsOfProfiles(req.params.ws, memory.lineage(p.id), req.query.limit ?? 50, req.query.cursor ?? null);
  });
}
