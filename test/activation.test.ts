/**
 * Activation end to end, over HTTP on a real server and DuckDB file, with a local webhook
 * receiver: audiences synced as exact add/remove diffs (backfill, enter, exit, consent given and
 * withdrawn, erasure), the delivery engine's retries honouring Retry-After, drops and dead letters
 * with replay, a slow destination that does not hold up another, triggers, event forwarding with
 * a mapping, the queue surviving a restart, secrets write-only, and the register and access
 * bundle naming the recipients.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { basic, post, removeDir, startServer, tempDir, type TestServer } from './helpers/server.js';
import { startPlatform, type PlatformServer, type RecordedRequest } from './helpers/platform-server.js';
import { sendEvents, settleAll, until as waitFor } from './helpers/activation.js';

const SECRET = 'whsec-activation-test-0123';
let s: TestServer;
let hook: PlatformServer;
const dir = tempDir();
const overrides = { activation: { retryBaseMs: 20, retryMaxMs: 200 } };

before(async () => {
  s = await startServer(overrides, dir);
  hook = await startPlatform();
});
after(async () => {
  await s.close();
  await hook.close();
  removeDir(dir);
});

const uid = () => randomUUID().slice(0, 8);
const ws = () => `/api/workspaces/${s.workspaceId}`;

const send = (batch: unknown[]) => sendEvents(s, batch);
const settle = () => settleAll(s);
const until = (done: () => boolean, what: string, ms?: number) => waitFor(s, done, what, ms);
const sha = (v: string) => createHash('sha256').update(v).digest('hex');

/** Waits (bounded) until the receiver has seen what `done` looks for. */

/** Every audience item the receiver got, in order, with the path it came to. */
function items(p: PlatformServer, path?: string): any[] {
  return p.requests.filter((r) => r.method === 'POST' && (path === undefined || r.url === path)).flatMap((r) => JSON.parse(r.body).batch);
}

async function profileOf(anonymousId: string): Promise<string> {
  const r = await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${encodeURIComponent(anonymousId)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.id;
}

async function consent(profileId: string, purpose: string, status: 'granted' | 'withdrawn'): Promise<void> {
  const r = await s.api('PUT', `${ws()}/profiles/${profileId}/consents`, { consents: [{ purpose, status }] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await settle();
}

async function destination(body: Record<string, unknown>): Promise<any> {
  const r = await s.api('POST', `${ws()}/destinations`, body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

const abandoners = {
  kind: 'and', of: [
    { kind: 'event', event: 'Product Added', within: '30d' },
    { kind: 'event', event: 'Order Completed', within: '30d', count: { op: 'eq', value: 0 } },
  ],
};

test('the connector catalogue lists every connector with its config schema; configs are validated, secrets write-only', async () => {
  const types = await s.api('GET', '/api/destination-types');
  assert.equal(types.status, 200);
  const webhook = types.body.types.find((t: any) => t.id === 'webhook');
  assert.ok(webhook.configSchema.properties.url);
  assert.deepEqual(webhook.secrets, ['secret']);

  const unknown = await s.api('POST', `${ws()}/destinations`, { type: 'carrier-pigeon', name: 'x', config: {} });
  assert.equal(unknown.body.error.code, 'ENSEMBLE_ERR_DESTINATION_TYPE_UNKNOWN');
  const bad = await s.api('POST', `${ws()}/destinations`, { type: 'webhook', name: 'x', config: { url: 'ftp://nope', secret: 'short' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_DESTINATION_CONFIG_INVALID');
  assert.ok(bad.body.error.details.problems.some((p: any) => p.path === '/config/url'));
  const badPurpose = await s.api('POST', `${ws()}/destinations`, { type: 'webhook', name: 'x', purpose: 'mind_reading', config: { url: `${hook.url}/x`, secret: SECRET } });
  assert.equal(badPurpose.body.error.code, 'ENSEMBLE_ERR_PURPOSE_UNKNOWN');

  const d = await destination({ type: 'webhook', name: 'Secret keeper', config: { url: `${hook.url}/keeper`, secret: SECRET } });
  assert.equal(d.config.secret, '••••');
  assert.equal(d.purpose, 'analytics');
  const listed = await s.api('GET', `${ws()}/destinations`);
  assert.ok(!JSON.stringify(listed.body).includes(SECRET), 'secrets never come back');
  // An update without the secret keeps it: deliveries are still signed with it.
  const upd = await s.api('PUT', `${ws()}/destinations/${d.id}`, { name: 'Renamed', config: { url: `${hook.url}/keeper` } });
  assert.equal(upd.status, 200, JSON.stringify(upd.body));
  assert.equal(upd.body.name, 'Renamed');
  assert.equal(s.ensemble.activation.destinations.find(d.id)!.config.secret, SECRET);
  // Sealed in the store: the secret is not in the file in clear.
  const rows = await (s.ensemble as any).activation.store.destinations();
  assert.ok(!JSON.stringify(rows).includes(SECRET));
  assert.equal((await s.api('DELETE', `${ws()}/destinations/${d.id}`)).status, 204);
  assert.equal((await s.api('GET', `${ws()}/destinations/${d.id}`)).status, 404);
});

test('audiences: backfill when connected, add on enter, remove on exit — exact diffs, signed, hashed identifiers', async () => {
  const early = `early-${uid()}`;
  await send([
    { type: 'identify', anonymousId: early, traits: { email: `Early.${early}@Example.com` } },
    { type: 'track', anonymousId: early, event: 'Product Added', properties: { sku: 'a' } },
  ]);
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Cart abandoners', purposes: ['necessary'], definition: abandoners })).body;
  await settle();
  const path = `/aud-${uid()}`;
  const d = await destination({ type: 'webhook', name: 'Audience hook', purpose: 'necessary', segments: [seg.id], config: { url: `${hook.url}${path}`, secret: SECRET } });
  const earlyId = await profileOf(early);
  await until(() => items(hook, path).some((i) => i.profileId === earlyId), 'the backfill');
  const backfilled = items(hook, path).find((i) => i.profileId === earlyId);
  assert.equal(backfilled.action, 'add');
  assert.deepEqual(backfilled.identifiers.email_sha256, [sha(`early.${early}@example.com`)]);
  assert.deepEqual(backfilled.segment, { segmentId: seg.id, name: 'Cart abandoners' });
  const req = hook.requests.find((r) => r.url === path)!;
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(String(req.headers['x-ensemble-signature']))!;
  assert.equal(v1, createHmac('sha256', SECRET).update(`${t}.${req.body}`).digest('hex'), 'the signature verifies');

  const late = `late-${uid()}`;
  await send([{ type: 'track', anonymousId: late, event: 'Product Added' }]);
  const lateId = await profileOf(late);
  await until(() => items(hook, path).some((i) => i.profileId === lateId), 'the enter');
  // More events that change nothing for the audience send nothing more.
  await send([{ type: 'track', anonymousId: late, event: 'Product Added' }, { type: 'page', anonymousId: late, name: 'Home' }]);
  await send([{ type: 'track', anonymousId: late, event: 'Order Completed', properties: { revenue: 10 } }]);
  await until(() => items(hook, path).some((i) => i.profileId === lateId && i.action === 'remove'), 'the exit');
  assert.deepEqual(items(hook, path).filter((i) => i.profileId === lateId).map((i) => i.action), ['add', 'remove'], 'one add, one remove');

  const stats = await s.api('GET', `${ws()}/destinations/${d.id}/stats`);
  assert.equal(stats.status, 200);
  assert.ok(stats.body.delivered >= 3, JSON.stringify(stats.body));
  assert.equal(stats.body.pending, 0);
  assert.equal(stats.body.audience[seg.id], 1, 'only the early visitor is still in');
  assert.equal(typeof stats.body.latencyMs.p99, 'number');

  // Disconnecting the segment empties the platform audience.
  await s.api('PUT', `${ws()}/destinations/${d.id}`, { name: 'Audience hook', purpose: 'necessary', segments: [], config: { url: `${hook.url}${path}` } });
  await until(() => items(hook, path).some((i) => i.profileId === earlyId && i.action === 'remove'), 'the disconnect removal');
  await s.api('DELETE', `${ws()}/destinations/${d.id}`);
});

test('consent and purpose limitation: only segments serving the destination\'s purpose connect; no delivery without it (a counted drop); granting adds, withdrawing removes at once', async () => {
  const loose = (await s.api('POST', `${ws()}/segments`, { name: 'Loose', definition: { kind: 'event', event: 'Viewed', within: '30d' } })).body;
  const path = `/ads-${uid()}`;
  const refused = await s.api('POST', `${ws()}/destinations`, { type: 'webhook', name: 'Ads hook', purpose: 'advertising', segments: [loose.id], config: { url: `${hook.url}${path}`, secret: SECRET } });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.code, 'ENSEMBLE_ERR_PURPOSE_LIMITATION', 'a segment not serving advertising cannot feed an advertising destination');
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Browsers', purposes: ['advertising'], definition: { kind: 'event', event: 'Viewed', within: '30d' } })).body;
  const d = await destination({ type: 'webhook', name: 'Ads hook', purpose: 'advertising', segments: [seg.id], config: { url: `${hook.url}${path}`, secret: SECRET } });
  const fpath = `/ads-events-${uid()}`;
  const f = await destination({ type: 'webhook', name: 'Ads events', purpose: 'advertising', events: { names: ['Viewed'] }, config: { url: `${hook.url}${fpath}`, secret: SECRET } });
  const anon = `c-${uid()}`;
  await send([{ type: 'track', anonymousId: anon, event: 'Viewed' }]);
  const pid = await profileOf(anon);
  await settle();
  assert.equal(items(hook, path).length + items(hook, fpath).length, 0, 'nothing sent without advertising consent');
  const dropped = (await s.api('GET', `${ws()}/destinations/${f.id}/stats`)).body.dropped;
  assert.equal(dropped['consent:advertising'], 1, 'the refused event is counted, not silently lost');

  await consent(pid, 'advertising', 'granted');
  await until(() => items(hook, path).some((i) => i.profileId === pid && i.action === 'add'), 'the add after consent');
  await consent(pid, 'advertising', 'withdrawn');
  await until(() => items(hook, path).some((i) => i.profileId === pid && i.action === 'remove'), 'the removal on withdrawal');
  assert.deepEqual(items(hook, path).map((i) => i.action), ['add', 'remove']);
  await s.api('DELETE', `${ws()}/destinations/${d.id}`);
  await s.api('DELETE', `${ws()}/destinations/${f.id}`);
});

test('retries honour Retry-After, 4xx are dropped with their status, repeated failures become dead letters that replay', async () => {
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Retry me', purposes: ['necessary'], definition: { kind: 'event', event: 'Retry Me' } })).body;
  const flaky = await startPlatform();
  let calls = 0;
  flaky.handler = () => (++calls === 1 ? { status: 503, headers: { 'retry-after': '1' }, body: 'busy' } : { status: 200, body: {} });
  const d = await destination({ type: 'webhook', name: 'Flaky', purpose: 'necessary', segments: [seg.id], maxAttempts: 3, config: { url: `${flaky.url}/in`, secret: SECRET } });
  const t0 = Date.now();
  await send([{ type: 'track', anonymousId: `r-${uid()}`, event: 'Retry Me' }]);
  await until(() => flaky.requests.length >= 2, 'the retry', 8000);
  assert.ok(Date.now() - t0 >= 900, 'the retry waited for Retry-After (1 s), not just the 20 ms backoff');
  await settle();
  const stats = (await s.api('GET', `${ws()}/destinations/${d.id}/stats`)).body;
  assert.equal(stats.retried, 1);
  assert.equal(stats.delivered, 1);

  flaky.handler = () => ({ status: 422, body: { error: 'bad' } });
  await send([{ type: 'track', anonymousId: `r-${uid()}`, event: 'Retry Me' }]);
  await until(() => flaky.requests.length >= 3, 'the rejected request');
  await settle();
  assert.equal((await s.api('GET', `${ws()}/destinations/${d.id}/stats`)).body.dropped.http_422, 1);

  flaky.handler = () => ({ status: 500, body: 'down' });
  await send([{ type: 'track', anonymousId: `r-${uid()}`, event: 'Retry Me' }]);
  await until(() => flaky.requests.length >= 6, 'three attempts');
  await until(() => true, 'settling');
  let dead: any[] = [];
  for (let i = 0; i < 100 && dead.length === 0; i++) {
    dead = (await s.api('GET', `${ws()}/destinations/${d.id}/dead-letters`)).body.deadLetters;
    if (dead.length === 0) await new Promise((r) => setTimeout(r, 30));
  }
  assert.equal(dead.length, 1);
  assert.equal(dead[0].attempts, 3);
  assert.match(dead[0].error, /http_500/);

  flaky.handler = () => ({ status: 200, body: {} });
  const replay = await s.api('POST', `${ws()}/destinations/${d.id}/dead-letters`, {});
  assert.equal(replay.body.replayed, 1);
  await until(() => flaky.requests.length >= 7, 'the replay');
  await settle();
  assert.equal((await s.api('GET', `${ws()}/destinations/${d.id}/dead-letters`)).body.deadLetters.length, 0);
  await s.api('DELETE', `${ws()}/destinations/${d.id}`);
  await flaky.close();
});

test('a destination that hangs does not hold up another one', async () => {
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Both', purposes: ['necessary'], definition: { kind: 'event', event: 'Both' } })).body;
  const slow = await startPlatform(() => new Promise(() => undefined)); // never answers
  const fast = await startPlatform();
  const dSlow = await destination({ type: 'webhook', name: 'Slow', purpose: 'necessary', segments: [seg.id], config: { url: `${slow.url}/in`, secret: SECRET } });
  const dFast = await destination({ type: 'webhook', name: 'Fast', purpose: 'necessary', segments: [seg.id], config: { url: `${fast.url}/in`, secret: SECRET } });
  const ingestStarted = Date.now();
  await post(`${s.url}/v1/batch`, { batch: [{ type: 'track', anonymousId: `b-${uid()}`, event: 'Both' }] }, { authorization: basic(s.writeKey) });
  await s.settle();
  const end = Date.now() + 5000;
  while (fast.requests.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.equal(fast.requests.length, 1, 'the fast destination got its delivery');
  assert.equal(slow.requests.length, 1, 'the slow one is still waiting for its answer');
  assert.ok(Date.now() - ingestStarted < 5000);
  await s.api('DELETE', `${ws()}/destinations/${dSlow.id}`);
  await s.api('DELETE', `${ws()}/destinations/${dFast.id}`);
  await slow.close();
  await fast.close();
});

test('triggers: an Order Completed removes the buyer from the retargeting audience; events forwarded with a mapping', async () => {
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Visitors', purposes: ['necessary'], definition: { kind: 'event', event: 'Visited' } })).body;
  const path = `/retarget-${uid()}`;
  const d = await destination({ type: 'webhook', name: 'Retargeting', purpose: 'necessary', segments: [seg.id], config: { url: `${hook.url}${path}`, secret: SECRET } });
  const badTrigger = await s.api('POST', `${ws()}/triggers`, { name: 'x', when: { kind: 'segment', segmentId: 'seg_nope', on: 'entered' }, then: { action: 'remove', destinationId: d.id, segmentId: seg.id } });
  assert.equal(badTrigger.body.error.code, 'ENSEMBLE_ERR_TRIGGER_INVALID');
  const trg = await s.api('POST', `${ws()}/triggers`, {
    name: 'Buyers leave retargeting', when: { kind: 'event', event: 'Order Completed', filters: [{ property: 'revenue', op: 'gt', value: 0 }] },
    then: { action: 'remove', destinationId: d.id, segmentId: seg.id },
  });
  assert.equal(trg.status, 201, JSON.stringify(trg.body));
  assert.equal((await s.api('GET', `${ws()}/triggers`)).body.triggers.length, 1);
  const anon = `t-${uid()}`;
  await send([{ type: 'track', anonymousId: anon, event: 'Visited' }]);
  const pid = await profileOf(anon);
  await until(() => items(hook, path).some((i) => i.profileId === pid && i.action === 'add'), 'the add');
  await send([{ type: 'track', anonymousId: anon, event: 'Order Completed', properties: { revenue: 0 } }]);
  await settle();
  assert.equal(items(hook, path).filter((i) => i.action === 'remove').length, 0, 'the filter holds: revenue 0 does not fire');
  await send([{ type: 'track', anonymousId: anon, event: 'Order Completed', properties: { revenue: 25 } }]);
  await until(() => items(hook, path).some((i) => i.profileId === pid && i.action === 'remove'), 'the trigger removal');
  await s.api('DELETE', `${ws()}/triggers/${trg.body.id}`);

  const fpath = `/events-${uid()}`;
  const f = await destination({
    type: 'webhook', name: 'Orders feed', purpose: 'necessary', config: { url: `${hook.url}${fpath}`, secret: SECRET },
    events: { names: ['Order Completed'], filters: [{ property: 'revenue', op: 'gte', value: 100 }], mapping: { total: 'properties.revenue', product: 'properties.sku', name: 'event' } },
  });
  await send([
    { type: 'track', anonymousId: anon, event: 'Order Completed', properties: { revenue: 120, sku: 'X1', secretNote: 'not mapped' } },
    { type: 'track', anonymousId: anon, event: 'Order Completed', properties: { revenue: 5 } },
    { type: 'track', anonymousId: anon, event: 'Product Added', properties: { revenue: 500 } },
  ]);
  await until(() => items(hook, fpath).length >= 1, 'the forwarded event');
  await settle();
  const forwarded = items(hook, fpath);
  assert.equal(forwarded.length, 1);
  assert.deepEqual(forwarded[0].event, { total: 120, product: 'X1', name: 'Order Completed' });
  await s.api('DELETE', `${ws()}/destinations/${d.id}`);
  await s.api('DELETE', `${ws()}/destinations/${f.id}`);
});

test('erasure removes the person from every platform audience, with identifiers hashed before the keys are destroyed', async () => {
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Erasable', purposes: ['necessary'], definition: { kind: 'event', event: 'Erasable' } })).body;
  const path = `/erase-${uid()}`;
  const d = await destination({ type: 'webhook', name: 'Erasure hook', purpose: 'necessary', segments: [seg.id], config: { url: `${hook.url}${path}`, secret: SECRET } });
  const anon = `e-${uid()}`;
  const email = `erase.${anon}@example.com`;
  await send([{ type: 'identify', anonymousId: anon, traits: { email } }, { type: 'track', anonymousId: anon, event: 'Erasable' }]);
  const pid = await profileOf(anon);
  await until(() => items(hook, path).some((i) => i.profileId === pid), 'the add');
  await settle();
  const access = await s.api('POST', `${ws()}/privacy/requests`, { type: 'access', identifier: { type: 'email', value: email } });
  assert.equal(access.status, 201, JSON.stringify(access.body));
  const bundle = await s.api('GET', access.body.bundle);
  assert.equal(bundle.status, 200, JSON.stringify(bundle.body));
  assert.ok(bundle.body.recipients.some((r: any) => r.destination === 'Erasure hook'), 'the access bundle names the recipient');
  const req = await s.api('POST', `${ws()}/privacy/requests`, { type: 'erasure', identifier: { type: 'email', value: email } });
  assert.ok(req.status === 201 || req.status === 200, JSON.stringify(req.body));
  await until(() => items(hook, path).some((i) => i.action === 'remove'), 'the erasure removal');
  const removal = items(hook, path).find((i) => i.action === 'remove');
  assert.deepEqual(removal.identifiers.email_sha256, [sha(email)]);
  assert.notEqual(removal.profileId, pid, 'the removal names the person by a pseudonym only');
  const stats = (await s.api('GET', `${ws()}/destinations/${d.id}/stats`)).body;
  assert.equal(stats.audience[seg.id] ?? 0, 0);
  assert.equal(stats.pending, 0);
  await s.api('DELETE', `${ws()}/destinations/${d.id}`);
});

test('the register of processing lists destinations as recipients with their country', async () => {
  const d = await destination({ type: 'webhook', name: 'CRM sync', purpose: 'necessary', country: 'CH', transferSafeguard: 'Adequacy decision (Switzerland)', config: { url: `${hook.url}/crm`, secret: SECRET } });
  const reg = await s.api('GET', `${ws()}/privacy/register`);
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  const text = JSON.stringify(reg.body);
  assert.ok(text.includes('CRM sync') && text.includes('CH'), 'the recipient and its country are in the register');
  await s.api('DELETE', `${ws()}/destinations/${d.id}`);
});

test('the queue is durable: a delivery waiting for a platform that is down is sent after a restart', async () => {
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Durable', purposes: ['necessary'], definition: { kind: 'event', event: 'Durable' } })).body;
  const down = await startPlatform(() => ({ status: 503, headers: { 'retry-after': '2' }, body: 'maintenance' }));
  const d = await destination({ type: 'webhook', name: 'Down', purpose: 'necessary', segments: [seg.id], config: { url: `${down.url}/in`, secret: SECRET } });
  await send([{ type: 'track', anonymousId: `d-${uid()}`, event: 'Durable' }]);
  await until(() => down.requests.length >= 1, 'the first attempt');
  await settle();
  assert.equal((await s.api('GET', `${ws()}/destinations/${d.id}/stats`)).body.pending, 1);
  await s.close();
  down.handler = () => ({ status: 200, body: {} });
  s = await startServer(overrides, dir);
  assert.equal((await s.api('GET', `${ws()}/destinations/${d.id}/stats`)).body.pending, 1, 'still queued after the restart');
  // Due two seconds after the failed attempt: the restarted engine sends it then, once.
  await until(() => down.requests.length >= 2, 'the delivery after the restart', 8000);
  await settle();
  assert.equal(down.requests.length, 2);
  assert.equal((await s.api('GET', `${ws()}/destinations/${d.id}/stats`)).body.pending, 0);
  await s.api('DELETE', `${ws()}/destinations/${d.id}`);
  await down.close();
});

test('deleting a segment empties its audience and the destinations stop mirroring it', async () => {
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Short-lived', purposes: ['necessary'], definition: { kind: 'event', event: 'Short Lived' } })).body;
  const path = `/short-${uid()}`;
  const d = await destination({ type: 'webhook', name: 'Short hook', purpose: 'necessary', segments: [seg.id], config: { url: `${hook.url}${path}`, secret: SECRET } });
  const anon = `s-${uid()}`;
  await send([{ type: 'track', anonymousId: anon, event: 'Short Lived' }]);
  const pid = await profileOf(anon);
  await until(() => items(hook, path).some((i) => i.profileId === pid && i.action === 'add'), 'the add');
  assert.equal((await s.api('DELETE', `${ws()}/segments/${seg.id}`)).status, 204);
  await until(() => items(hook, path).some((i) => i.profileId === pid && i.action === 'remove'), 'the removal');
  assert.deepEqual((await s.api('GET', `${ws()}/destinations/${d.id}`)).body.segments, []);
  await s.api('DELETE', `${ws()}/destinations/${d.id}`);
});

test('batches never exceed the connector\'s batch size; a test delivery reaches the platform outside the queue', async () => {
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Many', purposes: ['necessary'], definition: { kind: 'event', event: 'Many' } })).body;
  await send(Array.from({ length: 250 }, (_v, i) => ({ type: 'track', anonymousId: `many-${i}-${uid()}`, event: 'Many' })));
  const path = `/many-${uid()}`;
  const d = await destination({ type: 'webhook', name: 'Many hook', purpose: 'necessary', segments: [seg.id], config: { url: `${hook.url}${path}`, secret: SECRET } });
  await until(() => items(hook, path).length >= 250, 'the backfill of 250');
  const sizes = hook.requests.filter((r) => r.url === path).map((r) => JSON.parse(r.body).batch.length);
  assert.ok(sizes.every((n) => n <= 100), JSON.stringify(sizes));
  assert.equal(sizes.reduce((a, b) => a + b, 0), 250, 'each member once');

  const before = (await s.api('GET', `${ws()}/destinations/${d.id}/stats`)).body;
  const t = await s.api('POST', `${ws()}/destinations/${d.id}/test`);
  assert.equal(t.status, 200, JSON.stringify(t.body));
  assert.deepEqual(t.body.outcome, { kind: 'ok' });
  const last = JSON.parse(hook.requests.filter((r) => r.url === path).at(-1)!.body).batch[0];
  assert.equal(last.profileId, 'prf_test');
  assert.deepEqual(last.identifiers.email_sha256, [sha('ensemble-test@example.com')]);
  assert.equal((await s.api('GET', `${ws()}/destinations/${d.id}/stats`)).body.delivered, before.delivered, 'a test is not counted');
  hook.handler = () => ({ status: 401, body: { error: 'bad token' } });
  assert.deepEqual((await s.api('POST', `${ws()}/destinations/${d.id}/test`)).body.outcome, { kind: 'drop', reason: 'http_401' });
  hook.handler = () => ({ status: 200, body: {} });
  await s.api('DELETE', `${ws()}/destinations/${d.id}`);
});

test('shutting down abandons a request that hangs: the item stays queued for the next start', { timeout: 60_000 }, async () => {
  const own = await startServer({ activation: { sendTimeoutMs: 600_000 } });
  const hang = await startPlatform(() => new Promise(() => undefined));
  try {
    const wsOwn = `/api/workspaces/${own.workspaceId}`;
    const seg = (await own.api('POST', `${wsOwn}/segments`, { name: 'Hang', purposes: ['necessary'], definition: { kind: 'event', event: 'Hang' } })).body;
    const d = (await own.api('POST', `${wsOwn}/destinations`, { type: 'webhook', name: 'Hang', purpose: 'necessary', segments: [seg.id], config: { url: `${hang.url}/in`, secret: SECRET } })).body;
    await post(`${own.url}/v1/batch`, { batch: [{ type: 'track', anonymousId: `h-${uid()}`, event: 'Hang' }] }, { authorization: basic(own.writeKey) });
    await own.settle();
    const end = Date.now() + 5000;
    while (hang.requests.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(hang.requests.length, 1, 'the request is in flight');
    // Without aborting it, this would wait for the 10-minute send timeout.
    await own.close();
    const again = await startServer({}, own.dir);
    try {
      assert.equal((await again.api('GET', `${wsOwn}/destinations/${d.id}/stats`)).body.pending, 1);
    } finally {
      await again.close();
    }
  } finally {
    await hang.close();
    removeDir(own.dir);
  }
});
