/**
 * The Segment-compatible HTTP API against a real server: auth variants, encodings, envelope and
 * per-event validation, dedupe, limits, CORS, short paths and the pixel.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { basic, post, removeDir, startServer, withServer, type TestServer } from './helpers/server.js';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

const track = (extra: Record<string, unknown> = {}) => ({ type: 'track', event: 'Product Viewed', anonymousId: `anon-${randomUUID()}`, messageId: randomUUID(), properties: { price: 10 }, ...extra });

async function storedEvents(profileLookup: { type: string; value: string }): Promise<any[]> {
  await s.settle();
  const p = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=${profileLookup.type}&value=${encodeURIComponent(profileLookup.value)}`);
  if (p.status !== 200) return [];
  const page = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${p.body.id}/events?limit=1000`);
  return page.body.events;
}

test('write key as Basic-auth username, X-Write-Key header, or writeKey in the body', async () => {
  const a = await post(`${s.url}/v1/track`, track(), { authorization: basic(s.writeKey) });
  const b = await post(`${s.url}/v1/track`, track(), { 'x-write-key': s.writeKey });
  const c = await post(`${s.url}/v1/track`, { ...track(), writeKey: s.writeKey });
  for (const r of [a, b, c]) assert.deepEqual([r.status, r.body.accepted], [200, 1]);
});

test('missing or unknown write key → 401 with a stable code, nothing stored', async () => {
  const anon = `anon-${randomUUID()}`;
  const none = await post(`${s.url}/v1/track`, track({ anonymousId: anon }));
  assert.equal(none.status, 401);
  assert.equal(none.body.error.code, 'ENSEMBLE_ERR_WRITE_KEY_MISSING');
  const wrong = await post(`${s.url}/v1/track`, track({ anonymousId: anon }), { authorization: basic('wk_nope') });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.code, 'ENSEMBLE_ERR_WRITE_KEY_INVALID');
  assert.deepEqual(await storedEvents({ type: 'anonymous_id', value: anon }), []);
});

test('gzip whatever the Content-Type says, and JSON sent as text/plain', async () => {
  const anon = `anon-${randomUUID()}`;
  const gz = gzipSync(JSON.stringify({ batch: [track({ anonymousId: anon }), track({ anonymousId: anon })] }));
  const r1 = await post(`${s.url}/v1/batch`, gz, { authorization: basic(s.writeKey), 'content-encoding': 'gzip', 'content-type': 'text/plain' });
  assert.deepEqual([r1.status, r1.body.accepted], [200, 2]);
  const r2 = await post(`${s.url}/v1/t`, JSON.stringify({ ...track({ anonymousId: anon }), writeKey: s.writeKey }), { 'content-type': 'text/plain;charset=UTF-8' });
  assert.deepEqual([r2.status, r2.body.accepted], [200, 1]);
  assert.equal((await storedEvents({ type: 'anonymous_id', value: anon })).length, 3);
});

test('malformed bodies get 400 with their own codes', async () => {
  const h = { authorization: basic(s.writeKey) };
  assert.equal((await post(`${s.url}/v1/batch`, '{"batch": [', h)).body.error.code, 'ENSEMBLE_ERR_BODY_INVALID_JSON');
  assert.equal((await post(`${s.url}/v1/batch`, { batch: 'nope' }, h)).body.error.code, 'ENSEMBLE_ERR_BATCH_INVALID');
  assert.equal((await post(`${s.url}/v1/batch`, [1, 2], h)).body.error.code, 'ENSEMBLE_ERR_BATCH_INVALID');
  const badGzip = await post(`${s.url}/v1/batch`, 'not gzip', { ...h, 'content-encoding': 'gzip' });
  assert.deepEqual([badGzip.status, badGzip.body.error.code], [400, 'ENSEMBLE_ERR_BODY_ENCODING']);
  const noId = await post(`${s.url}/v1/track`, { event: 'x' }, h);
  assert.deepEqual([noId.status, noId.body.error.code], [400, 'ENSEMBLE_ERR_EVENT_NO_IDENTITY']);
  const noName = await post(`${s.url}/v1/track`, { userId: 'u1' }, h);
  assert.equal(noName.body.error.code, 'ENSEMBLE_ERR_EVENT_MISSING_FIELD');
  const badTs = await post(`${s.url}/v1/track`, track({ timestamp: 'yesterday-ish' }), h);
  assert.equal(badTs.body.error.code, 'ENSEMBLE_ERR_EVENT_TIMESTAMP');
  for (const r of [noId, badGzip]) assert.doesNotMatch(JSON.stringify(r.body), /at .*\.js|node_modules|stack/);
});

test('a batch with invalid events stores the valid ones and reports the others by index', async () => {
  const anon = `anon-${randomUUID()}`;
  const batch = [
    track({ anonymousId: anon }),
    { type: 'track', anonymousId: anon }, // no event name
    { type: 'nonsense', anonymousId: anon },
    'not an object',
    track({ anonymousId: anon, properties: { big: 'x'.repeat(33 * 1024) } }),
    { type: 'identify', anonymousId: anon, traits: { plan: 'gold' } },
  ];
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 200);
  assert.equal(r.body.accepted, 2);
  assert.deepEqual(r.body.rejected.map((x: any) => [x.index, x.code]), [
    [1, 'ENSEMBLE_ERR_EVENT_MISSING_FIELD'], [2, 'ENSEMBLE_ERR_EVENT_TYPE'], [3, 'ENSEMBLE_ERR_EVENT_INVALID'], [4, 'ENSEMBLE_ERR_EVENT_TOO_LARGE'],
  ]);
  const stored = await storedEvents({ type: 'anonymous_id', value: anon });
  assert.deepEqual(stored.map((e) => e.type).sort(), ['identify', 'track']);
});

test('a batch where every event is invalid → 400 BATCH_REJECTED with the reasons', async () => {
  const r = await post(`${s.url}/v1/batch`, { batch: [{ type: 'track' }, { type: 'page' }] }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'ENSEMBLE_ERR_BATCH_REJECTED');
  assert.equal(r.body.error.details.rejected.length, 2);
});

test('body limits: 500 KB per batch (also after gunzip), answered 413', async () => {
  const h = { authorization: basic(s.writeKey) };
  const many = Array.from({ length: 40 }, () => track({ properties: { pad: 'y'.repeat(15_000) } }));
  const big = await post(`${s.url}/v1/batch`, { batch: many }, h);
  assert.deepEqual([big.status, big.body.error.code], [413, 'ENSEMBLE_ERR_BODY_TOO_LARGE']);
  const bomb = gzipSync(JSON.stringify({ batch: [track({ properties: { pad: 'z'.repeat(2_000_000) } })] }));
  assert.ok(bomb.length < 100_000);
  const r = await post(`${s.url}/v1/batch`, bomb, { ...h, 'content-encoding': 'gzip' });
  assert.deepEqual([r.status, r.body.error.code], [413, 'ENSEMBLE_ERR_BODY_TOO_LARGE']);
});

test('dedupe on messageId per workspace: retries and in-batch repeats are stored once', async () => {
  const anon = `anon-${randomUUID()}`;
  const e = track({ anonymousId: anon, messageId: `retry-${randomUUID()}` });
  const h = { authorization: basic(s.writeKey) };
  const first = await post(`${s.url}/v1/batch`, { batch: [e, e] }, h);
  assert.deepEqual([first.body.accepted, first.body.duplicates], [1, 1]);
  const retry = await post(`${s.url}/v1/track`, e, h);
  assert.deepEqual([retry.status, retry.body.accepted, retry.body.duplicates], [200, 0, 1]);
  assert.equal((await storedEvents({ type: 'anonymous_id', value: anon })).length, 1);
  // Another workspace may use the same messageId.
  const ws2 = await s.api('POST', '/api/workspaces', { name: 'Other brand' });
  const src2 = await s.api('POST', `/api/workspaces/${ws2.body.id}/sources`, { name: 'App', kind: 'mobile' });
  const other = await post(`${s.url}/v1/track`, e, { authorization: basic(src2.body.writeKey) });
  assert.equal(other.body.accepted, 1);
});

test('clock skew: timestamp = receivedAt − (sentAt − originalTimestamp); receivedAt set by the server', async () => {
  const anon = `anon-${randomUUID()}`;
  // The device clock is 2 hours ahead: it stamped the event 1 minute before sending.
  const deviceNow = Date.now() + 2 * 3600_000;
  const r = await post(`${s.url}/v1/batch`, {
    batch: [track({ anonymousId: anon, timestamp: new Date(deviceNow - 60_000).toISOString() })],
    sentAt: new Date(deviceNow).toISOString(),
  }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 200);
  const [stored] = await storedEvents({ type: 'anonymous_id', value: anon });
  const received = Date.parse(stored.receivedAt);
  assert.ok(Math.abs(received - Date.now()) < 60_000);
  assert.equal(Date.parse(stored.timestamp), received - 60_000);
  // Without sentAt the client's timestamp is kept as is (historical imports).
  const old = '2024-03-01T10:00:00.000Z';
  await post(`${s.url}/v1/track`, track({ anonymousId: anon, originalTimestamp: old }), { authorization: basic(s.writeKey) });
  const events = await storedEvents({ type: 'anonymous_id', value: anon });
  assert.ok(events.some((e) => e.timestamp === old));
});

test('batch-level context is merged into each event (the event wins)', async () => {
  const anon = `anon-${randomUUID()}`;
  await post(`${s.url}/v1/batch`, {
    batch: [track({ anonymousId: anon, context: { locale: 'fr-FR' } })],
    context: { locale: 'en-US', library: { name: 'analytics-python', version: '2.3.0' } },
  }, { authorization: basic(s.writeKey) });
  const [e] = await storedEvents({ type: 'anonymous_id', value: anon });
  assert.equal(e.context.locale, 'fr-FR');
  assert.equal(e.context.library.name, 'analytics-python');
});

test('CORS: preflight allows the SDK headers and echoes the origin with credentials', async () => {
  const res = await fetch(`${s.url}/v1/t`, {
    method: 'OPTIONS',
    headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, anonymousid' },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example');
  assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
  const allowed = (res.headers.get('access-control-allow-headers') ?? '').split(',').map((h) => h.trim());
  for (const h of ['authorization', 'content-type', 'anonymousid', 'sentat', 'x-retry-count']) assert.ok(allowed.includes(h), h);
  const r = await post(`${s.url}/v1/p`, { type: 'page', anonymousId: 'a-cors', name: 'Home', writeKey: s.writeKey }, { origin: 'https://shop.example', 'content-type': 'text/plain' });
  assert.equal(r.headers.get('access-control-allow-origin'), 'https://shop.example');
  assert.equal(r.headers.get('access-control-expose-headers'), 'Retry-After', 'a browser script may read Retry-After');
});

test('every route and short path accepts its event type', async () => {
  const anon = `anon-${randomUUID()}`;
  const h = { authorization: basic(s.writeKey) };
  const bodies: Record<string, Record<string, unknown>> = {
    track: { event: 'Signed Up' }, identify: { traits: { plan: 'free' } }, page: { name: 'Home' }, screen: { name: 'Cart' },
    group: { groupId: 'acme' }, alias: { previousId: anon, userId: `user-${anon}` },
  };
  for (const [type, extra] of Object.entries(bodies)) {
    const long = await post(`${s.url}/v1/${type}`, { anonymousId: anon, ...extra }, h);
    const short = await post(`${s.url}/v1/${type[0]}`, { anonymousId: anon, ...extra }, h);
    assert.deepEqual([long.status, short.status], [200, 200], type);
  }
  const events = await storedEvents({ type: 'anonymous_id', value: anon });
  assert.deepEqual([...new Set(events.map((e) => e.type))].sort(), ['alias', 'group', 'identify', 'page', 'screen', 'track']);
  assert.equal(events.length, 12);
});

test('pixel: GET /v1/pixel.gif and /v1/pixel/{type} store the event and answer a GIF', async () => {
  const anon = `anon-${randomUUID()}`;
  const data = Buffer.from(JSON.stringify({ event: 'Email Opened', anonymousId: anon, properties: { campaign: 'nov' } })).toString('base64');
  const res = await fetch(`${s.url}/v1/pixel.gif?data=${encodeURIComponent(data)}&writeKey=${s.writeKey}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/gif');
  assert.match(res.headers.get('cache-control') ?? '', /no-store/);
  assert.deepEqual([...new Uint8Array(await res.arrayBuffer()).slice(0, 6)], [...Buffer.from('GIF89a')]);
  const data2 = Buffer.from(JSON.stringify({ name: 'Newsletter', anonymousId: anon, writeKey: s.writeKey })).toString('base64url');
  assert.equal((await fetch(`${s.url}/v1/pixel/page?data=${data2}`)).status, 200);
  const bad = await fetch(`${s.url}/v1/pixel.gif?data=%%%&writeKey=${s.writeKey}`);
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as any).error.code, 'ENSEMBLE_ERR_PIXEL_DATA');
  const events = await storedEvents({ type: 'anonymous_id', value: anon });
  assert.deepEqual(events.map((e) => e.type).sort(), ['page', 'track']);
});

test('overload answers 429 with Retry-After and stores nothing of the refused request', async () => {
  await withServer({ collect: { maxPendingEvents: 2 } }, async (tiny) => {
    const anon = `anon-${randomUUID()}`;
    const r = await post(`${tiny.url}/v1/batch`, { batch: [track({ anonymousId: anon }), track({ anonymousId: anon }), track({ anonymousId: anon })] }, { authorization: basic(tiny.writeKey) });
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'ENSEMBLE_ERR_OVERLOADED');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    const ok = await post(`${tiny.url}/v1/batch`, { batch: [track({ anonymousId: anon })] }, { authorization: basic(tiny.writeKey) });
    assert.equal(ok.status, 200);
    await tiny.settle();
    const p = await tiny.api('GET', `/api/workspaces/${tiny.workspaceId}/profiles/lookup?type=anonymous_id&value=${anon}`);
    assert.equal(p.body.eventCount, 1);
  });
});

test('with worker threads preparing batches, results and errors are the same as inline', async () => {
  await withServer({ collect: { prepareThreads: 1 } }, async (pooled) => {
    const anon = `anon-${randomUUID()}`;
    const big = Array.from({ length: 30 }, () => track({ anonymousId: anon, properties: { pad: 'p'.repeat(1000) } }));
    const r = await post(`${pooled.url}/v1/batch`, { batch: [...big, { type: 'track', anonymousId: anon }] }, { authorization: basic(pooled.writeKey) });
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 30);
    assert.deepEqual(r.body.rejected.map((x: any) => [x.index, x.code]), [[30, 'ENSEMBLE_ERR_EVENT_MISSING_FIELD']]);
    const bad = await post(`${pooled.url}/v1/batch`, JSON.stringify({ batch: big }).replace('"batch"', '"notbatch"'), { authorization: basic(pooled.writeKey) });
    assert.deepEqual([bad.status, bad.body.error.code], [400, 'ENSEMBLE_ERR_BATCH_INVALID']);
    const again = await post(`${pooled.url}/v1/batch`, { batch: big }, { authorization: basic(pooled.writeKey) });
    assert.deepEqual([again.body.accepted, again.body.duplicates], [0, 30]);
    await pooled.settle();
    const p = await pooled.api('GET', `/api/workspaces/${pooled.workspaceId}/profiles/lookup?type=anonymous_id&value=${anon}`);
    assert.equal(p.body.eventCount, 30);
  });
});

test('unknown routes and methods get the JSON error shape', async () => {
  const r = await fetch(`${s.url}/v1/nope`, { method: 'POST', body: '{}' });
  assert.equal(r.status, 404);
  assert.equal(((await r.json()) as any).error.code, 'ENSEMBLE_ERR_NOT_FOUND');
});

test('lone UTF-16 surrogates (valid JSON escapes) are stored as U+FFFD instead of breaking the store', async () => {
  const anon = `anon-${randomUUID()}`;
  const body = `{"batch":[{"type":"track","event":"Odd \\ud800 name","anonymousId":"${anon}","properties":{"k\\udc00":"v\\ud83d"}},{"type":"track","event":"Fine","anonymousId":"${anon}","properties":{"emoji":"\\ud83d\\ude00"}}]}`;
  const r = await post(`${s.url}/v1/batch`, body, { authorization: basic(s.writeKey) });
  assert.deepEqual([r.status, r.body.accepted], [200, 2]);
  const events = await storedEvents({ type: 'anonymous_id', value: anon });
  const odd = events.find((e) => e.event !== 'Fine');
  assert.equal(odd.event, 'Odd \uFFFD name');
  assert.deepEqual(odd.properties, { 'k\uFFFD': 'v\uFFFD' });
  assert.equal(events.find((e) => e.event === 'Fine').properties.emoji, '😀');
});
