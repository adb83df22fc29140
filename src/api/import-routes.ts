/**
 * File imports through the admin API.
 * - `POST .../imports?format=&mapping=`: the body is streamed to a file under the data folder
 *   (never held in memory); a 202 means the file is durably stored and a job will import it
 *   (collect/import/import-jobs.ts); `GET .../imports/{jobId}` gives its status, counts and
 *   row errors.
 * - `POST .../imports/crm`: synchronous CRM onboarding (collect/import/crm-import.ts), a CSV
 *   body with the column mapping in the query string. A 200 means every accepted row is in the
 *   durable log; profiles follow within the processor's next batches.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { EnsembleError } from '../protocol/errors.js';
import type { Clock } from '../platform/clock.js';
import type { CollectConfig } from '../platform/config.js';
import type { Collector } from '../collect/collector.js';
import { parseCrmCsv, type CrmMapping } from '../collect/import/crm-import.js';
import { forbiddenRules } from '../collect/steps/forbidden-data.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';
import { createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { parseMapping as parseImportMapping } from '../collect/import/mapping.js';
import type { ImportJobs, JobSpec } from '../collect/import/import-jobs.js';
import type { ImportJob, ImportStore } from '../storage/duckdb/import-store.js';

const MAX_FILE_BYTES = 50 * 1024 * 1024;
/** Signs that a profile was seen on a website or in an app, not only in the CRM. */
const DIGITAL_TYPES = new Set(['anonymous_id', 'device_id']);

const Params = Type.Object({ ws: Type.String(), sourceId: Type.String() });
const Query = Type.Object({ mapping: Type.String({ description: 'JSON: {"identifiers": {"crm_id": "Customer no", "email": "E-mail"}, "traits": {"firstName": "First name"}, "updatedAt": "Updated"}' }) });
const Mapping = Type.Object({
  identifiers: Type.Record(Type.String(), Type.String()),
  traits: Type.Optional(Type.Record(Type.String(), Type.String())),
  updatedAt: Type.Optional(Type.String()),
}, { additionalProperties: false });
const ImportReport = Type.Object({
  rows: Type.Integer(),
  accepted: Type.Integer(),
  duplicates: Type.Integer({ description: 'Rows already imported (same source, same content).' }),
  rejected: Type.Array(Type.Object({ row: Type.Integer({ description: '1-based, not counting the header' }), code: Type.String(), message: Type.String() })),
  matched: Type.Integer({ description: 'Accepted rows that share an identifier with a profile seen on the web or in an app.' }),
  matchRate: Type.Number({ description: 'matched / accepted' }),
  matchedBy: Type.Record(Type.String(), Type.Integer(), { description: 'Matched rows by the most trusted identifier that matched.' }),
});

export interface ImportRouteDeps {
  catalog: Catalog;
  collector: Collector;
  identity: IdentityService;
  memory: ProfileMemory;
  clock: Clock;
  settings: CollectConfig;
  /** Background jobs and where uploaded files are kept (absent: only the CRM route). */
  jobs?: { jobs: ImportJobs; store: ImportStore; dir: string };
}

const UploadQuery = Type.Object({
  format: Type.Union([Type.Literal('csv'), Type.Literal('ndjson'), Type.Literal('parquet')]),
  mapping: Type.String({ description: 'JSON mapping (see docs/imports.md): {"kind": "events", "event": "Order Completed", "userId": "Customer", "timestamp": "Date", ...}' }),
  delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 1, description: 'CSV: default detected from the header line' })),
  encoding: Type.Optional(Type.Union([Type.Literal('utf-8'), Type.Literal('latin1')], { default: 'utf-8' })),
});
const JobParams = Type.Object({ ws: Type.String(), sourceId: Type.String(), jobId: Type.String() });
const JobView = Type.Object({
  id: Type.String(), sourceId: Type.String(), status: Type.String({ description: 'queued | running | done | failed' }),
  rowsDone: Type.Integer(), accepted: Type.Integer(), duplicates: Type.Integer({ description: 'rows imported before (same source, same content)' }),
  rejected: Type.Integer({ description: 'rows refused; the first 1,000 are listed in errors' }),
  errors: Type.Array(Type.Object({ line: Type.Integer(), column: Type.Union([Type.String(), Type.Null()]), reason: Type.String() })),
  failure: Type.Union([Type.String(), Type.Null()]), createdAt: Type.Integer(), updatedAt: Type.Integer(),
});

export function jobView(j: ImportJob): Static<typeof JobView> {
  return { id: j.id, sourceId: j.sourceId, status: j.status, ...j.progress, errors: j.errors, failure: j.failure, createdAt: j.createdAt, updatedAt: j.updatedAt };
}

/** The upload and job-status routes, in their own scope: the body is a raw stream, not parsed. */
async function registerJobRoutes(app: FastifyInstance, deps: ImportRouteDeps & { jobs: NonNullable<ImportRouteDeps['jobs']> }): Promise<void> {
  const { jobs, store, dir } = deps.jobs;
  mkdirSync(dir, { recursive: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  app.post<{ Params: Static<typeof Params>; Querystring: Static<typeof UploadQuery>; Body: Readable }>('/api/workspaces/:ws/sources/:sourceId/imports', {
    schema: {
      tags: ['imports'], summary: 'Upload a file to import (CSV, NDJSON, Parquet) as events, profiles or third-party attributes; answers a job to follow',
      params: Params, querystring: UploadQuery, response: { 202: JobView, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 413: ErrorResponse },
    },
  }, async (req, reply) => {
    const source = deps.catalog.source(req.params.ws, req.params.sourceId);
    const mapping = parseImportMapping(req.query.mapping);
    const id = `imp_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const file = join(dir, `${id}.${req.query.format}`);
    // Written to a temporary name and renamed once complete: a job never reads half a file.
    // A file over the limit, or an upload cut short, leaves nothing behind.
    let bytes = 0;
    const limit = deps.settings.maxImportBytes;
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(bytes > limit ? new EnsembleError('ENSEMBLE_ERR_IMPORT_TOO_LARGE', `The file is larger than ${limit} bytes.`) : null, chunk);
      },
    });
    try {
      await pipeline(req.body, counted, createWriteStream(`${file}.part`, { flags: 'wx' }));
    } catch (err) {
      await rm(`${file}.part`, { force: true });
      // The rest of an over-long body is not read: the connection closes after the answer.
      if (err instanceof EnsembleError) void reply.header('connection', 'close');
      throw err;
    }
    await rename(`${file}.part`, file);
    const spec: JobSpec = { format: req.query.format, mapping, ...(req.query.delimiter ? { delimiter: req.query.delimiter } : {}), encoding: req.query.encoding ?? 'utf-8' };
    const job = await jobs.submit({ workspaceId: source.workspaceId, sourceId: source.id, file, spec, id });
    return reply.code(202).send(jobView(job));
  });
  app.get<{ Params: Static<typeof JobParams> }>('/api/workspaces/:ws/sources/:sourceId/imports/:jobId', {
    schema: { tags: ['imports'], summary: 'An import job: status, counts and row errors (line, column, reason)', params: JobParams, response: { 200: JobView, 401: ErrorResponse, 404: ErrorResponse } },
  }, async (req) => {
    const source = deps.catalog.source(req.params.ws, req.params.sourceId);
    const job = await store.job(source.workspaceId, req.params.jobId);
    if (!job || job.sourceId !== source.id) throw new EnsembleError('ENSEMBLE_ERR_IMPORT_JOB_NOT_FOUND');
    return jobView(job);
  });
}

export function registerImportRoutes(app: FastifyInstance, deps: ImportRouteDeps): void {
  const jobs = deps.jobs;
  if (jobs) void app.register(async (scope) => registerJobRoutes(scope, { ...deps, jobs }));
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: MAX_FILE_BYTES }, (_req, body, done) => done(null, body));
  app.post<{ Params: Static<typeof Params>; Querystring: Static<typeof Query>; Body: string }>('/api/workspaces/:ws/sources/:sourceId/imports/crm', {
    bodyLimit: MAX_FILE_BYTES,
    schema: {
      tags: ['imports'], summary: 'Import a CRM file (CSV body, Content-Type text/csv): one identify per row, linked to existing profiles by normalised identifiers',
      params: Params, querystring: Query, response: { 200: ImportReport, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 413: ErrorResponse },
    },
  }, async (req) => {
    const source = deps.catalog.source(req.params.ws, req.params.sourceId);
    if (typeof req.body !== 'string') throw new EnsembleError('ENSEMBLE_ERR_IMPORT_INVALID', 'Send the file as the body with Content-Type: text/csv.');
    const mapping = parseMapping(req.query.mapping);
    const ws = source.workspaceId;
    const rules = deps.identity.rules(ws);
    const parsed = parseCrmCsv(req.body, mapping, { workspaceId: ws, sourceId: source.id, rules, now: deps.clock.now(), maxEventBytes: deps.settings.maxEventBytes, forbidden: forbiddenRules(deps.settings) });

    // Matches are counted against the profiles as they were before this file.
    const matchedBy: Record<string, number> = {};
    let matched = 0;
    for (const ids of parsed.identifiers) {
      const hit = [...ids].sort((a, b) => (rules.rule(a.type)?.rank ?? 0) - (rules.rule(b.type)?.rank ?? 0)).find((id) => {
        const p = deps.identity.lookup(ws, id.type, id.value);
        return p !== undefined && deps.memory.recordsOf(p.id).some((r) => DIGITAL_TYPES.has(r.type));
      });
      if (hit) {
        matched++;
        matchedBy[hit.type] = (matchedBy[hit.type] ?? 0) + 1;
      }
    }

    let accepted = 0;
    let duplicates = 0;
    const CHUNK = 5_000;
    for (let i = 0; i < parsed.records.length; i += CHUNK) {
      const records = parsed.records.slice(i, i + CHUNK);
      const r = await deps.collector.commit({ kind: 'prepared', source, received: records.length, records, rejected: [], receivedAt: deps.clock.now(), masked: parsed.masked });
      accepted += r.accepted;
      duplicates += r.duplicates;
    }
    return {
      rows: parsed.rows, accepted, duplicates,
      rejected: parsed.rejected.map((r) => ({ row: r.index + 1, code: r.code, message: r.message })),
      matched, matchRate: parsed.records.length === 0 ? 0 : matched / parsed.records.length, matchedBy,
    };
  });
}

function parseMapping(text: string): CrmMapping {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EnsembleError('ENSEMBLE_ERR_IMPORT_INVALID', 'The mapping is not JSON.', [{ path: '/mapping', code: 'json', message: 'Not JSON.' }]);
  }
  const errors = [...Value.Errors(Mapping, value)].slice(0, 10).map((e) => ({ path: `/mapping${e.path}`, code: 'schema', message: e.message }));
  if (errors.length > 0) throw new EnsembleError('ENSEMBLE_ERR_IMPORT_INVALID', undefined, errors);
  return value as CrmMapping;
}
