/**
 * The declarative mapping shared by file imports (CSV, NDJSON, Parquet) and inbound webhooks:
 * it turns one row (a flat CSV record or any JSON value) into one Segment-style event, or a
 * row error saying which field is wrong and why. A field reference is a column name, or a JSON
 * pointer (`/order/lines/0/sku`) when it starts with `/`.
 *
 * Kinds:
 * - `events`: a `track` per row (`event` names it: a constant, or `eventField` a field);
 * - `profiles`: an `identify` per row (identifiers + traits, as a CRM export);
 * - `third_party`: attributes keyed by a hashed email (sha256 of the trimmed, lower-cased email);
 *   the caller resolves the hash to a known profile (see import-jobs.ts); traits are stored
 *   under the party's name as their source (`acme_score`).
 *
 * @example
 *   const m = parseMapping({ kind: 'events', event: 'Order Completed', userId: 'Customer', timestamp: 'Date',
 *     messageId: 'Order id', properties: { revenue: { field: 'Total', type: 'number' } } });
 *   mapRow(m, { Customer: 'C-1', Date: '2026-02-01', 'Order id': 'O-9', Total: '12.5' });
 *   // → { ok: true, event: { type: 'track', event: 'Order Completed', userId: 'C-1', properties: { revenue: 12.5 }, ... } }
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { EnsembleError } from '../../protocol/errors.js';

const FieldSpec = Type.Union([
  Type.String({ description: 'a column name, or a JSON pointer when it starts with "/"' }),
  Type.Object({
    field: Type.String(),
    type: Type.Optional(Type.Union([Type.Literal('string'), Type.Literal('number'), Type.Literal('integer'), Type.Literal('boolean'), Type.Literal('json')])),
    required: Type.Optional(Type.Boolean()),
  }, { additionalProperties: false }),
]);

export const MappingSchema = Type.Object({
  kind: Type.Union([Type.Literal('events'), Type.Literal('profiles'), Type.Literal('third_party')]),
  event: Type.Optional(Type.String({ description: 'events: the event name for every row' })),
  eventField: Type.Optional(Type.String({ description: 'events: the field holding the event name' })),
  messageId: Type.Optional(Type.String({ description: 'a field unique per row; default: a digest of the row' })),
  timestamp: Type.Optional(Type.String({ description: 'a field holding an ISO date or epoch milliseconds' })),
  userId: Type.Optional(Type.String()),
  anonymousId: Type.Optional(Type.String()),
  email: Type.Optional(Type.String({ description: 'profiles/events: a field holding an email (an identifier)' })),
  identifiers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'profiles: identifier type → field (external ids)' })),
  hashedEmail: Type.Optional(Type.String({ description: 'third_party: the field holding sha256(lower-cased, trimmed email), hex' })),
  party: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{0,39}$', description: 'third_party: who the attributes come from' })),
  properties: Type.Optional(Type.Record(Type.String(), FieldSpec)),
  traits: Type.Optional(Type.Record(Type.String(), FieldSpec)),
  items: Type.Optional(Type.String({ description: 'hooks: a JSON pointer to an array; each item becomes one event' })),
}, { additionalProperties: false });

export type Mapping = Static<typeof MappingSchema>;
type Field = Static<typeof FieldSpec>;

export type MapResult = { ok: true; event: Record<string, unknown> } | { ok: false; column: string | null; reason: string };

/** Validates a mapping (from JSON text or a value); throws IMPORT_INVALID with each problem. */
export function parseMapping(input: unknown): Mapping {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw new EnsembleError('ENSEMBLE_ERR_IMPORT_INVALID', 'The mapping is not JSON.', [{ path: '/mapping', code: 'json', message: 'Not JSON.' }]);
    }
  }
  const problems = [...Value.Errors(MappingSchema, value)].slice(0, 10).map((e) => ({ path: `/mapping${e.path}`, code: 'schema', message: e.message }));
  const m = value as Mapping;
  if (problems.length === 0) {
    if (m.kind === 'events' && !m.event && !m.eventField) problems.push({ path: '/mapping/event', code: 'required', message: 'Name the event (event) or the field holding it (eventField).' });
    if (m.kind === 'events' && !m.userId && !m.anonymousId && !m.email) problems.push({ path: '/mapping/userId', code: 'required', message: 'Map userId, anonymousId or email.' });
    if (m.kind === 'profiles' && !m.userId && !m.email && Object.keys(m.identifiers ?? {}).length === 0) problems.push({ path: '/mapping/identifiers', code: 'required', message: 'Map at least one identifier.' });
    if (m.kind === 'third_party' && (!m.hashedEmail || !m.party)) problems.push({ path: '/mapping/hashedEmail', code: 'required', message: 'Map hashedEmail and name the party.' });
  }
  if (problems.length > 0) throw new EnsembleError('ENSEMBLE_ERR_IMPORT_INVALID', undefined, problems);
  return m;
}

/** Reads a field: a JSON pointer (RFC 6901) when it starts with "/", else a key of the row. */
export function readField(row: unknown, ref: string): unknown {
  if (!ref.startsWith('/')) return row !== null && typeof row === 'object' ? (row as Record<string, unknown>)[ref] : undefined;
  let cur: unknown = row;
  for (const raw of ref.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? cur[Number(key)] : (cur as Record<string, unknown>)[key];
  }
  return cur;
}

const blank = (v: unknown) => v === undefined || v === null || v === '';

class RowProblem extends Error {
  constructor(readonly column: string | null, reason: string) { super(reason); }
}

function convert(row: unknown, name: string, spec: Field): unknown {
  const s = typeof spec === 'string' ? { field: spec } : spec;
  const v = readField(row, s.field);
  if (blank(v)) {
    if (s.required) throw new RowProblem(s.field, `"${name}" is required and empty.`);
    return undefined;
  }
  switch (s.type) {
    case 'number': case 'integer': {
      // French exports write decimals with a comma: "12,50".
      const n = typeof v === 'number' ? v : Number(String(v).trim().replace(/\s/g, '').replace(',', '.'));
      if (!Number.isFinite(n) || (s.type === 'integer' && !Number.isInteger(n))) throw new RowProblem(s.field, `"${String(v).slice(0, 40)}" is not ${s.type === 'integer' ? 'an integer' : 'a number'}.`);
      return n;
    }
    case 'boolean': {
      if (typeof v === 'boolean') return v;
      const t = String(v).trim().toLowerCase();
      if (['true', '1', 'yes', 'oui'].includes(t)) return true;
      if (['false', '0', 'no', 'non'].includes(t)) return false;
      throw new RowProblem(s.field, `"${t.slice(0, 40)}" is not a boolean.`);
    }
    case 'json': {
      if (typeof v !== 'string') return v;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        throw new RowProblem(s.field, 'not JSON.');
      }
    }
    case 'string': return typeof v === 'string' ? v : JSON.stringify(v);
    default: return v;
  }
}

function text(row: unknown, ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const v = readField(row, ref);
  if (blank(v)) return undefined;
  return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : JSON.stringify(v);
}

function timestampOf(row: unknown, ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const v = readField(row, ref);
  if (blank(v)) throw new RowProblem(ref, 'the timestamp is empty.');
  const ms = typeof v === 'number' ? v : /^\d{12,13}$/.test(String(v).trim()) ? Number(String(v).trim()) : Date.parse(String(v));
  if (!Number.isFinite(ms)) throw new RowProblem(ref, `"${String(v).slice(0, 40)}" is not a date.`);
  return new Date(ms).toISOString();
}

function fields(row: unknown, specs: Record<string, Field> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs ?? {})) {
    const v = convert(row, name, spec);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/**
 * One row → one event (without messageId unless mapped; the caller adds a row digest). For
 * `third_party`, the event carries `hashedEmail` for the caller to resolve and no identity yet.
 */
export function mapRow(m: Mapping, row: unknown): MapResult {
  try {
    const timestamp = timestampOf(row, m.timestamp);
    const messageId = text(row, m.messageId);
    const base: Record<string, unknown> = { ...(messageId ? { messageId } : {}), ...(timestamp ? { timestamp } : {}) };
    if (m.kind === 'third_party') {
      const h = text(row, m.hashedEmail)?.toLowerCase();
      if (!h) throw new RowProblem(m.hashedEmail ?? null, 'the hashed email is empty.');
      if (!/^[0-9a-f]{64}$/.test(h)) throw new RowProblem(m.hashedEmail ?? null, 'not a sha256 hex digest.');
      const traits = Object.fromEntries(Object.entries(fields(row, m.traits)).map(([k, v]) => [`${m.party}_${k}`, v]));
      return { ok: true, event: { ...base, type: 'identify', hashedEmail: h, traits } };
    }
    const userId = text(row, m.userId);
    const anonymousId = text(row, m.anonymousId);
    const email = text(row, m.email);
    const externalIds = Object.entries(m.identifiers ?? {}).flatMap(([type, ref]) => {
      const v = text(row, ref);
      return v ? [{ id: v, type, collection: 'users', encoding: 'none' }] : [];
    });
    if (!userId && !anonymousId && !email && externalIds.length === 0) {
      throw new RowProblem(m.userId ?? m.email ?? m.anonymousId ?? Object.values(m.identifiers ?? {})[0] ?? null, 'no identifier on this row (empty).');
    }
    const ids = { ...(userId ? { userId } : {}), ...(anonymousId ? { anonymousId } : {}) };
    const context = externalIds.length > 0 ? { externalIds } : {};
    if (m.kind === 'profiles') {
      const traits = fields(row, m.traits);
      if (email) traits.email = email;
      return { ok: true, event: { ...base, ...ids, type: 'identify', traits, context } };
    }
    const event = m.event ?? text(row, m.eventField);
    if (!event) throw new RowProblem(m.eventField ?? null, 'the event name is empty.');
    const traits = email ? { email } : undefined;
    return { ok: true, event: { ...base, ...ids, type: 'track', event, properties: fields(row, m.properties), context: traits ? { ...context, traits } : context } };
  } catch (err) {
    if (err instanceof RowProblem) return { ok: false, column: err.column, reason: err.message };
    throw err;
  }
}
