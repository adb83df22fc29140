/**
 * CRM onboarding by file: rows link to existing web profiles through normalised, hashed
 * identifiers; the report gives the match rate; a bad mapping stores nothing; re-importing the
 * same file stores nothing twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

async function importCsv(csv: string, mapping: unknown): Promise<{ status: number; body: any }> {
  const url = `${s.url}/api/workspaces/${s.workspaceId}/sources/${s.sourceId}/imports/crm?mapping=${encodeURIComponent(JSON.stringify(mapping))}`;
  const r = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv' }, body: csv });
  return { status: r.status, body: await r.json() };
}

const lookup = async (type: string, value: string) => (await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=${type}&value=${encodeURIComponent(value)}`)).body;

const MAPPING = { identifiers: { crm_id: 'Customer no', email: 'E-mail', phone: 'Mobile' }, traits: { firstName: 'First name', tier: 'Tier' }, updatedAt: 'Updated' };
const CSV = [
  'Customer no,E-mail,Mobile,First name,Tier,Updated',
  'C-001, Ann.Web@Example.com ,,Ann,gold,2026-02-01',
  'C-002,,06 98 76 54 32,Bob,silver,2026-02-01',
  'C-003,carol@offline.example,,Carol,bronze,2026-02-01',
  ',test@test.com,,Nobody,,2026-02-01',
].join('\n');

test('a CRM file links to web profiles by email and phone, and reports the match rate', async () => {
  const r1 = await post(`${s.url}/v1/batch`, { batch: [
    { type: 'identify', anonymousId: 'web-ann', traits: { email: 'ann.web@example.com' } },
    { type: 'identify', anonymousId: 'web-bob', traits: { phone: '+33 6 98 76 54 32' } },
  ] }, { authorization: basic(s.writeKey) });
  assert.equal(r1.status, 200);
  await s.settle();
  const ann = await lookup('anonymous_id', 'web-ann');
  const bob = await lookup('anonymous_id', 'web-bob');

  const report = await importCsv(CSV, MAPPING);
  assert.equal(report.status, 200, JSON.stringify(report.body));
  assert.equal(report.body.rows, 4);
  assert.equal(report.body.accepted, 3);
  assert.deepEqual(report.body.rejected.map((r: any) => [r.row, r.code]), [[4, 'ENSEMBLE_ERR_EVENT_NO_IDENTITY']], 'a blocked test address alone identifies no one');
  assert.equal(report.body.matched, 2);
  assert.equal(report.body.matchRate, 2 / 3);
  assert.deepEqual(report.body.matchedBy, { email: 1, phone: 1 });

  await s.settle();
  const annNow = await lookup('crm_id', 'C-001');
  assert.equal(annNow.id, ann.id, 'the CRM record joined the web profile');
  assert.equal(annNow.traits.firstName, 'Ann');
  assert.equal(annNow.traits.tier, 'gold');
  assert.equal((await lookup('crm_id', 'C-002')).id, bob.id);
  assert.equal((await lookup('email', 'carol@offline.example')).traits.firstName, 'Carol', 'an unmatched row makes a new profile');

  const again = await importCsv(CSV, MAPPING);
  assert.equal(again.body.accepted, 0);
  assert.equal(again.body.duplicates, 3, 'the same rows are not stored twice');
});

test('a bad mapping or file is refused before anything is stored', async () => {
  const before = (await lookup('crm_id', 'C-001')).eventCount;
  const unknownColumn = await importCsv(CSV.replace('C-001', 'C-101'), { identifiers: { crm_id: 'Customer number' } });
  assert.equal(unknownColumn.status, 400);
  assert.equal(unknownColumn.body.error.code, 'ENSEMBLE_ERR_IMPORT_INVALID');
  assert.deepEqual(unknownColumn.body.error.details.map((d: any) => d.path), ['/mapping/crm_id']);
  const unknownType = await importCsv(CSV, { identifiers: { shoe_size: 'Customer no' } });
  assert.equal(unknownType.body.error.details[0].path, '/mapping/identifiers/shoe_size');
  const notJson = await fetch(`${s.url}/api/workspaces/${s.workspaceId}/sources/${s.sourceId}/imports/crm?mapping=%7B`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv' }, body: CSV });
  assert.equal(((await notJson.json()) as any).error.code, 'ENSEMBLE_ERR_IMPORT_INVALID');
  const badCsv = await importCsv('a,b\n"unterminated,1\n', { identifiers: { crm_id: 'a' } });
  assert.equal(badCsv.body.error.code, 'ENSEMBLE_ERR_IMPORT_INVALID');
  await s.settle();
  assert.equal(await lookup('crm_id', 'C-101').then((b) => b.error?.code), 'ENSEMBLE_ERR_PROFILE_NOT_FOUND');
  assert.equal((await lookup('crm_id', 'C-001')).eventCount, before);
});

test('card numbers in a CRM file are masked before anything is stored, as at collection', async () => {
  const csv = ['Customer no,First name,Notes', 'C-900,Dan,paid by card 4111 1111 1111 1111 last year'].join('\n');
  const r = await importCsv(csv, { identifiers: { crm_id: 'Customer no' }, traits: { firstName: 'First name', notes: 'Notes' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await s.settle();
  const dan = await lookup('crm_id', 'C-900');
  assert.equal(dan.traits.notes, 'paid by card [masked:card] last year');
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  assert.match(metrics, /ensemble_masked_values_total\{pattern="card"\} [1-9]/);
});
