/**
 * Property paths and filters of the analytics API, turned into SQL over the `events` table
 * without ever putting input text into the SQL: a path is either one of a fixed table of typed
 * columns (`context.channel`, `context.device`, `utm.campaign`...) or `properties.a.b` /
 * `traits.a` / `context.a.b`, whose JSON path is a bound parameter; filter values are bound too.
 * Anything else is refused with ENSEMBLE_ERR_ANALYTICS_PATH_INVALID / _FILTER_INVALID.
 *
 * @example
 *   const p = new Params();
 *   const expr = pathExpr('properties.plan', p); // → json_extract_string(properties, $1)
 *   p.values; // → ['$."plan"']
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { EnsembleError } from '../protocol/errors.js';

/** Bound parameters collected while a query is built: `add` answers the placeholder. */
export class Params {
  readonly values: DuckDBValue[] = [];
  add(v: DuckDBValue): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/** Typed columns the collector enriches every event with (see collect/steps/enrich.ts). */
const COLUMNS: Readonly<Record<string, { sql: string; numeric: boolean }>> = {
  'type': { sql: 'type', numeric: false },
  'event': { sql: 'event', numeric: false },
  'source': { sql: 'source_id', numeric: false },
  'context.channel': { sql: 'channel', numeric: false },
  'context.device': { sql: 'device_type', numeric: false },
  'context.country': { sql: 'country', numeric: false },
  'context.browser': { sql: 'browser', numeric: false },
  'context.os': { sql: 'os', numeric: false },
  'context.referrer': { sql: 'referrer_host', numeric: false },
  'context.path': { sql: 'path', numeric: false },
  'utm.source': { sql: 'utm_source', numeric: false },
  'utm.medium': { sql: 'utm_medium', numeric: false },
  'utm.campaign': { sql: 'utm_campaign', numeric: false },
  'utm.term': { sql: 'utm_term', numeric: false },
  'utm.content': { sql: 'utm_content', numeric: false },
  'properties.revenue': { sql: 'revenue', numeric: true },
  'properties.price': { sql: 'price', numeric: true },
  'properties.currency': { sql: 'currency', numeric: false },
};

/** The JSON columns a free path may start with. */
const JSON_ROOTS = new Set(['properties', 'traits', 'context']);
/** One key of a path: letters, digits, `_`, `-`, `$` (no quote, dot or bracket can get through). */
const KEY = /^[A-Za-z0-9_$-]{1,64}$/;
const MAX_DEPTH = 5;

export interface ResolvedPath {
  /** The SQL expression (text; placeholders for its bound parts). */
  sql: string;
  numeric: boolean;
  /** The last key (`plan` for `properties.plan`): whether it names personal data is checked on it. */
  leaf: string;
}

/** The SQL for a property path, or ENSEMBLE_ERR_ANALYTICS_PATH_INVALID. */
export function pathExpr(path: string, params: Params): ResolvedPath {
  const col = COLUMNS[path];
  const keys = path.split('.');
  const leaf = keys[keys.length - 1] ?? path;
  if (col) return { sql: col.sql, numeric: col.numeric, leaf };
  const [root, ...rest] = keys;
  if (root === undefined || !JSON_ROOTS.has(root) || rest.length === 0 || rest.length > MAX_DEPTH || !rest.every((k) => KEY.test(k))) {
    throw new EnsembleError('ENSEMBLE_ERR_ANALYTICS_PATH_INVALID',
      `"${path.slice(0, 80)}" is not a property path: use properties.<key>, traits.<key>, context.<key> (keys of letters, digits, _ - $; at most ${MAX_DEPTH} deep) or one of ${Object.keys(COLUMNS).join(', ')}.`);
  }
  const jsonPath = '$' + rest.map((k) => `."${k}"`).join('');
  return { sql: `json_extract_string(${root}, ${params.add(jsonPath)})`, numeric: false, leaf };
}

type Scalar = string | number | boolean;
const OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'exists'] as const;
const SQL_OP: Readonly<Record<string, string>> = { eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };
const MAX_CONDITIONS = 10;

/**
 * A filter: `{ "<path>": value }` (equality) or `{ "<path>": { "<op>": value } }` with op one of
 * eq, ne, gt, gte, lt, lte, in (a list), exists (true/false). Conditions are ANDed. Numbers
 * compare as numbers, everything else as text. `text` is the `where` query parameter (JSON).
 *
 * @example
 *   filterSql({ 'properties.plan': 'pro', 'properties.revenue': { gte: 50 } }, new Params());
 *   // → "(json_extract_string(properties, $1) = $2) AND (revenue >= $3)"
 */
export function filterSql(filter: unknown, params: Params, checkLeaf?: (leaf: string) => void): string {
  if (filter === undefined || filter === null) return 'TRUE';
  if (typeof filter !== 'object' || Array.isArray(filter)) throw invalid('the filter must be a JSON object of property path → condition');
  const entries = Object.entries(filter as Record<string, unknown>);
  if (entries.length > MAX_CONDITIONS) throw invalid(`at most ${MAX_CONDITIONS} conditions`);
  const parts: string[] = [];
  for (const [path, cond] of entries) {
    const p = pathExpr(path, params);
    checkLeaf?.(p.leaf);
    const ops: Array<[string, unknown]> = cond !== null && typeof cond === 'object' && !Array.isArray(cond) ? Object.entries(cond) : [['eq', cond]];
    if (ops.length === 0) throw invalid(`"${path}": an empty condition`);
    for (const [op, value] of ops) parts.push(`(${condition(p, op, value, params, path)})`);
  }
  return parts.length === 0 ? 'TRUE' : parts.join(' AND ');
}

/** Parses the `where` query parameter (JSON text). */
export function parseFilter(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid('`where` is not valid JSON');
  }
}

function condition(p: ResolvedPath, op: string, value: unknown, params: Params, path: string): string {
  if (!(OPS as readonly string[]).includes(op)) throw invalid(`"${path}": unknown operator "${op.slice(0, 20)}" (use ${OPS.join(', ')})`);
  if (op === 'exists') {
    if (typeof value !== 'boolean') throw invalid(`"${path}": exists takes true or false`);
    return `${p.sql} IS ${value ? 'NOT ' : ''}NULL`;
  }
  if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0 || value.length > 100 || !value.every(isScalar)) throw invalid(`"${path}": in takes a list of 1 to 100 values`);
    if (value.every((v) => typeof v === 'number')) return `${numeric(p)} IN (SELECT unnest(${params.add(JSON.stringify(value))}::DOUBLE[]))`;
    return `${p.sql}::VARCHAR IN (SELECT unnest(from_json(${params.add(JSON.stringify(value.map(String)))}::JSON, '["VARCHAR"]')))`;
  }
  if (!isScalar(value)) throw invalid(`"${path}": a condition compares with a string, number or boolean`);
  const sqlOp = SQL_OP[op] as string;
  if (typeof value === 'number') return `${numeric(p)} ${sqlOp} ${params.add(value)}::DOUBLE`;
  return `${p.sql}::VARCHAR ${sqlOp} ${params.add(String(value))}`;
}

function numeric(p: ResolvedPath): string {
  return p.numeric ? p.sql : `TRY_CAST(${p.sql} AS DOUBLE)`;
}

function isScalar(v: unknown): v is Scalar {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function invalid(why: string): EnsembleError {
  return new EnsembleError('ENSEMBLE_ERR_ANALYTICS_FILTER_INVALID', `Invalid filter: ${why}.`);
}
