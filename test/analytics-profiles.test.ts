/**
 * The console's profile list and search on a real server: a search finds a profile by e-mail,
 * phone (normalised like a lookup), user id, anonymous id and profile id; identifiers are masked
 * for callers who may not see personal data and clear for the admin; and keyset pagination
 * covers every profile exactly once in id order for any page size (a fast-check property),
 * including after merges and while new profiles arrive between pages.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

const READER = 'reader-token-analytics-0123456789';
let s: TestServer;
const ws = () => `/api/workspaces/${s.workspaceId}`;
const PEOPLE = 37;

async function send(batch: unknown[]): Promise<void> {
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await s.settle();
}

async function asReader(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(s.url + path, { headers: { authorization: `Bearer ${READER}` } });
  return { status: res.status, body: await res.json() };
}

/** Every page from the start with this page size; the ids in the order given. */
async function walk(limit: number, between?: (page: number) => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const r: any = await s.api('GET', `${ws()}/profiles?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.items.length <= limit);
    ids.push(...r.body.items.map((x: any) => x.id));
    cursor = r.body.nextCursor;
    if (cursor === null) return ids;
    await between?.(page);
  }
  throw new Error('pagination did not end');
}

function liveIds(): string[] {
  return [...s.ensemble.memory.profiles.values()].filter((p) => p.workspaceId === s.workspaceId && !p.mergedInto).map((p) => p.id).sort();
}

before(async () => {
  s = await startServer({ readerToken: READER });
  const batch: unknown[] = [];
  for (let i = 0; i < PEOPLE; i++) {
    batch.push({ type: 'page', anonymousId: `anon-list-${i}`, name: 'Home' });
    if (i % 3 === 0) batch.push({ type: 'identify', anonymousId: `anon-list-${i}`, userId: `user-list-${i}`, traits: { email: `person${i}@example.com`, phone: `+3361234${String(i).padStart(4, '0')}`, plan: 'pro' } });
  }
  await send(batch);
  // Two visitors merged by one login: one profile remains of the two.
  await send([{ type: 'page', anonymousId: 'anon-merge-a', name: 'Home' }, { type: 'page', anonymousId: 'anon-merge-b', name: 'Home' }]);
  await send([{ type: 'identify', anonymousId: 'anon-merge-a', userId: 'user-merge' }, { type: 'identify', anonymousId: 'anon-merge-b', userId: 'user-merge' }]);
});
after(async () => { await s.close(); removeDir(s.dir); });

test('search by e-mail, phone, user id, anonymous id and profile id finds the same profile', async () => {
  const lookup = await s.api('GET', `${ws()}/profiles/lookup?type=user_id&value=user-list-3`);
  assert.equal(lookup.status, 200);
  const id = lookup.body.id;
  for (const search of ['person3@example.com', ' Person3@Example.COM ', '+33612340003', 'user-list-3', 'anon-list-3', id]) {
    const r = await s.api('GET', `${ws()}/profiles?search=${encodeURIComponent(search)}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.items.map((x: any) => x.id), [id], search);
    assert.equal(r.body.nextCursor, null);
  }
  const item = (await s.api('GET', `${ws()}/profiles?search=user-list-3`)).body.items[0];
  const email = item.identifiers.find((x: any) => x.type === 'email');
  assert.equal(email.value, 'person3@example.com', 'the admin sees identifiers in clear');
  assert.equal(item.traitsPreview.email, 'person3@example.com');
  assert.equal(item.traitsPreview.plan, 'pro');
  assert.ok(!Number.isNaN(Date.parse(item.createdAt)) && !Number.isNaN(Date.parse(item.updatedAt)));
  assert.deepEqual((await s.api('GET', `${ws()}/profiles?search=nobody@example.com`)).body.items, []);
  const merged = (await s.api('GET', `${ws()}/profiles?search=anon-merge-b`)).body.items;
  assert.equal(merged.length, 1);
  assert.deepEqual(merged[0].id, (await s.api('GET', `${ws()}/profiles?search=anon-merge-a`)).body.items[0].id);
});

test('personal identifiers and traits are masked for a caller who may not see personal data', async () => {
  const r = await asReader(`${ws()}/profiles?search=user-list-6`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const item = r.body.items[0];
  const text = JSON.stringify(item);
  assert.ok(!text.includes('person6@example.com') && !text.includes('+33612340006') && !text.includes('person6'), text);
  assert.equal(item.identifiers.find((x: any) => x.type === 'email').value, '•••@•••.com');
  assert.equal(item.identifiers.find((x: any) => x.type === 'user_id').value, 'user-list-6', 'a non-personal identifier stays readable');
  assert.equal(item.traitsPreview.plan, 'pro');
  const page = await asReader(`${ws()}/profiles?limit=500`);
  assert.ok(!JSON.stringify(page.body).includes('@example.com'), 'the list masks too');
  assert.ok(!s.logs.join('').includes('person6@example.com'), 'no identifier reaches the logs');
});

test('pagination: for any page size, the pages cover every live profile exactly once, in id order', async () => {
  const expected = liveIds();
  assert.equal(expected.length, PEOPLE + 1, 'the merged pair is one profile');
  await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 60 }), async (limit) => {
    assert.deepEqual(await walk(limit), expected);
  }), { numRuns: 25 });
});

test('pagination: profiles created between pages do not make the walk repeat or skip the others', async () => {
  const before = liveIds();
  let n = 0;
  const seen = await walk(7, async (page) => {
    if (page > 2) return;
    await send([{ type: 'page', anonymousId: `anon-late-${page}-${n++}`, name: 'Home' }]);
  });
  assert.equal(new Set(seen).size, seen.length, 'no profile twice');
  for (const id of before) assert.ok(seen.includes(id), `${id} was not skipped`);
  assert.deepEqual(seen, [...seen].sort(), 'in id order');
});

test('a cursor that this API did not produce is refused with its code', async () => {
  for (const cursor of ['%%%', Buffer.from("x' OR 1=1 --").toString('base64url')]) {
    const r = await s.api('GET', `${ws()}/profiles?cursor=${encodeURIComponent(cursor)}`);
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'ENSEMBLE_ERR_CURSOR_INVALID');
  }
  assert.equal((await s.api('GET', `${ws()}/profiles?limit=501`)).body.error.code, 'ENSEMBLE_ERR_VALIDATION');
});
