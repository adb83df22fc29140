/**
 * The analytics read connection: one DuckDB connection of its own (reads never wait behind the
 * processor's write transactions on theirs), used by one query at a time, with every value bound
 * as a parameter. Console pages ask a handful of questions each; queueing them keeps a burst of
 * dashboard reloads from starving the processor of the two cores.
 *
 * @example
 *   const reader = await AnalyticsReader.open(db);
 *   const rows = await reader.rows('SELECT count(*) AS n FROM events WHERE workspace_id = $1', [ws]);
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { all, type Database, type Row } from '../storage/duckdb/database.js';

export class AnalyticsReader {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<AnalyticsReader> {
    return new AnalyticsReader(await db.connect());
  }

  /** Runs one query after those already queued; resolves with plain JS rows. */
  rows(sql: string, params: DuckDBValue[] = []): Promise<Row[]> {
    const run = this.queue.then(() => all(this.conn, sql, params));
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** A JS number from a DuckDB count or sum (BIGINT arrives as bigint, HUGEINT too, DOUBLE as number). */
export function num(v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return 0;
  return Number(v);
}
