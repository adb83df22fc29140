// The delivery queue on its own DuckDB connection: the delivery loops' reads and settlements
// run concurrently with the fan-out's writes (and an erasure's) on the other connection, and
// nothing is lost, duplicated or left half-applied. Real DuckDB files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { Database, all } from '../src/storage/duckdb/database.js';
import { DuckDbActivationStore, isConflict, type NewDelivery, type Settlement } from '../src/storage/duckdb/activation-store.js';
import { removeDir, tempDir } from './helpers/server.js';

const WS = 'ws_1';
const DST = 'dst_1';
const DAY = '2026-12-03';
const none = { add: [], remove: [] };

function delivery(i: number, at: number, profile = `p${i}`): NewDelivery {
  return { workspaceId: WS, destinationId: DST, key: `${DST}:e:${i}`, kind: 'event', profileId: profile, payload: { event: { n: i } }, createdAt: at };
}

function settlement(): Settlement {
  return { delivered: [], dropped: [], retried: [], dead: [], counts: [], forget: [], received: [], deferred: [], sent: [] };
}

async function withStore(fn: (store: DuckDbActivationStore, db: Database) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const db = await Database.open(join(dir, 'a.duckdb'));
  try {
    await fn(await DuckDbActivationStore.open(db), db);
  } finally {
    await db.close();
    removeDir(dir);
  }
}

test('the fan-out keeps queueing while the delivery loop reads and settles: every item is delivered once, none is left', async () => {
  await withStore(async (store, db) => {
    const total = 600;
    let queued = 0;
    const fanout = (async () => {
      for (let page = 0; page < total / 50; page++) {
        const batch = Array.from({ length: 50 }, (_, j) => delivery(page * 50 + j, 1000));
        await store.enqueue(batch, none, new Map([['events', BigInt(page * 50 + 49)]]));
        queued += batch.length;
      }
    })();
    const seen = new Set<string>();
    let done = false;
    void fanout.then(() => { done = true; });
    for (;;) {
      const { rows } = await store.due(DST, 2000, 40);
      if (rows.length === 0 && done) {
        // One more look after the last page committed.
        if ((await store.due(DST, 2000, 40)).rows.length === 0) break;
        continue;
      }
      const s = settlement();
      for (const r of rows) {
        assert.ok(!seen.has(r.key), `${r.key} fetched again after it was settled`);
        seen.add(r.key);
        s.delivered.push(r.key);
      }
      s.counts = rows.length > 0 ? [{ outcome: 'delivered', reason: '', count: rows.length }] : [];
      s.received = rows.map((r) => r.profileId);
      await store.settle(WS, DST, s, DAY, 2000);
    }
    await fanout;
    assert.equal(queued, total);
    assert.equal(seen.size, total);
    const st = await store.stats(DST);
    assert.equal(st.pending, 0);
    assert.deepEqual(st.counts, [{ outcome: 'delivered', reason: '', count: total }]);
    const conn = await db.connect();
    const receipts = await all(conn, 'SELECT count(*) AS n FROM delivery_receipts');
    assert.equal(Number(receipts[0]!.n), total);
    const cursor = await store.cursor('events');
    assert.equal(cursor, BigInt(total - 1));
  });
});

test('an erasure and a settlement of the same rows at the same time both complete, and the rows are gone', async () => {
  await withStore(async (store) => {
    for (let round = 0; round < 5; round++) {
      const items = Array.from({ length: 30 }, (_, j) => delivery(round * 100 + j, 1000, `victim${round}`));
      await store.enqueue(items, none, new Map());
      const { rows } = await store.due(DST, 2000, 100);
      assert.equal(rows.length, items.length);
      const s = settlement();
      s.retried = rows.map((r) => ({ key: r.key, attempts: 1, nextAt: 5000, error: 'http_503' }));
      s.counts = [{ outcome: 'retried', reason: 'http_503', count: rows.length }];
      // Both touch the same rows, from the two connections, concurrently.
      await Promise.all([store.settle(WS, DST, s, DAY, 2000), store.forgetProfiles(WS, [`victim${round}`], [])]);
      assert.equal((await store.deliveriesOf(WS, [`victim${round}`])).length, 0, 'the erased person has nothing queued');
    }
  });
});

test('a settlement applies each outcome to its own row (property)', async () => {
  type Fate = 'delivered' | 'dropped' | 'retried' | 'deferred' | 'dead';
  await withStore(async (store) => {
    let base = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ fate: fc.constantFrom<Fate>('delivered', 'dropped', 'retried', 'deferred', 'dead'), attempts: fc.integer({ min: 0, max: 4 }), delay: fc.integer({ min: 1, max: 10_000 }) }), { minLength: 1, maxLength: 25 }),
      async (plan) => {
        const now = 1_000_000 + base;
        const items = plan.map((_, i) => delivery(base + i, now - 1));
        base += plan.length;
        await store.enqueue(items, none, new Map());
        const { rows } = await store.due(DST, now, 1000);
        assert.equal(rows.length, plan.length);
        const byKey = new Map(rows.map((r) => [r.key, r]));
        const s = settlement();
        const expected = new Map<string, { status: string; attempts: number; nextAt: number; error: string | null; failedAt: number | null } | null>();
        plan.forEach((p, i) => {
          const k = items[i]!.key;
          assert.ok(byKey.has(k));
          switch (p.fate) {
            case 'delivered': s.delivered.push(k); expected.set(k, null); break;
            case 'dropped': s.dropped.push(k); expected.set(k, null); break;
            case 'retried':
              s.retried.push({ key: k, attempts: p.attempts + 1, nextAt: now + p.delay, error: `r${i}` });
              expected.set(k, { status: 'pending', attempts: p.attempts + 1, nextAt: now + p.delay, error: `r${i}`, failedAt: null });
              break;
            case 'deferred':
              s.deferred.push({ key: k, nextAt: now + p.delay, reason: `deferred:q${i}` });
              expected.set(k, { status: 'pending', attempts: 0, nextAt: now + p.delay, error: `deferred:q${i}`, failedAt: null });
              break;
            case 'dead':
              s.dead.push({ key: k, attempts: p.attempts + 1, error: `d${i}` });
              expected.set(k, { status: 'dead', attempts: p.attempts + 1, nextAt: now - 1, error: `d${i}`, failedAt: now });
              break;
          }
        });
        await store.settle(WS, DST, s, DAY, now);
        const left = new Map((await store.deliveriesOf(WS, items.map((d) => d.profileId))).map((r) => [r.key, r]));
        for (const [k, want] of expected) {
          const got = left.get(k);
          if (want === null) { assert.equal(got, undefined, `${k} left the queue`); continue; }
          assert.ok(got, `${k} still queued`);
          assert.deepEqual({ status: got.status, attempts: got.attempts, nextAt: got.nextAt, error: got.error, failedAt: got.failedAt }, want);
        }
        // The next due time is the earliest retry or deferral, and nothing is due before it.
        const pendingAt = [...expected.values()].filter((v) => v !== null && v.status === 'pending').map((v) => v!.nextAt);
        const after = await store.due(DST, now, 1000);
        assert.equal(after.rows.filter((r) => items.some((d) => d.key === r.key)).length, 0);
        if (pendingAt.length > 0) assert.ok(after.later !== null && after.later <= Math.min(...pendingAt));
        // Leave the queue empty for the next run.
        await store.forgetProfiles(WS, items.map((d) => d.profileId), []);
      },
    ), { numRuns: 30 });
  });
});

test('only write-write conflicts are retried, not constraint violations', () => {
  assert.equal(isConflict(new Error('TransactionContext Error: Failed to commit: write-write conflict on key')), true);
  assert.equal(isConflict(new Error('Conflict on tuple deletion!')), true);
  assert.equal(isConflict(new Error('Constraint Error: PRIMARY KEY or UNIQUE constraint violation: duplicate key "x" (conflict)')), false);
  assert.equal(isConflict(new Error('Binder Error: column not found')), false);
});

test('settlements of several destinations that arrive together are committed together, each with its own counts and receipts', async () => {
  await withStore(async (store, db) => {
    const other = 'dst_2';
    const mine = [delivery(1, 1000, 'alice'), delivery(2, 1000, 'alice'), delivery(3, 1000, 'bob')];
    const theirs = [{ ...delivery(4, 1000, 'alice'), destinationId: other, key: `${other}:e:4` }];
    await store.enqueue([...mine, ...theirs], none, new Map());
    const a = settlement();
    a.delivered = mine.map((d) => d.key);
    a.received = ['alice', 'alice', 'bob'];
    a.counts = [{ outcome: 'delivered', reason: '', count: 3 }];
    const b = settlement();
    b.dead = [{ key: theirs[0]!.key, attempts: 3, error: 'http_400' }];
    b.counts = [{ outcome: 'dead', reason: 'http_400', count: 1 }];
    await Promise.all([store.settle(WS, DST, a, DAY, 2000), store.settle(WS, other, b, DAY, 2000), store.settle(WS, DST, settlement(), DAY, 2000)]);
    assert.deepEqual((await store.stats(DST)).counts, [{ outcome: 'delivered', reason: '', count: 3 }]);
    const st = await store.stats(other);
    assert.deepEqual(st.counts, [{ outcome: 'dead', reason: 'http_400', count: 1 }]);
    assert.equal(st.dead, 1);
    const dead = await store.deadLetters(other, 10);
    assert.equal(dead[0]?.error, 'http_400');
    assert.equal(dead[0]?.failedAt, 2000);
    const conn = await db.connect();
    const receipts = await all(conn, 'SELECT destination_id, profile_id, count FROM delivery_receipts ORDER BY ALL');
    assert.deepEqual(receipts.map((r) => [r.destination_id, r.profile_id, Number(r.count)]), [[DST, 'alice', 2], [DST, 'bob', 1]]);
  });
});
