/**
 * Computed traits through the API on a real server: backfilled from history when created, kept
 * up to date as events arrive, carried over merges, shown on the profile, reloaded at restart;
 * bad definitions get precise errors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

const day = 24 * 3600 * 1000;
const ago = (days: number) => new Date(Date.now() - days * day).toISOString();
const order = (anon: string, revenue: number, category: string, daysAgo: number) => ({ type: 'track', anonymousId: anon, event: 'Order Completed', properties: { revenue, category }, timestamp: ago(daysAgo) });

async function send(batch: unknown[]): Promise<void> {
  assert.equal((await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.writeKey) })).status, 200);
  await s.settle();
}
const profile = async (anon: string) => (await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=anonymous_id&value=${anon}`)).body;

test('backfilled from history, then maintained as events arrive and across merges', async () => {
  await send([order('ct-a', 50, 'shoes', 100), order('ct-a', 30, 'shoes', 10), order('ct-a', 20, 'bags', 5), order('ct-b', 99, 'bags', 2)]);
  const path = `/api/workspaces/${s.workspaceId}/computed-traits`;
  const revenue = await s.api('POST', path, { name: 'revenue_90d', op: 'sum', event: 'Order Completed', property: 'revenue', windowDays: 90 });
  assert.equal(revenue.status, 201, JSON.stringify(revenue.body));
  assert.equal(revenue.body.backfill.events >= 3, true);
  assert.equal((await s.api('POST', path, { name: 'favourite_category', op: 'most_frequent', event: 'Order Completed', property: 'category' })).status, 201);
  assert.equal((await s.api('POST', path, { name: 'big_orders', op: 'count', event: 'Order Completed', filters: [{ property: 'revenue', op: 'gte', value: 30 }] })).status, 201);
  assert.deepEqual((await profile('ct-a')).computed, { revenue_90d: 50, favourite_category: 'shoes', big_orders: 2 }, 'the 100-day-old order is outside the window');

  await send([order('ct-a', 70, 'bags', 0), order('ct-a', 10, 'bags', 0)]);
  assert.deepEqual((await profile('ct-a')).computed, { revenue_90d: 130, favourite_category: 'bags', big_orders: 3 });

  // b logs in as the same user as a: their computed traits add up on the survivor.
  await send([{ type: 'identify', anonymousId: 'ct-a', userId: 'ct-user' }, { type: 'identify', anonymousId: 'ct-b', userId: 'ct-user' }]);
  assert.deepEqual((await profile('ct-b')).computed, { revenue_90d: 229, favourite_category: 'bags', big_orders: 4 });

  const list = (await s.api('GET', path)).body;
  assert.deepEqual(list.computedTraits.map((d: any) => d.name).sort(), ['big_orders', 'favourite_category', 'revenue_90d']);

  // Definitions come back at restart, backfilled again from the stored events.
  await s.close();
  s = await startServer({}, s.dir);
  assert.deepEqual((await profile('ct-b')).computed, { revenue_90d: 229, favourite_category: 'bags', big_orders: 4 });
});

test('bad definitions get every problem with its JSON path; names are unique per workspace', async () => {
  const path = `/api/workspaces/${s.workspaceId}/computed-traits`;
  const bad = await s.api('POST', path, { name: 'Bad Name', op: 'sum', event: 'Order Completed', windowDays: 0 });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_COMPUTED_TRAIT_INVALID');
  const paths = bad.body.error.details.map((d: any) => d.path);
  assert.ok(paths.includes('/name') && paths.includes('/windowDays'), JSON.stringify(bad.body.error.details));
  const noProperty = await s.api('POST', path, { name: 'total', op: 'sum', event: 'Order Completed' });
  assert.deepEqual(noProperty.body.error.details.map((d: any) => [d.path, d.code]), [['/property', 'required_for_op']]);
  assert.equal((await s.api('POST', path, { name: 'n_orders', op: 'count', event: 'Order Completed' })).status, 201);
  assert.equal((await s.api('POST', path, { name: 'n_orders', op: 'count', event: 'Order Completed' })).body.error.code, 'ENSEMBLE_ERR_COMPUTED_TRAIT_EXISTS');
  assert.equal((await s.api('GET', `${path}/ct_nope`)).body.error.code, 'ENSEMBLE_ERR_COMPUTED_TRAIT_NOT_FOUND');
});
