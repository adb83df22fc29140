/**
 * The analytics API on a real server over a real DuckDB file, with real events sent through the
 * collector: every number is checked against what the test computes itself from the events it
 * sent (a reference implementation in plain JS, not the SQL): events per day, active profiles
 * and identified share, trends with a breakdown and a filter, event names with pagination, an
 * ordered funnel with its window, last-touch attribution, consent rates; and breakdown/where
 * inputs that try SQL injection are refused or bound as values.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';
import { Rng } from '../src/platform/random.js';

let s: TestServer;
const DAY = 86_400_000;
const now = Date.now();
const today = Math.floor(now / DAY) * DAY;

interface Sent { person: number; type: string; event: string | null; t: number; plan?: string; price?: number; revenue?: number; medium?: string; campaign?: string; internal?: boolean }
const sent: Sent[] = [];
const PEOPLE = 24;
const identified = new Set<number>();


const ws = () => `/api/workspaces/${s.workspaceId}`;
const anon = (i: number) => `anon-analytics-${i}`;

function toWire(e: Sent): Record<string, unknown> {
  const base: Record<string, unknown> = { type: e.type, anonymousId: anon(e.person), timestamp: new Date(e.t).toISOString(), messageId: `m-${sent.indexOf(e)}` };
  if (e.type === 'track') {
    base.event = e.event;
    base.properties = { ...(e.plan ? { plan: e.plan } : {}), ...(e.price !== undefined ? { price: e.price } : {}), ...(e.revenue !== undefined ? { revenue: e.revenue } : {}) };
  }
  if (e.type === 'page') {
    const q = e.medium ? `?utm_source=src&utm_medium=${e.medium}&utm_campaign=${e.campaign}` : '';
    // A click from one page of the shop to another: its referrer is the shop, its channel direct.
    base.name = e.internal ? 'Cart' : 'Landing';
    base.context = { page: e.internal ? { url: 'https://shop.example.com/cart', referrer: 'https://shop.example.com/landing' } : { url: `https://shop.example.com/landing${q}` } };
  }
  if (e.type === 'identify') {
    base.userId = `user-${e.person}`;
    base.traits = { plan: e.plan ?? 'free' };
  }
  return base;
}

before(async () => {
  s = await startServer();
  const seeded = new Rng(7);
  const r = () => seeded.next();
  for (let i = 0; i < PEOPLE; i++) {
    const start = today - (1 + Math.floor(r() * 20)) * DAY + Math.floor(r() * 20) * 3_600_000;
    const plan = r() < 0.5 ? 'pro' : 'free';
    let t = start;
    const add = (e: Omit<Sent, 'person' | 't'>, gap: number) => { t += gap; sent.push({ person: i, t, ...e }); };
    if (r() < 0.7) add({ type: 'page', event: null, medium: r() < 0.5 ? 'email' : 'cpc', campaign: r() < 0.5 ? 'spring' : 'summer' }, 0);
    else add({ type: 'page', event: null }, 0);
    const views = 1 + Math.floor(r() * 3);
    for (let v = 0; v < views; v++) add({ type: 'track', event: 'Product Viewed', plan, price: Math.floor(r() * 100) }, 60_000);
    const fate = r();
    // Some carts come after 8 days: outside a 7-day funnel window.
    if (fate < 0.6) add({ type: 'track', event: 'Product Added', plan }, fate < 0.15 ? 8 * DAY : 3_600_000);
    if (r() < 0.5) add({ type: 'page', event: null, internal: true }, 60_000);
    if (fate < 0.4) add({ type: 'track', event: 'Order Completed', plan, revenue: 10 + Math.floor(r() * 90) }, 3_600_000);
    if (r() < 0.5) { add({ type: 'identify', event: null, plan }, 1000); identified.add(i); }
    // A person who adds to cart before viewing: the cart does not count as step 2.
    if (i === 0) { sent.push({ person: i, type: 'track', event: 'Product Added', t: start - 3_600_000, plan }); }
  }
  // Only events in the past: the default range ends now.
  for (let k = sent.length - 1; k >= 0; k--) if ((sent[k] as Sent).t >= now - 1000) sent.splice(k, 1);
  const batch = sent.map(toWire);
  const res = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.writeKey) });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.accepted ?? batch.length, batch.length);
  await s.settle();
});
after(async () => { await s.close(); removeDir(s.dir); });

const inRange = (e: Sent) => e.t >= now - 30 * DAY && e.t < now;
const dayOf = (t: number) => new Date(Math.floor(t / DAY) * DAY).toISOString().slice(0, 10);

test('overview: events per day, profiles, active profiles and identified share match the events sent', async () => {
  const r = await s.api('GET', `${ws()}/analytics/overview`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const expected = new Map<string, number>();
  for (const e of sent.filter(inRange)) expected.set(dayOf(e.t), (expected.get(dayOf(e.t)) ?? 0) + 1);
  const got = new Map<string, number>(r.body.eventsPerDay.filter((d: any) => d.count > 0).map((d: any) => [d.day, d.count]));
  assert.deepEqual(got, expected);
  assert.equal(r.body.eventsPerDay.length, 31, 'every day of the range, empty ones at 0');
  assert.equal(r.body.profiles, PEOPLE);
  assert.equal(r.body.activeProfiles, new Set(sent.filter(inRange).map((e) => e.person)).size);
  assert.equal(r.body.identifiedShare, identified.size / PEOPLE);
  const src = r.body.sources.find((x: any) => x.id === s.sourceId);
  assert.ok(src && src.lastEventAt !== null);
  assert.equal(src.eventsToday, sent.length, 'all were received today');
  assert.equal(typeof r.body.processingLagMs, 'number');
});

test('trend: per-day counts of one event, broken down by a property and filtered by a numeric condition', async () => {
  const q = new URLSearchParams({ event: 'Product Viewed', interval: 'day', breakdown: 'properties.plan', where: JSON.stringify({ 'properties.price': { gte: 50 } }) });
  const r = await s.api('GET', `${ws()}/analytics/events/trend?${q}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const expected = new Map<string, Map<string, number>>();
  for (const e of sent.filter((x) => inRange(x) && x.event === 'Product Viewed' && (x.price ?? 0) >= 50)) {
    const m = expected.get(e.plan as string) ?? new Map<string, number>();
    m.set(dayOf(e.t), (m.get(dayOf(e.t)) ?? 0) + 1);
    expected.set(e.plan as string, m);
  }
  const got = new Map<string, Map<string, number>>();
  for (const series of r.body.series) {
    got.set(series.key, new Map(series.points.filter((p: any) => p.count > 0).map((p: any) => [p.t.slice(0, 10), p.count])));
  }
  assert.deepEqual(got, expected);
  // The channel breakdown (a typed column) covers every page view.
  const ch = await s.api('GET', `${ws()}/analytics/events/trend?${new URLSearchParams({ breakdown: 'context.channel', where: JSON.stringify({ type: 'page' }), interval: 'week' })}`);
  assert.equal(ch.status, 200, JSON.stringify(ch.body));
  const total = ch.body.series.reduce((a: number, x: any) => a + x.points.reduce((b: number, p: any) => b + p.count, 0), 0);
  assert.equal(total, sent.filter((e) => inRange(e) && e.type === 'page').length);
  const emailPages = sent.filter((e) => inRange(e) && e.type === 'page' && e.medium === 'email').length;
  assert.equal(ch.body.series.find((x: any) => x.key === 'email')?.points.reduce((b: number, p: any) => b + p.count, 0) ?? 0, emailPages);
});

test('trend: breakdown and where inputs are property paths and bound values, never SQL', async () => {
  const before = await s.api('GET', `${ws()}/analytics/overview`);
  const evil = [
    `properties.plan') OR 1=1 --`,
    `properties.x"; DROP TABLE events; --`,
    `properties.a'||(SELECT 1)||'`,
    `count(*)`,
    `1; DELETE FROM events`,
  ];
  for (const breakdown of evil) {
    const r = await s.api('GET', `${ws()}/analytics/events/trend?${new URLSearchParams({ breakdown })}`);
    assert.equal(r.status, 400, breakdown);
    assert.equal(r.body.error.code, 'ENSEMBLE_ERR_ANALYTICS_PATH_INVALID', breakdown);
    const w = await s.api('GET', `${ws()}/analytics/events/trend?${new URLSearchParams({ where: JSON.stringify({ [breakdown]: 'x' }) })}`);
    assert.equal(w.status, 400, breakdown);
    assert.equal(w.body.error.code, 'ENSEMBLE_ERR_ANALYTICS_PATH_INVALID', breakdown);
  }
  // A value that looks like SQL is only a value: it matches nothing.
  const v = await s.api('GET', `${ws()}/analytics/events/trend?${new URLSearchParams({ where: JSON.stringify({ 'properties.plan': `pro' OR '1'='1` }) })}`);
  assert.equal(v.status, 200, JSON.stringify(v.body));
  assert.equal(v.body.series.reduce((a: number, x: any) => a + x.points.reduce((b: number, p: any) => b + p.count, 0), 0), 0);
  const op = await s.api('GET', `${ws()}/analytics/events/trend?${new URLSearchParams({ where: JSON.stringify({ 'properties.plan': { 'eq; DROP': 1 } }) })}`);
  assert.equal(op.body.error.code, 'ENSEMBLE_ERR_ANALYTICS_FILTER_INVALID');
  assert.equal((await s.api('GET', `${ws()}/analytics/events/trend?where=not-json`)).body.error.code, 'ENSEMBLE_ERR_ANALYTICS_FILTER_INVALID');
  assert.equal((await s.api('GET', `${ws()}/analytics/events/trend?interval=minute`)).body.error.code, 'ENSEMBLE_ERR_VALIDATION');
  assert.equal((await s.api('GET', `${ws()}/analytics/events/trend?from=2026-13-45`)).body.error.code, 'ENSEMBLE_ERR_ANALYTICS_RANGE_INVALID');
  assert.equal((await s.api('GET', `${ws()}/analytics/events/trend?from=2026-01-02&to=2026-01-01`)).body.error.code, 'ENSEMBLE_ERR_ANALYTICS_RANGE_INVALID');
  const afterwards = await s.api('GET', `${ws()}/analytics/overview`);
  assert.deepEqual(afterwards.body.eventsPerDay, before.body.eventsPerDay, 'the events are all still there');
});

test('event names: counts per name, and pages of one name cover every name exactly once', async () => {
  const expected = new Map<string, number>();
  for (const e of sent.filter((x) => inRange(x) && x.type === 'track')) expected.set(e.event as string, (expected.get(e.event as string) ?? 0) + 1);
  const all = await s.api('GET', `${ws()}/analytics/events/names`);
  assert.equal(all.status, 200, JSON.stringify(all.body));
  // Page views carry their name as `name`, not `event`: only track events are named here.
  assert.deepEqual(new Map(all.body.names.map((n: any) => [n.name, n.count])), expected);
  const counts = all.body.names.map((n: any) => n.count);
  assert.deepEqual(counts, [...counts].sort((a: number, b: number) => b - a), 'most frequent first');
  const paged: string[] = [];
  let cursor: string | null = null;
  do {
    const r: any = await s.api('GET', `${ws()}/analytics/events/names?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    paged.push(...r.body.names.map((n: any) => n.name));
    cursor = r.body.nextCursor;
  } while (cursor !== null);
  assert.deepEqual(paged, all.body.names.map((n: any) => n.name));
  assert.equal((await s.api('GET', `${ws()}/analytics/events/names?cursor=nonsense`)).body.error.code, 'ENSEMBLE_ERR_CURSOR_INVALID');
});

/** The funnel's definition, written independently of the SQL. */
function referenceFunnel(steps: string[], windowMs: number): number[] {
  const counts = steps.map(() => 0);
  for (let i = 0; i < PEOPLE; i++) {
    const mine = sent.map((e, idx) => ({ e, idx })).filter((x) => x.e.person === i).sort((a, b) => a.e.t - b.e.t || a.idx - b.idx);
    const first = mine.find((x) => x.e.event === steps[0] && inRange(x.e));
    if (!first) continue;
    counts[0]! += 1;
    let prev = first;
    for (let k = 1; k < steps.length; k++) {
      const next = mine.find((x) => x.e.event === steps[k] && (x.e.t > prev.e.t || (x.e.t === prev.e.t && x.idx > prev.idx)) && x.e.t <= first.e.t + windowMs);
      if (!next) break;
      counts[k]! += 1;
      prev = next;
    }
  }
  return counts;
}

test('funnel: ordered steps within the window, as the reference computes them', async () => {
  const steps = ['Product Viewed', 'Product Added', 'Order Completed'];
  for (const within of ['7d', '30d', '2h']) {
    const r = await s.api('POST', `${ws()}/analytics/funnel`, { steps: steps.map((event) => ({ event })), within });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const ms = Number(within.slice(0, -1)) * (within.endsWith('d') ? DAY : 3_600_000);
    const expected = referenceFunnel(steps, ms);
    assert.deepEqual(r.body.steps.map((x: any) => x.count), expected, within);
    assert.equal(r.body.steps[2].conversion, expected[0] === 0 ? 0 : expected[2]! / expected[0]!);
  }
  const seven = referenceFunnel(steps, 7 * DAY);
  const thirty = referenceFunnel(steps, 30 * DAY);
  assert.ok(thirty[1]! > seven[1]!, 'the data has carts outside the 7-day window: the window matters');
  const filtered = await s.api('POST', `${ws()}/analytics/funnel`, { steps: [{ event: 'Product Viewed', where: { 'properties.plan': 'pro' } }, { event: 'Order Completed' }], within: '30d' });
  assert.equal(filtered.status, 200, JSON.stringify(filtered.body));
  const pros = new Set(sent.filter((e) => e.plan === 'pro').map((e) => e.person));
  const proViewers = new Set(sent.filter((e) => inRange(e) && e.event === 'Product Viewed' && pros.has(e.person)).map((e) => e.person));
  assert.equal(filtered.body.steps[0].count, proViewers.size);
  const bad = await s.api('POST', `${ws()}/analytics/funnel`, { steps: [{ event: 'a' }], within: '7d' });
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_VALIDATION');
  const badWindow = await s.api('POST', `${ws()}/analytics/funnel`, { steps: [{ event: 'a' }, { event: 'b' }], within: '7 days' });
  assert.equal(badWindow.body.error.code, 'ENSEMBLE_ERR_VALIDATION');
});

/** Attribution as the reference computes it: `direct` touches count only in the last_touch model. */
function referenceAttribution(model: 'last_touch' | 'last_non_direct'): Map<string, { conversions: number; revenue: number }> {
  const channelOf = (e: Sent) => (e.medium === 'email' ? 'email' : e.medium === 'cpc' ? 'paid' : 'direct');
  const expected = new Map<string, { conversions: number; revenue: number }>();
  for (const c of sent.filter((e) => inRange(e) && e.event === 'Order Completed')) {
    const touch = sent.filter((e) => e.person === c.person && e.type === 'page' && e.t <= c.t && e.t >= c.t - 30 * DAY && (model === 'last_touch' || channelOf(e) !== 'direct')).sort((a, b) => b.t - a.t)[0];
    const key = `${touch ? channelOf(touch) : 'direct'}|${touch?.campaign ?? null}`;
    const x = expected.get(key) ?? { conversions: 0, revenue: 0 };
    x.conversions += 1;
    x.revenue += c.revenue ?? 0;
    expected.set(key, x);
  }
  return expected;
}

test('attribution: each order is credited to the last non-direct touch before it (channel and campaign), revenue summed; last_touch counts direct visits too', async () => {
  const path = `${ws()}/analytics/attribution?conversion=${encodeURIComponent('Order Completed')}`;
  const byKey = (rows: any[]) => new Map(rows.map((x: any) => [`${x.channel}|${x.campaign}`, { conversions: x.conversions, revenue: x.revenue }]));
  const byDefault = await s.api('GET', path);
  assert.equal(byDefault.status, 200, JSON.stringify(byDefault.body));
  const nonDirect = referenceAttribution('last_non_direct');
  assert.deepEqual(byKey(byDefault.body.rows), nonDirect);
  assert.deepEqual((await s.api('GET', `${path}&model=last_non_direct`)).body.rows, byDefault.body.rows);
  assert.ok(nonDirect.size >= 2, 'the data credits more than one channel');
  const last = await s.api('GET', `${path}&model=last_touch`);
  assert.equal(last.status, 200, JSON.stringify(last.body));
  const lastTouch = referenceAttribution('last_touch');
  assert.deepEqual(byKey(last.body.rows), lastTouch);
  assert.ok((lastTouch.get('direct|null')?.conversions ?? 0) > (nonDirect.get('direct|null')?.conversions ?? 0), 'the data has orders after a click inside the shop: the models differ');
  assert.equal((await s.api('GET', `${path}&model=first_touch`)).body.error.code, 'ENSEMBLE_ERR_VALIDATION');
});

test('consent rates: decisions per purpose and day, and the granted rate', async () => {
  const decisions: Array<[number, string]> = [[0, 'granted'], [1, 'granted'], [2, 'denied'], [3, 'granted'], [3, 'withdrawn']];
  for (const [i, status] of decisions) {
    const p = await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon(i)}`);
    assert.equal(p.status, 200);
    const r = await s.api('PUT', `${ws()}/profiles/${p.body.id}/consents`, { consents: [{ purpose: 'email_marketing', status }] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  const r = await s.api('GET', `${ws()}/analytics/consent-rates?interval=day`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const em = r.body.series.find((x: any) => x.purpose === 'email_marketing');
  const todayPoint = em.points.find((p: any) => p.t.slice(0, 10) === dayOf(Date.now()));
  assert.deepEqual({ granted: todayPoint.granted, denied: todayPoint.denied, withdrawn: todayPoint.withdrawn }, { granted: 3, denied: 1, withdrawn: 1 });
  assert.equal(todayPoint.rate, 3 / 5);
  const other = em.points.filter((p: any) => p !== todayPoint);
  assert.ok(other.every((p: any) => p.rate === null && p.granted === 0));
  assert.ok(r.body.series.some((x: any) => x.purpose === 'analytics'), 'every purpose has a series, even without decisions');
});

test('campaigns: an empty workspace answers no rows; unknown workspace is a 404 with its code', async () => {
  const r = await s.api('GET', `${ws()}/analytics/campaigns`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.rows, []);
  const nf = await s.api('GET', `/api/workspaces/ws_nope/analytics/overview`);
  assert.equal(nf.status, 404);
  assert.equal(nf.body.error.code, 'ENSEMBLE_ERR_WORKSPACE_NOT_FOUND');
});
