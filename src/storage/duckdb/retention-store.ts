/** The retention job's deletions on DuckDB, one statement per data category and workspace. */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Database } from './database.js';

export class DuckDbRetentionStore {
  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<DuckDbRetentionStore> {
    return new DuckDbRetentionStore(await db.connect());
  }

  /** Events that happened before the cutoff. */
  async deleteEvents(workspaceId: string, beforeMs: number): Promise<number> {
    const r = await this.conn.run('DELETE FROM events WHERE workspace_id = $1 AND timestamp < make_timestamp($2::BIGINT * 1000)', [workspaceId, BigInt(beforeMs)]);
    return r.rowsChanged;
  }

  /** Full IP addresses of events older than the cutoff (kept only when truncation is off); the country stays. */
  async dropIps(workspaceId: string, beforeMs: number): Promise<number> {
    const r = await this.conn.run(
      `UPDATE events SET context = json_merge_patch(context, '{"ip": null}')
        WHERE workspace_id = $1 AND timestamp < make_timestamp($2::BIGINT * 1000) AND json_exists(context, '$.ip')`,
      [workspaceId, BigInt(beforeMs)],
    );
    return r.rowsChanged;
  }

  /** Consent proofs of profiles that no longer exist, recorded before the cutoff. */
  async deleteConsentProofs(workspaceId: string, beforeMs: number): Promise<number> {
    const r = await this.conn.run(
      `DELETE FROM consent_records WHERE workspace_id = $1 AND recorded_at < $2
          AND profile_id NOT IN (SELECT id FROM profiles WHERE workspace_id = $1)`,
      [workspaceId, BigInt(beforeMs)],
    );
    return r.rowsChanged;
  }

  async deleteAnonymousCounts(workspaceId: string, beforeMs: number): Promise<number> {
    const r = await this.conn.run('DELETE FROM anonymous_counts WHERE workspace_id = $1 AND day < CAST(make_timestamp($2::BIGINT * 1000) AS DATE)', [workspaceId, BigInt(beforeMs)]);
    return r.rowsChanged;
  }
}
