/**
 * Consent records on DuckDB: an append-only history (never updated; erasure deletes a person's
 * records with the rest of their data). The processor writes event-derived records inside its
 * batch transaction (`insertConsentRecords`); the API writes its own here.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ConsentProof, ConsentRecord, ConsentStatus } from '../../protocol/privacy.js';
import { all, inTransaction, jsonRows, type Database, type Row } from './database.js';

const RECORD_SPEC = JSON.stringify({
  w: 'VARCHAR', i: 'VARCHAR', p: 'VARCHAR', u: 'VARCHAR', s: 'VARCHAR', a: 'BIGINT', r: 'BIGINT', o: 'VARCHAR', q: 'BIGINT', m: 'VARCHAR', f: 'JSON',
});

/** Inserts records (ids are deterministic for event-derived ones: a replay inserts nothing twice). */
export async function insertConsentRecords(conn: DuckDBConnection, records: readonly ConsentRecord[]): Promise<void> {
  const rows = records.map((c) => JSON.stringify({
    w: c.workspaceId, i: c.id, p: c.profileId, u: c.purpose, s: c.status, a: c.at, r: c.recordedAt, o: c.source,
    q: c.seq === null ? null : c.seq.toString(), m: c.proof.messageId ?? null, f: c.proof,
  }));
  await conn.run(`INSERT OR IGNORE INTO consent_records SELECT w, i, p, u, s, a, r, o, q, m, f FROM ${jsonRows(RECORD_SPEC)}`, [rows.join('\n')]);
}

export class DuckDbConsentStore {
  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<DuckDbConsentStore> {
    return new DuckDbConsentStore(await db.connect());
  }

  async append(records: readonly ConsentRecord[]): Promise<void> {
    if (records.length === 0) return;
    await inTransaction(this.conn, () => insertConsentRecords(this.conn, records));
  }

  /** The latest record per (profile, purpose): what the ledger needs at start-up. */
  async latest(): Promise<ConsentRecord[]> {
    const rows = await all(this.conn, `SELECT * FROM consent_records
      QUALIFY row_number() OVER (PARTITION BY workspace_id, profile_id, purpose ORDER BY decided_at DESC, recorded_at DESC, id DESC) = 1`);
    return rows.map(recordOf);
  }

  /** Every record of these profiles, oldest decision first. */
  async history(workspaceId: string, profileIds: readonly string[]): Promise<ConsentRecord[]> {
    const rows = await all(this.conn, `SELECT * FROM consent_records
      WHERE workspace_id = $1 AND profile_id IN (SELECT unnest(from_json($2::JSON, '["VARCHAR"]')))
      ORDER BY decided_at, recorded_at, id`, [workspaceId, JSON.stringify(profileIds)]);
    return rows.map(recordOf);
  }

  /** What strict sources kept of visitors without analytics consent: counts per day, type and name. */
  async anonymousCounts(workspaceId: string, sourceId: string | null, fromDay: string | null, toDay: string | null): Promise<AnonymousCountRow[]> {
    const rows = await all(this.conn, `SELECT source_id, strftime(day, '%Y-%m-%d') AS day, type, name, count FROM anonymous_counts
      WHERE workspace_id = $1 AND ($2::VARCHAR IS NULL OR source_id = $2) AND ($3::DATE IS NULL OR day >= $3::DATE) AND ($4::DATE IS NULL OR day <= $4::DATE)
      ORDER BY day, source_id, type, name LIMIT 10000`, [workspaceId, sourceId, fromDay, toDay]);
    return rows.map((r) => ({ sourceId: r.source_id as string, day: r.day as string, type: r.type as string, name: r.name as string, count: Number(r.count) }));
  }
}

export interface AnonymousCountRow {
  sourceId: string;
  day: string;
  type: string;
  name: string;
  count: number;
}

function recordOf(r: Row): ConsentRecord {
  return {
    id: r.id as string, workspaceId: r.workspace_id as string, profileId: r.profile_id as string, purpose: r.purpose as string,
    status: r.status as ConsentStatus, at: Number(r.decided_at), recordedAt: Number(r.recorded_at), source: r.source as string,
    seq: r.seq == null ? null : BigInt(r.seq as bigint), proof: JSON.parse(r.proof as string) as ConsentProof,
  };
}
