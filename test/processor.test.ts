/** The processor's failure handling: a poison record is set aside, the events behind it go on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Database, all } from '../src/storage/duckdb/database.js';
import { DuckDbProcessingStore } from '../src/storage/duckdb/processing-store.js';
import { SegmentLog } from '../src/storage/file-log/segment-log.js';
import { ProfileMemory } from '../src/profiles/profile-memory.js';
import { Processor, type ProcessingPolicy } from '../src/processor/processor.js';
import { createMetrics } from '../src/platform/metrics.js';
import { createLogger } from '../src/platform/logger.js';
import { systemClock } from '../src/platform/clock.js';
import { parseConfig } from '../src/platform/config.js';
import type { IdentityResolver } from '../src/identity/resolver.js';
import { testIdentity } from './helpers/identity.js';
import { removeDir, tempDir } from './helpers/server.js';

test('a record that always fails is dead-lettered with its reason; the others are processed once', async () => {
  const dir = tempDir();
  try {
    const db = await Database.open(join(dir, 'e.duckdb'));
    const log = await SegmentLog.open(join(dir, 'log'));
    const store = await DuckDbProcessingStore.open(db);
    const memory = new ProfileMemory();
    const { identity } = testIdentity(memory);
    // Stands for any bug or data the processor cannot handle.
    const resolver: IdentityResolver = {
      resolve: (e, at, tx, seq) => {
        if (e.messageId === 'poison') throw new Error('cannot resolve this one');
        return identity.resolver.resolve(e, at, tx, seq);
      },
    };
    const policy: ProcessingPolicy = {
      resolver, strategyOf: (w) => identity.strategyOf(w), encode: (p) => identity.encode(p), pseudonymise: (e) => identity.pseudonymise(e),
      newKeys: () => identity.newKeys(), committed: (m, e) => identity.committed(m, e), aborted: () => identity.aborted(),
    };
    const now = new Date().toISOString();
    const records = ['m1', 'm2', 'poison', 'm4', 'm5'].map((messageId, i) => ({
      seq: BigInt(i + 1), workspaceId: 'ws_1', messageId, receivedAt: Date.now(),
      payload: JSON.stringify({ type: 'track', event: 'E', messageId, workspaceId: 'ws_1', sourceId: 'src_1', anonymousId: null, userId: 'u1',
        properties: {}, traits: {}, context: {}, originalTimestamp: now, timestamp: now, sentAt: null, receivedAt: now, country: null }),
    }));
    await log.append(records);
    const metrics = createMetrics();
    const processor = new Processor({
      log, store, memory, policy, config: parseConfig({}).processor, metrics,
      logger: createLogger('silent'), clock: systemClock, committedSeq: () => 5n,
    });
    await processor.start();
    await processor.idle();
    await processor.stop();
    const conn = await db.connect();
    assert.deepEqual((await all(conn, 'SELECT message_id FROM events ORDER BY seq')).map((r) => r.message_id), ['m1', 'm2', 'm4', 'm5']);
    const dead = await all(conn, 'SELECT seq, message_id, reason, payload FROM dead_letter');
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.message_id, 'poison');
    assert.match(String(dead[0]?.reason), /cannot resolve/);
    assert.equal(dead[0]?.payload, records[2]?.payload, 'the record is kept whole');
    assert.equal(await store.cursor(), 5n);
    const [p] = await all(conn, 'SELECT event_count FROM profiles');
    assert.equal(Number(p?.event_count), 4);
    await log.close();
    await db.close();
  } finally {
    removeDir(dir);
  }
});
