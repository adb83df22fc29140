/**
 * Geolocation end to end, on a real server and DuckDB file: geofences from the admin API;
 * located app events produce Geofence Entered / Exited exactly once (late locations move no one,
 * a restart re-derives nothing twice and catches up what a crash lost); the `geo` segment
 * condition (near a point, country) through the API, validated; and the "back to store" scenario:
 * a lapsed store customer walking past the shop gets a welcome-back message through a trigger.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { removeDir, startServer, tempDir, type TestServer } from './helpers/server.js';
import { startPlatform, type PlatformServer } from './helpers/platform-server.js';
import { sendEvents, settleAll, until } from './helpers/activation.js';

const dir = tempDir();
let s: TestServer;
let hook: PlatformServer;
before(async () => {
  s = await startServer({}, dir);
  hook = await startPlatform();
});
after(async () => {
  await s.close();
  await hook.close();
  removeDir(dir);
});

const ws = () => `/api/workspaces/${s.workspaceId}`;
const uid = () => randomUUID().slice(0, 8);
// The Louvre store; 0.0009° of latitude ≈ 100 m.
const STORE = { latitude: 48.8606, longitude: 2.3376 };
const located = (anonymousId: string, dLat: number, timestamp?: string, messageId?: string) => ({
  type: 'track', event: 'Location Updated', anonymousId, ...(messageId ? { messageId } : {}), ...(timestamp ? { timestamp } : {}),
  context: { location: { latitude: STORE.latitude + dLat, longitude: STORE.longitude } },
});

async function eventsOf(anonymousId: string): Promise<Array<{ event: string; properties: Record<string, unknown> }>> {
  const p = await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anonymousId}`);
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const r = await s.api('GET', `${ws()}/profiles/${p.body.id}/events?limit=100`);
  return (r.body.events as any[]).filter((e) => String(e.event).startsWith('Geofence')).sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.event.localeCompare(b.event));
}

let fenceId = '';
test('geofences are validated and stored; their crossings become events, once each', async () => {
  const bad = await s.api('POST', `${ws()}/geofences`, { name: 'x', latitude: 91, longitude: 0, radiusMeters: 5 });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_VALIDATION');
  const created = await s.api('POST', `${ws()}/geofences`, { name: 'Louvre store', ...STORE, radiusMeters: 150, properties: { storeId: 'FR-75-001' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  fenceId = created.body.id;
  assert.equal((await s.api('GET', `${ws()}/geofences`)).body.length, 1);
  assert.equal((await s.api('GET', `${ws()}/geofences/geo_nope`)).body.error.code, 'ENSEMBLE_ERR_GEOFENCE_NOT_FOUND');

  const anon = `walker-${uid()}`;
  const t = (min: number) => new Date(Date.now() - 60 * 60_000 + min * 60_000).toISOString();
  await sendEvents(s, [located(anon, 0.01, t(0))]);          // 1.1 km away: outside
  await sendEvents(s, [located(anon, 0.0009, t(1))]);        // 100 m: inside
  await sendEvents(s, [located(anon, 0.0005, t(2))]);        // still inside: nothing new
  await sendEvents(s, [located(anon, 0.0009, t(1.5), `late-${anon}`)]); // a late, older point: moves no one
  await sendEvents(s, [located(anon, 0.02, t(3))]);          // away again
  const evs = await eventsOf(anon);
  assert.deepEqual(evs.map((e) => e.event), ['Geofence Entered', 'Geofence Exited']);
  assert.equal(evs[0]?.properties.storeId, 'FR-75-001');
  assert.equal(evs[0]?.properties.geofenceId, fenceId);
  assert.equal(evs[0]?.properties.geofenceName, 'Louvre store');

  // The same location event sent again (an SDK retry) is a duplicate, and derives nothing more.
  const retry = located(anon, 0.0009, t(4), `retry-${anon}`);
  await sendEvents(s, [retry]);
  await sendEvents(s, [retry]);
  assert.deepEqual((await eventsOf(anon)).map((e) => e.event), ['Geofence Entered', 'Geofence Exited', 'Geofence Entered']);
});

test('the geo segment condition: validated, near a point and by country, members follow the latest location', async () => {
  const both = await s.api('POST', `${ws()}/segments`, { name: 'x', definition: { kind: 'geo', near: { ...STORE, radiusKm: 1 }, country: ['FR'] } });
  assert.equal(both.status, 400);
  assert.equal(both.body.error.details.problems?.[0]?.code ?? both.body.error.details[0]?.code, 'one_place', JSON.stringify(both.body));
  const badCountry = await s.api('POST', `${ws()}/segments`, { name: 'x', definition: { kind: 'geo', country: ['france'] } });
  assert.equal(badCountry.status, 400);

  const anon = `near-${uid()}`;
  await sendEvents(s, [located(anon, 0.004)]); // ~450 m
  const near = await s.api('POST', `${ws()}/segments`, { name: 'Within 1 km of the store', definition: { kind: 'geo', near: { ...STORE, radiusKm: 1 } } });
  assert.equal(near.status, 201, JSON.stringify(near.body));
  const pid = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon}`)).body.id;
  const isMember = async () => (await s.api('GET', `${ws()}/profiles/${pid}/segments`)).body.segments.some((x: any) => x.id === near.body.id);
  assert.equal(await isMember(), true, 'filled from history');
  await sendEvents(s, [located(anon, 0.05)]); // 5.5 km
  assert.equal(await isMember(), false, 'left with the next location');
  await sendEvents(s, [located(anon, 0.001)]);
  assert.equal(await isMember(), true, 'back');
  const explain = await s.api('GET', `${ws()}/segments/${near.body.id}/explain?profileId=${pid}`);
  assert.equal(explain.status, 200);
  // The person is at 48.8616 (the store is at 48.8606): their position is never shown.
  assert.doesNotMatch(JSON.stringify(explain.body), /48\.861[56]/, 'the explanation never shows where the person was');
  assert.equal(explain.body.explanation.matched, true);
  const reconcile = await s.api('POST', `${ws()}/segments/${near.body.id}/reconcile`);
  assert.equal(reconcile.status, 200, JSON.stringify(reconcile.body));
  assert.deepEqual([reconcile.body.missing, reconcile.body.extra], [[], []], JSON.stringify(reconcile.body));
  assert.equal(reconcile.body.sql, reconcile.body.incremental);
  assert.ok(reconcile.body.sql >= 1);
});

test('back to store: a lapsed store customer walking past the shop gets a welcome-back message', async () => {
  const path = `/welcome-${uid()}`;
  const d = await s.api('POST', `${ws()}/destinations`, { type: 'webhook', name: 'Store app push', purpose: 'necessary', config: { url: `${hook.url}${path}`, secret: 'whsec-geo-test-0123456789' } });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  const lapsed = await s.api('POST', `${ws()}/segments`, { name: 'Lapsed store customers', purposes: ['necessary'], definition: { kind: 'and', of: [
    { kind: 'event', event: 'Order Completed', filters: [{ property: 'channel', op: 'eq', value: 'store' }] },
    { kind: 'event', event: 'Order Completed', within: '60d', count: { op: 'eq', value: 0 } },
  ] } });
  assert.equal(lapsed.status, 201, JSON.stringify(lapsed.body));
  const trg = await s.api('POST', `${ws()}/triggers`, {
    name: 'Welcome back', when: { kind: 'event', event: 'Geofence Entered', filters: [{ property: 'storeId', op: 'eq', value: 'FR-75-001' }] },
    then: { action: 'forward', destinationId: d.body.id },
  });
  assert.equal(trg.status, 201, JSON.stringify(trg.body));

  const regular = `regular-${uid()}`;
  const old = new Date(Date.now() - 90 * 86_400_000).toISOString();
  await sendEvents(s, [{ type: 'track', event: 'Order Completed', anonymousId: regular, timestamp: old, properties: { channel: 'store', revenue: 80 } }]);
  const pid = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${regular}`)).body.id;
  const members = async () => (await s.api('GET', `${ws()}/segments/${lapsed.body.id}/members`)).body.members?.map((m: any) => m.profileId ?? m.id ?? m) ?? [];
  assert.ok((await members()).includes(pid), JSON.stringify(await members()));

  await sendEvents(s, [located(regular, 0.02)]);   // across town: nothing
  await settleAll(s);
  const forwarded = () => hook.requests.filter((r) => r.url === path && r.method === 'POST').map((r) => r.body).join('\n');
  assert.doesNotMatch(forwarded(), /Geofence Entered/);
  await sendEvents(s, [located(regular, 0.0003)]); // 30 m from the door
  await until(s, () => /Geofence Entered/.test(forwarded()), 'the welcome-back message');
  assert.match(forwarded(), /FR-75-001/);
  assert.doesNotMatch(forwarded(), /48\.86/, 'the message carries the store, not the coordinates');
  await s.api('DELETE', `${ws()}/triggers/${trg.body.id}`);
});

test('a restart derives nothing twice, and catches up a crossing whose derived event was lost', async () => {
  const steady = `steady-${uid()}`;
  await sendEvents(s, [located(steady, 0.0002)]);
  assert.deepEqual((await eventsOf(steady)).map((e) => e.event), ['Geofence Entered']);
  // As if the process died between a batch and its derived event: the event never reaches the log.
  const tracker = s.ensemble.geo.tracker as unknown as { deps: { send: () => Promise<void> } };
  tracker.deps.send = async () => { throw new Error('lost'); };
  const unlucky = `unlucky-${uid()}`;
  await sendEvents(s, [located(unlucky, 0.0002)]);
  assert.deepEqual(await eventsOf(unlucky), []);
  await s.close();
  s = await startServer({}, dir);
  await s.settle();
  assert.deepEqual((await eventsOf(unlucky)).map((e) => e.event), ['Geofence Entered'], 'caught up at start');
  assert.deepEqual((await eventsOf(steady)).map((e) => e.event), ['Geofence Entered'], 'nothing derived twice');
  assert.equal((await s.api('GET', `${ws()}/geofences`)).body.length, 1, 'geofences survive the restart');
});

test('an erased person leaves no trace in the geofence tracker: their presence is forgotten with the profile', async () => {
  const anon = `erased-walker-${uid()}`;
  await sendEvents(s, [{ type: 'identify', anonymousId: anon, traits: { email: `${anon}@example.com` } }, located(anon, 0.0009)]);
  await settleAll(s);
  assert.equal((await eventsOf(anon)).at(-1)?.event, 'Geofence Entered');
  const pid = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon}`)).body.id as string;
  assert.ok(s.ensemble.geo.tracker.insideOf(pid)?.has(fenceId), 'tracked while inside');
  const erasure = await s.api('POST', `${ws()}/privacy/requests`, { type: 'erasure', identifier: { type: 'anonymous_id', value: anon } });
  assert.equal(erasure.status, 201, JSON.stringify(erasure.body));
  const end = Date.now() + 10_000;
  while ((await s.api('GET', `${ws()}/privacy/requests/${erasure.body.id}`)).body.status !== 'completed' && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.equal((await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon}`)).status, 404);
  assert.equal(s.ensemble.geo.tracker.insideOf(pid), undefined, 'nothing of their whereabouts is kept');
});
