/**
 * The backfill query of a computed trait: one statement over `events` that groups the matching
 * events by (profile, UTC day) into the bucket fields the engine folds (BackfillRow). It states
 * in SQL the matching rules of profiles/computed-trait-match.ts; the property test runs both on
 * the same events.
 *
 * Nothing from a definition is ever spliced into the SQL text: the event name, every JSONPath
 * and every filter value travel as bound parameters (`$n`). Only fragments chosen from constant
 * strings (by op and filter op) shape the statement.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import {
  ANY_EVENT, NUMERIC_OPS, PAGE_EVENT, type ComputedTraitDefinition,
} from '../../protocol/computed-trait.js';
import type { FilterScalar, PropertyFilter } from '../../protocol/filter.js';
import { DAY_MS } from '../../profiles/computed-trait-buckets.js';

/**
 * `product.category` → `$."product"."category"`: each name quoted (so `$`, spaces or `*` are
 * plain characters) with `"` and `\` escaped, as DuckDB's JSONPath reads them.
 */
export function jsonPath(dotted: string): string {
  return '$' + dotted.split('.').map((s) => `."${s.replace(/["\\]/g, (c) => `\\${c}`)}"`).join('');
}

class Params {
  readonly values: DuckDBValue[] = [];
  bind(v: DuckDBValue): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

const NUMERIC_TYPES = `('BIGINT', 'UBIGINT', 'DOUBLE')`;

/** `x` is a JSON expression, SQL NULL when the path is missing. Always true or false, never NULL. */
function scalarEq(x: string, v: FilterScalar, p: Params): string {
  if (typeof v === 'string') return `coalesce(json_type(${x}) = 'VARCHAR' AND json_extract_string(${x}, '$') = ${p.bind(v)}, false)`;
  if (typeof v === 'number') return `coalesce(json_type(${x}) IN ${NUMERIC_TYPES} AND TRY_CAST(${x} AS DOUBLE) = CAST(${p.bind(v)} AS DOUBLE), false)`;
  return `coalesce(json_type(${x}) = 'BOOLEAN' AND TRY_CAST(${x} AS BOOLEAN) = ${p.bind(v)}, false)`;
}

const COMPARATORS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function filterSql(f: PropertyFilter, p: Params): string {
  const x = `json_extract(properties, ${p.bind(jsonPath(f.property))})`;
  switch (f.op) {
    case 'exists': return `coalesce(json_type(${x}) <> 'NULL', false)`;
    case 'eq': return scalarEq(x, f.value as FilterScalar, p);
    case 'neq': return `NOT ${scalarEq(x, f.value as FilterScalar, p)}`;
    case 'in': return `(${(f.value as FilterScalar[]).map((v) => scalarEq(x, v, p)).join(' OR ')})`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const cmp = COMPARATORS[f.op];
      return typeof f.value === 'number'
        ? `coalesce(json_type(${x}) IN ${NUMERIC_TYPES} AND TRY_CAST(${x} AS DOUBLE) ${cmp} CAST(${p.bind(f.value)} AS DOUBLE), false)`
        : `coalesce(json_type(${x}) = 'VARCHAR' AND json_extract_string(${x}, '$') ${cmp} ${p.bind(f.value as string)}, false)`;
    }
    case 'between': {
      const [low, high] = f.value as [number, number] | [string, string];
      return typeof low === 'number'
        ? `coalesce(json_type(${x}) IN ${NUMERIC_TYPES} AND TRY_CAST(${x} AS DOUBLE) BETWEEN CAST(${p.bind(low)} AS DOUBLE) AND CAST(${p.bind(high)} AS DOUBLE), false)`
        : `coalesce(json_type(${x}) = 'VARCHAR' AND json_extract_string(${x}, '$') BETWEEN ${p.bind(low)} AND ${p.bind(high as string)}, false)`;
    }
    case 'starts_with':
      return `coalesce(json_type(${x}) = 'VARCHAR' AND starts_with(json_extract_string(${x}, '$'), ${p.bind(f.value as string)}), false)`;
    case 'contains': {
      const needle = p.bind(f.value as string);
      return `coalesce((json_type(${x}) = 'VARCHAR' AND contains(json_extract_string(${x}, '$'), ${needle}))
        OR (json_type(${x}) = 'ARRAY' AND list_contains(list_transform(json_extract(${x}, '$[*]'),
              lambda e: CASE WHEN json_type(e) = 'VARCHAR' THEN json_extract_string(e, '$') END), ${needle})), false)`;
    }
    default: {
      const unreachable: never = f.op;
      throw new Error(`unknown filter op ${String(unreachable)}`);
    }
  }
}

function eventSql(event: string, p: Params): string {
  if (event === ANY_EVENT) return 'true';
  if (event === PAGE_EVENT) return `type = 'page'`;
  return `type = 'track' AND event = ${p.bind(event)}`;
}

/** The aggregate columns each op needs (the others come back NULL). */
function aggregates(op: ComputedTraitDefinition['op']): string {
  const none = 'NULL::DOUBLE AS sum, NULL::DOUBLE AS min, NULL::DOUBLE AS max, NULL AS first, NULL AS last, NULL AS tally';
  switch (op) {
    case 'count': return `count(*) AS events, ${none}`;
    case 'sum':
    case 'avg':
    case 'min':
    case 'max': return 'count(*) AS events, sum(num) AS sum, min(num) AS min, max(num) AS max, NULL AS first, NULL AS last, NULL AS tally';
    case 'first':
    case 'last':
      // A struct orders by its fields in turn: event time, then messageId, as the engine does.
      return `count(*) AS events, NULL::DOUBLE AS sum, NULL::DOUBLE AS min, NULL::DOUBLE AS max,
        min({'at': t_ms, 'messageId': message_id, 'value': txt}) AS first, max({'at': t_ms, 'messageId': message_id, 'value': txt}) AS last, NULL AS tally`;
    case 'most_frequent':
    case 'distinct_count':
      return `sum(n)::BIGINT AS events, NULL::DOUBLE AS sum, NULL::DOUBLE AS min, NULL::DOUBLE AS max, NULL AS first, NULL AS last,
        list({'value': txt, 'count': n}) AS tally`;
    default: {
      const unreachable: never = op;
      throw new Error(`unknown op ${String(unreachable)}`);
    }
  }
}

/**
 * The statement and its parameters for the events of `def`'s workspace with seq <= upToSeq,
 * and, for a windowed trait, on or after `sinceDay` (older days would be pruned at once).
 */
export function backfillQuery(def: ComputedTraitDefinition, upToSeq: bigint, sinceDay: number | null): { sql: string; params: DuckDBValue[] } {
  const p = new Params();
  const where = [`workspace_id = ${p.bind(def.workspaceId)}`, `seq <= ${p.bind(upToSeq)}`, eventSql(def.event, p)];
  if (def.windowDays !== undefined && sinceDay !== null) where.push(`epoch_ms(timestamp) >= ${p.bind(BigInt(sinceDay) * BigInt(DAY_MS))}`);
  for (const f of def.filters ?? []) where.push(filterSql(f, p));

  // The op's value: numeric ops take JSON numbers only, the others any value but null.
  const numeric = NUMERIC_OPS.includes(def.op);
  const textual = def.op !== 'count' && !numeric;
  const v = def.property === undefined ? 'NULL::JSON' : `json_extract(properties, ${p.bind(jsonPath(def.property))})`;
  if (def.property !== undefined) {
    where.push(numeric ? `coalesce(json_type(${v}) IN ${NUMERIC_TYPES}, false)` : `coalesce(json_type(${v}) <> 'NULL', false)`);
  }
  const day = def.windowDays === undefined ? '0::BIGINT' : `CAST(floor(epoch_ms(timestamp) / ${DAY_MS}) AS BIGINT)`;
  const matched = `SELECT profile_id, ${day} AS day, epoch_ms(timestamp) AS t_ms, message_id,
      ${numeric ? `TRY_CAST(${v} AS DOUBLE)` : 'NULL::DOUBLE'} AS num, ${textual ? `CAST(${v} AS VARCHAR)` : 'NULL::VARCHAR'} AS txt
    FROM events WHERE ${where.map((w) => `(${w})`).join(' AND ')}`;
  const source = def.op === 'most_frequent' || def.op === 'distinct_count'
    ? `(SELECT profile_id, day, txt, count(*) AS n FROM m GROUP BY profile_id, day, txt)`
    : 'm';
  const sql = `WITH m AS (${matched})
    SELECT profile_id, day, ${aggregates(def.op)} FROM ${source} GROUP BY profile_id, day`;
  return { sql, params: p.values };
}
