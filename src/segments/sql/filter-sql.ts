/**
 * The filter language of protocol/filter.ts in SQL, through a dialect: the twin of
 * profiles/computed-trait-match.ts (`compileComparison`, `compileMatcher`), which property tests
 * hold it to. Computed-trait backfills (storage/duckdb/computed-trait-sql.ts) and segment
 * definitions (compile.ts) both use it.
 *
 * Every fragment is a SQL boolean that is never NULL (true or false), so `NOT` and `OR` of them
 * keep two-valued logic: an absent value (missing path, JSON null, SQL NULL) fails every op but
 * `neq`. Values are bound (`SqlParams.bind`); only the op and the type of the value (string,
 * number, boolean) choose the text.
 */
import { ANY_EVENT, PAGE_EVENT } from '../../protocol/computed-trait.js';
import type { Comparison, FilterScalar, PropertyFilter } from '../../protocol/filter.js';
import type { SqlParams } from './dialect.js';

/**
 * What a comparison reads: a JSON expression (its type known only at run time: event
 * properties, traits, a computed first/last/most_frequent) or a SQL number (a computed count,
 * sum, average...), NULL when absent.
 */
export type Operand = { kind: 'json'; sql: string } | { kind: 'number'; sql: string };

/**
 * The comparison `c` (a validated op and value) on `x`.
 *
 * @example
 *   comparisonSql({ kind: 'json', sql: 'json_extract(properties, $2)' }, { op: 'gt', value: 10 }, params)
 *   // → coalesce(json_type(...) IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND TRY_CAST(... AS DOUBLE) > CAST($3 AS DOUBLE), false)
 */
export function comparisonSql(x: Operand, c: Comparison, p: SqlParams): string {
  return x.kind === 'json' ? jsonComparison(x.sql, c, p) : numberComparison(x.sql, c, p);
}

/**
 * The names of a dotted path. Definitions are validated (protocol/filter.ts `pathSegments`), but
 * the SQL does not rely on it: the names are bound, whatever they are.
 */
export function pathOf(dotted: string): string[] {
  return dotted.split('.');
}

/** A property filter on a JSON column of event properties (`properties` or `e.properties`). */
export function propertyFilterSql(properties: string, f: PropertyFilter, p: SqlParams): string {
  return comparisonSql({ kind: 'json', sql: p.dialect.jsonExtract(properties, pathOf(f.property), p) }, f, p);
}

/**
 * The conditions an event must meet to match `event` and every filter (none for `$any` without
 * filters), for a table whose columns are `type`, `event` and `properties` under `alias`.
 */
export function eventMatchSql(event: string, filters: readonly PropertyFilter[] | undefined, p: SqlParams, alias?: string): string[] {
  const col = (name: string): string => (alias === undefined ? name : `${alias}.${name}`);
  const out: string[] = [];
  if (event === PAGE_EVENT) out.push(`${col('type')} = 'page'`);
  else if (event !== ANY_EVENT) out.push(`${col('type')} = 'track' AND ${col('event')} = ${p.bind(event)}`);
  for (const f of filters ?? []) out.push(propertyFilterSql(col('properties'), f, p));
  return out;
}

const COMPARATORS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function jsonComparison(x: string, c: Comparison, p: SqlParams): string {
  const d = p.dialect;
  switch (c.op) {
    case 'exists': return `coalesce(${d.jsonIsPresent(x)}, false)`;
    case 'eq': return jsonEq(x, c.value as FilterScalar, p);
    case 'neq': return `NOT ${jsonEq(x, c.value as FilterScalar, p)}`;
    case 'in': return `(${(c.value as FilterScalar[]).map((v) => jsonEq(x, v, p)).join(' OR ')})`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const cmp = COMPARATORS[c.op];
      return typeof c.value === 'number'
        ? `coalesce(${d.jsonIsNumber(x)} AND ${d.jsonNumber(x)} ${cmp} ${d.double(c.value, p)}, false)`
        : `coalesce(${d.jsonIsString(x)} AND ${d.jsonString(x)} ${cmp} ${p.bind(c.value as string)}, false)`;
    }
    case 'between': {
      const [low, high] = c.value as [number, number] | [string, string];
      return typeof low === 'number'
        ? `coalesce(${d.jsonIsNumber(x)} AND ${d.jsonNumber(x)} BETWEEN ${d.double(low, p)} AND ${d.double(high as number, p)}, false)`
        : `coalesce(${d.jsonIsString(x)} AND ${d.jsonString(x)} BETWEEN ${p.bind(low)} AND ${p.bind(high)}, false)`;
    }
    case 'starts_with':
      return `coalesce(${d.jsonIsString(x)} AND ${d.startsWith(d.jsonString(x), p.bind(c.value as string))}, false)`;
    case 'contains': {
      const needle = p.bind(c.value as string);
      return `coalesce((${d.jsonIsString(x)} AND ${d.contains(d.jsonString(x), needle)})
        OR (${d.jsonIsArray(x)} AND ${d.jsonArrayHasString(x, needle)}), false)`;
    }
    default: {
      const unreachable: never = c.op;
      throw new Error(`unknown filter op ${String(unreachable)}`);
    }
  }
}

/** Equality keeps types apart: the string "5" is not the number 5, nor `true` the string "true". */
function jsonEq(x: string, v: FilterScalar, p: SqlParams): string {
  const d = p.dialect;
  if (typeof v === 'string') return `coalesce(${d.jsonIsString(x)} AND ${d.jsonString(x)} = ${p.bind(v)}, false)`;
  if (typeof v === 'number') return `coalesce(${d.jsonIsNumber(x)} AND ${d.jsonNumber(x)} = ${d.double(v, p)}, false)`;
  return `coalesce(${d.jsonIsBoolean(x)} AND ${d.jsonBoolean(x)} = ${p.bind(v)}, false)`;
}

/** A number is never a string, a boolean or an array: those ops are false whatever it is. */
function numberComparison(x: string, c: Comparison, p: SqlParams): string {
  const d = p.dialect;
  const num = (v: unknown): string => d.double(v as number, p);
  switch (c.op) {
    case 'exists': return `(${x} IS NOT NULL)`;
    case 'eq': return numberEq(x, c.value, p);
    case 'neq': {
      const eq = numberEq(x, c.value, p);
      return eq === 'false' ? 'true' : `NOT ${eq}`;
    }
    case 'in': {
      const numbers = (c.value as FilterScalar[]).filter((v) => typeof v === 'number');
      return numbers.length === 0 ? 'false' : `(${numbers.map((v) => numberEq(x, v, p)).join(' OR ')})`;
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return typeof c.value === 'number' ? `coalesce(${x} ${COMPARATORS[c.op]} ${num(c.value)}, false)` : 'false';
    case 'between': {
      const [low, high] = c.value as [number, number] | [string, string];
      return typeof low === 'number' ? `coalesce(${x} BETWEEN ${num(low)} AND ${num(high)}, false)` : 'false';
    }
    case 'starts_with':
    case 'contains':
      return 'false';
    default: {
      const unreachable: never = c.op;
      throw new Error(`unknown filter op ${String(unreachable)}`);
    }
  }
}

function numberEq(x: string, v: unknown, p: SqlParams): string {
  return typeof v === 'number' ? `coalesce(${x} = ${p.dialect.double(v, p)}, false)` : 'false';
}
