/**
 * The tamper-evident audit log on a real DuckDB file: chains that verify across restarts, every
 * kind of tampering detected (edited, deleted, rewritten with a recomputed hash, truncated),
 * buffered writes in call order, durable writes, a property test over random chains and
 * tamperings, and the HTTP hook and routes on a real server.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import Fastify from 'fastify';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { Database, all } from '../src/storage/duckdb/database.js';
import { DuckDbAuditStore } from '../src/storage/duckdb/audit-store.js';
import {
  AuditLog, GENESIS_HASH, canonicalJson, entryHash, type AuditEntry, type AuditHead, type AuditInput, type AuditStore,
} from '../src/privacy/audit-log.js';
import { registerAuditHook } from '../src/api/audit-hook.js';
import { registerAuditRoutes } from '../src/api/audit-routes.js';
import { requireApiToken } from '../src/api/admin-auth.js';
import { registerErrorHandling } from '../src/api/error-handler.js';
import { useTypeBoxValidation } from '../src/api/validator.js';
import { registerProfileRoutes } from '../src/api/profile-routes.js';
import type { Catalog } from '../src/api/catalog.js';
import { EnsembleError } from '../src/protocol/errors.js';
import { hashSecret } from '../src/platform/secret-hash.js';
import { ProfileTx } from '../src/profiles/profile-tx.js';
import { DEFAULT_IDENTITY_CONFIG } from '../src/identity/identity-config.js';
import type { EventStore } from '../src/storage/ports.js';
import { event, testIdentity } from './helpers/identity.js';
import { removeDir, tempDir } from './helpers/server.js';

const dirs: string[] = [];
after(() => { for (const d of dirs) removeDir(d); });

interface Opened { db: Database; store: DuckDbAuditStore; audit: AuditLog; conn: DuckDBConnection; close(): Promise<void> }

let now = Date.UTC(2026, 0, 1);
const clock = { now: () => (now += 7) };

async function open(dir: string, wrap: (s: AuditStore) => AuditStore = (s) => s): Promise<Opened> {
  const db = await Database.open(join(dir, 'audit.duckdb'));
  const store = await DuckDbAuditStore.open(db);
  const audit = await AuditLog.open(wrap(store), { clock });
  const conn = await db.connect();
  return { db, store, audit, conn, close: async () => { await audit.close(); await db.close(); } };
}

function freshDir(): string {
  const d = tempDir('ensemble-audit-');
  dirs.push(d);
  return d;
}

const input = (workspaceId: string, i: number): AuditInput => ({
  workspaceId, actor: i % 3 === 0 ? 'reader' : 'admin', action: 'GET /api/workspaces/:ws/profiles/:profileId',
  resource: `/api/workspaces/${workspaceId}/profiles/p_${i}`, detail: { status: 200, params: { ws: workspaceId, profileId: `p_${i}` }, i },
});

async function rows(conn: DuckDBConnection, ws: string): Promise<AuditEntry[]> {
  const r = await all(conn, 'SELECT workspace_id, seq, logged_at, actor, action, resource, detail::VARCHAR AS detail, prev_hash, hash FROM audit_log WHERE workspace_id = $1 ORDER BY seq', [ws]);
  return r.map((x) => ({
    workspaceId: String(x.workspace_id), seq: Number(x.seq), at: Number(x.logged_at), actor: String(x.actor), action: String(x.action),
    resource: String(x.resource), detail: JSON.parse(String(x.detail)), prevHash: String(x.prev_hash), hash: String(x.hash),
  }));
}

/** Rewrites entry `seq` with new content and a hash recomputed over it, as a careful forger would. */
async function forge(conn: DuckDBConnection, ws: string, seq: number, change: Partial<AuditEntry>): Promise<void> {
  const old = (await rows(conn, ws)).find((e) => e.seq === seq);
  assert.ok(old);
  const forged = { ...old, ...change };
  const hash = entryHash(forged);
  await conn.run('UPDATE audit_log SET actor = $3, resource = $4, detail = $5::JSON, prev_hash = $6, hash = $7 WHERE workspace_id = $1 AND seq = $2', [
    ws, BigInt(seq), forged.actor, forged.resource, JSON.stringify(forged.detail), forged.prevHash, hash,
  ]);
}

test('chains verify after many entries across restarts, each continuing where it ended', async () => {
  const dir = freshDir();
  let o = await open(dir);
  for (let i = 0; i < 1200; i++) o.audit.record(input(i % 2 ? 'ws_a' : 'ws_b', i));
  await o.audit.recordDurable({ workspaceId: '*', actor: 'admin', action: 'POST /api/workspaces', resource: '/api/workspaces', detail: { status: 201, createdId: 'ws_a' } });
  await o.close();

  o = await open(dir);
  for (let i = 1200; i < 1500; i++) o.audit.record(input(i % 2 ? 'ws_a' : 'ws_b', i));
  await o.close();

  o = await open(dir);
  const a = await o.audit.verify('ws_a');
  assert.deepEqual([a.ok, a.entries, a.problems], [true, 750, []]);
  const b = await o.audit.verify('ws_b');
  assert.deepEqual([b.ok, b.entries], [true, 750]);
  assert.equal((await o.audit.verify('*')).entries, 1);
  const stored = await rows(o.conn, 'ws_a');
  assert.deepEqual(a.head, { seq: 750, hash: stored[749]?.hash });
  assert.equal(stored[0]?.prevHash, GENESIS_HASH);
  stored.forEach((e, i) => {
    assert.equal(e.seq, i + 1);
    if (i > 0) assert.equal(e.prevHash, stored[i - 1]?.hash, 'each entry holds the previous hash, across restarts too');
    assert.equal(e.hash, entryHash(e));
  });
  const settings = await all(o.conn, `SELECT value FROM settings WHERE key = 'audit_head:ws_a'`);
  assert.deepEqual(JSON.parse(String(settings[0]?.value)), { seq: 750, hash: stored[749]?.hash });
  await o.close();
});

test('an edited field is reported as edited at its seq', async () => {
  const o = await open(freshDir());
  for (let i = 0; i < 20; i++) o.audit.record(input('ws', i));
  await o.audit.flush();
  await o.conn.run(`UPDATE audit_log SET detail = '{"status":200,"params":{}}'::JSON WHERE workspace_id = 'ws' AND seq = 7`);
  const v = await o.audit.verify('ws');
  assert.equal(v.ok, false);
  assert.deepEqual(v.problems.map((p) => [p.seq, p.kind]), [[7, 'edited']]);
  await o.conn.run(`UPDATE audit_log SET actor = 'admin', logged_at = logged_at - 1 WHERE workspace_id = 'ws' AND seq = 12`);
  assert.deepEqual((await o.audit.verify('ws')).problems.map((p) => [p.seq, p.kind]), [[7, 'edited'], [12, 'edited']]);
  await o.close();
});

test('a deleted middle entry is reported as deleted, also after a restart and more entries', async () => {
  const dir = freshDir();
  let o = await open(dir);
  for (let i = 0; i < 20; i++) o.audit.record(input('ws', i));
  await o.audit.flush();
  await o.conn.run(`DELETE FROM audit_log WHERE workspace_id = 'ws' AND seq IN (9, 10)`);
  const v = await o.audit.verify('ws');
  assert.deepEqual(v.problems.map((p) => [p.seq, p.kind]), [[9, 'deleted']]);
  assert.match(v.problems[0]?.message ?? '', /9 to 10/);
  await o.close();
  o = await open(dir);
  o.audit.record(input('ws', 21));
  assert.deepEqual((await o.audit.verify('ws')).problems.map((p) => [p.seq, p.kind]), [[9, 'deleted']]);
  await o.close();
});

test('deleted last entries are reported as truncated; after a restart the gap stays visible', async () => {
  const dir = freshDir();
  let o = await open(dir);
  for (let i = 0; i < 20; i++) o.audit.record(input('ws', i));
  await o.audit.flush();
  await o.conn.run(`DELETE FROM audit_log WHERE workspace_id = 'ws' AND seq > 17`);
  const v = await o.audit.verify('ws');
  assert.deepEqual(v.problems.map((p) => [p.seq, p.kind]), [[18, 'truncated']]);
  assert.equal(v.entries, 17);
  await o.close();

  // Continuing from the table would reuse 18-20 and cover the removal: the chain continues after the head.
  o = await open(dir);
  assert.equal(o.audit.record(input('ws', 99)).seq, 21);
  assert.deepEqual((await o.audit.verify('ws')).problems.map((p) => [p.seq, p.kind]), [[18, 'deleted']]);
  await o.close();

  o = await open(dir);
  await o.conn.run(`DELETE FROM settings WHERE key = 'audit_head:ws'`);
  assert.deepEqual((await o.audit.verify('ws')).problems.map((p) => p.kind), ['deleted', 'truncated'], 'a removed head is reported');
  await o.close();
});

test('a row rewritten with a recomputed hash is caught by its successor; reordering too; the last one by the head', async () => {
  const o = await open(freshDir());
  for (let i = 0; i < 10; i++) o.audit.record(input('ws', i));
  await o.audit.flush();
  assert.equal((await o.audit.verify('ws')).ok, true);

  await forge(o.conn, 'ws', 4, { actor: 'reader', detail: { status: 200, params: {} } });
  assert.deepEqual((await o.audit.verify('ws')).problems.map((p) => [p.seq, p.kind]), [[5, 'reordered']]);

  // Swap the contents of 7 and 8, each with a hash recomputed for its new position.
  const [e7, e8] = (await rows(o.conn, 'ws')).filter((e) => e.seq === 7 || e.seq === 8);
  assert.ok(e7 && e8);
  await forge(o.conn, 'ws', 7, { actor: e8.actor, resource: e8.resource, detail: e8.detail });
  await forge(o.conn, 'ws', 8, { actor: e7.actor, resource: e7.resource, detail: e7.detail, prevHash: (await rows(o.conn, 'ws'))[6]?.hash });
  const swapped = await o.audit.verify('ws');
  assert.ok(swapped.problems.some((p) => p.seq === 9 && p.kind === 'reordered'), JSON.stringify(swapped.problems));

  await forge(o.conn, 'ws', 10, { actor: 'nobody' });
  const last = await o.audit.verify('ws');
  assert.ok(last.problems.some((p) => p.seq === 10 && p.kind === 'edited'), 'the stored head no longer matches the last entry');
  await o.close();
});

test('entries added behind the log\'s back are reported, and stay reported after a restart', async () => {
  const dir = freshDir();
  let o = await open(dir);
  for (let i = 0; i < 5; i++) o.audit.record(input('ws', i));
  await o.audit.flush();
  const tail = (await rows(o.conn, 'ws'))[4];
  assert.ok(tail);
  const extra = { ...tail, seq: 6, prevHash: tail.hash, actor: 'admin' };
  await o.conn.run('INSERT INTO audit_log VALUES ($1, $2, $3, $4, $5, $6, $7::JSON, $8, $9)', [
    'ws', 6n, BigInt(extra.at), extra.actor, extra.action, extra.resource, JSON.stringify(extra.detail), extra.prevHash, entryHash(extra),
  ]);
  assert.deepEqual((await o.audit.verify('ws')).problems.map((p) => [p.seq, p.kind]), [[6, 'edited']]);
  await o.close();
  o = await open(dir);
  const after = await o.audit.verify('ws');
  assert.deepEqual(after.problems.map((p) => [p.seq, p.kind]), [[7, 'edited']], 'the start-up wrote down that the head was behind');
  await o.close();
});

test('buffered entries are stored in call order, in few transactions; a durable one is stored when it resolves', async () => {
  let appends = 0;
  const o = await open(freshDir(), (s) => ({
    heads: () => s.heads(), page: (w, a, l) => s.page(w, a, l), snapshot: (w, f) => s.snapshot(w, f),
    append: (e: readonly AuditEntry[], h: ReadonlyMap<string, AuditHead>) => { appends++; return s.append(e, h); },
  }));
  for (let i = 0; i < 2000; i++) o.audit.record(input(i % 5 === 0 ? 'ws_b' : 'ws_a', i));
  await o.audit.flush();
  assert.ok(appends <= 2, `2000 entries in ${appends} transactions`);
  const a = await rows(o.conn, 'ws_a');
  assert.deepEqual(a.map((e) => (e.detail as { i: number }).i), [...Array(2000).keys()].filter((i) => i % 5 !== 0));
  const page = await o.audit.list('ws_a', { afterSeq: 100, limit: 3 });
  assert.deepEqual(page.map((e) => e.seq), [101, 102, 103]);

  await o.audit.recordDurable(input('ws_c', 1));
  assert.equal((await rows(o.conn, 'ws_c')).length, 1, 'stored once recordDurable resolved');
  await o.close();
});

test('identical reads of one flush window are one entry saying how many; other entries of the chain keep the call order; the chain verifies across a restart', async () => {
  const dir = freshDir();
  const o = await open(dir);
  const lookup = (ws: string, status = 200): AuditInput => ({
    workspaceId: ws, actor: 'admin', action: 'GET /api/workspaces/:ws/profiles/lookup', resource: `/api/workspaces/${ws}/profiles/lookup`,
    detail: { status, params: { ws }, queryKeys: ['type', 'value'], query: { type: 'email' } },
  });
  const first = now + 7;
  for (let i = 0; i < 40; i++) o.audit.recordRead(lookup('ws_r'));
  o.audit.recordRead(lookup('ws_r', 404));
  o.audit.recordRead(input('ws_r', 1));
  o.audit.recordRead(lookup('ws_other'));
  const lastBeforeMutation = now;
  await o.audit.recordDurable({ workspaceId: 'ws_r', actor: 'admin', action: 'POST /api/workspaces/:ws/things', resource: '/api/workspaces/ws_r/things', detail: { status: 201 } });
  o.audit.recordRead(lookup('ws_r'));
  o.audit.recordRead(lookup('ws_r'));
  await o.audit.flush();

  const r = await rows(o.conn, 'ws_r');
  assert.deepEqual(r.map((e) => [e.seq, e.action.split(' ')[0], (e.detail as { status: number }).status, (e.detail as { reads?: number }).reads ?? 1]), [
    [1, 'GET', 200, 40], [2, 'GET', 404, 1], [3, 'GET', 200, 1], [4, 'POST', 201, 1], [5, 'GET', 200, 2],
  ], 'the reads before the mutation come before it, coalesced by identical detail; the reads after it are a new entry');
  assert.equal(r[0]!.at, first, 'the entry is dated by its first read');
  assert.ok((r[0]!.detail as { lastReadAt: number }).lastReadAt > r[0]!.at && (r[0]!.detail as { lastReadAt: number }).lastReadAt < lastBeforeMutation);
  assert.equal((r[1]!.detail as Record<string, unknown>).lastReadAt, undefined, 'a single read is an entry as before');
  assert.deepEqual((await rows(o.conn, 'ws_other')).map((e) => e.seq), [1]);
  assert.equal((await o.audit.verify('ws_r')).ok, true);
  await o.close();

  const again = await open(dir);
  again.audit.recordRead(lookup('ws_r'));
  await again.audit.close();
  const reopened = await open(dir);
  const v = await reopened.audit.verify('ws_r');
  assert.deepEqual([v.ok, v.entries], [true, 6], 'open reads are stored by close, after a restart too');
  await reopened.close();
});

test('property: however reads and other entries interleave, every read is counted once, between the same other entries as it was called, and the chains verify', async () => {
  const o = await open(freshDir());
  let run = 0;
  await fc.assert(fc.asyncProperty(fc.array(fc.record({ chain: fc.constantFrom('p', 'q'), kind: fc.constantFrom('read', 'read', 'read', 'entry', 'flush'), status: fc.constantFrom(200, 404) }), { maxLength: 60 }), async (ops) => {
    run++;
    // Per chain: how many reads were called after each number of other entries (the "phase").
    const expected = new Map<string, number[]>();
    const others = new Map<string, number>();
    for (const op of ops) {
      if (op.kind === 'flush') { await o.audit.flush(); continue; }
      const ws = `ws_${run}_${op.chain}`;
      const rec = { workspaceId: ws, actor: 'admin', action: `${op.kind === 'read' ? 'GET' : 'POST'} /x`, resource: '/x', detail: { status: op.status } };
      const phase = others.get(ws) ?? 0;
      if (op.kind === 'read') {
        o.audit.recordRead(rec);
        const counts = expected.get(ws) ?? [];
        counts[phase] = (counts[phase] ?? 0) + 1;
        expected.set(ws, counts);
      } else {
        o.audit.record(rec);
        others.set(ws, phase + 1);
      }
    }
    await o.audit.flush();
    for (const chain of ['p', 'q']) {
      const ws = `ws_${run}_${chain}`;
      const stored = await rows(o.conn, ws);
      const counted: number[] = [];
      let phase = 0;
      for (const e of stored) {
        if (e.action.startsWith('POST')) { phase++; continue; }
        counted[phase] = (counted[phase] ?? 0) + ((e.detail as { reads?: number }).reads ?? 1);
      }
      assert.deepEqual(counted, expected.get(ws) ?? []);
      assert.equal(phase, others.get(ws) ?? 0);
      assert.equal((await o.audit.verify(ws)).ok, true);
    }
  }), { numRuns: 40 });
  await o.close();
});

test('a failed write rejects its durable entries, keeps them, and stores them on the next attempt', async () => {
  let failures = 1;
  const o = await open(freshDir(), (s) => ({
    heads: () => s.heads(), page: (w, a, l) => s.page(w, a, l), snapshot: (w, f) => s.snapshot(w, f),
    append: async (e: readonly AuditEntry[], h: ReadonlyMap<string, AuditHead>) => {
      if (failures-- > 0) throw new Error('disk full');
      return s.append(e, h);
    },
  }));
  o.audit.record(input('ws', 1));
  await assert.rejects(o.audit.recordDurable(input('ws', 2)), /disk full/);
  o.audit.record(input('ws', 3));
  await o.audit.flush();
  const v = await o.audit.verify('ws');
  assert.deepEqual([v.ok, v.entries], [true, 3]);
  assert.deepEqual((await rows(o.conn, 'ws')).map((e) => (e.detail as { i: number }).i), [1, 2, 3]);
  await o.close();
});

test('property: an untouched chain verifies; any single edit or delete is detected', async () => {
  const o = await open(freshDir());
  let run = 0;
  const detail = fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.oneof(fc.integer(), fc.string({ maxLength: 12 }), fc.boolean(), fc.constant(null)), { maxKeys: 4 });
  const spec = fc.array(fc.record({ actor: fc.constantFrom('admin', 'reader', 'anonymous'), action: fc.string({ minLength: 1, maxLength: 20 }), detail }), { minLength: 1, maxLength: 25 });
  const field = fc.constantFrom('workspace_id', 'seq', 'at', 'actor', 'action', 'resource', 'detail', 'prev_hash', 'hash');
  const tamper = fc.oneof(
    fc.constant({ kind: 'none' as const }),
    fc.record({ kind: fc.constant('edit' as const), at: fc.nat(), field }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  );
  const SET: Record<string, string> = {
    workspace_id: `workspace_id = workspace_id || '-moved'`, seq: 'seq = seq + 1000', at: 'logged_at = logged_at + 1', actor: `actor = actor || 'x'`,
    action: `action = action || 'x'`, resource: `resource = resource || 'x'`, detail: `detail = '{"tampered":true}'::JSON`,
    prev_hash: `prev_hash = repeat('f', 64)`, hash: `hash = repeat('e', 64)`,
  };
  await fc.assert(fc.asyncProperty(spec, tamper, async (entries, t) => {
    const ws = `p${run++}`;
    entries.forEach((e, i) => o.audit.record({ workspaceId: ws, actor: e.actor, action: e.action, resource: `/r/${i}`, detail: e.detail }));
    await o.audit.flush();
    if (t.kind !== 'none') {
      const seq = BigInt((t.at % entries.length) + 1);
      const sql = t.kind === 'edit' ? `UPDATE audit_log SET ${SET[t.field]}` : 'DELETE FROM audit_log';
      await o.conn.run(`${sql} WHERE workspace_id = $1 AND seq = $2`, [ws, seq]);
    }
    const v = await o.audit.verify(ws);
    assert.equal(v.ok, t.kind === 'none', JSON.stringify({ t, problems: v.problems }));
    if (t.kind === 'none') assert.equal(v.entries, entries.length);
  }), { numRuns: 150 });
  await o.close();
});

/** The definition the stored hashes were written with: JSON with every object's keys sorted (as strings). */
function reference(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${reference(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

test('property: canonical JSON is JSON with sorted keys, and an entry\'s hash is the sha256 of its fields\' canonical JSON (so stored chains keep verifying)', () => {
  const text = fc.string({ unit: 'grapheme', maxLength: 12 });
  fc.assert(fc.property(fc.jsonValue(), text, text, fc.nat(), fc.nat(), (detail, actor, resource, seq, at) => {
    const d = detail as AuditEntry['detail'];
    assert.equal(canonicalJson(d), reference(d));
    const e = { workspaceId: 'ws_1', seq, at, actor, action: 'GET /api/x', resource, detail: d, prevHash: GENESIS_HASH };
    assert.equal(entryHash(e), createHash('sha256').update(reference(e)).digest('hex'));
  }), { numRuns: 300 });
});

test('HTTP: profile reads, lookups, mutations and refused tokens are audited, without personal data, and verify', async () => {
  const ADMIN = 'audit-admin-token-0123456789';
  const READER = 'audit-reader-token-0123456789';
  const WS = 'ws_shop';
  const EMAIL = 'jane.doe@example.org';
  const o = await open(freshDir());

  const { identity, memory } = testIdentity();
  await identity.setConfig(WS, DEFAULT_IDENTITY_CONFIG);
  const tx = new ProfileTx(memory);
  const { profileId } = identity.resolver.resolve(event({ type: 'identify', workspaceId: WS, userId: 'u-42', traits: { email: EMAIL } }), Date.UTC(2026, 0, 1), tx, 1n);
  tx.profile(profileId);
  identity.committed([], []);
  tx.apply();
  const catalog = {
    workspace: (id: string) => {
      if (id !== WS) throw new EnsembleError('ENSEMBLE_ERR_WORKSPACE_NOT_FOUND');
      return { id, name: 'Shop', createdAt: 0 };
    },
  } as unknown as Catalog;
  const events = { eventsOfProfiles: async () => ({ events: [], nextCursor: null }) } as unknown as EventStore;

  const app = Fastify();
  useTypeBoxValidation(app);
  registerErrorHandling(app);
  await app.register(async (scope) => {
    requireApiToken(scope, { admin: hashSecret(ADMIN), reader: hashSecret(READER) }, new Set(['/api/openapi.json', '/healthz']));
    registerAuditHook(scope, o.audit, { catalog });
    registerProfileRoutes(scope, { catalog, memory, events, identity, computed: () => ({}) });
    registerAuditRoutes(scope, { audit: o.audit, catalog });
    scope.post('/api/workspaces/:ws/things', async (_req, reply) => reply.code(201).send({ id: 'thing_1' }));
    scope.get('/api/openapi.json', async () => ({}));
    scope.get('/healthz', async () => ({ status: 'ok' }));
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const call = async (method: string, path: string, token: string | null) => {
    const res = await fetch(url + path, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  try {
    assert.equal((await call('GET', `/api/workspaces/${WS}/profiles/${profileId}`, ADMIN)).status, 200);
    const found = await call('GET', `/api/workspaces/${WS}/profiles/lookup?type=email&value=${encodeURIComponent(EMAIL)}`, READER);
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.equal((await call('GET', `/api/workspaces/${WS}/profiles/${profileId}`, null)).status, 401);
    assert.equal((await call('GET', `/api/workspaces/${WS}/profiles/${profileId}`, 'not-a-token')).status, 401);
    assert.equal((await call('GET', '/api/workspaces/ws_nope/profiles/x', ADMIN)).status, 404);
    await call('GET', '/api/openapi.json', null);
    await call('GET', '/healthz', null);

    const created = await call('POST', `/api/workspaces/${WS}/things`, ADMIN);
    assert.equal(created.status, 201);
    const durable = await all(o.conn, `SELECT detail::VARCHAR AS d FROM audit_log WHERE action = 'POST /api/workspaces/:ws/things'`);
    assert.equal(durable.length, 1, 'a 2xx mutation is in the table when the answer arrives');
    assert.equal(JSON.parse(String(durable[0]?.d)).createdId, 'thing_1');
    assert.equal((await call('POST', `/api/workspaces/${WS}/things`, READER)).status, 403);
    assert.equal((await call('POST', `/api/workspaces/${WS}/things`, null)).status, 401);

    const log = await call('GET', `/api/workspaces/${WS}/audit?limit=1000`, READER);
    assert.equal(log.status, 200);
    const byAction = (action: string) => log.body.entries.filter((e: AuditEntry) => e.action === action);
    const [read] = byAction('GET /api/workspaces/:ws/profiles/:profileId');
    assert.deepEqual([read.actor, read.resource, read.detail], ['admin', `/api/workspaces/${WS}/profiles/${profileId}`, { status: 200, params: { ws: WS, profileId }, personalData: true, inClear: true }]);
    const [lookup] = byAction('GET /api/workspaces/:ws/profiles/lookup');
    assert.deepEqual([lookup.actor, lookup.detail], ['reader', { status: 200, params: { ws: WS }, queryKeys: ['type', 'value'], query: { type: 'email' }, personalData: true, inClear: false }]);
    assert.deepEqual(byAction('POST /api/workspaces/:ws/things').map((e: AuditEntry) => [e.actor, (e.detail as { status: number }).status]), [['admin', 201], ['reader', 403]]);
    assert.equal(log.body.nextAfterSeq, null);

    const system = await call('GET', '/api/workspaces/*/audit', ADMIN);
    const refused = system.body.entries.filter((e: AuditEntry) => e.actor === 'anonymous');
    assert.deepEqual(refused.map((e: AuditEntry) => [e.action, e.resource, e.detail]), [
      ['GET /api/workspaces/:ws/profiles/:profileId', '/api/workspaces/:ws/profiles/:profileId', { status: 401, credential: 'none' }],
      ['GET /api/workspaces/:ws/profiles/:profileId', '/api/workspaces/:ws/profiles/:profileId', { status: 401, credential: 'bearer' }],
      ['POST /api/workspaces/:ws/things', '/api/workspaces/:ws/things', { status: 401, credential: 'none' }],
    ]);
    assert.ok(system.body.entries.some((e: AuditEntry) => e.resource === '/api/workspaces/ws_nope/profiles/x'), 'an unknown workspace goes to the system chain');
    const paths = (await all(o.conn, 'SELECT resource FROM audit_log')).map((r) => String(r.resource));
    assert.ok(!paths.some((p) => p.includes('openapi') || p.includes('healthz')), 'neither the OpenAPI document nor health checks are audited');

    const leaked = await all(o.conn, 'SELECT count(*) AS n FROM audit_log WHERE detail::VARCHAR ILIKE $1 OR resource ILIKE $1 OR action ILIKE $1', ['%jane%']);
    assert.equal(Number(leaked[0]?.n), 0, 'the looked-up email is nowhere in the audit log');

    const verify = await call('GET', `/api/workspaces/${WS}/audit/verify`, READER);
    assert.deepEqual([verify.status, verify.body.ok, verify.body.problems], [200, true, []]);
    assert.ok(verify.body.entries >= 5, `${verify.body.entries} entries`);
    assert.equal((await call('GET', '/api/workspaces/*/audit/verify', ADMIN)).body.ok, true);
    assert.equal((await call('GET', '/api/workspaces/ws_nope/audit/verify', ADMIN)).status, 404);

    const again = await call('GET', `/api/workspaces/${WS}/audit?afterSeq=${log.body.entries.at(-1).seq}`, ADMIN);
    assert.deepEqual(again.body.entries.map((e: AuditEntry) => e.action), [
      'GET /api/workspaces/:ws/audit', 'GET /api/workspaces/:ws/audit/verify',
    ], 'reading and verifying the audit log is audited');
  } finally {
    await app.close();
    await o.close();
  }
});

test('HTTP: a mutation whose audit entry cannot be stored is answered 503, and the entry is stored later', async () => {
  let failures = 1;
  const o = await open(freshDir(), (st) => ({
    heads: () => st.heads(), page: (w, a, l) => st.page(w, a, l), snapshot: (w, f) => st.snapshot(w, f),
    append: async (e: readonly AuditEntry[], h: ReadonlyMap<string, AuditHead>) => {
      if (failures-- > 0) throw new Error('disk full');
      return st.append(e, h);
    },
  }));
  const app = Fastify();
  registerErrorHandling(app);
  await app.register(async (scope) => {
    requireApiToken(scope, { admin: hashSecret('t'.repeat(32)), reader: null }, new Set());
    registerAuditHook(scope, o.audit);
    scope.post('/api/workspaces', async (_req, reply) => reply.code(201).send({ id: 'ws_new' }));
  });
  try {
    const res = await app.inject({ method: 'POST', url: '/api/workspaces', headers: { authorization: `Bearer ${'t'.repeat(32)}` } });
    assert.deepEqual([res.statusCode, res.json().error.code], [503, 'ENSEMBLE_ERR_AUDIT_UNAVAILABLE']);
    await o.audit.flush();
    const [entry] = await rows(o.conn, '*');
    assert.deepEqual([entry?.action, entry?.detail], ['POST /api/workspaces', { status: 201, params: {}, createdId: 'ws_new' }]);
    assert.equal((await o.audit.verify('*')).ok, true);
  } finally {
    await app.close();
    await o.close();
  }
});
