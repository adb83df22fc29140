/**
 * Import jobs across a restart and from the command line: a server stopped while a job runs
 * resumes it at the next start, and every row ends up in the events table exactly once; the
 * `ensemble import` command uploads a file to a running server and prints the job's report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, removeDir, startServer, tempDir } from './helpers/server.js';
import { CLI } from './helpers/process.js';
import { Database, all } from '../src/storage/duckdb/database.js';

const MAPPING = { kind: 'events', event: 'Purchase', userId: 'user', timestamp: 'at', properties: { sku: 'sku', price: { field: 'price', type: 'number' } } };

function ordersCsv(rows: number): string {
  const lines = ['user,at,sku,price'];
  for (let i = 0; i < rows; i++) lines.push(`r-${i % 500},2026-05-01T00:00:${String(i % 60).padStart(2, '0')}Z,sku-${i},${(i % 90) + 1}`);
  return lines.join('\n');
}

test('a restart in the middle of a job loses nothing and duplicates nothing', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const ROWS = 20_000;
  try {
    let s = await startServer({}, dir);
    const q = new URLSearchParams({ format: 'csv', mapping: JSON.stringify(MAPPING) });
    const r = await fetch(`${s.url}/api/workspaces/${s.workspaceId}/sources/${s.sourceId}/imports?${q}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: ordersCsv(ROWS) });
    assert.equal(r.status, 202);
    const job = (await r.json()) as any;
    await s.close();
    s = await startServer({}, dir);
    await s.ensemble.imports.jobs.finished(s.workspaceId, job.id);
    await s.settle();
    const status = (await s.api('GET', `/api/workspaces/${s.workspaceId}/sources/${s.sourceId}/imports/${job.id}`)).body;
    assert.equal(status.status, 'done', JSON.stringify(status));
    assert.equal(status.rowsDone, ROWS);
    await s.close();
    const db = await Database.open(join(dir, 'ensemble.duckdb'));
    const rows = await all(await db.connect(), `SELECT count(*) AS n, count(DISTINCT properties->>'sku') AS skus FROM events WHERE event = 'Purchase'`);
    await db.close();
    assert.deepEqual([Number(rows[0]?.n), Number(rows[0]?.skus)], [ROWS, ROWS]);
  } finally {
    removeDir(dir);
  }
});

test('ensemble import uploads to the running server and prints the report', { timeout: 60_000 }, async () => {
  const s = await startServer();
  try {
    const file = join(s.dir, 'orders.csv');
    const mappingFile = join(s.dir, 'orders.mapping.json');
    writeFileSync(file, `${ordersCsv(10)}\nr-1,not a date,sku-x,3`);
    writeFileSync(mappingFile, JSON.stringify(MAPPING));
    const run = promisify(execFile);
    const out = await run(process.execPath, [CLI, 'import', file, '--workspace', s.workspaceId, '--source', s.sourceId, '--mapping', mappingFile, '--url', s.url],
      { env: { ...process.env, ENSEMBLE_ADMIN_TOKEN: ADMIN_TOKEN } }).catch((e: { code: number; stdout: string }) => e);
    assert.equal((out as { code?: number }).code, 1, 'a rejected row makes the exit code 1');
    const report = JSON.parse(out.stdout);
    assert.equal(report.status, 'done');
    assert.equal(report.accepted, 10);
    assert.deepEqual(report.errors.map((e: any) => [e.line, e.column]), [[12, 'at']]);
  } finally {
    await s.close();
    removeDir(s.dir);
  }
});
