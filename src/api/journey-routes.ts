/**
 * Admin routes of journeys: definitions (each update a new version), pause / resume / archive,
 * stats per step and per split branch against the control group, and a dry run for one person.
 *
 * @example
 *   POST /api/workspaces/ws_1/journeys { "name": "Cart recovery", "entry": {...}, "start": "mail", "steps": {...} }
 *   GET  /api/workspaces/ws_1/journeys/jrn_x/simulate?profileId=prof_y
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { JourneyView, type Journey, type JourneyStatus } from '../protocol/journey.js';
import type { Journeys } from '../journeys/journeys.js';
import type { DuckDbActivationStore } from '../storage/duckdb/activation-store.js';
import { PressurePolicy } from '../activate/pressure.js';
import type { PressureSettings } from '../activate/pressure-settings.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const IdParams = Type.Object({ ws: Type.String(), id: Type.String() });
const ActionParams = Type.Object({ ws: Type.String(), id: Type.String(), action: Type.Union([Type.Literal('pause'), Type.Literal('resume'), Type.Literal('archive')]) });
const SimulateQuery = Type.Object({ profileId: Type.String({ minLength: 1 }) });

const StatsView = Type.Object({
  entered: Type.Integer(), inside: Type.Integer(),
  outcomes: Type.Record(Type.String(), Type.Integer(), { description: 'exit, goal, control, dropped' }),
  waiting: Type.Record(Type.String(), Type.Integer(), { description: 'People waiting in each step now.' }),
  steps: Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer()), { description: 'Per step: passed, and for sends their outcomes (sent, deferred, suppressed:<rule>, dropped:<reason>).' }),
  branches: Type.Array(Type.Object({ branch: Type.String(), entered: Type.Integer(), goals: Type.Integer(), conversion: Type.Number(), upliftVsControl: Type.Union([Type.Number(), Type.Null()]) })),
});

export interface JourneyRouteDeps {
  catalog: Pick<Catalog, 'workspace'>;
  journeys: Journeys;
  store: DuckDbActivationStore;
  pressure: PressureSettings;
}

export function registerJourneyRoutes(app: FastifyInstance, deps: JourneyRouteDeps): void {
  const { catalog, journeys } = deps;

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/pressure-policy', {
    schema: { tags: ['journeys'], summary: 'The marketing-pressure policy: caps per channel and across channels, quiet hours, default time zone', params: WsParams, response: { 200: PressurePolicy, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return deps.pressure.get(req.params.ws);
  });

  app.put<{ Params: Static<typeof WsParams>; Body: unknown }>('/api/workspaces/:ws/pressure-policy', {
    schema: { tags: ['journeys'], summary: 'Replace the marketing-pressure policy; it applies to every message of every journey and trigger', params: WsParams, body: Type.Unknown(), response: { 200: PressurePolicy, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return deps.pressure.set(req.params.ws, req.body);
  });

  app.post<{ Params: Static<typeof WsParams>; Body: unknown }>('/api/workspaces/:ws/journeys', {
    schema: { tags: ['journeys'], summary: 'Create a journey (validated with precise errors); it is active at once', params: WsParams, body: Type.Unknown(), response: { 201: JourneyView, ...errors } },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    return reply.code(201).send(view(await journeys.create(req.params.ws, req.body)));
  });

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/journeys', {
    schema: { tags: ['journeys'], summary: 'Journeys of the workspace', params: WsParams, response: { 200: Type.Object({ journeys: Type.Array(JourneyView) }), ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return { journeys: journeys.list(req.params.ws).map(view) };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/journeys/:id', {
    schema: { tags: ['journeys'], summary: 'One journey (its current version)', params: IdParams, response: { 200: JourneyView, ...errors } },
  }, async (req) => view(journeys.get(req.params.ws, req.params.id)));

  app.put<{ Params: Static<typeof IdParams>; Body: unknown }>('/api/workspaces/:ws/journeys/:id', {
    schema: { tags: ['journeys'], summary: 'A new version: new entrants get it, people inside finish on theirs', params: IdParams, body: Type.Unknown(), response: { 200: JourneyView, ...errors } },
  }, async (req) => view(await journeys.update(req.params.ws, req.params.id, req.body)));

  app.post<{ Params: Static<typeof ActionParams> }>('/api/workspaces/:ws/journeys/:id/:action', {
    schema: { tags: ['journeys'], summary: 'pause (no entries, nobody moves), resume, archive (for good)', params: ActionParams, response: { 200: JourneyView, ...errors } },
  }, async (req) => {
    const status: JourneyStatus = req.params.action === 'pause' ? 'paused' : req.params.action === 'resume' ? 'active' : 'archived';
    return view(await journeys.setStatus(req.params.ws, req.params.id, status));
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof SimulateQuery> }>('/api/workspaces/:ws/journeys/:id/simulate', {
    schema: {
      tags: ['journeys'], summary: 'Dry run: the path the person would take from the start now (waits assumed to time out); nothing is sent',
      params: IdParams, querystring: SimulateQuery,
      response: { 200: Type.Object({ path: Type.Array(Type.Object({ step: Type.String(), kind: Type.String(), note: Type.Optional(Type.String()) })), outcome: Type.String() }), ...errors },
    },
  }, async (req) => journeys.simulate(req.params.ws, req.params.id, req.query.profileId));

  app.get<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/journeys/:id/stats', {
    schema: { tags: ['journeys'], summary: 'Entered, inside, outcomes, waiting per step, step counters, conversion per split branch and uplift versus the control group', params: IdParams, response: { 200: StatsView, ...errors } },
  }, async (req) => {
    const j = journeys.get(req.params.ws, req.params.id);
    const counters = await deps.store.journeyStats(j.id);
    const outcomes: Record<string, number> = {};
    const steps: Record<string, Record<string, number>> = {};
    let entered = 0;
    for (const c of counters) {
      if (c.step === '$journey') {
        if (c.counter === 'entered') entered += c.count;
        else outcomes[c.counter] = (outcomes[c.counter] ?? 0) + c.count;
        continue;
      }
      const s = (steps[c.step] ??= {});
      s[c.counter] = (s[c.counter] ?? 0) + c.count;
    }
    const states = journeys.statesOf(j.id);
    const waiting: Record<string, number> = {};
    for (const s of states) if (s.step !== null) waiting[s.step] = (waiting[s.step] ?? 0) + 1;
    const byBranch = new Map<string, { entered: number; goals: number }>();
    for (const s of states) {
      if (s.branch === null) continue;
      const b = byBranch.get(s.branch) ?? { entered: 0, goals: 0 };
      b.entered++;
      if (s.outcome === 'goal') b.goals++;
      byBranch.set(s.branch, b);
    }
    const rate = (b: { entered: number; goals: number }) => (b.entered === 0 ? 0 : b.goals / b.entered);
    const control = byBranch.get('control');
    const branches = [...byBranch].map(([branch, b]) => ({
      branch, entered: b.entered, goals: b.goals, conversion: rate(b),
      upliftVsControl: control && branch !== 'control' ? rate(b) - rate(control) : null,
    }));
    return { entered, inside: states.filter((s) => s.step !== null).length, outcomes, waiting, steps, branches };
  });
}

function view(j: Journey): Static<typeof JourneyView> {
  return { id: j.id, workspaceId: j.workspaceId, status: j.status, version: j.version, definition: j.versions[j.version]!, createdAt: new Date(j.createdAt).toISOString(), updatedAt: new Date(j.updatedAt).toISOString() };
}
