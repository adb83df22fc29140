/** Reads over the `events` table: a profile's timeline and the dedupe index at start-up. */
import { listValue, type DuckDBConnection } from '@duckdb/node-api';
import { EnsembleError } from '../../protocol/errors.js';
import type { EventPage, EventStore, StoredEventView } from '../ports.js';
import { all, type Database } from './database.js';

const ENRICHMENT_COLUMNS = [
  'country', 'browser', 'browser_version', 'os', 'device_type', 'channel', 'referrer_host', 'utm_source', 'utm_medium',
  'utm_campaign', 'utm_term', 'utm_content', 'url', 'path', 'revenue', 'price', 'currency',
] as const;

export class DuckDbEventStore implements EventStore {
  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<DuckDbEventStore> {
    return new DuckDbEventStore(await db.connect());
  }

  async eventsOfProfiles(workspaceId: string, profileIds: readonly string[], limit: number, cursor: string | null): Promise<EventPage> {
    const [afterTs, afterSeq] = cursor == null ? [Number.MAX_SAFE_INTEGER, 0n] : decodeCursor(cursor);
    const rows = await all(
      this.conn,
      `SELECT seq, message_id, type, event, name, epoch_ms(timestamp) AS ts, epoch_ms(received_at) AS ra, source_id, profile_id,
              properties::VARCHAR AS properties, traits::VARCHAR AS traits, context::VARCHAR AS context, consent::VARCHAR AS consent,
              ${ENRICHMENT_COLUMNS.join(', ')}
         FROM events
        WHERE workspace_id = $1 AND list_contains($2::VARCHAR[], profile_id)
          AND (epoch_ms(timestamp) < $3 OR (epoch_ms(timestamp) = $3 AND seq < $4) OR $5)
        ORDER BY timestamp DESC, seq DESC
        LIMIT $6`,
      [workspaceId, listValue([...profileIds]), BigInt(afterTs), afterSeq, cursor == null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      events: page.map(toView),
      nextCursor: rows.length > limit && last ? encodeCursor(Number(last.ts), last.seq as bigint) : null,
    };
  }

  async recentMessageIds(sinceMs: number): Promise<Array<[string, string]>> {
    const rows = await all(this.conn, 'SELECT workspace_id, message_id FROM events WHERE received_at >= make_timestamp(CAST($1 AS BIGINT) * 1000)', [BigInt(sinceMs)]);
    return rows.map((r) => [r.workspace_id as string, r.message_id as string]);
  }

  async count(workspaceId: string): Promise<number> {
    const rows = await all(this.conn, 'SELECT count(*) AS n FROM events WHERE workspace_id = $1', [workspaceId]);
    return Number(rows[0]?.n ?? 0);
  }
}

function toView(r: Record<string, unknown>): StoredEventView {
  const enrichment: Record<string, unknown> = {};
  for (const c of ENRICHMENT_COLUMNS) if (r[c] != null) enrichment[camel(c)] = r[c];
  return {
    messageId: r.message_id as string,
    type: r.type as string,
    event: (r.event as string | null) ?? null,
    name: (r.name as string | null) ?? null,
    timestamp: new Date(Number(r.ts)).toISOString(),
    receivedAt: new Date(Number(r.ra)).toISOString(),
    sourceId: r.source_id as string,
    profileId: r.profile_id as string,
    properties: parseJson(r.properties),
    traits: parseJson(r.traits),
    context: parseJson(r.context),
    consent: parseJson(r.consent),
    enrichment,
  };
}

function parseJson(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : null;
}

function camel(s: string): string {
  return s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function encodeCursor(ts: number, seq: bigint): string {
  return Buffer.from(`${ts}:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): [number, bigint] {
  const m = /^(\d{1,16}):(\d{1,20})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new EnsembleError('ENSEMBLE_ERR_CURSOR_INVALID');
  return [Number(m[1]), BigInt(m[2] as string)];
}
