/**
 * The Web Push connector: the destination contract against a stand-in push service that
 * verifies the VAPID JWT with the application server's public key (jose) and decrypts the
 * aes128gcm payload with the subscription's private key (http_ece), as a browser would.
 *
 * Subscriptions name their endpoint, so items must point at a known address before the contract
 * starts its stand-in: they point at a relay started here, which checks the JWT (asynchronous,
 * hence here and not in `validate`) and forwards each request, its binary body as base64, to the
 * contract's current stand-in (the last base URL the contract configured). A request to a closed
 * stand-in is answered by resetting the connection, as a dead push service would.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, generateKeyPairSync, randomBytes, type ECDH } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import ece from 'http_ece';
import { importJWK, jwtVerify, decodeProtectedHeader } from 'jose';
import { destinationContract } from './contract/destination.contract.js';
import { manifest, topicOf, MAX_PLAINTEXT, type WebPushConfigT } from '../src/activate/web-push/index.js';
import type { DeliveryItem, DestinationContext, MessageItem } from '../src/protocol/destination.js';
import { startPlatform, type PlatformAnswer, type RecordedRequest } from './helpers/platform-server.js';
import { testContext } from './helpers/destination-context.js';

function vapidPair(): { publicKey: string; privateKey: string; jwk: { kty: string; crv: string; x: string; y: string } } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as { x: string; y: string; d: string };
  const pub = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  return { publicKey: pub.toString('base64url'), privateKey: jwk.d, jwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } };
}
const VAPID = vapidPair();
const SUBJECT = 'mailto:push-ops@example.com';

/** A browser's side of a subscription: its ECDH key pair and auth secret. */
interface Browser { ecdh: ECDH; auth: Buffer }
const browsers: Browser[] = [];
function browser(): number {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  browsers.push({ ecdh, auth: randomBytes(16) });
  return browsers.length - 1;
}

// ---- the relay ------------------------------------------------------------------------------
let target = 'http://127.0.0.1:9';
const relay = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      const raw = Buffer.concat(chunks);
      const headers: Record<string, string> = { 'x-vapid-check': await vapidCheck(String(req.headers.authorization ?? '')), 'x-body-base64': '1' };
      for (const h of ['authorization', 'ttl', 'content-encoding', 'content-type', 'topic', 'urgency']) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      try {
        const r = await fetch(target + (req.url ?? '/'), { method: req.method ?? 'GET', headers, body: raw.toString('base64') });
        const out: Record<string, string> = {};
        r.headers.forEach((v, k) => { if (k === 'retry-after' || k === 'content-type') out[k] = v; });
        res.writeHead(r.status, out);
        res.end(Buffer.from(await r.arrayBuffer()));
      } catch {
        req.socket.destroy();
      }
    })();
  });
});
await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
const RELAY = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
after(() => new Promise<void>((r) => { relay.closeAllConnections(); relay.close(() => r()); }));

/** RFC 8292 checks of the Authorization header: 'ok' or what is wrong. */
const expectedVapid = VAPID.jwk;
async function vapidCheck(header: string): Promise<string> {
  const m = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+), k=([A-Za-z0-9_-]+)$/.exec(header);
  if (!m) return 'Authorization must be "vapid t=<jwt>, k=<key>"';
  try {
    const h = decodeProtectedHeader(m[1]!);
    if (h.alg !== 'ES256' || h.typ !== 'JWT') return 'JWT header must be {typ: JWT, alg: ES256}';
    const key = await importJWK(expectedVapid, 'ES256');
    const { payload } = await jwtVerify(m[1]!, key, { audience: RELAY, algorithms: ['ES256'] });
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number' || payload.exp - now > 24 * 3600) return 'exp must be at most 24h ahead';
    if (payload.sub !== SUBJECT) return 'sub must be the configured contact';
  } catch (err) {
    return `JWT does not verify: ${err instanceof Error ? err.message : String(err)}`;
  }
  const expectedK = Buffer.concat([Buffer.from([4]), Buffer.from(expectedVapid.x, 'base64url'), Buffer.from(expectedVapid.y, 'base64url')]);
  if (!Buffer.from(m[2]!, 'base64url').equals(expectedK)) return 'k must be the uncompressed VAPID public key';
  return 'ok';
}

/** The browser's decryption of a relayed request (RFC 8291), or an error string. */
function decrypt(req: RecordedRequest): Record<string, unknown> | string {
  const n = /^\/push\/(\d+)$/.exec(req.url);
  const b = n ? browsers[Number(n[1])] : undefined;
  if (!b) return `unknown subscription endpoint ${req.url}`;
  const body = Buffer.from(req.body, 'base64');
  // aes128gcm header: salt(16) rs(4) idlen(1) keyid — keyid must be the sender's 65-byte key.
  if (body.length < 21 || body[20] !== 65) return 'aes128gcm header must carry the 65-byte sender key as keyid';
  try {
    const plain = ece.decrypt(body, { version: 'aes128gcm', privateKey: b.ecdh, authSecret: b.auth });
    return JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    return `payload does not decrypt: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function validate(req: RecordedRequest): string | null {
  if (req.method !== 'POST') return 'method must be POST';
  if (req.headers['x-vapid-check'] !== 'ok') return String(req.headers['x-vapid-check']);
  if (!/^\d+$/.test(String(req.headers.ttl ?? ''))) return 'TTL header (seconds) is required';
  if (req.headers['content-encoding'] !== 'aes128gcm') return 'Content-Encoding must be aes128gcm';
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(String(req.headers.topic ?? ''))) return 'Topic: 1..32 base64url characters';
  const u = req.headers.urgency;
  if (u !== undefined && !['very-low', 'low', 'normal', 'high'].includes(String(u))) return 'Urgency value';
  const p = decrypt(req);
  if (typeof p === 'string') return p;
  if (typeof p.title !== 'string' || typeof p.body !== 'string') return 'payload carries title and body';
  if (p.url !== undefined && typeof p.url !== 'string') return 'payload url is a string';
  if (typeof p.tag !== 'string' || topicOf(p.tag) !== req.headers.topic) return 'Topic is derived from the message key';
  return null;
}

const config = (base: string, extra: Partial<WebPushConfigT> = {}): WebPushConfigT => {
  target = base;
  return { vapidPublicKey: VAPID.publicKey, vapidPrivateKey: VAPID.privateKey, subject: SUBJECT, ttlSeconds: 3600, urgency: 'normal', allowInsecureEndpoints: true, ...extra };
};

function subscriptionJson(n: number, endpoint = `${RELAY}/push/${n}`): string {
  const b = browsers[n]!;
  return JSON.stringify({ endpoint, expirationTime: null, keys: { p256dh: b.ecdh.getPublicKey().toString('base64url'), auth: b.auth.toString('base64url') } });
}

function message(key: string, subs: string[], content: Record<string, string> = { title: 'Back in stock', body: 'Your size is back', url: 'https://shop.example/p/1' }): MessageItem {
  return {
    kind: 'message', key, profileId: `prf_${key}`,
    identifiers: manifest.identify({ web_push: subs }, { ...config(target), allowInsecureEndpoints: true }),
    content, traits: {},
    links: { unsubscribe: 'https://cdp.example/u', open: 'https://cdp.example/o', click: (u) => u, status: 'https://cdp.example/s' },
  };
}

const A = browser();
const B = browser();
const C = browser();
const items = (): DeliveryItem[] => [
  message('dst_1:m:1', [subscriptionJson(A)]),
  message('dst_1:m:2', [subscriptionJson(B), subscriptionJson(C)], { title: 'Hi', body: 'Two browsers' }),
];

destinationContract<WebPushConfigT>({
  manifest,
  config: (base) => config(base),
  items,
  validate,
  respond: () => ({ status: 201, body: '' }),
  idempotency: (req) => {
    const p = decrypt(req);
    return typeof p === 'string' ? [] : [String(p.tag), String(req.headers.topic)];
  },
});

function ctx(c: WebPushConfigT): DestinationContext<WebPushConfigT> & { logs: string[] } {
  return testContext(c);
}

async function withPushService(answer: (req: RecordedRequest) => PlatformAnswer, fn: (requests: RecordedRequest[]) => Promise<void>): Promise<void> {
  const p = await startPlatform(answer);
  target = p.url;
  try { await fn(p.requests); } finally { await p.close(); }
}

test('web-push: the stand-in decrypts the exact payload the service worker gets', async () => {
  await withPushService(() => ({ status: 201, body: '' }), async (requests) => {
    const out = await manifest.send([message('k-1', [subscriptionJson(A)])], ctx(config(target)));
    assert.deepEqual(out, [{ kind: 'ok', detail: 'delivered 1/1' }]);
    const r = requests[0]!;
    assert.equal(validate(r), null);
    assert.deepEqual(decrypt(r), { title: 'Back in stock', body: 'Your size is back', url: 'https://shop.example/p/1', tag: 'k-1' });
    assert.equal(r.headers.ttl, '3600');
    assert.equal(r.headers.urgency, 'normal');
    assert.equal(r.headers.topic, topicOf('k-1'));
  });
});

test('web-push: a JWT signed with another VAPID key is refused by the push service', async () => {
  const other = vapidPair();
  await withPushService((req) => validate(req) === null ? { status: 201 } : { status: 403, body: { error: validate(req) } }, async () => {
    const out = await manifest.send([message('k-1', [subscriptionJson(A)])], ctx(config(target, { vapidPublicKey: other.publicKey, vapidPrivateKey: other.privateKey })));
    assert.deepEqual(out, [{ kind: 'drop', reason: 'http_403' }]);
  });
});

test('web-push: 404 and 410 mean the subscription is gone; one live browser is enough', async () => {
  await withPushService((req) => ({ status: req.url === `/push/${A}` ? 410 : req.url === `/push/${B}` ? 404 : 201 }), async () => {
    const c = ctx(config(target));
    const out = await manifest.send([
      message('k-1', [subscriptionJson(A)]),
      message('k-2', [subscriptionJson(B)]),
      message('k-3', [subscriptionJson(A), subscriptionJson(C)]),
    ], c);
    assert.deepEqual(out, [
      { kind: 'drop', reason: 'subscription_gone' },
      { kind: 'drop', reason: 'subscription_gone' },
      { kind: 'ok', detail: 'delivered 1/2' },
    ]);
    assert.ok(!c.logs.join('\n').includes('/push/'), 'endpoints are not logged, only their digest');
  });
});

test('web-push: identify keeps only well-formed subscriptions, https unless insecure endpoints are allowed', () => {
  const strict = { ...config(target), allowInsecureEndpoints: false };
  const good = JSON.parse(subscriptionJson(A)) as { keys: { p256dh: string; auth: string } };
  const at = (endpoint: string, keys: unknown = good.keys) => JSON.stringify({ endpoint, keys });
  const https = at('https://fcm.googleapis.com/fcm/send/abc:def');
  assert.deepEqual(manifest.identify({ web_push: [https, https] }, strict).web_push, [JSON.stringify({ endpoint: 'https://fcm.googleapis.com/fcm/send/abc:def', keys: good.keys })], 'deduplicated, canonical');
  assert.deepEqual(manifest.identify({ web_push: [at(`${RELAY}/push/0`)] }, strict).web_push, [], 'loopback http refused by default');
  assert.equal(manifest.identify({ web_push: [at(`${RELAY}/push/0`)] }, { ...strict, allowInsecureEndpoints: true }).web_push?.length, 1);
  assert.deepEqual(manifest.identify({ web_push: [
    at('http://push.example/x'), at('http://10.0.0.1/x', good.keys), at('https://user:pw@push.example/x'),
    at('https://push.example/x', { p256dh: good.keys.p256dh, auth: 'c2hvcnQ' }),
    at('https://push.example/x', { p256dh: 'AAAA', auth: good.keys.auth }),
    'not json', '{"endpoint":"https://push.example/x"}',
  ] }, { ...strict, allowInsecureEndpoints: true }).web_push, []);
});

test('web-push: oversized payloads and items without subscription are dropped without a call', async () => {
  await withPushService(() => ({ status: 201 }), async (requests) => {
    const out = await manifest.send([
      message('k-1', [subscriptionJson(A)], { title: 't', body: 'x'.repeat(MAX_PLAINTEXT) }),
      message('k-2', []),
    ], ctx(config(target)));
    assert.deepEqual(out, [{ kind: 'drop', reason: 'payload_too_large' }, { kind: 'drop', reason: 'no_subscription' }]);
    assert.equal(requests.length, 0);
  });
});

test('web-push: the largest allowed payload still fits one 4096-octet record', async () => {
  await withPushService(() => ({ status: 201 }), async (requests) => {
    const overhead = Buffer.byteLength(JSON.stringify({ title: 't', body: '', tag: 'k-1' }));
    const out = await manifest.send([message('k-1', [subscriptionJson(A)], { title: 't', body: 'x'.repeat(MAX_PLAINTEXT - overhead) })], ctx(config(target)));
    assert.equal(out[0]?.kind, 'ok', JSON.stringify(out));
    assert.equal(Buffer.from(requests[0]!.body, 'base64').length, 4096);
    assert.equal(validate(requests[0]!), null);
  });
});
