/**
 * Test helpers for computed traits: events as the engine sees them, and the same events written
 * to a real `events` table (only the columns the backfill reads, plus the NOT NULL ones).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ComputedTraitDefinition, ComputedTraitInput } from '../../src/protocol/computed-trait.js';
import type { TraitEvent } from '../../src/profiles/computed-traits.js';
import { Database } from '../../src/storage/duckdb/database.js';
import { DuckDbComputedTraitStore } from '../../src/storage/duckdb/computed-trait-store.js';

export const DAY = 86_400_000;
/** 2024-01-01T00:00:00Z, a day boundary. */
export const T0 = Date.UTC(2024, 0, 1);

export interface StoredEvent extends TraitEvent {
  workspaceId: string;
  profileId: string;
}

let seq = 0n;
/** A track event (override `type`, `event` for others) with a fresh seq and messageId. */
export function ev(event: string | null, properties: Record<string, unknown>, at: number, more: Partial<TraitEvent> = {}): TraitEvent {
  seq += 1n;
  return { type: 'track', event, name: null, properties, at, messageId: `m${seq}`, seq, sourceId: 'src_test', ...more };
}

export function def(input: ComputedTraitInput, workspaceId = 'ws_1', id = `ct_${input.name}`): ComputedTraitDefinition {
  return { ...input, id, workspaceId, createdAt: T0, backfill: { events: 0, profiles: 0, ms: 0 } };
}

/** A real in-memory DuckDB with the full schema, and the computed trait store on it. */
export async function openTraitStore(): Promise<{ db: Database; conn: DuckDBConnection; store: DuckDbComputedTraitStore }> {
  const db = await Database.open(':memory:');
  return { db, conn: await db.connect(), store: await DuckDbComputedTraitStore.open(db) };
}

export async function insertEvents(conn: DuckDBConnection, events: readonly StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  const lines = events.map((e) => JSON.stringify({
    w: e.workspaceId, s: e.seq.toString(), m: e.messageId, y: e.type, e: e.event, n: e.name, p: e.profileId, t: e.at, r: e.properties, o: e.sourceId,
  }));
  await conn.run(`INSERT INTO events (workspace_id, seq, message_id, type, event, name, profile_id, source_id, timestamp,
      original_timestamp, received_at, properties)
    SELECT j->>'w', CAST(j->>'s' AS BIGINT), j->>'m', j->>'y', j->>'e', j->>'n', j->>'p', j->>'o',
           make_timestamp(CAST(j->>'t' AS BIGINT) * 1000), make_timestamp(CAST(j->>'t' AS BIGINT) * 1000),
           make_timestamp(CAST(j->>'t' AS BIGINT) * 1000), json_extract(j, '$.r')
      FROM (SELECT unnest(string_split($1, chr(10)))::JSON AS j)`, [lines.join('\n')]);
}
