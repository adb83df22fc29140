/**
 * `npm run bench:import [-- --rows 5000000]`: events from a generated CSV into the store, end to
 * end through a real server process (upload → job → collector → log → processor → `events`
 * table), next to a raw DuckDB Appender loading the same rows in the same run. Runs two file
 * sizes (rows/5 and rows) on fresh servers and reports rows/s, the ratio to the baseline and
 * the server's peak RSS (VmHWM) at each size: flat memory means the peak barely moves.
 * Writes bench/results/import-<time>.json and import-latest.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { Database } from '../../src/storage/duckdb/database.js';
import { ImportStore, type ImportJob } from '../../src/storage/duckdb/import-store.js';
import { rowDigest } from '../../src/collect/import/import-jobs.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '5000000' }, port: { type: 'string', default: '18431' } } });
const ROWS = Number(values.rows);
/** Distinct people, the same at both sizes, so the profile store's size does not grow with the file. */
const USERS = 5_000;
const CLI = fileURLToPath(new URL('../../src/main/cli.js', import.meta.url));
const TOKEN = 'bench-import-admin-token-0123456789';
const MAPPING = { kind: 'events', event: 'Order Completed', userId: 'user', timestamp: 'at', messageId: 'order', properties: { orderId: 'order', sku: 'sku', revenue: { field: 'price', type: 'number' }, store: 'store' } };

async function writeCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('order,user,at,sku,price,store\n');
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < rows; i++) {
    const line = `o-${i},u-${i % USERS},${new Date(t0 + i * 1000).toISOString()},sku-${i % 5000},${(i % 9000) / 100 + 1},s-${i % 40}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** The baseline: the same rows, read line by line and appended to a bare DuckDB table. */
async function baseline(file: string, dir: string): Promise<{ rows: number; seconds: number }> {
  const instance = await DuckDBInstance.create(join(dir, 'baseline.duckdb'));
  const conn = await instance.connect();
  await conn.run(`CREATE TABLE events (message_id VARCHAR, user_id VARCHAR, timestamp TIMESTAMP, sku VARCHAR, revenue DOUBLE, store VARCHAR)`);
  const t = process.hrtime.bigint();
  const appender = await conn.createAppender('events');
  let n = 0;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let header = true;
  for await (const line of lines) {
    if (header) { header = false; continue; }
    const [order, user, at, sku, price, store] = line.split(',');
    appender.appendVarchar(order ?? '');
    appender.appendVarchar(user ?? '');
    appender.appendVarchar(at ?? '');
    appender.appendVarchar(sku ?? '');
    appender.appendDouble(Number(price));
    appender.appendVarchar(store ?? '');
    appender.endRow();
    if (++n % 100_000 === 0) appender.flushSync();
  }
  appender.closeSync();
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  conn.closeSync();
  instance.closeSync();
  return { rows: n, seconds };
}

/** The ledger's own cost: the anti-join and the insert of every 2,000-row chunk, on a fresh store. */
async function ledger(rows: number, dir: string): Promise<{ seconds: number; microsPerRow: number }> {
  const db = await Database.open(join(dir, 'ledger.duckdb'));
  const store = await ImportStore.open(db);
  const job: ImportJob = { workspaceId: 'ws', id: 'imp_bench', sourceId: 'src', spec: {}, file: '', status: 'running',
    progress: { rowsDone: 0, accepted: 0, duplicates: 0, rejected: 0 }, errors: [], failure: null, createdAt: 0, updatedAt: 0 };
  await store.saveJob(job);
  const t = process.hrtime.bigint();
  for (let i = 0; i < rows; i += 2000) {
    const digests = Array.from({ length: Math.min(2000, rows - i) }, (_x, k) => rowDigest('src', { messageId: `o-${i + k}` }));
    const fresh = await store.unseen('ws', 'src', digests);
    await store.recordChunk(job, [...fresh]);
  }
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  await db.close();
  return { seconds, microsPerRow: Number(((seconds * 1e6) / rows).toFixed(2)) };
}

async function api(origin: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(origin + path, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** The server's JS heap in use now (prom-client's default metric), to tell the heap from DuckDB's buffer cache in the RSS. */
async function heapUsed(origin: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  return Number(/^ensemble_process_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? 0);
}

function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function ensemble(file: string, dir: string, rows: number): Promise<{ rows: number; seconds: number; jobSeconds: number; peakRssBytes: number; peakHeapBytes: number; accepted: number }> {
  const origin = `http://127.0.0.1:${values.port}`;
  const child: ChildProcess = spawn(process.execPath, [CLI, 'start', '--port', String(values.port), '--data', join(dir, 'ensemble.duckdb')], {
    env: { ...process.env, ENSEMBLE_ADMIN_TOKEN: TOKEN, ENSEMBLE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  try {
    for (let i = 0; ; i++) {
      try { if ((await fetch(`${origin}/healthz`)).ok) break; } catch { /* not up yet */ }
      if (i > 600) throw new Error('server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const ws = await api(origin, 'POST', '/api/workspaces', { name: 'bench' });
    const src = await api(origin, 'POST', `/api/workspaces/${ws.id}/sources`, { name: 'pos', kind: 'server' });
    const q = new URLSearchParams({ format: 'csv', mapping: JSON.stringify(MAPPING) });
    const t = process.hrtime.bigint();
    const res = await fetch(`${origin}/api/workspaces/${ws.id}/sources/${src.id}/imports?${q}`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream', 'content-length': String(statSync(file).size) },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream, duplex: 'half',
    } as RequestInit);
    let job = await res.json() as any;
    if (res.status !== 202) throw new Error(`upload: ${res.status} ${JSON.stringify(job)}`);
    let peakHeap = 0;
    while (job.status === 'queued' || job.status === 'running') {
      await new Promise((r) => setTimeout(r, 250));
      peakHeap = Math.max(peakHeap, await heapUsed(origin));
      job = await api(origin, 'GET', `/api/workspaces/${ws.id}/sources/${src.id}/imports/${job.id}`);
    }
    const jobSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    if (job.status !== 'done' || job.accepted !== rows) throw new Error(`job: ${JSON.stringify(job).slice(0, 500)}`);
    // End to end: until the processor has stored every event.
    for (;;) {
      const h = await (await fetch(`${origin}/healthz`)).json() as { logLag: number };
      peakHeap = Math.max(peakHeap, await heapUsed(origin));
      if (h.logLag === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    const peakRssBytes = peakRss(child.pid ?? 0);
    return { rows, seconds, jobSeconds, peakRssBytes, peakHeapBytes: peakHeap, accepted: job.accepted };
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    process.removeListener('exit', kill);
  }
}

async function main(): Promise<void> {
  const results = [];
  for (const rows of [Math.max(1000, Math.round(ROWS / 5)), ROWS]) {
    const dir = mkdtempSync(join(tmpdir(), 'ensemble-bench-import-'));
    try {
      const file = join(dir, 'events.csv');
      await writeCsv(file, rows);
      const base = await baseline(file, dir);
      const led = await ledger(rows, dir);
      const sut = await ensemble(file, dir, rows);
      const r = {
        rows, fileBytes: statSync(file).size,
        baselineRowsPerSecond: Math.round(base.rows / base.seconds),
        ensembleRowsPerSecond: Math.round(rows / sut.seconds),
        ensembleJobRowsPerSecond: Math.round(rows / sut.jobSeconds),
        ratio: Number((base.seconds / sut.seconds).toFixed(4)),
        peakRssMB: Math.round(sut.peakRssBytes / 1048576),
        peakHeapMB: Math.round(sut.peakHeapBytes / 1048576),
        ledgerMicrosPerRow: led.microsPerRow,
      };
      console.log(JSON.stringify(r));
      results.push(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const out = { bench: 'import', at: new Date().toISOString(), target: 'events from a 5M-row CSV ≥ 200,000 rows/s end to end; memory flat with file size', results };
  const dirOut = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
  mkdirSync(dirOut, { recursive: true });
  const stamp = out.at.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  writeFileSync(join(dirOut, `import-${stamp}.json`), JSON.stringify(out, null, 2));
  writeFileSync(join(dirOut, 'import-latest.json'), JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
