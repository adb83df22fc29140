import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEMO_DEFAULTS, generateDemoHits, type DemoHit, type DemoOptions } from '../src/main/demo-data.js';

const NOW = new Date('2024-06-01T12:00:00.000Z');
const DAY = 86_400_000;

// Generated once: the defaults are what the demo loader uses, so that is what the spec's numbers
// (≥ 5,000 people, ≥ 50,000 events) are checked against.
const defaults: DemoOptions = { ...DEMO_DEFAULTS, now: NOW };
const hits: DemoHit[] = [...generateDemoHits(defaults)];

function take(opts: DemoOptions, n: number): DemoHit[] {
  const out: DemoHit[] = [];
  for (const hit of generateDemoHits(opts)) {
    if (out.length >= n) break;
    out.push(hit);
  }
  return out;
}

function countEvent(name: string): number {
  return hits.filter((h) => h.event.event === name).length;
}

test('defaults give at least 5,000 people and 50,000 events', () => {
  const anonymousIds = new Set(hits.map((h) => h.event.anonymousId).filter((id) => typeof id === 'string'));
  assert.ok(anonymousIds.size >= 5000, `only ${anonymousIds.size} distinct anonymousIds`);
  assert.ok(hits.length >= 50_000, `only ${hits.length} events`);
});

test('every timestamp is a canonical ISO string within [now - days, now]', () => {
  const from = NOW.getTime() - defaults.days * DAY;
  for (const { event } of hits) {
    assert.equal(typeof event.timestamp, 'string');
    const t = Date.parse(String(event.timestamp));
    assert.ok(t >= from && t <= NOW.getTime(), `out of range: ${String(event.timestamp)}`);
    assert.equal(new Date(t).toISOString(), event.timestamp);
  }
});

test('messageIds are unique', () => {
  const ids = new Set(hits.map((h) => h.event.messageId));
  assert.equal(ids.size, hits.length);
});

test('page, track, identify and screen events are all present', () => {
  const types = new Set(hits.map((h) => h.event.type));
  for (const type of ['page', 'track', 'identify', 'screen']) assert.ok(types.has(type), `no ${type} event`);
});

test('the purchase funnel narrows at every step', () => {
  const viewed = countEvent('Product Viewed');
  const added = countEvent('Product Added');
  const started = countEvent('Checkout Started');
  const completed = countEvent('Order Completed');
  assert.ok(viewed > added && added > started && started > completed && completed > 0, `${viewed} > ${added} > ${started} > ${completed} > 0`);
});

test('every Order Completed has a positive numeric revenue', () => {
  for (const { event } of hits.filter((h) => h.event.event === 'Order Completed')) {
    const revenue = event.properties?.revenue;
    assert.equal(typeof revenue, 'number');
    assert.ok(typeof revenue === 'number' && revenue > 0 && Number.isFinite(revenue));
  }
});

test('some people have two or more devices linked by one userId', () => {
  const devicesByUser = new Map<string, Set<string>>();
  for (const { event } of hits) {
    if (typeof event.userId !== 'string' || typeof event.anonymousId !== 'string') continue;
    const set = devicesByUser.get(event.userId) ?? new Set<string>();
    set.add(event.anonymousId);
    devicesByUser.set(event.userId, set);
  }
  const linked = [...devicesByUser.values()].filter((s) => s.size >= 2).length;
  // ~15% of 5,000 people; demand a clear majority of that, not an exact count.
  assert.ok(linked >= 500, `only ${linked} people with linked devices`);
});

test('identify emails only use example.* domains', () => {
  const identifies = hits.filter((h) => h.event.type === 'identify');
  assert.ok(identifies.length > 0);
  for (const { event } of identifies) {
    const email = event.traits?.email;
    assert.equal(typeof email, 'string');
    assert.match(String(email), /^[a-z0-9._]+@example\.(com|org|net)$/);
  }
});

test('email engagement events are server-side with userId only', () => {
  const emails = hits.filter((h) => h.event.event === 'Email Opened' || h.event.event === 'Email Link Clicked');
  assert.ok(emails.length > 0);
  for (const { event } of emails) {
    assert.equal(typeof event.userId, 'string');
    assert.equal(event.anonymousId, undefined);
    assert.deepEqual(event.context?.library, { name: 'analytics-node', version: '6.2.0' });
    for (const key of ['campaign_id', 'campaign_name', 'email_id']) assert.equal(typeof event.properties?.[key], 'string');
  }
});

test('each person\'s events are in chronological order', () => {
  // Consecutive events of one device (or one user) must never go back in time.
  const last = new Map<string, number>();
  for (const { event } of hits) {
    const key = String(event.anonymousId ?? event.userId);
    const t = Date.parse(String(event.timestamp));
    assert.ok(t >= (last.get(key) ?? 0), `${key} goes back in time at ${String(event.messageId)}`);
    last.set(key, t);
  }
});

test('the same seed gives the same events; another seed gives others', () => {
  const first = take(defaults, 1000);
  assert.deepEqual(take(defaults, 1000), first);
  assert.deepEqual(hits.slice(0, 1000), first);
  assert.notDeepEqual(take({ ...defaults, seed: defaults.seed + 1 }, 1000), first);
});

test('any small options give well-formed events within the period', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 30 }),
      fc.integer({ min: 1, max: 30 }),
      fc.integer(),
      (people, days, seed) => {
        const from = NOW.getTime() - days * DAY;
        for (const { event, ip } of generateDemoHits({ people, days, seed, now: NOW })) {
          assert.ok(typeof event.messageId === 'string' && event.messageId.length > 0);
          assert.ok(typeof event.type === 'string' && event.type.length > 0);
          assert.ok(typeof event.anonymousId === 'string' || typeof event.userId === 'string');
          const t = Date.parse(String(event.timestamp));
          assert.ok(t >= from && t <= NOW.getTime(), `out of range: ${String(event.timestamp)}`);
          assert.match(ip, /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
        }
      },
    ),
    { numRuns: 100 },
  );
});
