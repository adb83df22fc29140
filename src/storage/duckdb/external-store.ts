/**
 * External sources in the embedded store: their definitions (header values sealed) with the
 * status of their last pull, and the latest values in `external_values` — one row per key and
 * field, which the segment SQL compiler joins (keys normalised, as ExternalValues compares them).
 * A successful pull replaces a source's rows and its status in one transaction, so a reader sees
 * the old values or the new ones, never a mix, and a crash mid-pull keeps the old ones.
 * One connection; its statements are serialised here (a DuckDB transaction belongs to it).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ExternalMappingT, PullOutcome } from '../../protocol/external.js';
import { all, inTransaction, jsonRows, type Database } from './database.js';

export interface ExternalStatus {
  lastPullAt: number | null;
  lastSuccessAt: number | null;
  lastOutcome: PullOutcome | null;
  lastError: string | null;
}

/** A definition as stored: `headers` values are sealed tokens. */
export interface StoredExternalSource {
  workspaceId: string;
  id: string;
  name: string;
  url: string;
  keys?: string[];
  everySeconds: number;
  headers: Record<string, string>;
  mapping: ExternalMappingT;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  status: ExternalStatus;
}

export interface ExternalValueRow {
  workspaceId: string;
  sourceId: string;
  /** Normalised (externalKey). */
  key: string;
  field: string;
  value: unknown;
  fetchedAt: number;
}

const VALUE_SPEC = JSON.stringify({ w: 'VARCHAR', s: 'VARCHAR', k: 'VARCHAR', f: 'VARCHAR', v: 'JSON', t: 'BIGINT' });

export class DuckDbExternalStore {
  private lock: Promise<unknown> = Promise.resolve();

  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<DuckDbExternalStore> {
    return new DuckDbExternalStore(await db.connect());
  }

  async sources(): Promise<StoredExternalSource[]> {
    const rows = await this.serial(() => all(this.conn, `SELECT workspace_id, id, definition::VARCHAR AS definition, status::VARCHAR AS status, created_at, updated_at
      FROM external_sources ORDER BY created_at, id`));
    return rows.map((r) => ({
      ...(JSON.parse(r.definition as string) as Omit<StoredExternalSource, 'workspaceId' | 'id' | 'status' | 'createdAt' | 'updatedAt'>),
      workspaceId: r.workspace_id as string, id: r.id as string, status: JSON.parse(r.status as string) as ExternalStatus,
      createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
    }));
  }

  /** A new definition with its status, or a changed one: its stored status is then left as the pulls wrote it. */
  async saveSource(s: StoredExternalSource): Promise<void> {
    const { workspaceId, id, status, createdAt, updatedAt, ...definition } = s;
    await this.serial(() => this.conn.run(`INSERT INTO external_sources VALUES ($1, $2, $3::JSON, $4::JSON, $5, $6)
      ON CONFLICT (workspace_id, id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`, [
      workspaceId, id, JSON.stringify(definition), JSON.stringify(status), BigInt(createdAt), BigInt(updatedAt),
    ]));
  }

  /** The definition and every value it held, in one transaction. */
  async deleteSource(workspaceId: string, id: string): Promise<void> {
    await this.serial(() => inTransaction(this.conn, async () => {
      await this.conn.run('DELETE FROM external_values WHERE workspace_id = $1 AND source_id = $2', [workspaceId, id]);
      await this.conn.run('DELETE FROM external_sources WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    }));
  }

  async saveStatus(workspaceId: string, id: string, status: ExternalStatus): Promise<void> {
    await this.serial(() => this.conn.run('UPDATE external_sources SET status = $3::JSON WHERE workspace_id = $1 AND id = $2', [workspaceId, id, JSON.stringify(status)]));
  }

  /** A pull's outcome: the source's rows replaced by `rows` and its status, in one transaction. */
  async replaceValues(workspaceId: string, id: string, rows: readonly ExternalValueRow[], status: ExternalStatus): Promise<void> {
    await this.serial(() => inTransaction(this.conn, async () => {
      await this.conn.run('DELETE FROM external_values WHERE workspace_id = $1 AND source_id = $2', [workspaceId, id]);
      if (rows.length > 0) {
        const text = rows.map((r) => JSON.stringify({ w: r.workspaceId, s: r.sourceId, k: r.key, f: r.field, v: r.value, t: r.fetchedAt })).join('\n');
        await this.conn.run(`INSERT INTO external_values SELECT w, s, k, f, v, t FROM ${jsonRows(VALUE_SPEC)}`, [text]);
      }
      await this.conn.run('UPDATE external_sources SET status = $3::JSON WHERE workspace_id = $1 AND id = $2', [workspaceId, id, JSON.stringify(status)]);
    }));
  }

  async values(): Promise<ExternalValueRow[]> {
    const rows = await this.serial(() => all(this.conn, `SELECT workspace_id, source_id, key, field, value::VARCHAR AS value, fetched_at FROM external_values
      ORDER BY workspace_id, source_id, key, field`));
    return rows.map((r) => ({
      workspaceId: r.workspace_id as string, sourceId: r.source_id as string, key: r.key as string, field: r.field as string,
      value: JSON.parse(r.value as string) as unknown, fetchedAt: Number(r.fetched_at),
    }));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}
