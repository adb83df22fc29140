/**
 * Nothing acknowledged is lost, nothing is applied twice: a real server process is killed with
 * SIGKILL in the middle of a concurrent load, restarted on the same files, and the senders retry
 * what was not acknowledged (as SDKs do). Then every event must be stored exactly once and the
 * profiles' event counts must equal the stored events.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Database, all } from '../src/storage/duckdb/database.js';
import { ADMIN_TOKEN, basic, removeDir, tempDir } from './helpers/server.js';
import { killStarted, startProcess, waitProcessed, type ServerProcess } from './helpers/process.js';

after(killStarted);

interface Batch { id: number; events: Array<Record<string, unknown>>; }

function makeBatches(count: number, size: number): Batch[] {
  return Array.from({ length: count }, (_, b) => ({
    id: b,
    events: Array.from({ length: size }, (_, i) => {
      const n = b * size + i;
      const userId = `user-${n % 97}`;
      return n % 10 === 0
        ? { type: 'identify', userId, messageId: `m-${n}`, traits: { seen: n }, timestamp: new Date(1_700_000_000_000 + n).toISOString() }
        : { type: 'track', userId, anonymousId: `anon-${n % 211}`, event: 'Product Viewed', messageId: `m-${n}`, properties: { n } };
    }),
  }));
}

async function send(url: string, writeKey: string, batch: Batch): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/batch`, { method: 'POST', headers: { authorization: basic(writeKey), 'content-type': 'application/json' }, body: JSON.stringify({ batch: batch.events }) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false; // connection refused or reset: not acknowledged
  }
}

test('kill -9 mid-load: every acknowledged event survives, none is applied twice', { timeout: 180_000 }, async () => {
  const dir = tempDir();
  const data = join(dir, 'ensemble.duckdb');
  try {
    let server: ServerProcess = await startProcess(['--data', data]);
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const ws = (await (await fetch(`${server.url}/api/workspaces`, { method: 'POST', headers: admin, body: '{"name":"crash"}' })).json()) as { id: string };
    const src = (await (await fetch(`${server.url}/api/workspaces/${ws.id}/sources`, { method: 'POST', headers: admin, body: '{"name":"load","kind":"server"}' })).json()) as { writeKey: string };

    const batches = makeBatches(600, 50);
    const acked = new Set<number>();
    const pending = [...batches];
    for (const round of [1, 2]) {
      // Eight concurrent senders; the server is killed once a third of what is left was acknowledged.
      const killAt = acked.size + Math.floor(pending.length / 3);
      const current = server;
      let killed = false;
      const worker = async (): Promise<void> => {
        for (let b = pending.shift(); b; b = pending.shift()) {
          if (await send(current.url, src.writeKey, b)) acked.add(b.id);
          else { pending.push(b); return; }
          if (!killed && acked.size >= killAt) {
            killed = true;
            current.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      const exit = await current.exited;
      assert.equal(exit.signal, 'SIGKILL', `round ${round}: the server should have been killed mid-load`);
      server = await startProcess(['--data', data]);
    }
    // The SDKs' retries: whatever was not acknowledged is sent again, to the restarted server.
    for (const b of batches) if (!acked.has(b.id)) assert.ok(await send(server.url, src.writeKey, b), `retry of batch ${b.id}`);
    await waitProcessed(server.url);
    server.child.kill('SIGTERM');
    assert.deepEqual(await server.exited, { code: 0, signal: null });

    const db = await Database.open(data);
    const conn = await db.connect();
    const [counts] = await all(conn, 'SELECT count(*) AS n, count(DISTINCT message_id) AS d FROM events');
    const total = batches.length * 50;
    assert.equal(Number(counts?.d), total, 'every event stored');
    assert.equal(Number(counts?.n), total, 'no event stored twice');
    const [profiles] = await all(conn, 'SELECT sum(event_count) AS s, count(*) AS live FROM profiles WHERE merged_into IS NULL');
    assert.equal(Number(profiles?.s), total, 'no event counted twice on a profile');
    const [traits] = await all(conn, `SELECT count(*) AS n FROM profiles WHERE merged_into IS NULL AND json_extract(traits, '$.seen') IS NOT NULL`);
    assert.equal(Number(traits?.n), 97, 'each user has its identify traits');
    await db.close();
  } finally {
    removeDir(dir);
  }
});
