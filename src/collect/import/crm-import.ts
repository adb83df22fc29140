/**
 * CRM onboarding: a CSV export (customer number, email, phone, loyalty card, names...) becomes
 * one `identify` event per row, committed to the durable log like any collected event, so the
 * identity engine links each record to the web and app profiles that share a normalised,
 * hashed identifier. The report says how many rows matched such a profile before the import.
 *
 * Rows are keyed by a digest of (source, row): importing the same file twice stores each row
 * once (within the dedupe window) and changes nothing after (identify is idempotent).
 */
import { createHash } from 'node:crypto';
import { readCsvRows } from './csv.js';
import { EnsembleError } from '../../protocol/errors.js';
import type { CollectedEvent } from '../../protocol/event.js';
import type { IdentityRules } from '../../identity/normalise.js';
import type { PreparedRecord, Rejection } from '../prepare.js';
import { maskEvent, type ForbiddenRules, type MaskCounts } from '../steps/forbidden-data.js';
import { toWellFormedJson } from '../steps/well-formed-json.js';

export interface CrmMapping {
  /** Identifier type → CSV column, e.g. `{ "crm_id": "Customer no", "email": "E-mail" }`. */
  identifiers: Record<string, string>;
  /** Trait name → CSV column, e.g. `{ "firstName": "First name" }`. */
  traits?: Record<string, string>;
  /** Column holding when the record was last updated (ISO date); default: the import time. */
  updatedAt?: string;
}

export interface CrmRows {
  records: PreparedRecord[];
  /** Values masked (card numbers, forbidden patterns), by pattern name. */
  masked: MaskCounts;
  rejected: Rejection[];
  /** Normalised identifiers of each accepted record, for the match count. */
  identifiers: Array<Array<{ type: string; value: string }>>;
  rows: number;
}

/** Identifier types stored as traits too: a marketer expects the CRM's email on the profile. */
const ALSO_TRAITS = new Set(['email', 'phone']);
const MAX_ROWS = 200_000;

export function parseCrmCsv(csv: string, mapping: CrmMapping, ctx: { workspaceId: string; sourceId: string; rules: IdentityRules; now: number; maxEventBytes: number; forbidden: ForbiddenRules }): CrmRows {
  const problems = mappingProblems(mapping, ctx.rules);
  const rows = readCsvRows(csv);
  if (rows.length > MAX_ROWS) problems.push({ path: '/csv', code: 'too_many_rows', message: `At most ${MAX_ROWS} rows per import; split the file.` });
  const header = new Set(Object.keys(rows[0] ?? {}));
  const columns = [...Object.entries(mapping.identifiers), ...Object.entries(mapping.traits ?? {}), ...(mapping.updatedAt ? [['updatedAt', mapping.updatedAt] as const] : [])];
  for (const [field, column] of columns) {
    if (rows.length > 0 && !header.has(column)) problems.push({ path: `/mapping/${field}`, code: 'unknown_column', message: `The file has no column "${column}".` });
  }
  if (problems.length > 0) throw new EnsembleError('ENSEMBLE_ERR_IMPORT_INVALID', undefined, problems);

  const out: CrmRows = { records: [], rejected: [], identifiers: [], rows: rows.length, masked: {} };
  const receivedAt = new Date(ctx.now).toISOString();
  rows.forEach((row, index) => {
    const ids: Array<{ type: string; value: string }> = [];
    for (const [type, column] of Object.entries(mapping.identifiers)) {
      const n = ctx.rules.normalise(type, row[column] ?? '');
      if (n.ok) ids.push({ type, value: n.value });
    }
    if (ids.length === 0) {
      out.rejected.push({ index, code: 'ENSEMBLE_ERR_EVENT_NO_IDENTITY', message: 'No mapped identifier of this row is usable (empty, blocked or malformed).' });
      return;
    }
    const when = mapping.updatedAt ? Date.parse(row[mapping.updatedAt] ?? '') : ctx.now;
    if (Number.isNaN(when)) {
      out.rejected.push({ index, code: 'ENSEMBLE_ERR_EVENT_TIMESTAMP', message: `"${mapping.updatedAt}" is not a date on this row.` });
      return;
    }
    const traits: Record<string, unknown> = {};
    for (const [trait, column] of Object.entries(mapping.traits ?? {})) if (row[column] !== undefined && row[column] !== '') traits[trait] = row[column];
    for (const id of ids) if (ALSO_TRAITS.has(id.type)) traits[id.type] = id.value;
    const externalIds = ids.filter((id) => !ALSO_TRAITS.has(id.type)).map((id) => ({ id: id.value, type: id.type, collection: 'crm', encoding: 'none' }));
    const messageId = `crm-${createHash('sha256').update(ctx.sourceId).update('\u0000').update(JSON.stringify(row)).digest('base64url').slice(0, 32)}`;
    const timestamp = new Date(when).toISOString();
    // Card numbers and forbidden patterns are masked here as at collection: a CRM export is no exception.
    const event: CollectedEvent = maskEvent({
      type: 'identify', messageId, workspaceId: ctx.workspaceId, sourceId: ctx.sourceId, anonymousId: null, userId: null,
      properties: {}, traits, context: { externalIds, library: { name: 'ensemble-crm-import', version: '1' } },
      originalTimestamp: timestamp, timestamp, sentAt: null, receivedAt, country: null,
    }, ctx.forbidden, out.masked);
    const payload = toWellFormedJson(event);
    if (Buffer.byteLength(payload) > ctx.maxEventBytes) {
      out.rejected.push({ index, code: 'ENSEMBLE_ERR_EVENT_TOO_LARGE', message: `The row makes an event larger than ${ctx.maxEventBytes} bytes.` });
      return;
    }
    out.records.push({ messageId, payload });
    out.identifiers.push(ids);
  });
  return out;
}

function mappingProblems(mapping: CrmMapping, rules: IdentityRules): Array<{ path: string; code: string; message: string }> {
  const out: Array<{ path: string; code: string; message: string }> = [];
  if (Object.keys(mapping.identifiers).length === 0) out.push({ path: '/mapping/identifiers', code: 'required', message: 'Map at least one identifier column.' });
  for (const type of Object.keys(mapping.identifiers)) {
    if (!rules.rule(type)) out.push({ path: `/mapping/identifiers/${type}`, code: 'unknown_type', message: `"${type}" is not an identifier type of this workspace.` });
  }
  return out;
}
