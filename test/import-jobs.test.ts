/**
 * File imports as background jobs through the upload API, against a real server and DuckDB:
 * a `;`-separated Latin-1 CSV (quoted fields with `;` and newlines, accents kept), comma and tab
 * delimiters, NDJSON, Parquet written by DuckDB; profiles, events and third-party attributes by
 * hashed email; bad rows reported with line, column and reason while the rest is imported;
 * re-import adds nothing, also after the dedupe window; a restart resumes without loss.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ADMIN_TOKEN, basic, post, removeDir, shiftedClock, startServer, type TestServer } from './helpers/server.js';
import { Database } from '../src/storage/duckdb/database.js';

const clock = shiftedClock();
let s: TestServer;
before(async () => { s = await startServer({}, undefined, clock); });
after(async () => { await s.close(); removeDir(s.dir); });

async function upload(body: Buffer | string, query: Record<string, string>, mapping: unknown): Promise<any> {
  const q = new URLSearchParams({ ...query, mapping: JSON.stringify(mapping) });
  const r = await fetch(`${s.url}/api/workspaces/${s.workspaceId}/sources/${s.sourceId}/imports?${q}`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' }, body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const job = await r.json() as any;
  assert.equal(r.status, 202, JSON.stringify(job));
  return job;
}

async function finished(job: { id: string }): Promise<any> {
  await s.ensemble.imports.jobs.finished(s.workspaceId, job.id);
  await s.settle();
  const r = await s.api('GET', `/api/workspaces/${s.workspaceId}/sources/${s.sourceId}/imports/${job.id}`);
  assert.equal(r.status, 200);
  return r.body;
}

async function eventsOf(userId: string): Promise<any[]> {
  const p = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=user_id&value=${encodeURIComponent(userId)}`);
  if (p.status !== 200) return [];
  const e = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${p.body.id}/events?limit=100`);
  return e.body.events;
}

const ORDERS = {
  kind: 'events', event: 'Order Completed', userId: 'Client', timestamp: 'Date', messageId: 'Commande',
  properties: { orderId: 'Commande', revenue: { field: 'Montant', type: 'number' }, note: 'Remarque', store: 'Magasin' },
};

test('a ;-separated Latin-1 CSV with quoted ; and newlines imports with accents, bad rows reported and the rest kept', async () => {
  const csv = [
    'Client;Commande;Date;Montant;Remarque;Magasin',
    'cli-1;O-1;2026-02-01T10:00:00Z;12,50;"Livré; à l\'accueil";Nîmes',
    'cli-1;O-2;2026-02-02T10:00:00Z;30;"deux\nlignes";Sète',
    'cli-2;O-3;pas une date;10;;Arles',
    ';O-4;2026-02-03T10:00:00Z;5;;Arles',
    'cli-2;O-5;2026-02-04T10:00:00Z;douze;;Arles',
    'cli-2;O-6;2026-02-05T10:00:00Z;7;;Créteil',
  ].join('\r\n');
  const job = await finished(await upload(Buffer.from(csv, 'latin1'), { format: 'csv', encoding: 'latin1' }, ORDERS));
  assert.equal(job.status, 'done');
  assert.equal(job.accepted, 3);
  assert.equal(job.rejected, 3);
  assert.deepEqual(job.errors.map((e: any) => [e.line, e.column]), [[5, 'Date'], [6, 'Client'], [7, 'Montant']]);
  assert.match(job.errors[0].reason, /not a date/);
  const ann = await eventsOf('cli-1');
  const byOrder = new Map(ann.map((e: any) => [e.properties.orderId, e]));
  assert.equal(byOrder.get('O-1').properties.note, 'Livré; à l\'accueil');
  assert.equal(byOrder.get('O-1').properties.store, 'Nîmes');
  assert.equal(byOrder.get('O-1').properties.revenue, 12.5);
  assert.equal(byOrder.get('O-2').properties.note, 'deux\nlignes');
  assert.equal((await eventsOf('cli-2')).length, 1);

  // The same file again, after the dedupe window: nothing new.
  clock.advance(3 * 24 * 3600 * 1000);
  const again = await finished(await upload(Buffer.from(csv, 'latin1'), { format: 'csv', encoding: 'latin1' }, ORDERS));
  assert.equal(again.accepted, 0);
  assert.equal(again.duplicates, 3);
  assert.equal((await eventsOf('cli-1')).length, 2);
});

test('comma and tab delimiters are detected; NDJSON reads JSON pointers', async () => {
  const mapping = { kind: 'events', event: 'Call', userId: 'who', timestamp: 'at', properties: { minutes: { field: 'min', type: 'integer' } } };
  for (const [sep, user] of [[',', 'comma-1'], ['\t', 'tab-1']] as const) {
    const csv = [['who', 'at', 'min'].join(sep), [user, '2026-03-01T09:00:00Z', '4'].join(sep)].join('\n');
    const job = await finished(await upload(csv, { format: 'csv' }, mapping));
    assert.equal(job.accepted, 1, `${JSON.stringify(sep)}: ${JSON.stringify(job)}`);
    assert.equal((await eventsOf(user))[0].properties.minutes, 4);
  }
  const nd = [
    JSON.stringify({ customer: { id: 'nd-1' }, type: 'Ticket Opened', at: '2026-03-02T09:00:00Z', topic: 'billing' }),
    '{not json',
    '',
    JSON.stringify({ customer: { id: 'nd-1' }, type: 'Ticket Closed', at: '2026-03-03T09:00:00Z', topic: 'billing' }),
  ].join('\n');
  const job = await finished(await upload(nd, { format: 'ndjson' }, { kind: 'events', eventField: '/type', userId: '/customer/id', timestamp: '/at', properties: { topic: '/topic' } }));
  assert.equal(job.accepted, 2);
  assert.deepEqual(job.errors.map((e: any) => e.line), [2]);
  assert.deepEqual((await eventsOf('nd-1')).map((e: any) => e.event).sort(), ['Ticket Closed', 'Ticket Opened']);
});

test('Parquet (written by DuckDB) imports profiles; a CRM email links a web profile; third-party attributes land by hashed email', async () => {
  const r = await post(`${s.url}/v1/identify`, { anonymousId: 'web-zoe', traits: { email: 'zoe@example.com' } }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 200);
  await s.settle();
  const file = join(s.dir, 'crm.parquet');
  const db = await Database.open(join(s.dir, 'scratch.duckdb'));
  const conn = await db.connect();
  await conn.run(`COPY (SELECT * FROM (VALUES ('crm-zoe', ' Zoe@Example.com ', 'Zoé', 3), ('crm-max', 'max@example.com', 'Max', 1)) t(id, mail, first, visits)) TO '${file}' (FORMAT parquet)`);
  await db.close();
  const job = await finished(await upload(Buffer.from(await (await import('node:fs/promises')).readFile(file)), { format: 'parquet' },
    { kind: 'profiles', userId: 'id', email: 'mail', traits: { firstName: 'first', visits: { field: 'visits', type: 'integer' } } }));
  assert.equal(job.accepted, 2, JSON.stringify(job));
  await s.settle();
  const web = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=anonymous_id&value=web-zoe`);
  const crm = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=user_id&value=crm-zoe`);
  assert.equal(web.body.id, crm.body.id);
  assert.equal(crm.body.traits.firstName, 'Zoé');

  const sha = (e: string) => createHash('sha256').update(e).digest('hex');
  const tp = [
    'hashed_email,score,segment',
    `${sha('zoe@example.com')},0.9,premium`,
    `${sha('nobody@example.com')},0.1,low`,
    'not-a-hash,0.5,x',
  ].join('\n');
  const tpJob = await finished(await upload(tp, { format: 'csv' }, { kind: 'third_party', party: 'acme', hashedEmail: 'hashed_email', traits: { score: { field: 'score', type: 'number' }, segment: 'segment' } }));
  assert.equal(tpJob.accepted, 1, JSON.stringify(tpJob));
  assert.deepEqual(tpJob.errors.map((e: any) => [e.line, e.column]), [[3, 'hashed_email'], [4, 'hashed_email']]);
  const after = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${crm.body.id}`);
  assert.equal(after.body.traits.acme_score, 0.9);
  assert.equal(after.body.traits.acme_segment, 'premium');
});

test('a bad mapping is refused before anything is stored; an unknown job answers 404', async () => {
  const q = new URLSearchParams({ format: 'csv', mapping: JSON.stringify({ kind: 'events' }) });
  const r = await fetch(`${s.url}/api/workspaces/${s.workspaceId}/sources/${s.sourceId}/imports?${q}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: 'a,b\n1,2' });
  assert.equal(r.status, 400);
  assert.equal(((await r.json()) as any).error.code, 'ENSEMBLE_ERR_IMPORT_INVALID');
  const g = await s.api('GET', `/api/workspaces/${s.workspaceId}/sources/${s.sourceId}/imports/imp_nope`);
  assert.equal(g.status, 404);
  assert.equal(g.body.error.code, 'ENSEMBLE_ERR_IMPORT_JOB_NOT_FOUND');
});

test('the uploaded file is deleted once its job has ended', async () => {
  const { readdirSync } = await import('node:fs');
  const job = await finished(await upload('who,at\nfile-1,2026-01-01T00:00:00Z\n', { format: 'csv' }, { kind: 'events', event: 'Seen', userId: 'who', timestamp: 'at' }));
  assert.equal(job.status, 'done');
  const dir = join(s.dir, 'ensemble-imports');
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(job.id)), []);
});

test('an upload over the size limit is refused with 413 and leaves no file and no job; the next one is imported', async () => {
  const { readdirSync } = await import('node:fs');
  const { withServer } = await import('./helpers/server.js');
  await withServer({ collect: { maxImportBytes: 4096 } }, async (small) => {
    const q = new URLSearchParams({ format: 'csv', mapping: JSON.stringify({ kind: 'events', event: 'Seen', userId: 'who', timestamp: 'at' }) });
    const url = `${small.url}/api/workspaces/${small.workspaceId}/sources/${small.sourceId}/imports?${q}`;
    const big = 'who,at\n' + 'someone-with-a-long-name,2026-01-01T00:00:00Z\n'.repeat(2000);
    const r = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv' }, body: big });
    assert.equal(r.status, 413);
    assert.equal(((await r.json()) as any).error.code, 'ENSEMBLE_ERR_IMPORT_TOO_LARGE');
    assert.deepEqual(readdirSync(join(small.dir, 'ensemble-imports')), [], 'nothing of it is kept');
    const ok = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv' }, body: 'who,at\nsmall-1,2026-01-01T00:00:00Z\n' });
    assert.equal(ok.status, 202);
    const job = await ok.json() as any;
    await small.ensemble.imports.jobs.finished(small.workspaceId, job.id);
    assert.equal((await small.ensemble.imports.store.job(small.workspaceId, job.id))?.progress.accepted, 1);
  });
});
