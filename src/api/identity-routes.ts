/** Admin routes for identity: the workspace's rules, a profile's identity graph, and splits. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { IdentityConfig } from '../identity/identity-config.js';
import { explainProfile, IdentityGraphView } from '../identity/explain.js';
import type { ProfileRebuilder } from '../identity/split.js';
import { EnsembleError } from '../protocol/errors.js';
import { ProfileView } from '../protocol/profile.js';
import type { ProcessingStore } from '../storage/ports.js';
import { canSeePersonalData } from './admin-auth.js';
import { ErrorResponse } from './error-handler.js';
import { liveProfileOf, profileView, type ProfileRouteDeps } from './profile-routes.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const ProfileParams = Type.Object({ ws: Type.String(), profileId: Type.String() });
const SplitInput = Type.Object({
  type: Type.String(),
  /** The identifier's clear value, or its `hash` as shown by the identity graph. */
  value: Type.Optional(Type.String({ minLength: 1 })),
  hash: Type.Optional(Type.String({ minLength: 16 })),
}, { additionalProperties: false });
const SplitView = Type.Object({
  profiles: Type.Array(ProfileView, { description: 'The profiles the split produced; the first holds the identifier.' }),
  replayedEvents: Type.Integer(),
});

export interface IdentityRouteDeps extends ProfileRouteDeps {
  store: ProcessingStore;
  rebuilder: ProfileRebuilder;
  /** Runs `fn` while the processor is paused between batches. */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
}

export function registerIdentityRoutes(app: FastifyInstance, deps: IdentityRouteDeps): void {
  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/identity-config', {
    schema: { tags: ['identity'], summary: 'The workspace\'s identifier types, priorities, limits, normalisers, blocked values and trait strategies', params: WsParams, response: { 200: IdentityConfig, ...errors } },
  }, async (req) => {
    deps.catalog.workspace(req.params.ws);
    return deps.identity.config(req.params.ws);
  });

  app.put<{ Params: Static<typeof WsParams>; Body: unknown }>('/api/workspaces/:ws/identity-config', {
    schema: {
      tags: ['identity'], summary: 'Replace the identity rules (they apply to events processed from now on)',
      params: WsParams, body: Type.Object({}, { additionalProperties: true }), response: { 200: IdentityConfig, ...errors },
    },
  }, async (req) => {
    deps.catalog.workspace(req.params.ws);
    return deps.identity.setConfig(req.params.ws, req.body);
  });

  app.get<{ Params: Static<typeof ProfileParams> }>('/api/workspaces/:ws/profiles/:profileId/identity', {
    schema: { tags: ['identity'], summary: 'Explain a profile: each identifier with the events and rules that linked it, and what was refused', params: ProfileParams, response: { 200: IdentityGraphView, ...errors } },
  }, async (req) => {
    const p = liveProfileOf(deps, req.params.ws, req.params.profileId);
    return explainProfile(p, deps, canSeePersonalData(req));
  });

  app.post<{ Params: Static<typeof ProfileParams>; Body: Static<typeof SplitInput> }>('/api/workspaces/:ws/profiles/:profileId/split', {
    schema: {
      tags: ['identity'], summary: 'Remove an identifier\'s link and rebuild the affected profiles from their events',
      params: ProfileParams, body: SplitInput, response: { 200: SplitView, ...errors },
    },
  }, async (req) => {
    const { ws, profileId } = req.params;
    const { type, value, hash } = req.body;
    if (hash === undefined && value === undefined) throw new EnsembleError('ENSEMBLE_ERR_VALIDATION', 'Name the identifier by its `value` or its `hash`.');
    const h = hash ?? deps.identity.hashOf(ws, type, value ?? '');
    const result = await deps.exclusive(async () => {
      liveProfileOf(deps, ws, profileId);
      return deps.rebuilder.split(ws, profileId, type, h);
    });
    const reveal = canSeePersonalData(req);
    return {
      profiles: result.profiles.flatMap((id) => {
        const p = deps.memory.live(id);
        return p ? [profileView(deps, p, reveal)] : [];
      }),
      replayedEvents: result.replayedEvents,
    };
  });
}
