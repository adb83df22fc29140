/**
 * Admin routes for computed traits: create (validated, then backfilled from the stored events
 * before the answer, so the 201 reports what it found), list, read, delete.
 *
 * The body's schema is documented in OpenAPI but checked in the handler, so every problem of a
 * definition (schema and cross-field rules alike) comes back as one COMPUTED_TRAIT_INVALID with
 * `details: [{ path, code, message }]`.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import {
  ComputedTraitInput, ComputedTraitView, validateComputedTrait, type BackfillStats, type ComputedTraitDefinition,
} from '../protocol/computed-trait.js';
import { EnsembleError } from '../protocol/errors.js';
import type { Clock } from '../platform/clock.js';
import { newId } from '../platform/ids.js';
import type { ComputedTraitEngine } from '../profiles/computed-traits.js';
import type { DuckDbComputedTraitStore } from '../storage/duckdb/computed-trait-store.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const TraitParams = Type.Object({ ws: Type.String(), id: Type.String() });

/** A split racing a backfill makes it start over; more than this many in a row is not a race. */
const MAX_BACKFILL_ATTEMPTS = 5;

export interface ComputedTraitRouteDeps {
  catalog: Catalog;
  store: DuckDbComputedTraitStore;
  engine: ComputedTraitEngine;
  /** The live profile a stored profile id belongs to now (after merges). */
  live: (workspaceId: string, profileId: string) => string;
  clock: Clock;
  /**
   * The processor's cursor: every event with seq <= cursor() is committed and visible to the
   * backfill query, and every event already handed to `engine.observe` has seq <= cursor().
   */
  cursor: () => bigint;
  /** The segments whose definitions read the computed trait of this name (it cannot be deleted under them). */
  usedBy: (workspaceId: string, name: string) => Array<{ id: string; name: string }>;
}

export function computedTraitView(def: ComputedTraitDefinition): ComputedTraitView {
  return { ...def, createdAt: new Date(def.createdAt).toISOString() };
}

/**
 * Registers `def` in the engine and fills it from the stored events, starting over when a split
 * or erasure made the backfill stale. Also what start-up does for every stored definition.
 */
export async function backfillDefinition(
  deps: Pick<ComputedTraitRouteDeps, 'store' | 'engine' | 'live' | 'clock' | 'cursor'>, def: ComputedTraitDefinition,
): Promise<BackfillStats> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    // No await between reading the cursor and `add`: an event observed in between would be in neither half.
    const upTo = deps.cursor();
    deps.engine.add(def, upTo);
    const rows = await deps.store.backfill(def, upTo, deps.clock.now());
    const live = new Map<string, string>();
    const liveOf = (id: string): string => {
      let l = live.get(id);
      if (l === undefined) { l = deps.live(def.workspaceId, id); live.set(id, l); }
      return l;
    };
    if (deps.engine.load(def, rows, liveOf)) {
      const events = rows.reduce((n, r) => n + r.events, 0);
      return { events, profiles: new Set(live.values()).size, ms: Math.round(performance.now() - started) };
    }
    if (attempt >= MAX_BACKFILL_ATTEMPTS) {
      deps.engine.remove(def.workspaceId, def.id);
      throw new Error(`computed trait backfill went stale ${attempt} times in a row`);
    }
  }
}

export function registerComputedTraitRoutes(app: FastifyInstance, deps: ComputedTraitRouteDeps): void {
  const { catalog, engine, store } = deps;
  // Definitions between `add` and their 201: the engine knows them (their names are taken) but
  // the API does not show them yet, so a DELETE cannot race the insert.
  const creating = new Set<string>();
  const find = (ws: string, id: string): ComputedTraitDefinition => {
    catalog.workspace(ws);
    const def = engine.definition(ws, id);
    if (!def || creating.has(id)) throw new EnsembleError('ENSEMBLE_ERR_COMPUTED_TRAIT_NOT_FOUND');
    return def;
  };

  app.post<{ Params: Static<typeof WsParams>; Body: unknown }>('/api/workspaces/:ws/computed-traits', {
    schema: {
      tags: ['computed-traits'], summary: 'Create a computed trait and backfill it from the stored events',
      params: WsParams, body: ComputedTraitInput, response: { 201: ComputedTraitView, ...errors, 409: ErrorResponse },
    },
    // The handler validates the body itself (see the file comment); params are plain strings.
    validatorCompiler: () => (data: unknown) => ({ value: data }),
  }, async (req, reply) => {
    const ws = req.params.ws;
    catalog.workspace(ws);
    const problems = validateComputedTrait(req.body);
    if (problems.length === 0) {
      const known = new Set(catalog.sources.list(ws).map((s) => s.id));
      (req.body as ComputedTraitInput).sources?.forEach((id, i) => {
        if (!known.has(id)) problems.push({ path: `/sources/${i}`, code: 'unknown_source', message: `No source "${id}" in this workspace.` });
      });
    }
    if (problems.length > 0) throw new EnsembleError('ENSEMBLE_ERR_COMPUTED_TRAIT_INVALID', undefined, problems);
    const input = req.body as ComputedTraitInput;
    // The engine is the source of truth for names: checked and claimed (by `add`) with no await between.
    if (engine.definitions(ws).some((d) => d.name === input.name)) throw new EnsembleError('ENSEMBLE_ERR_COMPUTED_TRAIT_EXISTS');
    const def: ComputedTraitDefinition = {
      ...input, id: newId('ct'), workspaceId: ws, createdAt: deps.clock.now(), backfill: { events: 0, profiles: 0, ms: 0 },
    };
    creating.add(def.id);
    try {
      def.backfill = await backfillDefinition(deps, def);
      await store.insert(def);
    } catch (err) {
      engine.remove(ws, def.id);
      throw err;
    } finally {
      creating.delete(def.id);
    }
    return reply.code(201).send(computedTraitView(def));
  });

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/computed-traits', {
    schema: {
      tags: ['computed-traits'], summary: 'List the workspace\'s computed traits',
      params: WsParams, response: { 200: Type.Object({ computedTraits: Type.Array(ComputedTraitView) }), ...errors },
    },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    const defs = engine.definitions(req.params.ws).filter((d) => !creating.has(d.id)).sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
    return { computedTraits: defs.map(computedTraitView) };
  });

  app.get<{ Params: Static<typeof TraitParams> }>('/api/workspaces/:ws/computed-traits/:id', {
    schema: { tags: ['computed-traits'], summary: 'Read a computed trait', params: TraitParams, response: { 200: ComputedTraitView, ...errors } },
  }, async (req) => computedTraitView(find(req.params.ws, req.params.id)));

  app.delete<{ Params: Static<typeof TraitParams> }>('/api/workspaces/:ws/computed-traits/:id', {
    schema: {
      tags: ['computed-traits'], summary: 'Delete a computed trait (profiles stop showing it at once)',
      params: TraitParams, response: { 204: Type.Null(), ...errors, 409: ErrorResponse },
    },
  }, async (req, reply) => {
    const def = find(req.params.ws, req.params.id);
    const users = deps.usedBy(def.workspaceId, def.name);
    if (users.length > 0) throw new EnsembleError('ENSEMBLE_ERR_COMPUTED_TRAIT_IN_USE', undefined, { usedBy: users });
    await store.delete(def.workspaceId, def.id);
    engine.remove(def.workspaceId, def.id);
    return reply.code(204).send();
  });
}
