/**
 * Segments through the API on a real server: filled from history when created, kept exact as
 * events arrive and as windows lapse (real timers, no new event), explained, previewed,
 * overlapped, made from an uploaded list, reconciled with their SQL, and reloaded at restart
 * without announcing again what was already announced.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_TOKEN, basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

const DAY = 24 * 3600 * 1000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const track = (anon: string, event: string, msAgo: number, properties: Record<string, unknown> = {}) => ({ type: 'track', anonymousId: anon, event, properties, timestamp: ago(msAgo) });

async function send(batch: unknown[]): Promise<void> {
  assert.equal((await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.writeKey) })).status, 200);
  await s.settle();
}
const ws = () => `/api/workspaces/${s.workspaceId}`;
const profileId = async (anon: string): Promise<string> => (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon}`)).body.id;
async function changes(id: string): Promise<Array<{ type: string; profileId: string; cause: string }>> {
  await s.ensemble.segments.writer.drain();
  return (await s.api('GET', `${ws()}/segments/${id}/changes`)).body.changes;
}

const abandoners = {
  kind: 'and', of: [
    { kind: 'event', event: 'Product Added', within: '30d' },
    { kind: 'event', event: 'Order Completed', within: '30d', count: { op: 'eq', value: 0 } },
  ],
};

test('a segment is filled from history, follows live events, and explains itself', async () => {
  await send([
    track('sa-1', 'Product Added', 2 * DAY, { price: 30 }),
    track('sa-2', 'Product Added', 3 * DAY), track('sa-2', 'Order Completed', 1 * DAY),
    track('sa-3', 'Product Added', 40 * DAY),
  ]);
  const created = await s.api('POST', `${ws()}/segments`, { name: 'Cart abandoners', description: 'Added, did not buy', definition: abandoners });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.size, 1, 'only sa-1: sa-2 bought, sa-3 added too long ago');
  const id = created.body.id as string;
  const a1 = await profileId('sa-1');
  assert.deepEqual((await s.api('GET', `${ws()}/segments/${id}/members`)).body.members.map((m: any) => m.profileId), [a1]);
  assert.deepEqual((await s.api('GET', `${ws()}/profiles/${a1}/segments`)).body.segments, [{ id, name: 'Cart abandoners' }]);

  // A new visitor adds to cart: in at once. sa-1 buys: out at once.
  await send([track('sa-4', 'Product Added', 0)]);
  const a4 = await profileId('sa-4');
  assert.equal((await s.api('GET', `${ws()}/segments/${id}`)).body.size, 2);
  await send([track('sa-1', 'Order Completed', 0)]);
  const mine = (await s.api('GET', `${ws()}/profiles/${a1}/segments`)).body;
  assert.deepEqual(mine.segments, []);
  assert.deepEqual(mine.history.map((c: any) => [c.type, c.segmentId]), [['Segment Exited', id], ['Segment Entered', id]], 'the membership history, newest first');
  const log = await changes(id);
  assert.deepEqual(log.map((c) => [c.type, c.profileId, c.cause]), [
    ['Segment Entered', a1, 'created'], ['Segment Entered', a4, 'event'], ['Segment Exited', a1, 'event'],
  ]);

  const why = (await s.api('GET', `${ws()}/segments/${id}/explain?profileId=${a1}`)).body;
  assert.equal(why.member, false);
  assert.deepEqual(why.explanation.children.map((c: any) => [c.condition.event, c.actual, c.matched]), [
    ['Product Added', 1, true], ['Order Completed', { atLeast: 1 }, false],
  ], 'counts are kept up to the threshold + 1: enough to decide, and said so');

  const preview = (await s.api('POST', `${ws()}/segments/preview`, { definition: abandoners })).body;
  assert.deepEqual(preview, { count: 1, sample: [a4] });
  const reconciled = (await s.api('POST', `${ws()}/segments/${id}/reconcile`)).body;
  assert.deepEqual([reconciled.sql, reconciled.incremental, reconciled.missing, reconciled.extra], [1, 1, [], []]);
  const sizes = (await s.api('GET', `${ws()}/segments/${id}/sizes`)).body.sizes;
  assert.deepEqual(sizes.map((x: any) => [x.size, x.entered, x.exited]), [[1, 2, 1]]);
});

test('a window lapses on time without any new event', async () => {
  const created = await s.api('POST', `${ws()}/segments`, { name: 'Just browsed', definition: { kind: 'event', event: 'Browsed', within: '3s' } });
  const id = created.body.id as string;
  await send([track('lapse-1', 'Browsed', 0)]);
  const p = await profileId('lapse-1');
  assert.equal(s.ensemble.segments.engine.isMember(s.workspaceId, id, p), true);
  await sleep(3600);
  assert.equal(s.ensemble.segments.engine.isMember(s.workspaceId, id, p), false, 'out 3 s after the event, by a timer');
  assert.deepEqual((await changes(id)).map((c) => [c.type, c.cause]), [['Segment Entered', 'event'], ['Segment Exited', 'time']]);
});

test('segments of segments, overlaps, and cycles refused', async () => {
  const buyers = (await s.api('POST', `${ws()}/segments`, { name: 'Buyers', definition: { kind: 'event', event: 'Order Completed' } })).body;
  const big = (await s.api('POST', `${ws()}/segments`, {
    name: 'Big buyers', definition: { kind: 'and', of: [{ kind: 'segment', id: buyers.id }, { kind: 'event', event: 'Order Completed', filters: [{ property: 'total', op: 'gte', value: 100 }] }] },
  })).body;
  await send([track('sb-1', 'Order Completed', 0, { total: 150 }), track('sb-2', 'Order Completed', 0, { total: 20 })]);
  const [p1, p2] = [await profileId('sb-1'), await profileId('sb-2')];
  assert.equal(s.ensemble.segments.engine.isMember(s.workspaceId, big.id, p1), true);
  assert.equal(s.ensemble.segments.engine.isMember(s.workspaceId, big.id, p2), false);
  const overlap = (await s.api('GET', `${ws()}/segments/overlap?ids=${buyers.id},${big.id}`)).body;
  assert.equal(overlap.pairs[0].both, overlap.sizes[big.id]);
  assert.equal(overlap.all, overlap.sizes[big.id]);

  const cycle = await s.api('PUT', `${ws()}/segments/${buyers.id}`, { name: 'Buyers', definition: { kind: 'segment', id: big.id } });
  assert.equal(cycle.status, 400);
  assert.deepEqual(cycle.body.error.details.map((d: any) => [d.path, d.code]), [['/id', 'segment_cycle']]);
  const inUse = await s.api('DELETE', `${ws()}/segments/${buyers.id}`);
  assert.equal(inUse.status, 409);
  assert.equal(inUse.body.error.code, 'ENSEMBLE_ERR_SEGMENT_IN_USE');
  assert.equal((await s.api('DELETE', `${ws()}/segments/${big.id}`)).status, 204);
  assert.equal((await s.api('GET', `${ws()}/segments/${big.id}`)).status, 404);
  const feed = (await s.api('GET', `${ws()}/segment-changes?limit=1000`)).body.changes.filter((c: any) => c.segmentId === big.id);
  assert.deepEqual(feed.map((c: any) => [c.type, c.profileId, c.cause]), [['Segment Entered', p1, 'event'], ['Segment Exited', p1, 'deleted']],
    'the workspace feed tells consumers that the deleted segment\'s members left it');
});

test('a segment on a computed trait follows its value; the trait cannot be deleted under it', async () => {
  const ct = await s.api('POST', `${ws()}/computed-traits`, { name: 'spend_30d', op: 'sum', event: 'Order Completed', property: 'total', windowDays: 30 });
  assert.equal(ct.status, 201);
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Spenders', definition: { kind: 'computed', name: 'spend_30d', op: 'gte', value: 100 } })).body;
  await send([track('sc-1', 'Order Completed', 0, { total: 60 })]);
  const p = await profileId('sc-1');
  assert.equal(s.ensemble.segments.engine.isMember(s.workspaceId, seg.id, p), false);
  await send([track('sc-1', 'Order Completed', 0, { total: 50 })]);
  assert.equal(s.ensemble.segments.engine.isMember(s.workspaceId, seg.id, p), true, '60 + 50 ≥ 100');
  const del = await s.api('DELETE', `${ws()}/computed-traits/${ct.body.id}`);
  assert.equal(del.status, 409);
  assert.deepEqual(del.body.error.details.usedBy, [{ id: seg.id, name: 'Spenders' }]);
});

test('bad definitions get every problem with its JSON pointer; hostile values are data', async () => {
  const bad = await s.api('POST', `${ws()}/segments`, {
    name: 'Bad', definition: { kind: 'and', of: [
      { kind: 'event', event: 'X', within: '30 days' },
      { kind: 'trait', trait: 'plan', op: 'between', value: [1] },
      { kind: 'segment', id: 'seg_missing' },
      { kind: 'weather' },
    ] },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_SEGMENT_INVALID');
  assert.deepEqual(bad.body.error.details.map((d: any) => d.path), ['/of/0/within', '/of/3/kind']);
  const semantic = await s.api('POST', `${ws()}/segments`, {
    name: 'Bad', definition: { kind: 'or', of: [{ kind: 'trait', trait: 'plan', op: 'between', value: [1] }, { kind: 'segment', id: 'seg_missing' }, { kind: 'trait', trait: 'email', op: 'eq', value: 'a@b.c' }] },
  });
  assert.deepEqual(semantic.body.error.details.map((d: any) => [d.path, d.code]), [
    ['/of/0/value', 'expected_range'], ['/of/1/id', 'unknown_segment'], ['/of/2/op', 'personal_trait'],
  ]);

  const hostile = "'; DROP TABLE events; --";
  await send([track('inj-1', hostile, 0, { [hostile]: hostile })]);
  const seg = await s.api('POST', `${ws()}/segments`, { name: hostile, definition: { kind: 'event', event: hostile, filters: [{ property: 'x', op: 'neq', value: hostile }] } });
  assert.equal(seg.status, 201);
  assert.equal(seg.body.size, 1);
  assert.equal((await s.api('POST', `${ws()}/segments/${seg.body.id}/reconcile`)).body.sql, 1, 'the events table is still there');
});

test('a static list from a CSV of emails: members are the profiles with those emails, now and later', async () => {
  await send([{ type: 'identify', anonymousId: 'list-1', traits: { email: 'Ann@Example.com' } }]);
  const csv = 'email,name\nann@example.com,Ann\n  bob@example.com ,Bob\nnot-an-email,X\n';
  const res = await fetch(`${s.url}${ws()}/segments/lists?name=VIP&type=email`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv' }, body: csv });
  const body = await res.json() as any;
  assert.equal(res.status, 201, JSON.stringify(body));
  assert.deepEqual([body.rows, body.accepted, body.rejected.map((r: any) => r.row)], [3, 2, [3]]);
  assert.equal(body.segment.kind, 'list');
  assert.equal(body.segment.size, 1);
  await send([{ type: 'identify', anonymousId: 'list-2', traits: { email: 'bob@example.com' } }]);
  assert.equal((await s.api('GET', `${ws()}/segments/${body.segment.id}`)).body.size, 2, 'Bob joins when he shows up');
  assert.equal((await s.api('POST', `${ws()}/segments/${body.segment.id}/reconcile`)).body.missing.length, 0);

  // A personal trait can only be tested for presence, and its explanation never shows the value.
  const known = (await s.api('POST', `${ws()}/segments`, { name: 'Known email', definition: { kind: 'trait', trait: 'email', op: 'exists' } })).body;
  const p = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=list-1`)).body.id;
  const why = (await s.api('GET', `${ws()}/segments/${known.id}/explain?profileId=${p}`)).body;
  assert.deepEqual([why.member, why.explanation.actual], [true, true]);
  assert.doesNotMatch(JSON.stringify(why), /example\.com/);
});

test('merges and splits move memberships with the events, and real time still equals batch', async () => {
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Two visits', definition: { kind: 'event', event: 'Visited', count: { op: 'gte', value: 2 } } })).body;
  const email = 'split-seg@example.com';
  await send([track('ms-a', 'Visited', 0), { type: 'identify', anonymousId: 'ms-b', traits: { email } }, track('ms-b', 'Visited', 0)]);
  const [a, b] = [await profileId('ms-a'), await profileId('ms-b')];
  assert.equal((await s.api('GET', `${ws()}/segments/${seg.id}`)).body.size, 0);
  await send([{ type: 'identify', anonymousId: 'ms-a', traits: { email } }]);
  const merged = await profileId('ms-a');
  assert.equal(merged, await profileId('ms-b'));
  assert.deepEqual([...(s.ensemble.segments.engine.members(s.workspaceId, seg.id) ?? [])], [merged], 'one person with two visits');
  const split = await s.api('POST', `${ws()}/profiles/${merged}/split`, { type: 'anonymous_id', value: 'ms-a' });
  assert.equal(split.status, 200, JSON.stringify(split.body));
  assert.equal((await s.api('GET', `${ws()}/segments/${seg.id}`)).body.size, 0, 'apart again: one visit each');
  assert.deepEqual([await profileId('ms-a'), await profileId('ms-b')].sort(), [a, b].sort());
  const check = (await s.api('POST', `${ws()}/segments/${seg.id}/reconcile`)).body;
  assert.deepEqual([check.missing, check.extra], [[], []]);
  const causes = (await changes(seg.id)).map((c) => [c.type, c.cause]);
  assert.deepEqual(causes, [['Segment Entered', 'merge'], ['Segment Exited', 'split']]);
});

test('a restart rebuilds memberships and announces only what changed meanwhile', async () => {
  const id = (await s.api('GET', `${ws()}/segments`)).body.segments.find((x: any) => x.name === 'Cart abandoners').id as string;
  const before = await changes(id);
  const size = (await s.api('GET', `${ws()}/segments/${id}`)).body.size;
  await s.close();
  s = await startServer({}, s.dir);
  assert.equal((await s.api('GET', `${ws()}/segments/${id}`)).body.size, size);
  assert.equal((await changes(id)).length, before.length, 'nothing announced twice');
});
