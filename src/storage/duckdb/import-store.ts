/**
 * Import jobs, the import ledger and inbound hooks in the embedded store.
 *
 * - `import_jobs`: one row per uploaded file: what to do with it (`spec`), where it is, how far
 *   it got (`progress.rowsDone`) and a capped list of row errors. A job left `running` by a
 *   stopped server is picked up again at the next start from its last recorded row.
 * - `import_ledger`: one digest per imported row, keyed by the source (HMAC-free sha256 of
 *   source id + the row's content, truncated): it holds no personal data in clear and lets a
 *   re-import of the same file add nothing, however long after.
 * - `hooks`: inbound webhooks (secret stored as a SHA-256 digest, never in clear).
 *
 * @example
 *   const store = await ImportStore.open(db);
 *   const fresh = await store.unseen('ws_1', 'src_1', ['a1b2...', 'c3d4...']); // digests not imported yet
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { all, inTransaction, type Database } from './database.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface RowError {
  /** 1-based line of the row in the file (the header is line 1 of a CSV); for Parquet, the row number. */
  line: number;
  /** The column or JSON path at fault, or null when the whole row is. */
  column: string | null;
  reason: string;
}

export interface JobProgress {
  rowsDone: number;
  accepted: number;
  duplicates: number;
  rejected: number;
}

export interface ImportJob {
  workspaceId: string;
  id: string;
  sourceId: string;
  spec: Record<string, unknown>;
  file: string;
  status: JobStatus;
  progress: JobProgress;
  errors: RowError[];
  /** Why the whole job failed (unreadable file...), when it did. */
  failure: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface HookRow {
  workspaceId: string;
  id: string;
  sourceId: string;
  secretHash: string;
  mapping: Record<string, unknown>;
  createdAt: number;
}

export class ImportStore {
  /** Serialises this store's writes: one connection, one transaction at a time. */
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<ImportStore> {
    return new ImportStore(await db.connect());
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  saveJob(job: ImportJob): Promise<void> {
    return this.serial(async () => {
      await this.conn.run(`INSERT OR REPLACE INTO import_jobs VALUES ($1, $2, $3, $4::JSON, $5, $6, $7::JSON, $8::JSON, $9, $10)`, [
        job.workspaceId, job.id, job.sourceId, JSON.stringify(job.spec), job.file, job.status,
        JSON.stringify({ ...job.progress, failure: job.failure }), JSON.stringify(job.errors), job.createdAt, job.updatedAt,
      ]);
    });
  }

  async job(workspaceId: string, id: string): Promise<ImportJob | undefined> {
    const rows = await this.serial(() => all(this.conn, `SELECT * FROM import_jobs WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]));
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  async unfinished(): Promise<ImportJob[]> {
    const rows = await this.serial(() => all(this.conn, `SELECT * FROM import_jobs WHERE status IN ('queued', 'running') ORDER BY created_at`));
    return rows.map(toJob);
  }

  /** The digests among `digests` this source has not imported yet. */
  async unseen(workspaceId: string, sourceId: string, digests: readonly string[]): Promise<Set<string>> {
    if (digests.length === 0) return new Set();
    const rows = await this.serial(() => all(this.conn,
      `SELECT d FROM (SELECT unnest(string_split($3, ',')) AS d) WHERE d NOT IN (SELECT digest FROM import_ledger WHERE workspace_id = $1 AND source_id = $2)`,
      [workspaceId, sourceId, digests.join(',')]));
    return new Set(rows.map((r) => String(r.d)));
  }

  /** Records imported digests and the job's progress in one transaction. */
  recordChunk(job: ImportJob, digests: readonly string[]): Promise<void> {
    return this.serial(() => inTransaction(this.conn, async () => {
      if (digests.length > 0) {
        await this.conn.run(`INSERT OR IGNORE INTO import_ledger SELECT $1, $2, unnest(string_split($3, ',')), $4`, [job.workspaceId, job.sourceId, digests.join(','), job.id]);
      }
      await this.conn.run(`UPDATE import_jobs SET status = $3, progress = $4::JSON, errors = $5::JSON, updated_at = $6 WHERE workspace_id = $1 AND id = $2`, [
        job.workspaceId, job.id, job.status, JSON.stringify({ ...job.progress, failure: job.failure }), JSON.stringify(job.errors), job.updatedAt,
      ]);
    }));
  }

  /** Rows `offset ..< offset + limit` of a Parquet file, read by DuckDB itself (no extra dependency). */
  parquetRows(file: string, offset: number, limit: number): Promise<Array<Record<string, unknown>>> {
    return this.serial(async () => {
      const reader = await this.conn.runAndReadAll(`SELECT * FROM read_parquet($1) LIMIT ${Math.floor(limit)} OFFSET ${Math.floor(offset)}`, [file]);
      return reader.getRowObjectsJson() as Array<Record<string, unknown>>;
    });
  }

  saveHook(h: HookRow): Promise<void> {
    return this.serial(async () => {
      await this.conn.run(`INSERT OR REPLACE INTO hooks VALUES ($1, $2, $3, $4, $5::JSON, $6)`, [h.workspaceId, h.id, h.sourceId, h.secretHash, JSON.stringify(h.mapping), h.createdAt]);
    });
  }

  deleteHook(workspaceId: string, id: string): Promise<void> {
    return this.serial(async () => {
      await this.conn.run(`DELETE FROM hooks WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
    });
  }

  async hooks(): Promise<HookRow[]> {
    const rows = await this.serial(() => all(this.conn, `SELECT * FROM hooks ORDER BY created_at`));
    return rows.map((r) => ({
      workspaceId: String(r.workspace_id), id: String(r.id), sourceId: String(r.source_id), secretHash: String(r.secret_hash),
      mapping: JSON.parse(String(r.mapping)) as Record<string, unknown>, createdAt: Number(r.created_at),
    }));
  }
}

function toJob(r: Record<string, unknown>): ImportJob {
  const p = JSON.parse(String(r.progress)) as JobProgress & { failure?: string | null };
  return {
    workspaceId: String(r.workspace_id), id: String(r.id), sourceId: String(r.source_id),
    spec: JSON.parse(String(r.spec)) as Record<string, unknown>, file: String(r.file), status: String(r.status) as JobStatus,
    progress: { rowsDone: p.rowsDone, accepted: p.accepted, duplicates: p.duplicates, rejected: p.rejected },
    errors: JSON.parse(String(r.errors)) as RowError[], failure: p.failure ?? null,
    createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
  };
}
