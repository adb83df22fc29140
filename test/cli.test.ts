/**
 * The `ensemble` command as a user runs it: `start --demo` on an empty folder generates an admin
 * token (printed once), a demo workspace and source with ≥ 5,000 people and ≥ 50,000 events;
 * SIGTERM stops it cleanly; a second start keeps the data and does not load the demo twice.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Database, all } from '../src/storage/duckdb/database.js';
import { removeDir, tempDir } from './helpers/server.js';
import { killStarted, startProcess, waitProcessed } from './helpers/process.js';

after(killStarted);

test('start --demo, SIGTERM, start again', { timeout: 240_000 }, async () => {
  const dir = tempDir();
  const data = join(dir, 'ensemble.duckdb');
  try {
    // The banner's last line is the segments example: wait for it, not just for the write key.
    const first = await startProcess(['--data', data, '--demo'], { ENSEMBLE_ADMIN_TOKEN: '' }, /segments'/);
    const err = first.stderr();
    const token = /ENSEMBLE_ADMIN_TOKEN=(ens_[A-Za-z0-9_-]+)/.exec(err)?.[1];
    assert.ok(token, 'a generated admin token is printed');
    const ws = /workspace: (ws_[A-Za-z0-9_-]+)/.exec(err)?.[1];
    assert.ok(ws && /source: +src_/.test(err));
    assert.doesNotMatch(first.stdout(), new RegExp(token), 'the token is not in the logs');
    await waitProcessed(first.url);
    const auth = { authorization: `Bearer ${token}` };
    const metrics = await (await fetch(`${first.url}/metrics`)).text();
    const processed = Number(/^ensemble_events_processed_total (\d+)/m.exec(metrics)?.[1]);
    assert.ok(processed >= 50_000, `demo events: ${processed}`);
    const user = /value=(cust-\d+)/.exec(err)?.[1];
    const profile = (await (await fetch(`${first.url}/api/workspaces/${ws}/profiles/lookup?type=user_id&value=${user}`, { headers: auth })).json()) as any;
    assert.ok(profile.eventCount > 0 && profile.traits?.email, `the printed example profile exists: ${user} → ${JSON.stringify(profile).slice(0, 300)}`);
    const segments = ((await (await fetch(`${first.url}/api/workspaces/${ws}/segments`, { headers: auth })).json()) as any).segments;
    assert.equal(segments.length, 4, 'the demo segments are there');
    for (const seg of segments) {
      assert.ok(seg.size > 0, `${seg.name} has members`);
      const check = (await (await fetch(`${first.url}/api/workspaces/${ws}/segments/${seg.id}/reconcile`, { method: 'POST', headers: auth })).json()) as any;
      assert.deepEqual([check.missing.length, check.extra.length, check.sql], [0, 0, seg.size], `${seg.name}: real time equals batch`);
    }

    first.child.kill('SIGTERM');
    assert.deepEqual(await first.exited, { code: 0, signal: null });

    const second = await startProcess(['--data', data, '--demo'], { ENSEMBLE_ADMIN_TOKEN: '' }, /segments'/);
    assert.doesNotMatch(second.stderr(), /ENSEMBLE_ADMIN_TOKEN=/, 'the token is printed only once');
    assert.match(second.stderr(), /Demo data already loaded/);
    const again = (await (await fetch(`${second.url}/api/workspaces/${ws}/profiles/lookup?type=user_id&value=${user}`, { headers: auth })).json()) as any;
    assert.equal(again.eventCount, profile.eventCount, 'the same data after a restart, not loaded twice');
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0);
  } finally {
    removeDir(dir);
  }
});

test('SIGTERM answers the requests in flight before exiting', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const server = await startProcess(['--data', join(dir, 'e.duckdb')]);
    const admin = { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' };
    const ws = (await (await fetch(`${server.url}/api/workspaces`, { method: 'POST', headers: admin, body: '{"name":"t"}' })).json()) as any;
    const src = (await (await fetch(`${server.url}/api/workspaces/${ws.id}/sources`, { method: 'POST', headers: admin, body: '{"name":"s","kind":"server"}' })).json()) as any;
    const auth = { authorization: `Basic ${Buffer.from(`${src.writeKey}:`).toString('base64')}`, 'content-type': 'application/json' };
    const batch = JSON.stringify({ batch: Array.from({ length: 100 }, (_, i) => ({ type: 'track', userId: `u${i}`, event: 'E' })) });
    const inFlight = Array.from({ length: 20 }, () => fetch(`${server.url}/v1/batch`, { method: 'POST', headers: auth, body: batch }).then((r) => r.status, () => 'refused'));
    server.child.kill('SIGTERM');
    const statuses = await Promise.all(inFlight);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    // Each request was either stored and acknowledged, or refused cleanly — never left hanging.
    for (const st of statuses) assert.ok(st === 200 || st === 503 || st === 'refused', String(st));
    const restarted = await startProcess(['--data', join(dir, 'e.duckdb')]);
    await waitProcessed(restarted.url);
    restarted.child.kill('SIGTERM');
    await restarted.exited;
    const db = await Database.open(join(dir, 'e.duckdb'));
    const [row] = await all(await db.connect(), 'SELECT count(*) AS n FROM events');
    await db.close();
    assert.equal(Number(row?.n), statuses.filter((x) => x === 200).length * 100, 'exactly the acknowledged events are stored');
  } finally {
    removeDir(dir);
  }
});
