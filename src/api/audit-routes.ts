/**
 * Admin routes of the audit log: read a workspace's chain, and verify it.
 *
 * The list is oldest first, paged with `afterSeq` (the seq of the last entry already read): the
 * order in which the chain is checked and in which an auditor reads it, and a cursor that stays
 * valid while entries are appended. `*` as the workspace id names the system chain (workspace
 * creation, refused tokens). Reading the log is itself audited, by the audit hook like any call;
 * the reader token may read it, since the log holds no personal identifier in clear.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { SYSTEM_CHAIN, type AuditEntry, type AuditLog } from '../privacy/audit-log.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse };
const Params = Type.Object({ ws: Type.String({ description: 'A workspace id, or `*` for the system chain.' }) });
const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  afterSeq: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Return the entries after this seq (0: from the first).' })),
});
const Head = Type.Object({ seq: Type.Integer(), hash: Type.String() });
const EntryView = Type.Object({
  workspaceId: Type.String(),
  seq: Type.Integer({ description: '1, 2, 3... within the chain.' }),
  at: Type.Integer({ description: 'Epoch milliseconds, as hashed.' }),
  time: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: '`at` as an ISO date (null if the stored value is not a date).' }),
  actor: Type.String({ description: '`admin`, `reader`, `anonymous` (a refused token) or `system`.' }),
  action: Type.String({ description: 'Method and route pattern, e.g. `GET /api/workspaces/:ws/profiles/:profileId`.' }),
  resource: Type.String({ description: 'The path acted on, with its parameters.' }),
  detail: Type.Unknown({ description: 'status, params, queryKeys, personalData, inClear... never a personal identifier in clear.' }),
  prevHash: Type.String(),
  hash: Type.String({ description: 'sha256 (hex) of the canonical JSON (keys sorted) of workspaceId, seq, at, actor, action, resource, detail, prevHash.' }),
});
const Page = Type.Object({
  entries: Type.Array(EntryView),
  nextAfterSeq: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as afterSeq for the next page; null at the end.' }),
});
const Verification = Type.Object({
  ok: Type.Boolean(),
  entries: Type.Integer(),
  head: Type.Union([Head, Type.Null()], { description: 'The last entry: note it elsewhere, a later verify must still hold this hash at this seq.' }),
  problems: Type.Array(Type.Object({
    seq: Type.Integer(),
    kind: Type.Union([Type.Literal('edited'), Type.Literal('deleted'), Type.Literal('reordered'), Type.Literal('truncated')]),
    message: Type.String(),
  }), { description: 'The first 1000, in seq order.' }),
  problemCount: Type.Integer(),
});

export interface AuditRouteDeps {
  audit: AuditLog;
  catalog: Pick<Catalog, 'workspace'>;
}

function entryView(e: AuditEntry): Static<typeof EntryView> {
  // A stored `at` that was tampered with may not be a date; the entry must still be shown.
  const time = Number.isFinite(e.at) && Math.abs(e.at) <= 8.64e15 ? new Date(e.at).toISOString() : null;
  return { ...e, time };
}

export function registerAuditRoutes(app: FastifyInstance, deps: AuditRouteDeps): void {
  const chainOf = (ws: string): string => {
    if (ws !== SYSTEM_CHAIN) deps.catalog.workspace(ws);
    return ws;
  };

  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof ListQuery> }>('/api/workspaces/:ws/audit', {
    schema: { tags: ['audit'], summary: 'The audit log of a workspace, oldest first', params: Params, querystring: ListQuery, response: { 200: Page, ...errors } },
  }, async (req) => {
    const limit = req.query.limit ?? 100;
    const entries = await deps.audit.list(chainOf(req.params.ws), { limit, afterSeq: req.query.afterSeq ?? 0 });
    const last = entries[entries.length - 1];
    return { entries: entries.map(entryView), nextAfterSeq: last && entries.length === limit ? last.seq : null };
  });

  app.get<{ Params: Static<typeof Params> }>('/api/workspaces/:ws/audit/verify', {
    schema: {
      tags: ['audit'], summary: 'Check the audit log\'s hash chain: any edited, deleted, reordered or truncated entry is reported',
      params: Params, response: { 200: Verification, ...errors },
    },
  }, async (req) => deps.audit.verify(chainOf(req.params.ws)));
}
