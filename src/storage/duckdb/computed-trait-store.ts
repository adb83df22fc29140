/**
 * Computed trait definitions in the `computed_traits` table (the definition as JSON), and their
 * backfill: one grouped query over the stored events (computed-trait-sql.ts) whose rows the
 * engine folds into its in-memory state.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ComputedTraitDefinition } from '../../protocol/computed-trait.js';
import { DAY_MS, type BackfillRow } from '../../profiles/computed-trait-buckets.js';
import { backfillQuery } from './computed-trait-sql.js';
import { all, type Database, type Row } from './database.js';

type Edge = BackfillRow['first'];

export class DuckDbComputedTraitStore {
  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<DuckDbComputedTraitStore> {
    return new DuckDbComputedTraitStore(await db.connect());
  }

  /** Every definition of every workspace, oldest first (start-up loads them all). */
  async list(): Promise<ComputedTraitDefinition[]> {
    const rows = await all(this.conn, 'SELECT workspace_id, id, definition::VARCHAR AS definition, created_at FROM computed_traits ORDER BY created_at, id');
    return rows.map((r) => ({
      ...(JSON.parse(r.definition as string) as Omit<ComputedTraitDefinition, 'id' | 'workspaceId' | 'createdAt'>),
      id: r.id as string,
      workspaceId: r.workspace_id as string,
      createdAt: Number(r.created_at),
    }));
  }

  async insert(def: ComputedTraitDefinition): Promise<void> {
    const { id, workspaceId, createdAt, ...rest } = def;
    await this.conn.run('INSERT INTO computed_traits VALUES ($1, $2, $3, $4::JSON, $5)', [workspaceId, id, def.name, JSON.stringify(rest), BigInt(createdAt)]);
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    const rows = await all(this.conn, 'DELETE FROM computed_traits WHERE workspace_id = $1 AND id = $2 RETURNING id', [workspaceId, id]);
    return rows.length > 0;
  }

  /**
   * The bucket rows of `def` over the stored events with seq <= upToSeq. For a windowed trait
   * only the days still inside the window at `now` are read.
   */
  async backfill(def: ComputedTraitDefinition, upToSeq: bigint, now: number): Promise<BackfillRow[]> {
    const sinceDay = def.windowDays === undefined ? null : Math.floor(now / DAY_MS) - def.windowDays + 1;
    const { sql, params } = backfillQuery(def, upToSeq, sinceDay);
    const rows = await all(this.conn, sql, params);
    return rows.map(toRow);
  }
}

function toRow(r: Row): BackfillRow {
  const tally = r.tally as Array<{ value: string; count: bigint | number }> | null;
  return {
    profileId: r.profile_id as string,
    day: Number(r.day),
    events: Number(r.events),
    sum: num(r.sum),
    min: num(r.min),
    max: num(r.max),
    first: edge(r.first),
    last: edge(r.last),
    tally: tally === null ? null : tally.map((t) => ({ value: t.value, count: Number(t.count) })),
  };
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function edge(v: unknown): Edge {
  if (v === null || v === undefined) return null;
  const e = v as { at: bigint | number; messageId: string; value: string };
  return { at: Number(e.at), messageId: e.messageId, value: e.value };
}
