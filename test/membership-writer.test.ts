/**
 * The membership writer takes a whole segment's worth of changes at once (a segment created over
 * hundreds of thousands of existing members) and writes every one of them, on a real DuckDB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database, all } from '../src/storage/duckdb/database.js';
import { DuckDbSegmentStore } from '../src/storage/duckdb/segment-store.js';
import { MembershipWriter } from '../src/segments/membership-writer.js';
import type { MembershipChange, SegmentEngine } from '../src/segments/engine.js';
import { createMetrics } from '../src/platform/metrics.js';
import { createLogger } from '../src/platform/logger.js';

test('300,000 changes announced in one call are all written (no spread of arguments overflows the stack)', async () => {
  const db = await Database.open(':memory:');
  const store = await DuckDbSegmentStore.open(db);
  const n = 300_000;
  let announce: (changes: MembershipChange[]) => void = () => undefined;
  const engine = { onChanges: (l: typeof announce) => { announce = l; }, members: () => ({ size: n }) } as unknown as SegmentEngine;
  const writer = new MembershipWriter(store, engine, { flushMs: 5, logger: createLogger('silent'), metrics: createMetrics(), now: () => Date.UTC(2026, 0, 1) });
  await writer.start();
  const changes = Array.from({ length: n }, (_v, i): MembershipChange => ({ workspaceId: 'ws', segmentId: 'seg', profileId: `p${i}`, entered: true, at: 1, cause: 'created' }));
  announce(changes);
  await writer.drain();
  const conn = await db.connect();
  const [members] = await all(conn, `SELECT count(*) AS n FROM segment_members WHERE segment_id = 'seg'`);
  const [outbox] = await all(conn, `SELECT count(*) AS n FROM segment_changes WHERE segment_id = 'seg'`);
  assert.deepEqual([Number(members!.n), Number(outbox!.n)], [n, n]);
  await db.close();
});
