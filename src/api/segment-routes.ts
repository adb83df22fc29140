/**
 * Admin routes for segments: create / list / read / edit / delete (a new or edited definition is
 * filled from the stored events before the answer, then follows live events), preview without
 * saving, members, a profile's segments, the explanation of one profile's membership (GDPR
 * art. 22: people may learn the logic of profiling), overlaps, static lists from a CSV upload,
 * size over time, the Segment Entered / Exited changes, and an on-demand reconciliation.
 *
 * Definitions are validated in the handler (schema and cross-field rules alike) so every problem
 * comes back as one SEGMENT_INVALID with `details: [{ path, code, message }]`.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { readCsvRows } from '../collect/import/csv.js';
import { EnsembleError } from '../protocol/errors.js';
import { SegmentInput, SegmentView, type SegmentCondition, type StoredSegment } from '../protocol/segment.js';
import type { SegmentApproval } from '../privacy/privacy-settings.js';
import type { Clock } from '../platform/clock.js';
import { newId } from '../platform/ids.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { SegmentEngine } from '../segments/engine.js';
import type { SegmentService } from '../segments/segment-service.js';
import type { DuckDbSegmentStore, StoredChange } from '../storage/duckdb/segment-store.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';
import { liveProfileOf } from './profile-routes.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const SegParams = Type.Object({ ws: Type.String(), id: Type.String() });
const MAX_LIST_BYTES = 50 * 1024 * 1024;
const PREVIEW_SAMPLE = 20;

export interface SegmentRouteDeps {
  catalog: Catalog;
  service: SegmentService;
  engine: SegmentEngine;
  store: DuckDbSegmentStore;
  memory: ProfileMemory;
  identity: IdentityService;
  clock: Clock;
  /** Resolves once the membership changes made so far are in the store (members, changes, sizes read it). */
  written: () => Promise<void>;
  /** Throws PURPOSE_UNKNOWN unless the workspace has every purpose named; PURPOSE_LIMITATION when no data may serve them. */
  purposes: (workspaceId: string, ids: readonly string[], definition: SegmentCondition) => void;
  /** Records a DPO's approval of a segment reading special-category data. */
  approve: (workspaceId: string, segmentId: string, approval: SegmentApproval) => Promise<void>;
}

const Change = Type.Object({
  id: Type.String({ description: 'Increasing; pass the last one as `after` to read on.' }),
  type: Type.Union([Type.Literal('Segment Entered'), Type.Literal('Segment Exited')]),
  segmentId: Type.String(),
  profileId: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  cause: Type.String({ description: 'event, time (a window lapsed), merge, split, created, updated, deleted, reconciled (found at start-up), consent (the consent a segment requires was given or withdrawn).' }),
});

const Explanation = Type.Recursive((Self) => Type.Object({
  condition: Type.Unknown(),
  matched: Type.Boolean(),
  actual: Type.Optional(Type.Unknown({ description: 'The profile\'s value for this condition: a trait value, an event count ({atLeast: n} past the threshold), a membership...' })),
  children: Type.Optional(Type.Array(Self)),
}), { $id: 'SegmentExplanation' });

export function registerSegmentRoutes(app: FastifyInstance, deps: SegmentRouteDeps): void {
  const { catalog, service, engine, store, clock } = deps;
  const view = (s: StoredSegment): SegmentView => ({
    id: s.id, workspaceId: s.workspaceId, name: s.name, ...(s.description === undefined ? {} : { description: s.description }),
    definition: s.definition, purposes: s.purposes ?? [], sensitive: s.sensitive ?? [],
    approvedAt: s.approvedAt === undefined ? null : new Date(s.approvedAt).toISOString(), kind: s.definition.kind === 'list' ? 'list' : 'rules',
    size: engine.members(s.workspaceId, s.id)?.size ?? 0,
    createdAt: new Date(s.createdAt).toISOString(), updatedAt: new Date(s.updatedAt).toISOString(),
  });
  const find = (ws: string, id: string): StoredSegment => {
    catalog.workspace(ws);
    const s = engine.segment(ws, id);
    if (!s || engine.loading(ws, id)) throw new EnsembleError('ENSEMBLE_ERR_SEGMENT_NOT_FOUND');
    return s;
  };
  const input = (body: unknown): SegmentInput => {
    const b = body as Partial<SegmentInput> | null;
    if (typeof b !== 'object' || b === null || typeof b.name !== 'string' || b.name.length === 0 || b.name.length > 200) {
      throw new EnsembleError('ENSEMBLE_ERR_SEGMENT_INVALID', undefined, [{ path: '/name', code: 'schema', message: 'A name of 1 to 200 characters is required.' }]);
    }
    if (b.description !== undefined && (typeof b.description !== 'string' || b.description.length > 2000)) {
      throw new EnsembleError('ENSEMBLE_ERR_SEGMENT_INVALID', undefined, [{ path: '/description', code: 'schema', message: 'A description is a string of up to 2000 characters.' }]);
    }
    const ps: unknown = b.purposes;
    if (ps !== undefined && (!Array.isArray(ps) || ps.length > 16 || ps.some((p) => typeof p !== 'string') || new Set(ps).size !== ps.length)) {
      throw new EnsembleError('ENSEMBLE_ERR_SEGMENT_INVALID', undefined, [{ path: '/purposes', code: 'schema', message: 'Purposes are up to 16 distinct purpose ids.' }]);
    }
    return b as SegmentInput;
  };
  /** The purposes of a segment as stored: checked against the workspace's, none left out as "none". */
  const purposesOf = (ws: string, body: SegmentInput): { purposes?: string[] } => {
    if (!body.purposes || body.purposes.length === 0) return {};
    deps.purposes(ws, body.purposes, body.definition as SegmentCondition);
    return { purposes: body.purposes };
  };
  // The handler validates bodies itself (see the file comment).
  const ownValidation = { validatorCompiler: () => (data: unknown) => ({ value: data }) };

  app.post<{ Params: Static<typeof WsParams>; Body: unknown }>('/api/workspaces/:ws/segments', {
    schema: { tags: ['segments'], summary: 'Create a segment; it is filled from the stored events before the answer', params: WsParams, body: SegmentInput, response: { 201: SegmentView, ...errors } },
    ...ownValidation,
  }, async (req, reply) => {
    const ws = req.params.ws;
    catalog.workspace(ws);
    const body = input(req.body);
    const definition = service.validate(ws, body.definition);
    const now = clock.now();
    const segment: StoredSegment = {
      id: newId('seg'), workspaceId: ws, name: body.name, ...(body.description === undefined ? {} : { description: body.description }),
      definition, ...purposesOf(ws, body), createdAt: now, updatedAt: now,
    };
    return reply.code(201).send(view(await service.save(segment, 'created')));
  });

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/segments', {
    schema: { tags: ['segments'], summary: 'List the workspace\'s segments with their sizes', params: WsParams, response: { 200: Type.Object({ segments: Type.Array(SegmentView) }), ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return { segments: engine.segments(req.params.ws).filter((s) => !engine.loading(s.workspaceId, s.id)).map(view) };
  });

  app.post<{ Params: Static<typeof WsParams>; Body: unknown }>('/api/workspaces/:ws/segments/preview', {
    schema: {
      tags: ['segments'], summary: 'Count the profiles a definition selects now, without saving it (batch SQL)',
      params: WsParams, body: Type.Object({ definition: Type.Unknown(), purposes: Type.Optional(Type.Array(Type.String())) }),
      response: { 200: Type.Object({ count: Type.Integer(), sample: Type.Array(Type.String(), { description: `Up to ${PREVIEW_SAMPLE} profile ids.` }) }), ...errors },
    },
    ...ownValidation,
  }, async (req) => {
    const ws = req.params.ws;
    catalog.workspace(ws);
    const body = req.body as { definition?: unknown; purposes?: unknown } | null;
    const definition = service.validate(ws, body?.definition);
    const { purposes } = purposesOf(ws, input({ name: 'preview', definition, purposes: body?.purposes }));
    return service.preview(ws, definition, PREVIEW_SAMPLE, purposes);
  });

  app.get<{ Params: Static<typeof WsParams>; Querystring: { ids: string } }>('/api/workspaces/:ws/segments/overlap', {
    schema: {
      tags: ['segments'], summary: 'Sizes of segments, of each pair\'s intersection and of the intersection of all',
      params: WsParams, querystring: Type.Object({ ids: Type.String({ description: 'Comma-separated segment ids (2 to 10).' }) }),
      response: {
        200: Type.Object({
          sizes: Type.Record(Type.String(), Type.Integer()),
          pairs: Type.Array(Type.Object({ a: Type.String(), b: Type.String(), both: Type.Integer() })),
          all: Type.Integer(),
        }),
        ...errors,
      },
    },
  }, async (req) => {
    const ws = req.params.ws;
    const ids = [...new Set(req.query.ids.split(',').map((s) => s.trim()).filter(Boolean))];
    if (ids.length < 2 || ids.length > 10) throw new EnsembleError('ENSEMBLE_ERR_VALIDATION', 'Give 2 to 10 segment ids in `ids`.');
    const sets = ids.map((id) => { find(ws, id); return engine.members(ws, id) as ReadonlySet<string>; });
    const sizes = Object.fromEntries(ids.map((id, i) => [id, (sets[i] as ReadonlySet<string>).size]));
    const both = (a: ReadonlySet<string>, b: ReadonlySet<string>): number => {
      const [small, large] = a.size <= b.size ? [a, b] : [b, a];
      let n = 0;
      for (const p of small) if (large.has(p)) n++;
      return n;
    };
    const pairs = [];
    for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) pairs.push({ a: ids[i] as string, b: ids[j] as string, both: both(sets[i] as ReadonlySet<string>, sets[j] as ReadonlySet<string>) });
    const smallest = [...sets].sort((a, b) => a.size - b.size)[0] as ReadonlySet<string>;
    let all = 0;
    for (const p of smallest) if (sets.every((s) => s.has(p))) all++;
    return { sizes, pairs, all };
  });

  if (!app.hasContentTypeParser('text/csv')) {
    app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: MAX_LIST_BYTES }, (_req, body, done) => done(null, body));
  }
  app.post<{ Params: Static<typeof WsParams>; Querystring: { name: string; type: string; column?: string; description?: string }; Body: string }>('/api/workspaces/:ws/segments/lists', {
    bodyLimit: MAX_LIST_BYTES,
    schema: {
      tags: ['segments'], summary: 'Create a static list segment from a CSV of identifiers (Content-Type text/csv); only keyed hashes are stored',
      params: WsParams,
      querystring: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 200 }),
        type: Type.String({ description: 'The identifier type of the values, e.g. email.' }),
        column: Type.Optional(Type.String({ description: 'The CSV column holding them (default: the type).' })),
        description: Type.Optional(Type.String({ maxLength: 2000 })),
      }),
      response: {
        201: Type.Object({
          segment: SegmentView, rows: Type.Integer(), accepted: Type.Integer(),
          rejected: Type.Array(Type.Object({ row: Type.Integer(), code: Type.String(), message: Type.String() })),
        }),
        ...errors,
      },
    },
  }, async (req, reply) => {
    const ws = req.params.ws;
    catalog.workspace(ws);
    if (typeof req.body !== 'string') throw new EnsembleError('ENSEMBLE_ERR_IMPORT_INVALID', 'Send the file as the body with Content-Type: text/csv.');
    const rules = deps.identity.rules(ws);
    const { type } = req.query;
    if (!rules.rule(type)) throw new EnsembleError('ENSEMBLE_ERR_IDENTIFIER_TYPE', `Unknown identifier type "${type}"; this workspace has ${[...rules.byType.keys()].join(', ')}.`);
    const column = req.query.column ?? type;
    const rows = readCsvRows(req.body);
    if (rows.length > 0 && !Object.hasOwn(rows[0] as object, column)) {
      throw new EnsembleError('ENSEMBLE_ERR_IMPORT_INVALID', `The file has no column "${column}".`, { columns: Object.keys(rows[0] as object) });
    }
    const hashes = new Set<string>();
    const rejected: Array<{ row: number; code: string; message: string }> = [];
    rows.forEach((row, i) => {
      const n = rules.normalise(type, row[column] ?? '');
      if (!n.ok) rejected.push({ row: i + 1, code: 'identifier_invalid', message: n.reason });
      else hashes.add(deps.identity.keys.lookupHash(ws, type, n.value));
    });
    const now = clock.now();
    const id = newId('seg');
    const segment: StoredSegment = {
      id, workspaceId: ws, name: req.query.name, ...(req.query.description === undefined ? {} : { description: req.query.description }),
      definition: { kind: 'list', id }, createdAt: now, updatedAt: now,
    };
    await service.saveList(segment, [...hashes].map((hash) => ({ type, hash })));
    return reply.code(201).send({ segment: view(segment), rows: rows.length, accepted: rows.length - rejected.length, rejected: rejected.slice(0, 1000) });
  });

  app.get<{ Params: Static<typeof SegParams> }>('/api/workspaces/:ws/segments/:id', {
    schema: { tags: ['segments'], summary: 'Read a segment', params: SegParams, response: { 200: SegmentView, ...errors } },
  }, async (req) => view(find(req.params.ws, req.params.id)));

  app.put<{ Params: Static<typeof SegParams>; Body: unknown }>('/api/workspaces/:ws/segments/:id', {
    schema: { tags: ['segments'], summary: 'Edit a segment; a new definition is refilled from history and the differences announced', params: SegParams, body: SegmentInput, response: { 200: SegmentView, ...errors } },
    ...ownValidation,
  }, async (req) => {
    const before = find(req.params.ws, req.params.id);
    if (before.definition.kind === 'list') throw new EnsembleError('ENSEMBLE_ERR_SEGMENT_INVALID', undefined, [{ path: '/definition', code: 'list_by_upload', message: 'A static list is replaced by uploading a new list.' }]);
    const body = input(req.body);
    const definition = service.validate(before.workspaceId, body.definition, before.id);
    const segment: StoredSegment = {
      ...before, name: body.name, definition, updatedAt: clock.now(),
      ...(body.description === undefined ? {} : { description: body.description }),
    };
    if (body.description === undefined) delete segment.description;
    delete segment.purposes;
    Object.assign(segment, purposesOf(before.workspaceId, body));
    return view(await service.save(segment, 'updated'));
  });

  app.post<{ Params: Static<typeof SegParams>; Body: { note: string } }>('/api/workspaces/:ws/segments/:id/approve', {
    schema: {
      tags: ['segments'], summary: 'A DPO approves a segment whose rule reads special-category data (for this rule: a new rule needs a new approval)',
      params: SegParams, body: Type.Object({ note: Type.String({ minLength: 1, maxLength: 2000, description: 'Why the use is lawful (art. 9(2) ground, assessment reference).' }) }, { additionalProperties: false }),
      response: { 200: SegmentView, ...errors, 409: ErrorResponse },
    },
  }, async (req) => {
    const s = find(req.params.ws, req.params.id);
    if ((s.sensitive?.length ?? 0) === 0) throw new EnsembleError('ENSEMBLE_ERR_SEGMENT_NOT_SENSITIVE');
    await deps.approve(s.workspaceId, s.id, { at: clock.now(), note: req.body.note, definition: JSON.stringify(s.definition) });
    return view(await service.save(s, 'updated'));
  });

  app.delete<{ Params: Static<typeof SegParams> }>('/api/workspaces/:ws/segments/:id', {
    schema: { tags: ['segments'], summary: 'Delete a segment; its members exit', params: SegParams, response: { 204: Type.Null(), ...errors, 409: ErrorResponse } },
  }, async (req, reply) => {
    const s = find(req.params.ws, req.params.id);
    await service.remove(s.workspaceId, s.id);
    return reply.code(204).send();
  });

  app.get<{ Params: Static<typeof SegParams>; Querystring: { cursor?: string; limit?: number } }>('/api/workspaces/:ws/segments/:id/members', {
    schema: {
      tags: ['segments'], summary: 'Members, by profile id, a page at a time',
      params: SegParams, querystring: Type.Object({ cursor: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) }),
      response: { 200: Type.Object({ members: Type.Array(Type.Object({ profileId: Type.String(), enteredAt: Type.String({ format: 'date-time' }) })), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errors },
    },
  }, async (req) => {
    const s = find(req.params.ws, req.params.id);
    const limit = req.query.limit ?? 100;
    await deps.written();
    const rows = await store.members(s.workspaceId, s.id, req.query.cursor ?? null, limit);
    const last = rows[rows.length - 1];
    return {
      members: rows.map((r) => ({ profileId: r.profileId, enteredAt: new Date(r.enteredAt).toISOString() })),
      nextCursor: rows.length === limit && last ? last.profileId : null,
    };
  });

  app.get<{ Params: Static<typeof SegParams>; Querystring: { profileId: string } }>('/api/workspaces/:ws/segments/:id/explain', {
    schema: {
      tags: ['segments'], summary: 'Why a profile is or is not a member: each condition with the profile\'s actual value',
      params: SegParams, querystring: Type.Object({ profileId: Type.String() }),
      response: { 200: Type.Object({ segmentId: Type.String(), profileId: Type.String(), member: Type.Boolean(), explanation: Explanation }), ...errors },
    },
  }, async (req) => {
    const s = find(req.params.ws, req.params.id);
    const p = liveProfileOf(deps, s.workspaceId, req.query.profileId);
    const explanation = engine.explain(s.workspaceId, s.id, p.id);
    if (!explanation) throw new EnsembleError('ENSEMBLE_ERR_SEGMENT_NOT_FOUND');
    return { segmentId: s.id, profileId: p.id, member: engine.isMember(s.workspaceId, s.id, p.id), explanation };
  });

  app.get<{ Params: Static<typeof SegParams>; Querystring: { days?: number } }>('/api/workspaces/:ws/segments/:id/sizes', {
    schema: {
      tags: ['segments'], summary: 'Segment size over time: members at the end of each UTC day with changes, and the day\'s entries and exits',
      params: SegParams, querystring: Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, default: 90 })) }),
      response: { 200: Type.Object({ sizes: Type.Array(Type.Object({ day: Type.String(), size: Type.Integer(), entered: Type.Integer(), exited: Type.Integer() })) }), ...errors },
    },
  }, async (req) => {
    const s = find(req.params.ws, req.params.id);
    await deps.written();
    return { sizes: await store.sizes(s.workspaceId, s.id, req.query.days ?? 90) };
  });

  const ChangesQuery = Type.Object({
    after: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'The id of the last change already read.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  });
  const changesOf = async (ws: string, segmentId: string | null, q: { after?: string; limit?: number }) => {
    await deps.written();
    const rows = await store.changes(ws, segmentId, BigInt(q.after ?? '0'), q.limit ?? 100);
    return { changes: rows.map(changeView) };
  };

  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof ChangesQuery> }>('/api/workspaces/:ws/segment-changes', {
    schema: {
      tags: ['segments'], summary: 'Segment Entered / Exited events of every segment of the workspace, in order, deleted segments included (what journeys and destinations consume)',
      params: WsParams, querystring: ChangesQuery, response: { 200: Type.Object({ changes: Type.Array(Change) }), ...errors },
    },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return changesOf(req.params.ws, null, req.query);
  });

  app.get<{ Params: Static<typeof SegParams>; Querystring: Static<typeof ChangesQuery> }>('/api/workspaces/:ws/segments/:id/changes', {
    schema: {
      tags: ['segments'], summary: 'Segment Entered / Exited events of one segment, in order',
      params: SegParams, querystring: ChangesQuery, response: { 200: Type.Object({ changes: Type.Array(Change) }), ...errors },
    },
  }, async (req) => {
    const s = find(req.params.ws, req.params.id);
    return changesOf(s.workspaceId, s.id, req.query);
  });

  app.post<{ Params: Static<typeof SegParams> }>('/api/workspaces/:ws/segments/:id/reconcile', {
    schema: {
      tags: ['segments'], summary: 'Compare the real-time members with the batch SQL result at one instant (expected: no difference)',
      params: SegParams,
      response: {
        200: Type.Object({
          segmentId: Type.String(), at: Type.String({ format: 'date-time' }), sql: Type.Integer(), incremental: Type.Integer(),
          missing: Type.Array(Type.String()), extra: Type.Array(Type.String()),
        }),
        ...errors,
      },
    },
  }, async (req) => {
    const s = find(req.params.ws, req.params.id);
    return service.reconcile(s.workspaceId, s.id);
  });

  app.get<{ Params: Static<typeof SegParams> }>('/api/workspaces/:ws/profiles/:id/segments', {
    schema: {
      tags: ['segments'], summary: 'The segments a profile is in now, and its latest entries and exits (its own and those of the profiles merged into it)',
      params: SegParams,
      response: {
        200: Type.Object({
          segments: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
          history: Type.Array(Change, { description: 'Newest first, at most 200.' }),
        }),
        ...errors,
      },
    },
  }, async (req) => {
    const p = liveProfileOf(deps, req.params.ws, req.params.id);
    await deps.written();
    const history = await store.changesOfProfiles(req.params.ws, deps.memory.lineage(p.id), 200);
    return {
      segments: engine.segmentsOf(req.params.ws, p.id).map((id) => ({ id, name: engine.segment(req.params.ws, id)?.name ?? id })),
      history: history.map(changeView),
    };
  });
}

function changeView(c: StoredChange): Static<typeof Change> {
  return {
    id: c.id.toString(), type: c.entered ? 'Segment Entered' : 'Segment Exited',
    segmentId: c.segmentId, profileId: c.profileId, timestamp: new Date(c.at).toISOString(), cause: c.cause,
  };
}
