/**
 * The batch compiler: a segment definition → one SQL statement whose rows are the `profile_id`s
 * of its members at `now` (one row per member). It states protocol/segment.ts in SQL; the
 * incremental engine (segments/engine.ts) states it in JavaScript, and a property test compares
 * the two on random data.
 *
 * Shape, for a million profiles and ten million events:
 * - `live`: every stored profile id of the workspace → the live profile it was merged into,
 *   following `merged_into` chains (A → B → C), so events count for the profile they live in now;
 * - one CTE per leaf that reads events or lists (leaf-sql.ts), filtering events before it
 *   aggregates them per live profile (one row per profile);
 * - the universe (live profiles of the workspace) LEFT JOINs those CTEs, and the definition's
 *   and/or/not becomes the WHERE clause. The universe extracts each trait value read once per profile.
 * Every leaf fragment is a never-NULL boolean, so NOT keeps two-valued logic.
 *
 * Values of the definition, the workspace id and the instants derived from `now` are bound
 * parameters; only constant fragments chosen by kind and op shape the text.
 *
 * @example
 *   const { sql, params } = compileSegment(
 *     { kind: 'event', event: 'Order Completed', within: '30d' },
 *     { workspaceId: 'ws_1', now: Date.now(), segment: () => undefined, computedTrait: () => undefined },
 *   );
 *   const members = (await conn.runAndReadAll(sql, params)).getRowObjectsJS().map((r) => r.profile_id);
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { ComputedTraitDefinition } from '../../protocol/computed-trait.js';
import { countOf, type CountOp, type LeafCondition, type SegmentCondition } from '../../protocol/segment.js';
import { SqlParams, type SqlDialect } from './dialect.js';
import { duckdb } from './duckdb-dialect.js';
import { comparisonSql, pathOf } from './filter-sql.js';
import { computedCte, computedOperand, consentCte, cte, eventCountCte, externalCte, geoCte, listCte, scoreCte, sequenceCtes, type LeafScope } from './leaf-sql.js';

export interface CompileContext {
  workspaceId: string;
  /** The instant of evaluation, ms since the epoch (bound as a parameter). */
  now: number;
  /** Another segment's definition (a `segment` leaf compiles that definition inline). */
  segment(id: string): SegmentCondition | undefined;
  /** A computed trait's definition (a `computed` leaf compiles its value from the events). */
  computedTrait(name: string): ComputedTraitDefinition | undefined;
  /** Purpose limitation: the only sources whose events feed event, sequence and consent conditions, and whose trait values trait conditions see. */
  sources?: readonly string[];
}

export interface CompiledSegment {
  sql: string;
  params: DuckDBValue[];
}

export function compileSegment(def: SegmentCondition, ctx: CompileContext, dialect: SqlDialect = duckdb): CompiledSegment {
  const p = new SqlParams(dialect);
  const allowed = ctx.sources;
  let sourceTest: string | undefined;
  const sources = allowed === undefined ? undefined
    : () => (sourceTest ??= allowed.length === 0 ? 'false' : `e.source_id IN (${allowed.map((id) => p.bind(id)).join(', ')})`);
  const compiler = new Compiler(ctx, { p, ws: p.bind(ctx.workspaceId), ...(sources === undefined ? {} : { sources }) });
  const where = compiler.condition(def);
  const { ctes, joins, ws, traitColumns } = compiler;
  const head = ctes.length === 0 ? '' : `WITH RECURSIVE\n${[liveCte(ws), ...ctes].join(',\n')}\n`;
  // Each trait value is extracted once per profile, in the universe: every JSON function call
  // parses the whole traits document again, and one comparison may call several.
  const columns = ['id', ...traitColumns.map(([extract, name]) => `${extract} AS ${name}`)].join(', ');
  const sql = `${head}SELECT u.id AS profile_id
FROM (SELECT ${columns} FROM profiles WHERE workspace_id = ${ws} AND merged_into IS NULL) u
${joins.map((j) => `${j}\n`).join('')}WHERE ${where}`;
  return { sql, params: p.values };
}

/**
 * Merged profile id → the live profile it was merged into, following chains (A → B → C). Only
 * merged profiles have a row (about 1 % of them): events LEFT JOIN this small table and keep
 * their own profile id when it has no row, which costs far less than joining every event to a
 * row per profile.
 */
function liveCte(ws: string): string {
  return [
    cte('chain (id, live_id, depth)', [
      `SELECT id, merged_into, 1 FROM profiles WHERE workspace_id = ${ws} AND merged_into IS NOT NULL`,
      'UNION ALL',
      `SELECT c.id, p.merged_into, c.depth + 1 FROM chain c JOIN profiles p ON p.id = c.live_id WHERE p.workspace_id = ${ws} AND p.merged_into IS NOT NULL`,
    ]),
    cte('live (id, live_id)', ['SELECT id, arg_max(live_id, depth) FROM chain GROUP BY id']),
  ].join(',\n');
}

const COUNT_SQL: Readonly<Record<CountOp, string>> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };

class Compiler {
  /** The leaf CTEs, in leaf order (each after those it reads). */
  readonly ctes: string[] = [];
  /** `LEFT JOIN cN ON ...` of each leaf CTE the condition reads. */
  readonly joins: string[] = [];
  /** CTE name by leaf (as JSON): a leaf repeated, e.g. through two segment references, is read once. */
  private readonly byLeaf = new Map<string, string>();
  /** Segments being inlined (validation rejects cycles; this keeps a bad context from recursing forever). */
  private readonly inlining: string[] = [];

  /** `[extraction, column]` of each trait path read, in the universe (a path read twice is extracted once). */
  readonly traitColumns: Array<[string, string]> = [];
  private readonly traitByPath = new Map<string, string>();

  /** The scope of the segment being compiled; a referenced segment is read as a whole, with every source. */
  private scope: LeafScope;

  constructor(private readonly ctx: CompileContext, scope: LeafScope) {
    this.scope = scope;
  }

  /** The universe's column holding the JSON value at `path` of the traits. */
  private traitColumn(path: string[]): string {
    const key = JSON.stringify(path);
    let name = this.traitByPath.get(key);
    if (name === undefined) {
      name = `t${this.traitByPath.size + 1}`;
      this.traitByPath.set(key, name);
      this.traitColumns.push([this.scope.p.dialect.jsonExtract('traits', path, this.scope.p), name]);
    }
    return name;
  }

  get ws(): string {
    return this.scope.ws;
  }

  /** The SQL boolean (never NULL) of `c` for the profile `u`. */
  condition(c: SegmentCondition): string {
    switch (c.kind) {
      case 'and': return `(${c.of.map((x) => this.condition(x)).join(' AND ')})`;
      case 'or': return `(${c.of.map((x) => this.condition(x)).join(' OR ')})`;
      case 'not': return `NOT (${this.condition(c.of)})`;
      default: return this.leaf(c);
    }
  }

  private leaf(c: LeafCondition): string {
    const { p } = this.scope;
    switch (c.kind) {
      case 'trait': {
        // The first name is the trait key; the rest walks inside that trait's value.
        const [key, ...rest] = pathOf(c.trait) as [string, ...string[]];
        const value = `u.${this.traitColumn([key, 'value', ...rest])}`;
        const allowed = this.scope.sources === undefined ? undefined : this.ctx.sources;
        if (allowed === undefined) return comparisonSql({ kind: 'json', sql: value }, c, p);
        // Purpose limitation: a value set by a source that does not collect for the segment's purposes is not there for it.
        const from = p.dialect.jsonString(`u.${this.traitColumn([key, 'sourceId'])}`);
        const test = allowed.length === 0 ? 'false' : `${from} IN (${allowed.map((id) => p.bind(id)).join(', ')})`;
        return comparisonSql({ kind: 'json', sql: `(CASE WHEN ${test} THEN ${value} END)` }, c, p);
      }
      case 'event': {
        // The count does not change the CTE: leaves differing only by it share one.
        const name = this.leafCte(['event', c.event, c.filters, c.within, c.between], (n) => [eventCountCte(n, c, this.ctx.now, this.scope)]);
        const { op, value } = countOf(c);
        return `coalesce(${name}.n, 0) ${COUNT_SQL[op]} ${p.bind(value)}`;
      }
      case 'sequence':
        return `${this.leafCte(c, (n) => sequenceCtes(n, c, this.scope))}.profile_id IS NOT NULL`;
      case 'computed': {
        const def = this.ctx.computedTrait(c.name);
        // A trait that no longer exists has no value: the comparison sees it absent.
        if (def === undefined) return comparisonSql({ kind: 'json', sql: p.dialect.nullJson }, c, p);
        const name = this.leafCte(['computed', c.name], (n) => [computedCte(n, def, this.ctx.now, this.scope)]);
        return comparisonSql(computedOperand(name, def.op), c, p);
      }
      case 'segment': {
        const target = this.ctx.segment(c.id);
        // A segment that no longer exists has no members.
        if (target === undefined) return 'false';
        if (this.inlining.includes(c.id)) throw new Error(`segment ${c.id} refers to itself`);
        this.inlining.push(c.id);
        // Membership of another segment is its own, whatever sources feed the one reading it
        // (the engine reads the other segment's members): its conditions see every source.
        const scope = this.scope;
        const { sources: _limited, ...unlimited } = scope;
        this.scope = unlimited;
        try {
          // A leaf is safe inside AND / OR as it is, and/or/not bring their parentheses.
          return this.condition(target);
        } finally {
          this.inlining.pop();
          this.scope = scope;
        }
      }
      case 'consent':
        return `coalesce(${this.leafCte(c, (n) => [consentCte(n, c, this.scope)])}.granted, false)`;
      case 'list':
        return `${this.leafCte(c, (n) => [listCte(n, c, this.scope)])}.profile_id IS NOT NULL`;
      case 'external':
        return comparisonSql({ kind: 'json', sql: `${this.leafCte(['external', c.source, c.key, c.field], (n) => [externalCte(n, c, this.scope)])}.value` }, c, p);
      case 'geo':
        return `coalesce(${this.leafCte(c, (n) => [geoCte(n, c, this.scope)])}.inside, false)`;
      case 'score': {
        // Not scored: no row, and no comparison holds (coalesce keeps NOT two-valued).
        const name = this.leafCte(['score', c.model], (n) => [scoreCte(n, c.model, this.scope)]);
        const { op, value } = c.decile ?? { op: c.op as CountOp, value: c.value as number };
        const column = c.decile === undefined ? `${name}.score` : `${name}.decile`;
        return `coalesce(${column} ${COUNT_SQL[op]} ${c.decile === undefined ? p.dialect.double(value, p) : p.bind(value)}, false)`;
      }
      default: {
        const unreachable: never = c;
        throw new Error(`unknown condition ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** The name of the CTE of `leaf` (what it reads, as JSON): `c1`, `c2`... in leaf order, built on first use and LEFT JOINed. */
  private leafCte(leaf: unknown, build: (name: string) => string[]): string {
    // The same leaf read with and without the source limit is two CTEs.
    const key = JSON.stringify([this.scope.sources === undefined, leaf]);
    const known = this.byLeaf.get(key);
    if (known !== undefined) return known;
    const name = `c${this.byLeaf.size + 1}`;
    this.byLeaf.set(key, name);
    this.ctes.push(...build(name));
    this.joins.push(`LEFT JOIN ${name} ON ${name}.profile_id = u.id`);
    return name;
  }
}
