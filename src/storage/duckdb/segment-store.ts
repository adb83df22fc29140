/**
 * Segments in the embedded store: definitions, the announced memberships, the outbox of
 * membership changes (Segment Entered / Exited), daily sizes, static list items, and the reads
 * segments need from the events (the backfill stream and compiled segment SQL).
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { SegmentCondition, StoredSegment } from '../../protocol/segment.js';
import type { MembershipChange } from '../../segments/engine.js';
import { locationOf, type GeoPoint } from '../../protocol/geo.js';
import { all, inTransaction, jsonRows, type Database, type Row } from './database.js';

/** A stored event as the segment backfill reads it. */
export interface SegmentBackfillRow {
  seq: bigint;
  profileId: string;
  type: string;
  event: string | null;
  at: number;
  properties: Record<string, unknown>;
  sourceId: string;
  location: GeoPoint | null;
  country: string | null;
}

/** Which stored events a backfill needs (the union over the segments being filled). */
export interface BackfillFilter {
  workspaceId: string;
  upToSeq: bigint;
  all: boolean;
  pages: boolean;
  /** Events carrying a location (`geo` near conditions). */
  withLocation: boolean;
  /** Events with a country (`geo` country conditions). */
  withCountry: boolean;
  names: string[];
  /** Events at or before this instant are not needed (every condition reading them is windowed). */
  after: number | null;
  /**
   * Which events' properties are read (by a property filter): all, none, or those of some kinds
   * (`$page`, or track names). The others come without: parsing their JSON is most of a backfill.
   */
  properties: 'all' | 'none' | string[];
}

export interface StoredChange extends MembershipChange {
  id: bigint;
}

export interface SizePoint {
  day: string;
  size: number;
  entered: number;
  exited: number;
}

const CHANGE_SPEC = JSON.stringify({ i: 'BIGINT', w: 'VARCHAR', s: 'VARCHAR', p: 'VARCHAR', e: 'BOOLEAN', a: 'BIGINT', c: 'VARCHAR' });

export class DuckDbSegmentStore {
  private constructor(private readonly conn: DuckDBConnection, private readonly reader: DuckDBConnection) {}

  /** Two connections: writes of memberships never wait behind a long backfill or preview query. */
  static async open(db: Database): Promise<DuckDbSegmentStore> {
    return new DuckDbSegmentStore(await db.connect(), await db.connect());
  }

  async list(): Promise<StoredSegment[]> {
    const rows = await all(this.conn, 'SELECT workspace_id, id, name, description, definition::VARCHAR AS definition, purposes::VARCHAR AS purposes, created_at, updated_at FROM segments ORDER BY created_at, id');
    return rows.map((r) => ({
      id: r.id as string,
      workspaceId: r.workspace_id as string,
      name: r.name as string,
      ...(r.description == null ? {} : { description: r.description as string }),
      definition: JSON.parse(r.definition as string) as SegmentCondition,
      ...(r.purposes == null ? {} : { purposes: JSON.parse(r.purposes as string) as string[] }),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    }));
  }

  async save(s: StoredSegment): Promise<void> {
    await this.conn.run(`INSERT OR REPLACE INTO segments (workspace_id, id, name, description, definition, created_at, updated_at, purposes)
      VALUES ($1, $2, $3, $4, $5::JSON, $6, $7, $8::JSON)`, [
      s.workspaceId, s.id, s.name, s.description ?? null, JSON.stringify(s.definition), BigInt(s.createdAt), BigInt(s.updatedAt),
      s.purposes && s.purposes.length > 0 ? JSON.stringify(s.purposes) : null,
    ]);
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    await this.conn.run('DELETE FROM segments WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
  }

  /** The memberships last announced, per segment (start-up announces only what changed since). */
  async announced(workspaceId: string, segmentId: string): Promise<Set<string>> {
    const rows = await all(this.reader, 'SELECT profile_id FROM segment_members WHERE workspace_id = $1 AND segment_id = $2', [workspaceId, segmentId]);
    return new Set(rows.map((r) => r.profile_id as string));
  }

  async lastChangeId(): Promise<bigint> {
    const rows = await all(this.conn, 'SELECT coalesce(max(id), 0) AS id FROM segment_changes');
    return BigInt(rows[0]?.id as bigint | number);
  }

  /**
   * Records changes in one transaction: the outbox rows, the members they leave, and today's
   * size and counts of each segment touched (`sizes`: members after these changes).
   */
  async writeChanges(changes: readonly StoredChange[], sizes: ReadonlyMap<string, { workspaceId: string; size: number }>, today: string): Promise<void> {
    if (changes.length === 0) return;
    const rows = changes.map((c) => JSON.stringify({ i: c.id.toString(), w: c.workspaceId, s: c.segmentId, p: c.profileId, e: c.entered, a: c.at, c: c.cause })).join('\n');
    await inTransaction(this.conn, async () => {
      await this.conn.run(`INSERT INTO segment_changes SELECT i, w, s, p, e, a, c FROM ${jsonRows(CHANGE_SPEC)}`, [rows]);
      // The last change of each (segment, profile) decides its row.
      await this.conn.run(`DELETE FROM segment_members m USING (SELECT DISTINCT w, s, p FROM ${jsonRows(CHANGE_SPEC)}) c
        WHERE m.workspace_id = c.w AND m.segment_id = c.s AND m.profile_id = c.p`, [rows]);
      await this.conn.run(`INSERT INTO segment_members SELECT w, s, p, a FROM (
          SELECT w, s, p, e, a, row_number() OVER (PARTITION BY w, s, p ORDER BY i DESC) AS rn FROM ${jsonRows(CHANGE_SPEC)})
        WHERE rn = 1 AND e`, [rows]);
      const counts = new Map<string, { entered: number; exited: number }>();
      for (const c of changes) {
        const k = `${c.workspaceId}\u0000${c.segmentId}`;
        const n = counts.get(k) ?? { entered: 0, exited: 0 };
        if (c.entered) n.entered++; else n.exited++;
        counts.set(k, n);
      }
      for (const [k, n] of counts) {
        const [ws, seg] = k.split('\u0000') as [string, string];
        const size = sizes.get(seg)?.size ?? 0;
        await this.conn.run(`INSERT INTO segment_sizes VALUES ($1, $2, CAST($3 AS DATE), $4, $5, $6)
          ON CONFLICT (workspace_id, segment_id, day) DO UPDATE SET size = excluded.size,
            entered = segment_sizes.entered + excluded.entered, exited = segment_sizes.exited + excluded.exited`,
        [ws, seg, today, BigInt(size), BigInt(n.entered), BigInt(n.exited)]);
      }
    });
  }

  /** Members by profile id, after `cursor` (the last id of the previous page). */
  async members(workspaceId: string, segmentId: string, cursor: string | null, limit: number): Promise<Array<{ profileId: string; enteredAt: number }>> {
    const rows = await all(this.reader, `SELECT profile_id, entered_at FROM segment_members
      WHERE workspace_id = $1 AND segment_id = $2 AND profile_id > $3 ORDER BY profile_id LIMIT $4`, [workspaceId, segmentId, cursor ?? '', limit]);
    return rows.map((r) => ({ profileId: r.profile_id as string, enteredAt: Number(r.entered_at) }));
  }

  async changes(workspaceId: string, segmentId: string | null, after: bigint, limit: number): Promise<StoredChange[]> {
    const rows = await all(this.reader, `SELECT id, workspace_id, segment_id, profile_id, entered, changed_at, cause FROM segment_changes
      WHERE workspace_id = $1 AND ($2::VARCHAR IS NULL OR segment_id = $2) AND id > $3 ORDER BY id LIMIT $4`, [workspaceId, segmentId, after, limit]);
    return rows.map(toChange);
  }

  /** The latest changes of some profiles (a profile and those merged into it), newest first. */
  async changesOfProfiles(workspaceId: string, profileIds: readonly string[], limit: number): Promise<StoredChange[]> {
    const rows = await all(this.reader, `SELECT id, workspace_id, segment_id, profile_id, entered, changed_at, cause FROM segment_changes
      WHERE workspace_id = $1 AND profile_id IN (SELECT unnest(from_json($2::JSON, '["VARCHAR"]'))) ORDER BY id DESC LIMIT $3`,
    [workspaceId, JSON.stringify(profileIds), limit]);
    return rows.map(toChange);
  }

  async sizes(workspaceId: string, segmentId: string, days: number): Promise<SizePoint[]> {
    const rows = await all(this.reader, `SELECT strftime(day, '%Y-%m-%d') AS day, size, entered, exited FROM segment_sizes
      WHERE workspace_id = $1 AND segment_id = $2 ORDER BY day DESC LIMIT $3`, [workspaceId, segmentId, days]);
    return rows.reverse().map((r) => ({ day: r.day as string, size: Number(r.size), entered: Number(r.entered), exited: Number(r.exited) }));
  }

  async saveList(workspaceId: string, listId: string, items: ReadonlyArray<{ type: string; hash: string }>): Promise<void> {
    await inTransaction(this.conn, async () => {
      await this.conn.run('DELETE FROM segment_list_items WHERE workspace_id = $1 AND list_id = $2', [workspaceId, listId]);
      if (items.length === 0) return;
      const rows = items.map((i) => JSON.stringify({ w: workspaceId, l: listId, t: i.type, h: i.hash })).join('\n');
      await this.conn.run(`INSERT INTO segment_list_items SELECT w, l, t, h FROM ${jsonRows(JSON.stringify({ w: 'VARCHAR', l: 'VARCHAR', t: 'VARCHAR', h: 'VARCHAR' }))}`, [rows]);
    });
  }

  async listItems(): Promise<Array<{ workspaceId: string; listId: string; type: string; hash: string }>> {
    const rows = await all(this.reader, 'SELECT workspace_id, list_id, type, hash FROM segment_list_items');
    return rows.map((r) => ({ workspaceId: r.workspace_id as string, listId: r.list_id as string, type: r.type as string, hash: r.hash as string }));
  }

  async deleteList(workspaceId: string, listId: string): Promise<void> {
    await this.conn.run('DELETE FROM segment_list_items WHERE workspace_id = $1 AND list_id = $2', [workspaceId, listId]);
  }

  /** Runs compiled segment SQL (rows of profile_id). */
  async query(sql: string, params: DuckDBValue[]): Promise<string[]> {
    const rows = await all(this.reader, sql, params);
    return rows.map((r) => r.profile_id as string);
  }

  /** How many profiles compiled segment SQL selects, and a sample of them. */
  async count(sql: string, params: DuckDBValue[], sample: number): Promise<{ count: number; sample: string[] }> {
    const rows = await all(this.reader, `WITH members AS (${sql})
      SELECT (SELECT count(*) FROM members) AS n, (SELECT list(profile_id) FROM (SELECT profile_id FROM members ORDER BY profile_id LIMIT ${Math.max(0, Math.floor(sample))})) AS ids`, params);
    return { count: Number(rows[0]?.n ?? 0), sample: ((rows[0]?.ids as string[] | null) ?? []) };
  }

  /** Streams the stored events a backfill needs, in chunks. */
  async *backfill(f: BackfillFilter): AsyncGenerator<SegmentBackfillRow[]> {
    const kinds: string[] = [];
    const params: DuckDBValue[] = [f.workspaceId, f.upToSeq];
    if (!f.all) {
      if (f.pages) kinds.push(`type = 'page'`);
      if (f.withLocation) kinds.push(`json_type(context, '$.location') = 'OBJECT'`);
      if (f.withCountry) kinds.push('country IS NOT NULL');
      if (f.names.length > 0) {
        params.push(JSON.stringify(f.names));
        kinds.push(`(type = 'track' AND event IN (SELECT unnest(from_json($${params.length}::JSON, '["VARCHAR"]'))))`);
      }
      if (kinds.length === 0) return;
    }
    let window = '';
    if (f.after !== null) {
      params.push(BigInt(f.after) * 1000n);
      window = ` AND timestamp > make_timestamp(CAST($${params.length} AS BIGINT))`;
    }
    let properties = 'properties::VARCHAR';
    if (f.properties === 'none') properties = 'NULL';
    else if (f.properties !== 'all') {
      const tests: string[] = [];
      if (f.properties.includes('$page')) tests.push(`type = 'page'`);
      const names = f.properties.filter((n) => n !== '$page');
      if (names.length > 0) {
        params.push(JSON.stringify(names));
        tests.push(`(type = 'track' AND event IN (SELECT unnest(from_json($${params.length}::JSON, '["VARCHAR"]'))))`);
      }
      properties = `CASE WHEN ${tests.join(' OR ')} THEN properties::VARCHAR END`;
    }
    const location = f.withLocation ? `json_extract(context, '$.location')::VARCHAR` : 'NULL';
    const country = f.withCountry ? 'country' : 'NULL';
    const result = await this.reader.stream(`SELECT seq, profile_id, type, event, epoch_ms(timestamp), ${properties}, source_id, ${location}, ${country}
      FROM events WHERE workspace_id = $1 AND seq <= $2${window}${f.all ? '' : ` AND (${kinds.join(' OR ')})`}`, params);
    for await (const rows of result.yieldRowsJs()) {
      yield rows.map((r) => ({
        seq: r[0] as bigint,
        profileId: r[1] as string,
        type: r[2] as string,
        event: (r[3] as string | null) ?? null,
        at: Number(r[4]),
        properties: r[5] == null ? {} : JSON.parse(r[5] as string) as Record<string, unknown>,
        sourceId: r[6] as string,
        location: r[7] == null ? null : locationOf({ location: JSON.parse(r[7] as string) as unknown }),
        country: (r[8] as string | null) ?? null,
      }));
    }
  }
}

function toChange(r: Row): StoredChange {
  return {
    id: BigInt(r.id as bigint), workspaceId: r.workspace_id as string, segmentId: r.segment_id as string, profileId: r.profile_id as string,
    entered: r.entered as boolean, at: Number(r.changed_at), cause: r.cause as StoredChange['cause'],
  };
}
