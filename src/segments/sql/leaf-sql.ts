/**
 * The CTEs of the leaves that read events or lists: each filters the rows it needs first (by
 * workspace, event type and name, window), maps them to the live profile (the `live` CTE of
 * compile.ts) and leaves one row per live profile, so compile.ts LEFT JOINs them to the universe
 * without duplicates. Semantics: protocol/segment.ts; the incremental twin: segments/leaf-state.ts.
 */
import { NUMERIC_OPS, type ComputedTraitDefinition, type ComputedTraitOp } from '../../protocol/computed-trait.js';
import {
  durationMs, instantMs, type ConsentCondition, type EventCondition, type ExternalCondition, type GeoCondition, type ListCondition, type SequenceCondition,
} from '../../protocol/segment.js';
import { DAY_MS } from '../../profiles/computed-trait-buckets.js';
import type { SqlParams } from './dialect.js';
import { eventMatchSql, pathOf, propertyFilterSql, type Operand } from './filter-sql.js';

/** What every leaf needs: the statement's parameters and the workspace id's placeholder. */
export interface LeafScope {
  p: SqlParams;
  ws: string;
  /**
   * Purpose limitation: the test keeping the events of the sources allowed to feed the segment
   * (its event, sequence and consent conditions), or undefined for every source. A function, so
   * the source ids are bound only when a condition reads events (an unused parameter is an error).
   */
  sources?: () => string;
}

/** `name AS (...)`, one line of the body per entry. */
export function cte(name: string, lines: readonly string[]): string {
  return `${name} AS (\n  ${lines.join('\n  ')}\n)`;
}

/** The workspace's events, each with the live profile it belongs to now (`LIVE_ID`). */
const LIVE_EVENTS = 'FROM events e LEFT JOIN live l ON l.id = e.profile_id';
/** The live profile of an event: the one its profile was merged into, or its own. */
const LIVE_ID = 'coalesce(l.live_id, e.profile_id)';

function where(s: LeafScope, conditions: readonly string[], limited = false): string {
  return `WHERE ${[`e.workspace_id = ${s.ws}`, ...(limited && s.sources !== undefined ? [s.sources()] : []), ...conditions].join(' AND ')}`;
}

/** Definitions reach the compiler validated: a bad duration or date is a programmer error. */
function must(value: number | null, what: string): number {
  if (value === null) throw new Error(`invalid ${what} in a segment definition`);
  return value;
}

/** `profile_id, n`: the number of matching events in the window, for profiles that have some. */
export function eventCountCte(name: string, c: EventCondition, now: number, s: LeafScope): string {
  const d = s.p.dialect;
  const ms = (value: number): string => d.timestampOfMs(s.p.bind(value));
  // By name and time first, the cheap tests; the JSON filters last.
  const conditions = eventMatchSql(c.event, undefined, s.p, 'e');
  if (c.within !== undefined) conditions.push(`e.timestamp > ${ms(now - must(durationMs(c.within), 'duration'))}`);
  if (c.between !== undefined) {
    const from = must(instantMs(c.between.from), 'date');
    const to = must(instantMs(c.between.to), 'date');
    conditions.push(`e.timestamp >= ${ms(from)}`, `e.timestamp < ${ms(to)}`);
  }
  for (const f of c.filters ?? []) conditions.push(propertyFilterSql('e.properties', f, s.p));
  return cte(name, [`SELECT ${LIVE_ID} AS profile_id, count(*) AS n`, LIVE_EVENTS, where(s, conditions, true), `GROUP BY ${LIVE_ID}`]);
}

/**
 * `profile_id, granted`: whether the decision in force for the purpose is a grant — the latest
 * consent record of the live profile's lineage by decision time, then recording time, then id
 * (privacy/consent-ledger.ts `later`), whatever source it came from (CMP, TCF, API).
 */
export function consentCte(name: string, c: ConsentCondition, s: LeafScope): string {
  const d = s.p.dialect;
  return cte(name, [
    `SELECT coalesce(l.live_id, r.profile_id) AS profile_id, ${d.argMax(`r.status = 'granted'`, ['r.decided_at', 'r.recorded_at', 'r.id'])} AS granted`,
    'FROM consent_records r LEFT JOIN live l ON l.id = r.profile_id',
    `WHERE r.workspace_id = ${s.ws} AND r.purpose = ${s.p.bind(c.purpose)}`,
    'GROUP BY coalesce(l.live_id, r.profile_id)',
  ]);
}

/**
 * `profile_id, inside`: whether the latest event (by time, then seq) the condition reads — one
 * carrying a location (`near`), or one with a country — satisfies it.
 */
export function geoCte(name: string, c: GeoCondition, s: LeafScope): string {
  const d = s.p.dialect;
  let reads: string[];
  let inside: string;
  if ('near' in c) {
    const lat = d.jsonExtract('e.context', ['location', 'latitude'], s.p);
    const lon = d.jsonExtract('e.context', ['location', 'longitude'], s.p);
    // The engine's test (protocol/geo.ts locationOf): numbers within the ranges of degrees.
    reads = [d.jsonIsNumber(lat), d.jsonIsNumber(lon), `${d.jsonNumber(lat)} BETWEEN -90 AND 90`, `${d.jsonNumber(lon)} BETWEEN -180 AND 180`];
    inside = `${d.distanceKm(d.jsonNumber(lat), d.jsonNumber(lon), d.double(c.near.latitude, s.p), d.double(c.near.longitude, s.p))} <= ${d.double(c.near.radiusKm, s.p)}`;
  } else {
    reads = ['e.country IS NOT NULL'];
    inside = `e.country IN (${c.country.map((code) => s.p.bind(code)).join(', ')})`;
  }
  return cte(name, [
    `SELECT ${LIVE_ID} AS profile_id, ${d.argMax(inside, [d.epochMs('e.timestamp'), 'e.seq'])} AS inside`,
    LIVE_EVENTS, where(s, reads, true), `GROUP BY ${LIVE_ID}`,
  ]);
}

/**
 * `profile_id, value`: for each live profile whose key trait is a string, the external source's
 * value of the field for that key (joined on the normalised key), as JSON.
 */
export function externalCte(name: string, c: ExternalCondition, s: LeafScope): string {
  const d = s.p.dialect;
  const [key, ...rest] = pathOf(c.key) as [string, ...string[]];
  const trait = d.jsonExtract('p.traits', [key, 'value', ...rest], s.p);
  return cte(name, [
    'SELECT p.id AS profile_id, x.value AS value',
    'FROM profiles p',
    `JOIN external_values x ON x.workspace_id = p.workspace_id AND x.source_id = ${s.p.bind(c.source)} AND x.field = ${s.p.bind(c.field)}`,
    `  AND x.key = ${d.normalisedKey(d.jsonString(trait), s.p)}`,
    `WHERE p.workspace_id = ${s.ws} AND p.merged_into IS NULL AND ${d.jsonIsString(trait)}`,
  ]);
}

/**
 * `profile_id, score, decile`: the latest scoring run of the model named by id or key
 * (src/predict/: `model_scores` is replaced whole at each run, one row per scored profile).
 */
export function scoreCte(name: string, model: string, s: LeafScope): string {
  const ref = s.p.bind(model);
  return cte(name, [
    'SELECT x.profile_id, x.score, x.decile',
    'FROM model_scores x JOIN models m ON m.workspace_id = x.workspace_id AND m.id = x.model_id',
    `WHERE x.workspace_id = ${s.ws} AND (m.id = ${ref} OR m.key = ${ref})`,
  ]);
}

/** `profile_id`: the profiles owning an identifier of the static list. */
export function listCte(name: string, c: ListCondition, s: LeafScope): string {
  return cte(name, [
    'SELECT DISTINCT coalesce(l.live_id, d.profile_id) AS profile_id',
    'FROM segment_list_items i',
    'JOIN identities d ON d.workspace_id = i.workspace_id AND d.type = i.type AND d.hash = i.hash',
    'LEFT JOIN live l ON l.id = d.profile_id',
    `WHERE i.workspace_id = ${s.ws} AND i.list_id = ${s.p.bind(c.id)}`,
  ]);
}

const ORDER = 'PARTITION BY profile_id ORDER BY at_ms, seq';
const BEFORE = `(${ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)`;

/**
 * `profile_id`: the profiles whose events satisfy the sequence. One row per event matching any
 * step (flags m0, m1, ... per step), ordered by (at, seq); then, for each positive step j in
 * turn, `lj` = the latest start (time of the first step's event) of a valid chain of the steps so
 * far that ends at this row, or NULL. The latest start is the best one to go on from: it leaves
 * the most room for `t_last - t_first <= within`, and the absent steps of a gap depend only on
 * the two events around it. Between positive steps p and j:
 * - without absent steps: lj = the greatest lp of the rows before;
 * - with absent steps: rows before count only after the last absent event strictly before this
 *   row. `xaj` counts the absent events up to each row (itself included); the greatest
 *   (xaj, lp) of the rows before is valid when its count equals the count strictly before this row.
 * A trailing absent step then asks that the first absent event after the last step's, if any,
 * comes later than `within` after it. Window functions only: no per-profile subquery.
 */
export function sequenceCtes(name: string, c: SequenceCondition, s: LeafScope): string[] {
  const d = s.p.dialect;
  // Each step's event kind (bound once), then its property filters.
  const kinds = c.steps.map((step) => eventMatchSql(step.event, undefined, s.p, 'e'));
  const matches = c.steps.map((step, i) => [...(kinds[i] as string[]), ...(step.filters ?? []).map((f) => propertyFilterSql('e.properties', f, s.p))]);
  const within = s.p.bind(must(durationMs(c.within), 'duration'));
  const flag = (steps: readonly number[]): string => `CASE WHEN ${steps.map((i) => `m${i}`).join(' OR ')} THEN 1 ELSE 0 END`;

  // The steps' event kinds, tested in the scan itself: only those events reach the join and the windows.
  const byName = kinds.some((k) => k.length === 0) ? [] : [`(${kinds.map((k) => `(${k.join(' AND ')})`).join(' OR ')})`];
  const ctes = [cte(`${name}_e`, [
    'SELECT *, CASE WHEN m0 THEN at_ms END AS l0 FROM (',
    `  SELECT ${LIVE_ID} AS profile_id, ${d.epochMs('e.timestamp')} AS at_ms, e.seq,`,
    ...matches.map((m, i) => `    ${m.length === 0 ? 'true' : `(${m.join(' AND ')})`} AS m${i}${i < matches.length - 1 ? ',' : ''}`),
    `  ${LIVE_EVENTS}`,
    `  ${where(s, byName, true)}`,
    `) WHERE ${matches.map((_, i) => `m${i}`).join(' OR ')}`,
  ])];
  let from = `${name}_e`;
  let last = 0;
  let absent: number[] = [];
  for (let j = 1; j < c.steps.length; j++) {
    if (c.steps[j]?.absent) { absent.push(j); continue; }
    if (absent.length === 0) {
      ctes.push(cte(`${name}_s${j}`, [
        `SELECT *, CASE WHEN m${j} THEN max(l${last}) OVER ${BEFORE} END AS l${j}`,
        `FROM ${from}`,
      ]));
    } else {
      ctes.push(cte(`${name}_x${j}`, [
        `SELECT *, sum(${flag(absent)}) OVER (${ORDER} ROWS UNBOUNDED PRECEDING) AS xa${j}`,
        `FROM ${from}`,
      ]));
      const best = d.struct([['x', `xa${j}`], ['l', `l${last}`]]);
      ctes.push(cte(`${name}_s${j}`, [
        `SELECT *, CASE WHEN m${j} AND ${d.field(`b${j}`, 'x')} = xa${j} - ${flag(absent)} THEN ${d.field(`b${j}`, 'l')} END AS l${j}`,
        `FROM (SELECT *, max(CASE WHEN l${last} IS NOT NULL THEN ${best} END) OVER ${BEFORE} AS b${j} FROM ${name}_x${j})`,
      ]));
    }
    from = `${name}_s${j}`;
    last = j;
    absent = [];
  }
  const chained = `l${last} IS NOT NULL AND at_ms - l${last} <= ${within}`;
  if (absent.length === 0) {
    ctes.push(cte(name, [`SELECT DISTINCT profile_id FROM ${from} WHERE ${chained}`]));
  } else {
    ctes.push(cte(name, [
      'SELECT DISTINCT profile_id FROM (',
      `  SELECT *, min(CASE WHEN ${absent.map((i) => `m${i}`).join(' OR ')} THEN at_ms END)`,
      `    OVER (${ORDER} ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_absent`,
      `  FROM ${from}`,
      `) WHERE ${chained} AND (next_absent IS NULL OR next_absent - at_ms > ${within})`,
    ]));
  }
  return ctes;
}

/**
 * `profile_id, v`: the computed trait's value as ComputedTraitEngine.valueOf gives it
 * (profiles/computed-trait-buckets.ts), for the profiles with a matching event; what a profile
 * without a row has is `computedOperand`'s business. Windows are whole UTC days: from
 * `today - windowDays + 1` to today; events of later days are not counted yet.
 */
export function computedCte(name: string, def: ComputedTraitDefinition, now: number, s: LeafScope): string {
  const d = s.p.dialect;
  const at = d.epochMs('e.timestamp');
  const conditions = eventMatchSql(def.event, undefined, s.p, 'e');
  if (def.windowDays !== undefined) {
    const today = Math.floor(now / DAY_MS);
    const ms = (value: number): string => d.timestampOfMs(s.p.bind(value));
    conditions.push(`e.timestamp >= ${ms((today - def.windowDays + 1) * DAY_MS)}`, `e.timestamp < ${ms((today + 1) * DAY_MS)}`);
  }
  for (const f of def.filters ?? []) conditions.push(propertyFilterSql('e.properties', f, s.p));
  if (def.sources !== undefined) conditions.push(`e.source_id IN (${def.sources.map((id) => s.p.bind(id)).join(', ')})`);
  const x = def.property === undefined ? d.nullJson : d.jsonExtract('e.properties', pathOf(def.property), s.p);
  // Numeric ops read JSON numbers only (the string "59.9" is ignored); the others any value but
  // null; count without a property every matching event.
  if (def.property !== undefined) conditions.push(`coalesce(${NUMERIC_OPS.includes(def.op) ? d.jsonIsNumber(x) : d.jsonIsPresent(x)}, false)`);
  const events = [LIVE_EVENTS, where(s, conditions)];
  const aggregate = (value: string): string => cte(name, [`SELECT ${LIVE_ID} AS profile_id, ${value} AS v`, ...events, `GROUP BY ${LIVE_ID}`]);
  const order = [at, 'e.message_id'];
  switch (def.op) {
    case 'count': return aggregate('count(*)');
    case 'sum': return aggregate(`sum(${d.jsonNumber(x)})`);
    case 'avg': return aggregate(`sum(${d.jsonNumber(x)}) / count(*)`);
    case 'min': return aggregate(`min(${d.jsonNumber(x)})`);
    case 'max': return aggregate(`max(${d.jsonNumber(x)})`);
    // The earliest / latest by (event time, messageId).
    case 'first': return aggregate(d.argMin(x, order));
    case 'last': return aggregate(d.argMax(x, order));
    case 'distinct_count': return aggregate(`count(DISTINCT ${d.jsonText(x)})`);
    case 'most_frequent':
      // Counts per value, keyed by its JSON text; ties go to the smallest text as JavaScript writes it.
      return cte(name, [
        `SELECT profile_id, ${d.parseJson(d.argMin('txt', ['-n', d.jsonTextAsJavaScript('txt')]))} AS v FROM (`,
        `  SELECT ${LIVE_ID} AS profile_id, ${d.jsonText(x)} AS txt, count(*) AS n`,
        ...events.map((line) => `  ${line}`),
        `  GROUP BY ${LIVE_ID}, txt`,
        ') GROUP BY profile_id',
      ]);
    default: {
      const unreachable: never = def.op;
      throw new Error(`unknown computed trait op ${String(unreachable)}`);
    }
  }
}

/** What a computed CTE's value is to a comparison: no row means 0 for the counts, absent otherwise. */
export function computedOperand(name: string, op: ComputedTraitOp): Operand {
  switch (op) {
    case 'count':
    case 'distinct_count': return { kind: 'number', sql: `coalesce(${name}.v, 0)` };
    case 'sum':
    case 'avg':
    case 'min':
    case 'max': return { kind: 'number', sql: `${name}.v` };
    case 'first':
    case 'last':
    case 'most_frequent': return { kind: 'json', sql: `${name}.v` };
    default: {
      const unreachable: never = op;
      throw new Error(`unknown computed trait op ${String(unreachable)}`);
    }
  }
}
