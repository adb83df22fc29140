/**
 * A profile's journeys, for the console's 360° view: each journey of the workspace the person
 * (or a profile merged into them) is in or went through, with the step they wait at or how
 * they left. Read from the journeys' in-memory state; nothing new is stored.
 *
 * @example
 *   GET /api/workspaces/ws_1/profiles/prof_1/journeys
 *   → { journeys: [{ journeyId: 'jrn_1', name: 'Welcome', step: 'wait_2d', enteredAt: '…', outcome: null, endedAt: null, branch: null, entries: 1 }] }
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Journeys } from '../journeys/journeys.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';
import { liveProfileOf } from './profile-routes.js';

const ProfileParams = Type.Object({ ws: Type.String(), profileId: Type.String() });
const JourneyOfProfile = Type.Object({
  journeyId: Type.String(),
  name: Type.String(),
  version: Type.Integer(),
  step: Type.Union([Type.String(), Type.Null()], { description: 'The step the person waits at; null once they left.' }),
  enteredAt: Type.String({ format: 'date-time' }),
  outcome: Type.Union([Type.String(), Type.Null()], { description: 'exit, goal, control or dropped; null while inside.' }),
  endedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  branch: Type.Union([Type.String(), Type.Null()]),
  entries: Type.Integer(),
});

export interface ProfileJourneyDeps {
  catalog: Catalog;
  memory: ProfileMemory;
  journeys: Pick<Journeys, 'list' | 'stateOf'>;
}

export function registerProfileJourneyRoutes(app: FastifyInstance, deps: ProfileJourneyDeps): void {
  app.get<{ Params: Static<typeof ProfileParams> }>('/api/workspaces/:ws/profiles/:profileId/journeys', {
    schema: {
      tags: ['journeys'], summary: 'The journeys a profile is in or went through, with its step or outcome',
      params: ProfileParams,
      response: { 200: Type.Object({ journeys: Type.Array(JourneyOfProfile) }), 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
    },
  }, async (req) => {
    const p = liveProfileOf(deps, req.params.ws, req.params.profileId);
    const lineage = deps.memory.lineage(p.id);
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const journeys = [];
    for (const j of deps.journeys.list(p.workspaceId)) {
      // The live profile's own state first; else the latest of a profile merged into it.
      const states = lineage.map((id) => deps.journeys.stateOf(j.id, id)).filter((s) => s !== undefined);
      const s = states.sort((a, b) => b.enteredAt - a.enteredAt)[0];
      if (!s) continue;
      journeys.push({
        journeyId: j.id, name: j.versions[j.version]?.name ?? j.id, version: s.version, step: s.step, enteredAt: new Date(s.enteredAt).toISOString(),
        outcome: s.outcome, endedAt: iso(s.endedAt), branch: s.branch, entries: s.entries,
      });
    }
    return { journeys };
  });
}
