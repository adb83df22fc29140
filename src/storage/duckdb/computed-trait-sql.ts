/**
 * The backfill query of a computed trait: one statement over `events` that groups the matching
 * events by (profile, UTC day) into the bucket fields the engine folds (BackfillRow). Events
 * match by the filter language's SQL (segments/sql/filter-sql.ts, shared with segments), the twin
 * of profiles/computed-trait-match.ts; the property test runs both on the same events.
 *
 * Nothing from a definition is ever spliced into the SQL text: the event name, every JSONPath
 * and every filter value travel as bound parameters (`$n`). Only fragments chosen from constant
 * strings (by op and filter op) shape the statement.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { NUMERIC_OPS, type ComputedTraitDefinition } from '../../protocol/computed-trait.js';
import { DAY_MS } from '../../profiles/computed-trait-buckets.js';
import { SqlParams } from '../../segments/sql/dialect.js';
import { duckdb } from '../../segments/sql/duckdb-dialect.js';
import { eventMatchSql, pathOf } from '../../segments/sql/filter-sql.js';

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
  const p = new SqlParams(duckdb);
  const where = [`workspace_id = ${p.bind(def.workspaceId)}`, `seq <= ${p.bind(upToSeq)}`];
  if (def.windowDays !== undefined && sinceDay !== null) where.push(`epoch_ms(timestamp) >= ${p.bind(BigInt(sinceDay) * BigInt(DAY_MS))}`);
  where.push(...eventMatchSql(def.event, def.filters, p));
  if (def.sources !== undefined) where.push(`source_id IN (${def.sources.map((id) => p.bind(id)).join(', ')})`);

  // The op's value: numeric ops take JSON numbers only, the others any value but null.
  const numeric = NUMERIC_OPS.includes(def.op);
  const textual = def.op !== 'count' && !numeric;
  const v = def.property === undefined ? duckdb.nullJson : duckdb.jsonExtract('properties', pathOf(def.property), p);
  if (def.property !== undefined) {
    where.push(`coalesce(${numeric ? duckdb.jsonIsNumber(v) : duckdb.jsonIsPresent(v)}, false)`);
  }
  const day = def.windowDays === undefined ? '0::BIGINT' : `CAST(floor(epoch_ms(timestamp) / ${DAY_MS}) AS BIGINT)`;
  const matched = `SELECT profile_id, ${day} AS day, epoch_ms(timestamp) AS t_ms, message_id,
      ${numeric ? duckdb.jsonNumber(v) : 'NULL::DOUBLE'} AS num, ${textual ? duckdb.jsonText(v) : 'NULL::VARCHAR'} AS txt
    FROM events WHERE ${where.map((w) => `(${w})`).join(' AND ')}`;
  const source = def.op === 'most_frequent' || def.op === 'distinct_count'
    ? `(SELECT profile_id, day, txt, count(*) AS n FROM m GROUP BY profile_id, day, txt)`
    : 'm';
  const sql = `WITH m AS (${matched})
    SELECT profile_id, day, ${aggregates(def.op)} FROM ${source} GROUP BY profile_id, day`;
  return { sql, params: p.values };
}
