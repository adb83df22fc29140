/**
 * What the processor makes of collected events: enrichment columns, IP truncation before
 * storage, profiles linked by userId/anonymousId/email, traits by event time, merges that are
 * recorded and never join two different users, consent kept with the event, no personal data
 * in the logs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

async function send(batch: unknown[], extraHeaders: Record<string, string> = {}): Promise<void> {
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.writeKey), ...extraHeaders });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.rejected, []);
}

async function lookup(type: string, value: string): Promise<any> {
  await s.settle();
  const r = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=${type}&value=${encodeURIComponent(value)}`);
  return r.status === 200 ? r.body : null;
}

async function events(profileId: string, query = 'limit=100'): Promise<any> {
  return (await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${profileId}/events?${query}`)).body;
}

test('enrichment: user agent, UTM, channel, country from the full IP, and the IP truncated before storage', async () => {
  const anon = `anon-${randomUUID()}`;
  await send([{
    type: 'page', anonymousId: anon, name: 'Landing',
    context: {
      ip: '90.84.12.77', userAgent: CHROME_MAC,
      page: { url: 'https://shop.example/sale?utm_source=google&utm_medium=cpc&utm_campaign=black-friday&gclid=xyz', path: '/sale', referrer: 'https://www.google.com/' },
    },
  }]);
  const p = await lookup('anonymous_id', anon);
  const [e] = (await events(p.id)).events;
  assert.equal(e.context.ip, '90.84.12.0', 'the stored IP is truncated');
  assert.equal(e.enrichment.country, 'FR');
  assert.equal(e.enrichment.browser, 'Chrome');
  assert.equal(e.enrichment.os, 'macOS');
  assert.equal(e.enrichment.deviceType, 'desktop');
  assert.equal(e.enrichment.channel, 'paid');
  assert.equal(e.enrichment.utmCampaign, 'black-friday');
  assert.equal(e.enrichment.utmSource, 'google');
  assert.equal(e.enrichment.path, '/sale');
  assert.equal(e.enrichment.referrerHost, 'google.com');
});

test('without context.ip the request address is used (and truncated); 127.0.0.1 has no country', async () => {
  const anon = `anon-${randomUUID()}`;
  await send([{ type: 'track', anonymousId: anon, event: 'Ping' }]);
  const [e] = (await events((await lookup('anonymous_id', anon)).id)).events;
  assert.equal(e.context.ip, '127.0.0.0');
  assert.equal(e.enrichment.country, undefined);
});

test('identify traits: the latest event time wins whatever the arrival order, with the trait source kept', async () => {
  const user = `u-${randomUUID()}`;
  await send([{ type: 'identify', userId: user, traits: { plan: 'gold', city: 'Lyon' }, timestamp: '2026-03-02T00:00:00Z', messageId: `new-${user}` }]);
  await send([{ type: 'identify', userId: user, traits: { plan: 'free', age: 31 }, timestamp: '2026-03-01T00:00:00Z', messageId: `old-${user}` }]);
  const p = await lookup('user_id', user);
  assert.deepEqual(p.traits, { plan: 'gold', city: 'Lyon', age: 31 });
  assert.equal(p.traitSources.plan.messageId, `new-${user}`);
  assert.equal(p.traitSources.plan.sourceId, s.sourceId);
  assert.equal(p.traitSources.age.at, '2026-03-01T00:00:00.000Z');
});

test('traits named __proto__ or constructor are stored like any other, and never touch a prototype', async () => {
  const user = `u-${randomUUID()}`;
  await send([{ type: 'identify', userId: user, traits: JSON.parse('{"__proto__":{"polluted":true},"constructor":"c","plan":"gold"}') as Record<string, unknown>, timestamp: '2026-03-02T00:00:00Z' }]);
  const p = await lookup('user_id', user);
  assert.deepEqual(p.traits, JSON.parse('{"__proto__":{"polluted":true},"constructor":"c","plan":"gold"}'));
  assert.deepEqual(Object.keys(p.traitSources).sort(), ['__proto__', 'constructor', 'plan']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('anonymous browsing joins the user at login; alias links a previous id; lookups by email are case-insensitive', async () => {
  const anon = `anon-${randomUUID()}`;
  const user = `u-${randomUUID()}`;
  await send([{ type: 'page', anonymousId: anon, name: 'Home' }, { type: 'track', anonymousId: anon, event: 'Product Viewed' }]);
  const before = await lookup('anonymous_id', anon);
  await send([{ type: 'identify', anonymousId: anon, userId: user, traits: { email: ` Zoe@Example.org ` } }]);
  const after = await lookup('user_id', user);
  assert.equal(after.id, before.id, 'the anonymous profile became the user');
  assert.equal((await lookup('email', 'zoe@example.org')).id, after.id);
  assert.equal((await lookup('email', 'ZOE@EXAMPLE.ORG')).id, after.id);
  // A second device, linked later by alias.
  const tablet = `anon-${randomUUID()}`;
  await send([{ type: 'page', anonymousId: tablet, name: 'Home' }]);
  const tabletProfile = await lookup('anonymous_id', tablet);
  assert.notEqual(tabletProfile.id, after.id);
  await send([{ type: 'alias', previousId: tablet, userId: user }]);
  const merged = await lookup('anonymous_id', tablet);
  assert.equal(merged.id, after.id);
  assert.deepEqual(merged.mergedFrom, [tabletProfile.id]);
  assert.equal(merged.eventCount, 5);
  // The merged-away id still answers, with the live profile; its events are part of the timeline.
  assert.equal((await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${tabletProfile.id}`)).body.id, after.id);
  assert.equal((await events(after.id)).events.length, 5);
});

test('a shared device never merges two different users', async () => {
  const kiosk = `kiosk-${randomUUID()}`;
  const alice = `alice-${randomUUID()}`;
  const bob = `bob-${randomUUID()}`;
  await send([{ type: 'identify', anonymousId: kiosk, userId: alice, traits: { name: 'Alice' } }]);
  await send([{ type: 'identify', anonymousId: kiosk, userId: bob, traits: { name: 'Bob' } }]);
  await send([{ type: 'track', anonymousId: kiosk, userId: bob, event: 'Order Completed', properties: { revenue: 10 } }]);
  const a = await lookup('user_id', alice);
  const b = await lookup('user_id', bob);
  assert.notEqual(a.id, b.id);
  assert.equal(a.traits.name, 'Alice');
  assert.equal(b.traits.name, 'Bob');
  assert.equal(b.eventCount, 2);
  assert.equal((await lookup('anonymous_id', kiosk)).id, a.id, 'the device stays with its first user');
});

test('the events timeline pages with an opaque cursor, newest first, and rejects a forged cursor', async () => {
  const user = `u-${randomUUID()}`;
  await send(Array.from({ length: 7 }, (_, i) => ({ type: 'track', userId: user, event: `E${i}`, timestamp: new Date(Date.UTC(2026, 0, 1 + i)).toISOString() })));
  const p = await lookup('user_id', user);
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await events(p.id, `limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...page.events.map((e: any) => e.event));
    cursor = page.nextCursor;
  } while (cursor);
  assert.deepEqual(seen, ['E6', 'E5', 'E4', 'E3', 'E2', 'E1', 'E0']);
  const forged = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${p.id}/events?cursor=bm9wZQ`);
  assert.deepEqual([forged.status, forged.body.error.code], [400, 'ENSEMBLE_ERR_CURSOR_INVALID']);
});

test('consent sent with an event is kept with it, including an IAB TCF string', async () => {
  const anon = `anon-${randomUUID()}`;
  const tcf = 'CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA';
  await send([
    { type: 'page', anonymousId: anon, context: { consent: { categoryPreferences: { analytics: true, advertising: false } } } },
    { type: 'track', anonymousId: anon, event: 'Ad Clicked', context: { gdpr_consent: tcf } },
  ]);
  const evts = (await events((await lookup('anonymous_id', anon)).id)).events;
  const page = evts.find((e: any) => e.type === 'page');
  const click = evts.find((e: any) => e.type === 'track');
  assert.deepEqual(page.consent, { categoryPreferences: { analytics: true, advertising: false } });
  assert.equal(click.consent.tcfString, tcf);
});

test('logs carry no personal data: no email, IP, user id or trait value', async () => {
  const secretUser = `user-${randomUUID()}`;
  await send([{ type: 'identify', userId: secretUser, traits: { email: 'hidden.person@example.com', phone: '+33612345678' }, context: { ip: '203.0.113.77' } }]);
  await post(`${s.url}/v1/track`, { userId: secretUser }, { authorization: basic(s.writeKey) }); // an error path too
  await s.settle();
  const text = s.logs.join('');
  assert.match(text, /listening/, 'the logs were captured');
  for (const secret of [secretUser, 'hidden.person', '+33612345678', '203.0.113', s.writeKey]) assert.ok(!text.includes(secret), `log contains ${secret}`);
});
