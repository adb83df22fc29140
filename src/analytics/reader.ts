/**
 * The analytics read connections: two DuckDB connections of their own (reads never wait behind
 * the processor's write transactions on theirs), each used by one query at a time, with every
 * value bound as a parameter. A console page asks a handful of questions at once: two run side
 * by side (a query leaves a core idle in its single-threaded phases — planning, the final
 * aggregation, handing rows to JS — which the other fills), the rest queue behind them, so a
 * burst of dashboard reloads cannot take more than two connections' worth from the processor.
 *
 * @example
 *   const reader = await AnalyticsReader.open(db);
 *   const rows = await reader.rows('SELECT count(*) AS n FROM events WHERE workspace_id = $1', [ws]);
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { all, type Database, type Row } from '../storage/duckdb/database.js';

/** Measured on the console bench (1 M profiles, 2 cores): see bench/README.md, Console. */
const CONNECTIONS = 2;

interface Lane {
  conn: DuckDBConnection;
  queue: Promise<unknown>;
  /** Queries queued or running on this connection. */
  depth: number;
}

export class AnalyticsReader {
  private readonly lanes: Lane[];

  constructor(conns: readonly DuckDBConnection[]) {
    if (conns.length === 0) throw new Error('AnalyticsReader needs at least one connection');
    this.lanes = conns.map((conn) => ({ conn, queue: Promise.resolve(), depth: 0 }));
  }

  static async open(db: Database, connections = CONNECTIONS): Promise<AnalyticsReader> {
    const conns: DuckDBConnection[] = [];
    for (let i = 0; i < connections; i++) conns.push(await db.connect());
    return new AnalyticsReader(conns);
  }

  /** Runs one query on the connection with the shortest queue; resolves with plain JS rows. */
  rows(sql: string, params: DuckDBValue[] = []): Promise<Row[]> {
    const lane = this.lanes.reduce((best, l) => (l.depth < best.depth ? l : best));
    lane.depth++;
    const run = lane.queue.then(() => all(lane.conn, sql, params)).finally(() => { lane.depth--; });
    lane.queue = run.catch(() => undefined);
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
