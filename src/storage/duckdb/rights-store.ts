/**
 * Rights requests, suppressions and restrictions on DuckDB, and the erasure of a person from
 * every table in one transaction: a crash leaves either all of them or none of them erased.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RightsRequest, RightsStatus, RightsType, RightsTrailEntry } from '../../protocol/rights.js';
import { all, inTransaction, type Database, type Row } from './database.js';
import { PURGE_PENDING } from './compact.js';

/** What an erasure removes: the profiles (a merged person is several), their identifiers' lookup hashes, and text that identifies them in raw payloads. */
export interface ErasureTarget {
  workspaceId: string;
  profileIds: readonly string[];
  /** `type` + lookup hash of each identifier (identity log, barriers and static lists hold these). */
  hashes: ReadonlyArray<{ type: string; hash: string }>;
  /** JSON string literals of the clear identifier values, as they appear in raw payloads (dead letters). */
  needles: readonly string[];
  /** The messageIds of the person's events (dead letters and the log are searched by them too). */
  messageIds: ReadonlySet<string>;
}

/** Rows removed, per table: the erasure receipt shows them. */
export type ErasureCounts = Record<string, number>;

const IDS = `(SELECT unnest(from_json($2::JSON, '["VARCHAR"]')))`;

export class DuckDbRightsStore {
  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<DuckDbRightsStore> {
    return new DuckDbRightsStore(await db.connect());
  }

  async save(r: RightsRequest): Promise<void> {
    await this.conn.run(`INSERT OR REPLACE INTO rights_requests VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::JSON, $11::JSON)`, [
      r.workspaceId, r.id, r.type, r.identifierType, r.status, BigInt(r.receivedAt), BigInt(r.dueAt),
      r.completedAt === null ? null : BigInt(r.completedAt), r.profileId, JSON.stringify(r.result), JSON.stringify(r.trail),
    ]);
  }

  async get(workspaceId: string, id: string): Promise<RightsRequest | undefined> {
    const rows = await all(this.conn, 'SELECT * FROM rights_requests WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return rows[0] === undefined ? undefined : requestOf(rows[0]);
  }

  async list(workspaceId: string, limit: number): Promise<RightsRequest[]> {
    const rows = await all(this.conn, 'SELECT * FROM rights_requests WHERE workspace_id = $1 ORDER BY received_at DESC, id LIMIT $2', [workspaceId, limit]);
    return rows.map(requestOf);
  }

  /** The messageIds of the profiles' stored events (to find their records in the log). */
  async messageIdsOf(workspaceId: string, profileIds: readonly string[]): Promise<Set<string>> {
    const rows = await all(this.conn, `SELECT message_id FROM events WHERE workspace_id = $1 AND profile_id IN ${IDS}`, [workspaceId, JSON.stringify(profileIds)]);
    return new Set(rows.map((r) => r.message_id as string));
  }

  async suppressions(): Promise<Array<{ workspaceId: string; type: string; hash: string; since: number }>> {
    const rows = await all(this.conn, 'SELECT workspace_id, type, hash, created_at FROM suppressions');
    return rows.map((r) => ({ workspaceId: r.workspace_id as string, type: r.type as string, hash: r.hash as string, since: Number(r.created_at) }));
  }

  async liftSuppressions(workspaceId: string, entries: ReadonlyArray<{ type: string; hash: string }>): Promise<void> {
    for (const e of entries) await this.conn.run('DELETE FROM suppressions WHERE workspace_id = $1 AND type = $2 AND hash = $3', [workspaceId, e.type, e.hash]);
  }

  async restrictions(): Promise<Array<{ workspaceId: string; profileId: string }>> {
    const rows = await all(this.conn, 'SELECT workspace_id, profile_id FROM restrictions');
    return rows.map((r) => ({ workspaceId: r.workspace_id as string, profileId: r.profile_id as string }));
  }

  async setRestriction(workspaceId: string, profileId: string, on: boolean, since: number, requestId: string): Promise<void> {
    if (on) await this.conn.run('INSERT OR REPLACE INTO restrictions VALUES ($1, $2, $3, $4)', [workspaceId, profileId, BigInt(since), requestId]);
    else await this.conn.run('DELETE FROM restrictions WHERE workspace_id = $1 AND profile_id = $2', [workspaceId, profileId]);
  }

  /**
   * Removes the person from every table, records the suppressions and completes the request, in
   * one transaction. The profile id goes from every request that named it.
   */
  async erase(target: ErasureTarget, suppressions: ReadonlyArray<{ type: string; hash: string }>, request: RightsRequest | null): Promise<ErasureCounts> {
    const ws = target.workspaceId;
    const ids = JSON.stringify(target.profileIds);
    const hashes = JSON.stringify(target.hashes.map((h) => h.hash));
    const counts: ErasureCounts = {};
    await inTransaction(this.conn, async () => {
      const run = async (table: string, sql: string, params: unknown[]): Promise<void> => {
        const r = await this.conn.run(sql, params as never);
        counts[table] = (counts[table] ?? 0) + Number(r.rowsChanged);
      };
      await run('events', `DELETE FROM events WHERE workspace_id = $1 AND profile_id IN ${IDS}`, [ws, ids]);
      await run('profiles', `DELETE FROM profiles WHERE workspace_id = $1 AND id IN ${IDS}`, [ws, ids]);
      await run('identities', `DELETE FROM identities WHERE workspace_id = $1 AND (profile_id IN ${IDS} OR hash IN (SELECT unnest(from_json($3::JSON, '["VARCHAR"]'))))`, [ws, ids, hashes]);
      await run('identity_log', `DELETE FROM identity_log WHERE workspace_id = $1 AND (profile_id IN ${IDS} OR hash IN (SELECT unnest(from_json($3::JSON, '["VARCHAR"]'))))`, [ws, ids, hashes]);
      await run('profile_merges', `DELETE FROM profile_merges WHERE workspace_id = $1 AND (from_profile IN ${IDS} OR into_profile IN ${IDS})`, [ws, ids]);
      await run('identity_barriers', `DELETE FROM identity_barriers WHERE workspace_id = $1 AND (a_hash IN ${IDS} OR b_hash IN ${IDS})`, [ws, hashes]);
      // Crypto-shredding: without its data key, every sealed copy of the person's values (backups too) is unreadable.
      await run('profile_keys', `DELETE FROM profile_keys WHERE workspace_id = $1 AND profile_id IN ${IDS}`, [ws, ids]);
      // Retention (no request) keeps consent proofs for their own period (retention.ts); an erasure takes them too.
      if (request) await run('consent_records', `DELETE FROM consent_records WHERE workspace_id = $1 AND profile_id IN ${IDS}`, [ws, ids]);
      await run('segment_members', `DELETE FROM segment_members WHERE workspace_id = $1 AND profile_id IN ${IDS}`, [ws, ids]);
      await run('segment_changes', `DELETE FROM segment_changes WHERE workspace_id = $1 AND profile_id IN ${IDS}`, [ws, ids]);
      await run('segment_list_items', `DELETE FROM segment_list_items WHERE workspace_id = $1 AND hash IN ${IDS}`, [ws, hashes]);
      await run('restrictions', `DELETE FROM restrictions WHERE workspace_id = $1 AND profile_id IN ${IDS}`, [ws, ids]);
      await run('dead_letter', `DELETE FROM dead_letter WHERE workspace_id = $1 AND message_id IN ${IDS}`, [ws, JSON.stringify([...target.messageIds])]);
      for (const needle of target.needles) {
        await run('dead_letter', `DELETE FROM dead_letter WHERE workspace_id = $1 AND contains(payload, $2)`, [ws, needle]);
      }
      await this.conn.run(`UPDATE rights_requests SET profile_id = NULL WHERE workspace_id = $1 AND profile_id IN ${IDS}`, [ws, ids]);
      // Deleted rows can leave bytes in free pages of the file until a compaction (compact.ts).
      await this.conn.run('INSERT OR REPLACE INTO settings VALUES ($1, $2)', [PURGE_PENDING, request?.id ?? 'retention']);
      if (!request) return;
      for (const s of suppressions) {
        await this.conn.run('INSERT OR REPLACE INTO suppressions VALUES ($1, $2, $3, $4, $5)', [ws, s.type, s.hash, BigInt(request.receivedAt), request.id]);
      }
      const earlier = (request.result.deleted ?? {}) as ErasureCounts;
      await this.save({ ...request, result: { ...request.result, deleted: { ...earlier, ...counts } } });
    });
    return counts;
  }
}

function requestOf(r: Row): RightsRequest {
  return {
    id: r.id as string, workspaceId: r.workspace_id as string, type: r.type as RightsType, identifierType: r.identifier_type as string,
    status: r.status as RightsStatus, receivedAt: Number(r.received_at), dueAt: Number(r.due_at),
    completedAt: r.completed_at == null ? null : Number(r.completed_at), profileId: (r.profile_id as string | null) ?? null,
    result: JSON.parse(r.result as string) as Record<string, unknown>, trail: JSON.parse(r.trail as string) as RightsTrailEntry[],
  };
}
