/**
 * The Trade Desk connector: the destination contract against a stand-in that plays both the
 * UID2 operator (it decrypts and checks the v2 request envelope of `POST /v3/identity/map` and
 * answers encrypted) and TTD's `POST /data/advertiser` (TTD-Auth, Items with raw UID2s), plus the
 * UID2 rules: documented normalisation digests, envelope crypto, removals, opt-outs, failed lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { destinationContract } from './contract/destination.contract.js';
import { manifest, type TradeDeskConfigT } from '../src/activate/the-trade-desk/index.js';
import { openResponse, sealRequest } from '../src/activate/the-trade-desk/uid2.js';
import type { AudienceItem, DeliveryOutcome, DestinationContext } from '../src/protocol/destination.js';
import { startPlatform, type PlatformAnswer, type RecordedRequest } from './helpers/platform-server.js';
import { testContext } from './helpers/destination-context.js';

const SECRET = createHash('sha256').update('uid2-contract-client-secret').digest('base64');
const KEY = Buffer.from(SECRET, 'base64');
const API_KEY = 'UID2-C-L-123-contractKey.abcdefghijklmnop';
const AUTH_TOKEN = 'ttd-contract-token-0123456789';
const ADVERTISER = 'adv123x';
const B64_HASH = /^[A-Za-z0-9+/]{43}=$/;

const sha64 = (s: string) => createHash('sha256').update(s).digest('base64');
/** The stand-in operator's raw ids: deterministic per hash, so tests can predict them. */
const rawId = (hash: string) => sha64(`raw:${hash}`);
const prevId = (hash: string) => sha64(`prev:${hash}`);
const OPTED_OUT = new Set([sha64('optout@example.com')]);
const ROTATED = new Set([sha64('+33612345678')]);

// ---- the operator's side of the envelope, written independently of the connector ----

function openRequest(body: string): { ts: number; nonce: Buffer; json: unknown } | string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return 'envelope is not base64';
  const b = Buffer.from(body, 'base64');
  if (b.length < 1 + 12 + 16 + 16) return 'envelope too short';
  if (b[0] !== 1) return 'envelope version must be 1';
  const d = createDecipheriv('aes-256-gcm', KEY, b.subarray(1, 13));
  d.setAuthTag(b.subarray(b.length - 16));
  let plain: Buffer;
  try { plain = Buffer.concat([d.update(b.subarray(13, b.length - 16)), d.final()]); } catch { return 'envelope does not decrypt with the client secret'; }
  const ts = Number(plain.readBigInt64BE(0));
  if (Math.abs(Date.now() - ts) > 60_000) return 'envelope timestamp is not now (int64 ms, big endian)';
  try { return { ts, nonce: plain.subarray(8, 16), json: JSON.parse(plain.subarray(16).toString('utf8')) }; } catch { return 'payload is not JSON'; }
}

function sealResponse(json: unknown, nonce: Buffer): string {
  const iv = randomBytes(12);
  const ts = Buffer.alloc(8);
  ts.writeBigInt64BE(BigInt(Date.now()));
  const c = createCipheriv('aes-256-gcm', KEY, iv);
  const ct = Buffer.concat([c.update(Buffer.concat([ts, nonce, Buffer.from(JSON.stringify(json))])), c.final()]);
  return Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64');
}

const issued = new Set<string>();
function mapOne(hash: string): Record<string, unknown> {
  if (OPTED_OUT.has(hash)) return { e: 'optout' };
  const u = rawId(hash);
  const p = ROTATED.has(hash) ? prevId(hash) : null;
  issued.add(u);
  if (p) issued.add(p);
  return { u, p, r: Date.now() + 86_400_000 };
}

function validateMap(req: RecordedRequest): string | null {
  if (req.headers.authorization !== `Bearer ${API_KEY}`) return 'Authorization: Bearer <client API key> required';
  if (!String(req.headers['content-type'] ?? '').startsWith('text/plain')) return 'the envelope is sent as text';
  const opened = openRequest(req.body);
  if (typeof opened === 'string') return opened;
  const j = opened.json as Record<string, unknown>;
  const keys = Object.keys(j);
  if (keys.length === 0 || keys.some((k) => !['email', 'email_hash', 'phone', 'phone_hash'].includes(k))) return 'body carries email/email_hash/phone/phone_hash only';
  if ('email' in j || 'phone' in j) return 'DII must be sent hashed';
  let n = 0;
  for (const k of keys) {
    const v = j[k];
    if (!Array.isArray(v) || v.length === 0) return `${k} must be a non-empty array`;
    for (const h of v) if (typeof h !== 'string' || !B64_HASH.test(h)) return `${k} values are Base64 SHA-256 (44 chars)`;
    n += v.length;
  }
  if (n > 5000) return 'at most 5,000 values per request';
  return null;
}

function validateAdvertiser(req: RecordedRequest): string | null {
  if (req.headers['ttd-auth'] !== AUTH_TOKEN) return 'TTD-Auth header required';
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return 'content-type must be application/json';
  let b: Record<string, unknown>;
  try { b = JSON.parse(req.body) as Record<string, unknown>; } catch { return 'body is not JSON'; }
  if (Object.keys(b).some((k) => !['AdvertiserId', 'DataProviderId', 'Items', 'DataLoadTraceId'].includes(k))) return 'unknown top-level field';
  if (b.AdvertiserId !== ADVERTISER) return 'AdvertiserId required';
  if (!Array.isArray(b.Items) || b.Items.length === 0 || b.Items.length > 10_000) return 'Items must be a non-empty array';
  for (const it of b.Items as Record<string, unknown>[]) {
    const ids = Object.keys(it).filter((k) => k !== 'Data');
    if (ids.length !== 1 || !['UID2', 'EUID'].includes(ids[0]!)) return 'each item carries exactly one UID2/EUID';
    const id = it[ids[0]!];
    if (typeof id !== 'string' || !issued.has(id)) return 'the id is a raw id the operator issued (not the DII hash)';
    if (!Array.isArray(it.Data) || it.Data.length === 0) return 'Data must be a non-empty array';
    for (const d of it.Data as Record<string, unknown>[]) {
      if (Object.keys(d).some((k) => !['Name', 'TimestampUtc', 'TTLInMinutes', 'BaseBidCPM', 'BidFactor'].includes(k))) return 'unknown Data field';
      if (typeof d.Name !== 'string' || d.Name.length === 0 || d.Name.length > 256) return 'Data.Name is 1..256 characters';
      if (!Number.isInteger(d.TTLInMinutes) || (d.TTLInMinutes as number) < 0 || (d.TTLInMinutes as number) > 259_200) return 'TTLInMinutes is 0..259200';
    }
  }
  return null;
}

function validate(req: RecordedRequest): string | null {
  if (req.method !== 'POST') return 'method must be POST';
  if (req.url === '/v3/identity/map') return validateMap(req);
  if (req.url === '/data/advertiser') return validateAdvertiser(req);
  return `unexpected path ${req.url}`;
}

function respond(req: RecordedRequest): PlatformAnswer {
  if (req.url === '/data/advertiser') return { status: 200, body: {} };
  const opened = openRequest(req.body);
  if (typeof opened === 'string') return { status: 400, body: { status: 'client_error', message: opened } };
  const j = opened.json as { email_hash?: string[]; phone_hash?: string[] };
  const body = { email_hash: (j.email_hash ?? []).map(mapOne), phone_hash: (j.phone_hash ?? []).map(mapOne), email: [], phone: [] };
  return { status: 200, body: sealResponse({ body, status: 'success' }, opened.nonce) };
}

const config = (base: string, over: Partial<TradeDeskConfigT> = {}): TradeDeskConfigT => ({
  advertiserId: ADVERTISER, authToken: AUTH_TOKEN, apiBase: base, identityScheme: 'uid2', operatorBase: base, apiKey: API_KEY, clientSecret: SECRET, ...over,
});
const cfg = config('http://127.0.0.1:9');

function audience(key: string, action: 'add' | 'remove', segmentId: string, ids: { email?: string[]; phone?: string[] }): AudienceItem {
  return { kind: 'audience', key, profileId: `prf_${key}`, action, audience: { segmentId, name: segmentId }, identifiers: manifest.identify(ids, cfg) };
}
const items = (): AudienceItem[] => [
  audience('dst_t:c:1', 'add', 'seg_buyers', { email: ['ana.lopez+promo@gmail.com'] }),
  audience('dst_t:c:2', 'remove', 'seg_buyers', { phone: ['+33612345678'] }),
  audience('dst_t:c:3', 'add', 'seg_vip', { email: ['bob@example.com'], phone: ['+12345678901'] }),
];

/** Which item a raw id on the wire belongs to (current or previous id of one of its hashes). */
function keyOfRawId(id: string): string | undefined {
  for (const it of items()) {
    for (const h of [...(it.identifiers.email_hash ?? []), ...(it.identifiers.phone_hash ?? [])]) if (rawId(h) === id || prevId(h) === id) return it.key;
  }
  return undefined;
}

destinationContract<TradeDeskConfigT>({
  manifest,
  config: (base) => config(base),
  items,
  validate,
  respond,
  // The operator's envelope carries a random IV and nonce by design, so replays cannot be
  // byte-identical; what must repeat is the membership operations each item puts on the wire.
  idempotency: (req) => req.url !== '/data/advertiser' ? [] : (JSON.parse(req.body).Items as Array<Record<string, unknown>>).map((it) => {
    const id = String(it.UID2 ?? it.EUID);
    const d = (it.Data as Array<{ Name: string; TTLInMinutes: number }>)[0]!;
    return `${keyOfRawId(id) ?? '?'}|${id}|${d.Name}|${d.TTLInMinutes}`;
  }),
});

// ---- platform-specific rules ----

function ctxFor(c: TradeDeskConfigT, logs: string[] = [], fetchImpl?: typeof fetch): DestinationContext<TradeDeskConfigT> {
  return testContext(c, { logs, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
}

async function withStandIn(fn: (base: string, requests: RecordedRequest[], set: (h: (r: RecordedRequest) => PlatformAnswer | null) => void) => Promise<void>): Promise<void> {
  let override: ((r: RecordedRequest) => PlatformAnswer | null) | null = null;
  const errors: string[] = [];
  const p = await startPlatform((req) => {
    const err = validate(req);
    if (err) { errors.push(err); return { status: 400, body: { error: err } }; }
    return override?.(req) ?? respond(req);
  });
  try {
    await fn(p.url, p.requests, (h) => { override = h; });
    assert.deepEqual(errors, [], 'every request follows the documented format');
  } finally { await p.close(); }
}

const advertiserBodies = (reqs: RecordedRequest[]) => reqs.filter((r) => r.url === '/data/advertiser').map((r) => JSON.parse(r.body) as { Items: Array<Record<string, unknown>> });

test('the-trade-desk: UID2 normalisation and Base64 digests match the documented examples', () => {
  const email = (e: string) => manifest.identify({ email: [e] }, cfg).email_hash![0];
  // UID2 "Normalization and Encoding" examples.
  assert.equal(email('user@example.com'), 'tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf/F5HVRQ=');
  for (const e of ['JANE.SAOIRSE@gmail.com', 'Jane.Saoirse@gmail.com', 'JaneSaoirse+Work@gmail.com', '  janesaoirse@gmail.com ']) {
    assert.equal(email(e), 'ku4mBX7Z3qJTXWyLFB1INzkyR2WZGW4ANSJUiW21iI8=', e);
  }
  assert.equal(email('JaneSaoirse+Work@example.com'), 'KKruSBUjDNO069iMUVImVQZm6RrAGZKeOtrD9mwogYA=', 'plus kept outside gmail.com');
  assert.equal(email('Jane.Saoirse@example.com'), 'sZZDLHuYmiypHIN5mVfFFdpT5sE6vyC3j+qU8RfpC/g=', 'dots kept outside gmail.com');
  assert.equal(email('jane.saoirse@googlemail.com'), sha64('jane.saoirse@googlemail.com'), 'only gmail.com is canonicalised');
  assert.deepEqual(manifest.identify({ phone: ['+12345678901'] }, cfg).phone_hash, ['EObwtHBUqDNZR33LNSMdtt5cafsYFuGmuY4ZLenlue4=']);
  assert.deepEqual(manifest.identify({ phone: ['12345678901', '+0123'] }, cfg).phone_hash, [], 'phones without E.164 "+" are not hashed');
  const all = manifest.identify({ email: ['a@example.com'], phone: ['+33612345678'] }, cfg);
  for (const h of [...all.email_hash!, ...all.phone_hash!]) assert.match(h, B64_HASH, 'base64, not hex');
});

test('the-trade-desk: the request envelope decrypts with the client secret; responses are checked', () => {
  const sealed = sealRequest(SECRET, '{"email_hash":["x"]}', Date.now());
  const opened = openRequest(sealed.body);
  assert.ok(typeof opened !== 'string', String(opened));
  assert.deepEqual(opened.json, { email_hash: ['x'] });
  assert.ok(opened.nonce.equals(sealed.nonce), 'the nonce travels in the envelope');
  const raw = Buffer.from(sealed.body, 'base64');
  raw[20] = raw[20]! ^ 1;
  assert.equal(typeof openRequest(raw.toString('base64')), 'string', 'a tampered envelope is refused');
  assert.notEqual(sealRequest(SECRET, '{}', Date.now()).body, sealRequest(SECRET, '{}', Date.now()).body, 'fresh IV and nonce each time');

  const answer = sealResponse({ status: 'success', body: {} }, sealed.nonce);
  assert.deepEqual(openResponse(SECRET, answer, sealed.nonce), { status: 'success', body: {} });
  assert.throws(() => openResponse(SECRET, answer, randomBytes(8)), /nonce/, 'a response to another request is refused');
  assert.throws(() => openResponse(createHash('sha256').update('other').digest('base64'), answer, sealed.nonce));
});

test('the-trade-desk: additions carry the TTL, removals TTLInMinutes 0 for the current and previous raw id', async () => {
  await withStandIn(async (base, requests) => {
    const its = items();
    const out = await manifest.send(its, ctxFor(config(base, { ttlMinutes: 43_200 })));
    assert.deepEqual(out.map((o) => o.kind), ['ok', 'ok', 'ok']);
    const [body] = advertiserBodies(requests);
    const byId = new Map(body!.Items.map((it) => [it.UID2 as string, (it.Data as Array<{ Name: string; TTLInMinutes: number }>)[0]!]));
    const phone = its[1]!.identifiers.phone_hash![0]!;
    assert.deepEqual(byId.get(rawId(phone)), { Name: 'seg_buyers', TTLInMinutes: 0 });
    assert.deepEqual(byId.get(prevId(phone)), { Name: 'seg_buyers', TTLInMinutes: 0 }, 'the rotated id is removed too');
    assert.deepEqual(byId.get(rawId(its[0]!.identifiers.email_hash![0]!)), { Name: 'seg_buyers', TTLInMinutes: 43_200 });
    assert.equal(body!.Items.length, 5, 'one TTD item per raw id');
    assert.equal(requests.filter((r) => r.url === '/v3/identity/map').length, 1, 'one identity map call for the batch');
  });
});

test('the-trade-desk: the default TTL is the documented maximum (180 days)', async () => {
  await withStandIn(async (base, requests) => {
    await manifest.send([items()[0]!], ctxFor(config(base)));
    const [body] = advertiserBodies(requests);
    assert.equal((body!.Items[0]!.Data as Array<{ TTLInMinutes: number }>)[0]!.TTLInMinutes, 259_200);
  });
});

test('the-trade-desk: opted-out DII is dropped, and nothing reaches TTD when no id maps', async () => {
  await withStandIn(async (base, requests) => {
    const opted = audience('k:o', 'add', 'seg_x', { email: ['optout@example.com'] });
    assert.deepEqual(await manifest.send([opted], ctxFor(config(base))), [{ kind: 'drop', reason: 'optout' }]);
    assert.equal(advertiserBodies(requests).length, 0);
    const out = await manifest.send([opted, items()[0]!], ctxFor(config(base)));
    assert.deepEqual(out.map((o) => o.kind), ['drop', 'ok']);
  });
});

test('the-trade-desk: items without a usable identifier are dropped without any request', async () => {
  await withStandIn(async (base, requests) => {
    const none = audience('k:n', 'add', 'seg_x', { phone: ['0612345678'] });
    const event = { kind: 'event' as const, key: 'k:e', profileId: 'p', identifiers: {}, event: {} };
    assert.deepEqual(await manifest.send([none, event], ctxFor(config(base))), [{ kind: 'drop', reason: 'no_identifier' }, { kind: 'drop', reason: 'unsupported_kind' }]);
    assert.equal(requests.length, 0);
  });
});

test('the-trade-desk: FailedLines in a 200 drop only the items they name', async () => {
  await withStandIn(async (base, _requests, set) => {
    // Item #2 on the wire is the removal's first raw id.
    set((r) => r.url === '/data/advertiser' ? { status: 200, body: { FailedLines: [{ ErrorCode: 'UserNotMapped', Message: 'x', ItemNumber: '2' }] } } : null);
    const out = await manifest.send(items(), ctxFor(config(base)));
    assert.deepEqual(out, [{ kind: 'ok' }, { kind: 'drop', reason: 'ttd_UserNotMapped' }, { kind: 'ok' }]);
    set((r) => r.url === '/data/advertiser' ? { status: 200, body: { FailedLines: [{ ErrorCode: 'MissingUserId', Message: 'Invalid UID2, item #1' }] } } : null);
    assert.deepEqual((await manifest.send(items(), ctxFor(config(base)))).map((o) => o.kind), ['drop', 'ok', 'ok'], 'older answers name the item in the message');
    set((r) => r.url === '/data/advertiser' ? { status: 200, body: { FailedLines: [{ ErrorCode: 'Unknown' }] } } : null);
    assert.deepEqual((await manifest.send(items(), ctxFor(config(base)))).map((o) => o.kind), ['dead', 'dead', 'dead'], 'an unattributable rejection is left to an operator');
  });
});

test('the-trade-desk: an operator answer that does not decrypt, or mismatches, is retried', async () => {
  await withStandIn(async (base, _r, set) => {
    set((r) => r.url === '/v3/identity/map' ? { status: 200, body: sealResponse({ status: 'success', body: {} }, randomBytes(8)) } : null);
    for (const o of await manifest.send(items(), ctxFor(config(base)))) assert.deepEqual(o, { kind: 'retry', reason: 'identity_map_unreadable' });
    set((r) => {
      if (r.url !== '/v3/identity/map') return null;
      const opened = openRequest(r.body);
      return typeof opened === 'string' ? null : { status: 200, body: sealResponse({ status: 'success', body: { email_hash: [] } }, opened.nonce) };
    });
    for (const o of await manifest.send(items(), ctxFor(config(base)))) assert.equal(o.kind, 'retry', 'answers must line up with the request');
  });
});

test('the-trade-desk: EUID workspaces send EUID ids; defaults are the production endpoints', async () => {
  await withStandIn(async (base, requests) => {
    await manifest.send([items()[0]!], ctxFor(config(base, { identityScheme: 'euid' })));
    const [body] = advertiserBodies(requests);
    assert.deepEqual(Object.keys(body!.Items[0]!).sort(), ['Data', 'EUID']);
  });
  const urls: string[] = [];
  const offline: typeof fetch = async (url) => { urls.push(String(url)); return new Response('', { status: 503 }); };
  const { apiBase: _a, operatorBase: _o, ...bare } = cfg;
  const euid: DeliveryOutcome[] = await manifest.send([items()[0]!], ctxFor({ ...bare, identityScheme: 'euid' }, [], offline));
  await manifest.send([items()[0]!], ctxFor({ ...bare, identityScheme: undefined }, [], offline));
  assert.equal(euid[0]!.kind, 'retry');
  assert.deepEqual(urls, ['https://prod.euid.eu/v3/identity/map', 'https://prod.uidapi.com/v3/identity/map']);
});

test('the-trade-desk: logs carry counts only', async () => {
  await withStandIn(async (base) => {
    const logs: string[] = [];
    await manifest.send(items(), ctxFor(config(base), logs));
    const said = logs.join('\n');
    assert.ok(logs.length > 0);
    for (const it of items()) for (const h of [...(it.identifiers.email_hash ?? []), ...(it.identifiers.phone_hash ?? [])]) {
      assert.ok(!said.includes(h) && !said.includes(rawId(h)), 'no hash or raw id in logs');
    }
  });
});
