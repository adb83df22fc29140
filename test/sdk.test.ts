/**
 * Real SDK packages, unchanged, pointed at Ensemble: Segment's current Node SDK
 * (@segment/analytics-node) and its predecessor still in wide use (analytics-node v6).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Analytics } from '@segment/analytics-node';
import LegacyAnalytics from 'analytics-node';
import { removeDir, startServer, type TestServer } from './helpers/server.js';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

async function profileOf(type: string, value: string): Promise<any> {
  await s.settle();
  const r = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=${type}&value=${encodeURIComponent(value)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

async function eventsOf(profileId: string): Promise<any[]> {
  const r = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${profileId}/events?limit=100`);
  return r.body.events;
}

test('@segment/analytics-node: identify, track, page, screen, group, alias arrive on one profile', async () => {
  const analytics = new Analytics({ writeKey: s.writeKey, host: s.url, flushInterval: 50, maxEventsInBatch: 3 });
  const anon = `sdk-anon-${randomUUID()}`;
  const user = `sdk-user-${randomUUID()}`;
  analytics.page({ anonymousId: anon, name: 'Home', properties: { url: 'https://shop.example/?utm_source=news&utm_medium=email' } });
  analytics.track({ anonymousId: anon, event: 'Product Viewed', properties: { price: 42.5, currency: 'eur' } });
  analytics.alias({ previousId: anon, userId: user });
  analytics.identify({ userId: user, traits: { email: 'Ada@Example.com', plan: 'gold' } });
  analytics.screen({ userId: user, name: 'Cart' });
  analytics.group({ userId: user, groupId: 'acme', traits: { name: 'Acme' } });
  analytics.track({ userId: user, event: 'Order Completed', properties: { revenue: 99.9, currency: 'EUR' } });
  const failures: unknown[] = [];
  analytics.on('error', (e) => failures.push(e));
  await analytics.closeAndFlush();
  assert.deepEqual(failures, []);

  const p = await profileOf('user_id', user);
  assert.equal((await profileOf('anonymous_id', anon)).id, p.id);
  assert.equal((await profileOf('email', 'ada@example.com')).id, p.id);
  assert.equal(p.eventCount, 7);
  assert.equal(p.traits.plan, 'gold');
  const events = await eventsOf(p.id);
  assert.deepEqual(events.map((e) => e.type).sort(), ['alias', 'group', 'identify', 'page', 'screen', 'track', 'track']);
  const order = events.find((e) => e.event === 'Order Completed');
  assert.equal(order.enrichment.revenue, 99.9);
  assert.equal(order.context.library.name, '@segment/analytics-node');
  const viewed = events.find((e) => e.event === 'Product Viewed');
  assert.equal(viewed.enrichment.price, 42.5);
  assert.equal(viewed.enrichment.currency, 'EUR');
});

test('analytics-node v6 (legacy SDK, axios + Basic auth): batches arrive and retried messageIds are stored once', async () => {
  const legacy = new LegacyAnalytics(s.writeKey, { host: s.url, flushAt: 2, flushInterval: 20 });
  const user = `legacy-${randomUUID()}`;
  const messageId = `legacy-msg-${randomUUID()}`;
  // Each call's callback runs once the batch holding it was answered.
  const sent = (send: (cb: (err?: Error) => void) => void) => new Promise<void>((resolve, reject) => send((err) => (err ? reject(err) : resolve())));
  await Promise.all([
    sent((cb) => legacy.identify({ userId: user, traits: { firstName: 'Grace' } }, cb)),
    sent((cb) => legacy.track({ userId: user, event: 'Signed Up', messageId }, cb)),
    sent((cb) => legacy.track({ userId: user, event: 'Signed Up', messageId }, cb)), // an application-level retry
    sent((cb) => legacy.flush(cb)),
  ]);
  const p = await profileOf('user_id', user);
  assert.equal(p.traits.firstName, 'Grace');
  const events = await eventsOf(p.id);
  assert.equal(events.filter((e) => e.event === 'Signed Up').length, 1);
  assert.equal(events.length, 2);
  assert.match(events[0].context.library.name, /analytics-node/);
});
