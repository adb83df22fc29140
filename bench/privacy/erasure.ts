/**
 * Erasure benchmark (`npm run bench:erasure -- [flags]`; see bench/README.md). Target (issue 5):
 * a profile with 10,000 events erased end to end in ≤ 5 s.
 *
 * Opens a real Ensemble on a DuckDB file and event log in a temporary directory, loads other
 * people (background) and one person with `--events` events over two merged devices, with a
 * few segments, then times `POST /privacy/requests {type: erasure}` over HTTP until its answer
 * (the processor caught up and held, log files rewritten, memory and segments updated, every
 * table cleaned in one transaction, keys destroyed, checkpoint). The compaction the next start
 * does is timed too. Baseline, same run: a bare DuckDB file with the same number of event rows,
 * `DELETE` of the person's rows + `CHECKPOINT` — the least an erasure can cost in this store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openEnsemble } from '../../src/main/app.js';
import { parseConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { compactStore } from '../../src/storage/duckdb/compact.js';
import { DuckDBInstance } from '@duckdb/node-api';
import { intFlag } from '../profiles/args.js';
import { fmt, gitState, table, writeResults } from '../profiles/output.js';

const TARGET_MS = 5000;
const TOKEN = 'bench-admin-token-0123456789';

const { values } = parseArgs({
  options: {
    events: { type: 'string' }, people: { type: 'string' }, 'events-per-person': { type: 'string' }, out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`Usage: npm run bench:erasure -- [--events 10000] [--people 5000] [--events-per-person 10] [--out dir]\n`);
  process.exit(0);
}
const EVENTS = intFlag('events', values.events, 10_000, 1);
const PEOPLE = intFlag('people', values.people, 5_000, 0);
const PER_PERSON = intFlag('events-per-person', values['events-per-person'], 10, 1);

const startedAt = new Date();
const git = gitState();
const dir = await mkdtemp(join(tmpdir(), 'ensemble-bench-erasure-'));
try {
  const dataPath = join(dir, 'ensemble.duckdb');
  const config = parseConfig({ port: 0, dataPath, adminToken: TOKEN, logLevel: 'warn', masterKey: randomBytes(32).toString('base64') });
  let ensemble = await openEnsemble(config, { logger: createLogger('warn') });
  const url = await ensemble.listen();
  const ws = await ensemble.catalog.createWorkspace('bench');
  const source = await ensemble.catalog.createSource(ws.id, { name: 'web', kind: 'website' });
  const ref = { id: source.id, workspaceId: ws.id };
  const now = Date.now();
  const at = (i: number) => new Date(now - (i % 80) * 86_400_000 - i).toISOString();

  const loadStart = performance.now();
  for (let p = 0; p < PEOPLE; p += 200) {
    const events: unknown[] = [];
    for (let q = p; q < Math.min(PEOPLE, p + 200); q++) {
      events.push({ type: 'identify', userId: `u-${q}`, anonymousId: `a-${q}`, traits: { email: `p${q}@example.com`, plan: q % 3 ? 'free' : 'pro' }, timestamp: at(q) });
      for (let e = 1; e < PER_PERSON; e++) events.push({ type: 'track', userId: `u-${q}`, event: e % 4 ? 'Product Viewed' : 'Order Completed', properties: { price: e }, timestamp: at(q + e) });
    }
    await ensemble.collector.ingest({ source: ref, events });
  }
  const target = { email: 'erase.me@example.com', userId: 'u-target', anons: ['a-target-1', 'a-target-2'] };
  await ensemble.collector.ingest({ source: ref, events: [
    { type: 'identify', anonymousId: target.anons[0], userId: target.userId, traits: { email: target.email }, context: { consent: { categoryPreferences: { advertising: true } } } },
    { type: 'identify', anonymousId: target.anons[1], userId: target.userId },
  ] });
  for (let i = 2; i < EVENTS; i += 500) {
    const events: unknown[] = [];
    for (let e = i; e < Math.min(EVENTS, i + 500); e++) events.push({ type: 'track', userId: target.userId, event: e % 5 ? 'Product Viewed' : 'Order Completed', properties: { price: e % 100, sku: `sku-${e % 300}` }, timestamp: at(e) });
    await ensemble.collector.ingest({ source: ref, events });
  }
  await ensemble.processor.idle();
  const api = (method: string, path: string, body?: unknown) => fetch(url + path, {
    method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
  });
  for (const [name, definition] of [
    ['viewers', { kind: 'event', event: 'Product Viewed', within: '30d' }],
    ['buyers', { kind: 'event', event: 'Order Completed', within: '90d' }],
    ['pro', { kind: 'trait', trait: 'plan', op: 'eq', value: 'pro' }],
  ] as const) {
    const r = await api('POST', `/api/workspaces/${ws.id}/segments`, { name, definition });
    if (r.status !== 201) throw new Error(`segment ${name}: ${r.status} ${await r.text()}`);
  }
  await ensemble.segments.feed.idle();
  const loadMs = performance.now() - loadStart;
  const totalEvents = PEOPLE * PER_PERSON + EVENTS;

  const t0 = performance.now();
  const res = await api('POST', `/api/workspaces/${ws.id}/privacy/requests`, { type: 'erasure', identifier: { type: 'email', value: target.email } });
  const erasureMs = performance.now() - t0;
  const receipt = await res.json() as { status: string; result: { deleted: Record<string, number> } };
  if (res.status !== 201 || receipt.status !== 'completed') throw new Error(`erasure failed: ${res.status} ${JSON.stringify(receipt)}`);
  await ensemble.close();
  const c0 = performance.now();
  const compacted = await compactStore(dataPath);
  const compactMs = performance.now() - c0;
  ensemble = await openEnsemble(config, { logger: createLogger('warn') });
  await ensemble.close();

  // Baseline: the same number of event rows in a bare DuckDB file, the person's deleted.
  const base = await DuckDBInstance.create(join(dir, 'baseline.duckdb'));
  const conn = await base.connect();
  await conn.run(`CREATE TABLE events (workspace_id VARCHAR, seq BIGINT, profile_id VARCHAR, properties JSON, context JSON)`);
  await conn.run(`INSERT INTO events SELECT 'ws', i, CASE WHEN i < ${EVENTS} THEN 'target' ELSE 'p' || (i % ${Math.max(PEOPLE, 1)}) END,
    json_object('price', i % 100, 'sku', 'sku-' || (i % 300)), json_object('ip', '203.0.113.0', 'userAgent', 'Mozilla/5.0') FROM range(${totalEvents}) r(i)`);
  await conn.run('CHECKPOINT');
  const b0 = performance.now();
  await conn.run(`DELETE FROM events WHERE workspace_id = 'ws' AND profile_id = 'target'`);
  await conn.run('CHECKPOINT');
  const baselineMs = performance.now() - b0;
  conn.closeSync();
  base.closeSync();

  const ratio = erasureMs / baselineMs;
  process.stdout.write(`\nErasure of one person with ${fmt.int(EVENTS)} events, among ${fmt.int(totalEvents)} events (${fmt.int(PEOPLE)} other people); load ${fmt.int(loadMs)} ms\n\n`);
  process.stdout.write(`${table(['measure', 'ms', 'note'], [
    ['erasure, end to end (HTTP)', fmt.int(erasureMs), `target ≤ ${TARGET_MS}: ${erasureMs <= TARGET_MS ? 'PASS' : 'FAIL'}`],
    ['baseline: DELETE + CHECKPOINT, bare DuckDB', fmt.int(baselineMs), `erasure / baseline = ${ratio.toFixed(1)}`],
    ['compaction at the next start', fmt.int(compactMs), `${fmt.int(compacted.bytesBefore)} → ${fmt.int(compacted.bytesAfter)} bytes`],
  ], new Set([1]))}\n`);
  process.stdout.write(`deleted: ${JSON.stringify(receipt.result.deleted)}\n`);
  const file = writeResults('erasure', startedAt, git, {
    options: { events: EVENTS, people: PEOPLE, eventsPerPerson: PER_PERSON }, totalEvents, loadMs, erasureMs, baselineMs, ratio, compactMs,
    compacted, deleted: receipt.result.deleted, target: { erasureMs: TARGET_MS, met: erasureMs <= TARGET_MS },
  }, values.out ?? null);
  process.stdout.write(`Wrote ${file}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
