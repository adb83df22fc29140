/**
 * The FCM connector: the destination contract against a stand-in serving both Google's OAuth 2.0
 * token endpoint (which verifies the RS256 service-account assertion with the public half of a
 * key pair made here) and the FCM HTTP v1 send endpoint (which accepts only the tokens it
 * issued); plus FCM's error codes, token caching and the message format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify as verifySignature } from 'node:crypto';
import { destinationContract } from './contract/destination.contract.js';
import { manifest, collapseKeyOf, type FcmConfigT } from '../src/activate/fcm/index.js';
/** The documented scope, written out: importing the connector's constant would test nothing. */
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
import type { DeliveryItem, DestinationContext, MessageItem } from '../src/protocol/destination.js';
import { startPlatform, type PlatformAnswer, type RecordedRequest } from './helpers/platform-server.js';
import { testContext } from './helpers/destination-context.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const EMAIL = 'ensemble-push@demo-project-1234.iam.gserviceaccount.com';
const PROJECT = 'demo-project-1234';
const KID = '0123456789abcdef0123456789abcdef01234567';

const config = (base: string, extra: Partial<FcmConfigT> = {}): FcmConfigT => ({
  projectId: PROJECT, clientEmail: EMAIL, privateKey: PEM, privateKeyId: KID, tokenUri: `${base}/token`, apiBase: base, ...extra,
});

const issued = new Set<string>();
let tokenCounter = 0;

function b64json(part: string): Record<string, unknown> | null {
  try { return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>; } catch { return null; }
}

/** Google's checks of a JWT-bearer assertion (RS256 over "header.claims" with the account's key). */
function checkAssertion(req: RecordedRequest): string | null {
  if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return 'token request is form-encoded';
  const form = new URLSearchParams(req.body);
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return 'grant_type must be the JWT bearer grant';
  const parts = (form.get('assertion') ?? '').split('.');
  if (parts.length !== 3) return 'assertion must be a compact JWS';
  const [h, c, s] = parts as [string, string, string];
  const header = b64json(h);
  const claims = b64json(c);
  if (!header || !claims) return 'assertion parts are base64url JSON';
  if (header.alg !== 'RS256' || header.typ !== 'JWT' || header.kid !== KID) return 'header must be {alg: RS256, typ: JWT, kid: private_key_id}';
  if (!verifySignature('sha256', Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s, 'base64url'))) return 'assertion signature does not verify';
  if (claims.iss !== EMAIL) return 'iss must be the client_email';
  if (claims.scope !== FCM_SCOPE) return 'scope must be firebase.messaging';
  if (claims.aud !== `http://${req.headers.host}/token`) return 'aud must be the token URI';
  const now = Date.now() / 1000;
  if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || Math.abs(claims.iat - now) > 60 || claims.exp - claims.iat > 3600 || claims.exp <= now) return 'iat now, exp at most an hour later';
  return null;
}

const RESERVED = /^(from|notification|message_type|google.*|gcm.*)$/i;

function checkSend(req: RecordedRequest): string | null {
  if (req.url !== `/v1/projects/${PROJECT}/messages:send`) return `path must be /v1/projects/{projectId}/messages:send, got ${req.url}`;
  const auth = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''));
  if (!auth || !issued.has(auth[1]!)) return 'Authorization must be a Bearer token the token endpoint issued';
  if (!String(req.headers['content-type']).startsWith('application/json')) return 'content-type must be JSON';
  let body: { message?: Record<string, any> };
  try { body = JSON.parse(req.body); } catch { return 'body is not JSON'; }
  const m = body.message;
  if (!m || Object.keys(body).length !== 1) return 'body is exactly { message }';
  for (const k of Object.keys(m)) if (!['token', 'notification', 'data', 'android', 'apns', 'webpush', 'fcm_options'].includes(k)) return `unknown message field ${k}`;
  if (typeof m.token !== 'string' || m.token.length === 0) return 'message.token is required';
  if (typeof m.notification?.title !== 'string' || typeof m.notification?.body !== 'string') return 'notification has title and body';
  if (typeof m.data !== 'object' || m.data === null) return 'data is a map';
  for (const [k, v] of Object.entries(m.data)) {
    if (typeof v !== 'string') return `data.${k} must be a string`;
    if (RESERVED.test(k)) return `data key ${k} is reserved`;
  }
  if (m.android !== undefined && typeof m.android.collapse_key !== 'string') return 'android.collapse_key is a string';
  const link = m.webpush?.fcm_options?.link;
  if (link !== undefined && !String(link).startsWith('https://')) return 'webpush.fcm_options.link must be https';
  if (Buffer.byteLength(JSON.stringify(m.data)) > 4096) return 'data too big';
  return null;
}

function validate(req: RecordedRequest): string | null {
  if (req.method !== 'POST') return 'method must be POST';
  return req.url === '/token' ? checkAssertion(req) : checkSend(req);
}

function respond(req: RecordedRequest): PlatformAnswer {
  if (req.url === '/token') {
    const t = `ya29.test-${++tokenCounter}`;
    issued.add(t);
    return { status: 200, body: { access_token: t, expires_in: 3599, token_type: 'Bearer' } };
  }
  return { status: 200, body: { name: `projects/${PROJECT}/messages/${Date.now()}` } };
}

function message(key: string, tokens: string[], content: Record<string, string> = { title: 'Back in stock', body: 'Your size is back', url: 'https://shop.example/p/1' }): MessageItem {
  return {
    kind: 'message', key, profileId: `prf_${key}`,
    identifiers: manifest.identify({ fcm_token: tokens }, config('')),
    content, traits: {},
    links: { unsubscribe: 'https://cdp.example/u', open: 'https://cdp.example/o', click: (u) => u, status: 'https://cdp.example/s' },
  };
}
const TOKEN_A = 'fGx1-abc:APA91bH' + 'a'.repeat(140);
const TOKEN_B = 'dXy2-def:APA91bG' + 'b'.repeat(140);
const TOKEN_C = 'eZz3-ghi:APA91bF' + 'c'.repeat(140);

const items = (): DeliveryItem[] => [
  message('dst_1:m:1', [TOKEN_A]),
  message('dst_1:m:2', [TOKEN_B, TOKEN_C], { title: 'Hi', body: 'Two devices', campaign: 'spring', google_x: 'dropped' }),
];

destinationContract<FcmConfigT>({
  manifest,
  config: (base) => config(base),
  items,
  validate,
  respond,
  idempotency: (req) => (req.url === '/token' ? [] : [String(JSON.parse(req.body).message.data.message_key)]),
});

function ctx(c: FcmConfigT, store = new Map<string, string>(), now = () => Date.now()): DestinationContext<FcmConfigT> & { logs: string[] } {
  return testContext(c, { store, now });
}

const fcmError = (code: number, status: string, errorCode?: string): PlatformAnswer => ({
  status: code,
  body: { error: { code, message: 'error', status, details: errorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] : [] } },
});

test('fcm: the message carries notification, string data with the key, and collapse keys', async () => {
  const p = await startPlatform((req) => { const e = validate(req); return e ? { status: 400, body: { e } } : respond(req); });
  try {
    const out = await manifest.send([message('k-1', [TOKEN_A], { title: 'T', body: 'B', url: 'https://shop.example/x', image: 'https://cdn.example/i.png', from: 'bad' })], ctx(config(p.url)));
    assert.equal(out[0]?.kind, 'ok', JSON.stringify(out));
    assert.match((out[0] as { detail: string }).detail, /^projects\/demo-project-1234\/messages\//);
    const send = p.requests.find((r) => r.url !== '/token')!;
    assert.equal(validate(send), null);
    assert.deepEqual(JSON.parse(send.body).message, {
      token: TOKEN_A,
      notification: { title: 'T', body: 'B', image: 'https://cdn.example/i.png' },
      data: { url: 'https://shop.example/x', message_key: 'k-1' },
      android: { collapse_key: collapseKeyOf('k-1') },
      apns: { headers: { 'apns-collapse-id': collapseKeyOf('k-1') } },
      webpush: { headers: { Topic: collapseKeyOf('k-1') }, fcm_options: { link: 'https://shop.example/x' } },
    });
  } finally { await p.close(); }
});

test('fcm: UNREGISTERED and INVALID_ARGUMENT are dropped by name; 429 and 503 retried with Retry-After', async () => {
  const byToken: Record<string, PlatformAnswer> = {
    [TOKEN_A]: fcmError(404, 'NOT_FOUND', 'UNREGISTERED'),
    [TOKEN_B]: fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT'),
    [TOKEN_C]: { ...fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'), headers: { 'retry-after': '12' } },
  };
  const p = await startPlatform((req) => {
    const err = validate(req);
    if (err) return { status: 418, body: { err } };
    return req.url === '/token' ? respond(req) : (byToken[JSON.parse(req.body).message.token] ?? fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE'));
  });
  try {
    const out = await manifest.send([message('k1', [TOKEN_A]), message('k2', [TOKEN_B]), message('k3', [TOKEN_C]), message('k4', ['other-token-xyz'])], ctx(config(p.url)));
    assert.deepEqual(out, [
      { kind: 'drop', reason: 'fcm_unregistered' },
      { kind: 'drop', reason: 'fcm_invalid_argument' },
      { kind: 'retry', reason: 'http_429', afterMs: 12000 },
      { kind: 'retry', reason: 'http_503' },
    ]);
  } finally { await p.close(); }
});

test('fcm: the access token is cached in the store until shortly before it expires', async () => {
  // Only the Bearer token matters here; the clock is moved, so the assertion's iat is not checked.
  const p = await startPlatform((req) => respond(req));
  try {
    const store = new Map<string, string>();
    const t0 = Date.now();
    let now = t0;
    const c = config(p.url);
    const tokenCalls = () => p.requests.filter((r) => r.url === '/token').length;
    await manifest.send([message('k1', [TOKEN_A])], ctx(c, store, () => now));
    now = t0 + 10 * 60_000;
    await manifest.send([message('k2', [TOKEN_A])], ctx(c, store, () => now));
    assert.equal(tokenCalls(), 1, 'one token for two batches ten minutes apart');
    assert.ok(![...store.values()].join('').includes('PRIVATE KEY'), 'the key itself is never stored');
    now = t0 + 3599_000 - 4 * 60_000; // inside the token's last five minutes
    await manifest.send([message('k3', [TOKEN_A])], ctx(c, store, () => now));
    assert.equal(tokenCalls(), 2, 'a fresh token near expiry');
    const sends = p.requests.filter((r) => r.url !== '/token').map((r) => r.headers.authorization);
    assert.deepEqual(sends.slice(0, 2), [sends[0], sends[0]]);
    assert.notEqual(sends[2], sends[0]);
  } finally { await p.close(); }
});

test('fcm: a 401 from FCM forgets the cached token and retries', async () => {
  let refuse = true;
  const p = await startPlatform((req) => {
    if (req.url === '/token') return respond(req);
    if (refuse) { refuse = false; return fcmError(401, 'UNAUTHENTICATED'); }
    return validate(req) === null ? respond(req) : { status: 400, body: {} };
  });
  try {
    const store = new Map<string, string>();
    const first = await manifest.send([message('k1', [TOKEN_A])], ctx(config(p.url), store));
    assert.deepEqual(first, [{ kind: 'retry', reason: 'fcm_unauthenticated' }]);
    const second = await manifest.send([message('k1', [TOKEN_A])], ctx(config(p.url), store));
    assert.equal(second[0]?.kind, 'ok');
    assert.equal(p.requests.filter((r) => r.url === '/token').length, 2, 'a new token after the 401');
  } finally { await p.close(); }
});

test('fcm: a key that is not PKCS#8 is a dead letter; no token means no request', async () => {
  const p = await startPlatform(respond);
  try {
    const broken = await manifest.send([message('k1', [TOKEN_A])], ctx(config(p.url, { privateKey: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n'.padEnd(120, ' ') })));
    assert.equal(broken[0]?.kind, 'dead');
    const none = await manifest.send([message('k2', [])], ctx(config(p.url)));
    assert.deepEqual(none, [{ kind: 'drop', reason: 'no_token' }]);
    assert.equal(p.requests.length, 0);
  } finally { await p.close(); }
});

test('fcm: identify trims and deduplicates tokens and keeps them in clear', () => {
  assert.deepEqual(manifest.identify({ fcm_token: [` ${TOKEN_A} `, TOKEN_A, '', 'has space'] }, config('')), { fcm_token: [TOKEN_A] });
});
