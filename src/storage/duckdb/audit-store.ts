/**
 * The audit log's chains on DuckDB: the `audit_log` table, and each chain's head in `settings`
 * (`audit_head:<workspaceId>` → `{"seq":…,"hash":…}`), both written in one transaction per batch.
 * An entry's `at` is the column `logged_at` (`at` is a DuckDB keyword); it is hashed as `at`.
 *
 * Writes and reads use two connections, so a verification's read transaction (one snapshot for
 * the head and every page) never interleaves with a batch being committed. Reads are queued: two
 * transactions cannot share a connection.
 *
 * @example
 *   const audit = await AuditLog.open(await DuckDbAuditStore.open(db));
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { HEAD_SETTING_PREFIX, type AuditEntry, type AuditHead, type AuditSnapshot, type AuditStore, type JsonValue } from '../../privacy/audit-log.js';
import { all, inTransaction, jsonRows, type Database, type Row } from './database.js';

const COLUMNS = 'workspace_id, seq, logged_at, actor, action, resource, detail, prev_hash, hash';
const ROW_SPEC = JSON.stringify({
  workspace_id: 'VARCHAR', seq: 'BIGINT', logged_at: 'BIGINT', actor: 'VARCHAR', action: 'VARCHAR',
  resource: 'VARCHAR', detail: 'JSON', prev_hash: 'VARCHAR', hash: 'VARCHAR',
});
const SETTING_SPEC = JSON.stringify({ key: 'VARCHAR', value: 'VARCHAR' });
const SELECT = `SELECT workspace_id, seq, logged_at, actor, action, resource, detail::VARCHAR AS detail, prev_hash, hash FROM audit_log`;

export class DuckDbAuditStore implements AuditStore {
  private reads: Promise<unknown> = Promise.resolve();

  private constructor(private readonly writer: DuckDBConnection, private readonly reader: DuckDBConnection) {}

  static async open(db: Database): Promise<DuckDbAuditStore> {
    return new DuckDbAuditStore(await db.connect(), await db.connect());
  }

  async append(entries: readonly AuditEntry[], heads: ReadonlyMap<string, AuditHead>): Promise<void> {
    if (entries.length === 0) return;
    // One statement per table, every value inside one bound JSON text: nothing is interpolated.
    const rows = entries.map((e) => JSON.stringify({
      workspace_id: e.workspaceId, seq: e.seq, logged_at: e.at, actor: e.actor, action: e.action,
      resource: e.resource, detail: e.detail, prev_hash: e.prevHash, hash: e.hash,
    }));
    const settings = [...heads].map(([ws, h]) => JSON.stringify({ key: HEAD_SETTING_PREFIX + ws, value: JSON.stringify({ seq: h.seq, hash: h.hash }) }));
    await inTransaction(this.writer, async () => {
      await this.writer.run(`INSERT INTO audit_log (${COLUMNS}) SELECT ${COLUMNS} FROM ${jsonRows(ROW_SPEC)}`, [rows.join('\n')]);
      await this.writer.run(`INSERT OR REPLACE INTO settings (key, value) SELECT key, value FROM ${jsonRows(SETTING_SPEC)}`, [settings.join('\n')]);
    });
  }

  async heads(): Promise<{ last: Map<string, AuditHead>; stored: Map<string, AuditHead> }> {
    return this.read(async () => {
      const tails = await all(this.reader, 'SELECT workspace_id, max(seq) AS seq, arg_max(hash, seq) AS hash FROM audit_log GROUP BY workspace_id');
      const last = new Map(tails.map((r) => [String(r.workspace_id), { seq: Number(r.seq), hash: String(r.hash) }]));
      const stored = new Map<string, AuditHead>();
      for (const r of await all(this.reader, 'SELECT key, value FROM settings WHERE starts_with(key, $1)', [HEAD_SETTING_PREFIX])) {
        const head = parseHead(r.value);
        if (head) stored.set(String(r.key).slice(HEAD_SETTING_PREFIX.length), head);
      }
      return { last, stored };
    });
  }

  async page(workspaceId: string, afterSeq: number | null, limit: number): Promise<AuditEntry[]> {
    return this.read(() => this.readPage(workspaceId, afterSeq, limit));
  }

  async snapshot<T>(workspaceId: string, fn: (view: AuditSnapshot) => Promise<T>): Promise<T> {
    return this.read(() => inTransaction(this.reader, async () => {
      const rows = await all(this.reader, 'SELECT value FROM settings WHERE key = $1', [HEAD_SETTING_PREFIX + workspaceId]);
      const head = rows[0] ? parseHead(rows[0].value) : null;
      return fn({ head, page: (afterSeq, limit) => this.readPage(workspaceId, afterSeq, limit) });
    }));
  }

  private async readPage(workspaceId: string, afterSeq: number | null, limit: number): Promise<AuditEntry[]> {
    const rows = await all(
      this.reader,
      `${SELECT} WHERE workspace_id = $1 AND ($2::BIGINT IS NULL OR seq > $2::BIGINT) ORDER BY seq LIMIT $3`,
      [workspaceId, afterSeq === null ? null : BigInt(afterSeq), limit],
    );
    return rows.map(toEntry);
  }

  /** Runs reads one after the other on the read connection. */
  private read<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.reads.then(fn);
    this.reads = run.catch(() => undefined);
    return run;
  }
}

function toEntry(r: Row): AuditEntry {
  return {
    workspaceId: String(r.workspace_id), seq: Number(r.seq), at: Number(r.logged_at), actor: String(r.actor),
    action: String(r.action), resource: String(r.resource), detail: parseJson(String(r.detail)),
    prevHash: String(r.prev_hash), hash: String(r.hash),
  };
}

/** The stored text as JSON; text that is not JSON stays a string, and then fails its hash check. */
function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/** A stored head, or null when the setting is not one (verify then reports the head as missing). */
function parseHead(value: unknown): AuditHead | null {
  const v = typeof value === 'string' ? parseJson(value) : null;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  return typeof v.seq === 'number' && Number.isInteger(v.seq) && typeof v.hash === 'string' ? { seq: v.seq, hash: v.hash } : null;
}
