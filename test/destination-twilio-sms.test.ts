/**
 * The Twilio SMS connector: the destination contract against a stand-in of the Messages API
 * that checks the documented form format and Basic auth, plus Twilio's error codes, the replay
 * guard, the X-Twilio-Signature algorithm (Twilio's documented example) and status callbacks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationContract } from './contract/destination.contract.js';
import { manifest, twilioStatusEvent, verifyTwilioSignature, twilioSignature, type TwilioSmsConfigT } from '../src/activate/twilio-sms/index.js';
import type { DeliveryItem, DestinationContext, MessageItem } from '../src/protocol/destination.js';
import { startPlatform, type RecordedRequest } from './helpers/platform-server.js';
import { testContext } from './helpers/destination-context.js';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const API_KEY = 'SK' + 'fedcba9876543210'.repeat(2);
const API_SECRET = 'twilio-api-secret-0123456789';
const AUTH_TOKEN = 'twilio-auth-token-abcdef012345';

const config = (base: string, extra: Partial<TwilioSmsConfigT> = {}): TwilioSmsConfigT => ({
  accountSid: ACCOUNT, authToken: AUTH_TOKEN, apiKeySid: API_KEY, apiKeySecret: API_SECRET, from: '+15005550006', apiBase: base, ...extra,
});

function message(key: string, phone: string[], body: string): MessageItem {
  return {
    kind: 'message', key, profileId: `prf_${key}`,
    identifiers: manifest.identify({ phone }, config('')),
    content: { body }, traits: {},
    links: {
      unsubscribe: `https://cdp.example/u/${key}`, open: `https://cdp.example/o/${key}`,
      click: (u) => `https://cdp.example/c/${key}?u=${encodeURIComponent(u)}`, status: `https://cdp.example/v1/status/${key}?sig=abc`,
    },
  };
}

const items = (): DeliveryItem[] => [
  message('dst_1:m:1', ['+33612345678'], 'Hello Ana, -20% this week. STOP to opt out'),
  message('dst_1:m:2', ['+14155550100', '+14155550101'], 'Your cart is waiting'),
];

const PATH = new RegExp(`^/2010-04-01/Accounts/${ACCOUNT}/Messages\\.json$`);
const ALLOWED = new Set(['To', 'From', 'MessagingServiceSid', 'Body', 'StatusCallback']);

function validateWith(user: string, pass: string) {
  return (req: RecordedRequest): string | null => {
    if (req.method !== 'POST') return 'method must be POST';
    if (!PATH.test(req.url)) return `path must be /2010-04-01/Accounts/{AccountSid}/Messages.json, got ${req.url}`;
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return 'content-type must be application/x-www-form-urlencoded';
    if (req.headers.authorization !== `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`) return 'HTTP Basic auth with the configured credentials';
    const form = new URLSearchParams(req.body);
    for (const k of form.keys()) if (!ALLOWED.has(k)) return `unexpected parameter ${k}`;
    if (!/^\+[1-9]\d{6,14}$/.test(form.get('To') ?? '')) return 'To must be E.164 with +';
    if (form.has('From') === form.has('MessagingServiceSid')) return 'exactly one of From or MessagingServiceSid';
    const body = form.get('Body') ?? '';
    if (body.length === 0 || body.length > 1600) return 'Body 1..1600 characters';
    if (!/^https:\/\/\S+$/.test(form.get('StatusCallback') ?? '')) return 'StatusCallback must be an https URL';
    return null;
  };
}
const validate = validateWith(API_KEY, API_SECRET);
let sidCounter = 0;
const created = () => ({ status: 201, body: { sid: `SM${(++sidCounter).toString(16).padStart(32, '0')}`, status: 'queued', account_sid: ACCOUNT } });

destinationContract<TwilioSmsConfigT>({
  manifest,
  config: (base) => config(base),
  items,
  validate,
  respond: created,
  // Twilio has no idempotency key for Messages: a replay sends the same request; the connector's
  // own guard (ctx.store, tested below) is what stops the second SMS in production.
  idempotency: 'natural',
});

function ctx(c: TwilioSmsConfigT, store = new Map<string, string>()): DestinationContext<TwilioSmsConfigT> & { logs: string[] } {
  return testContext(c, { store });
}

test('twilio-sms: Twilio error codes become drop reasons, 20429 stays a retry', async () => {
  const answers = [
    { status: 400, body: { code: 21211, message: "The 'To' number is not a valid phone number.", more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 } },
    { status: 400, body: { code: 21610, message: 'Attempt to send to unsubscribed recipient', more_info: 'https://www.twilio.com/docs/errors/21610', status: 400 } },
    { status: 429, headers: { 'retry-after': '3' }, body: { code: 20429, message: 'Too Many Requests', status: 429 } },
  ];
  const p = await startPlatform(() => answers.shift()!);
  try {
    const batch = [message('k1', ['+33612345678'], 'a'), message('k2', ['+33612345679'], 'b'), message('k3', ['+33612345670'], 'c')];
    const out = await manifest.send(batch, ctx(config(p.url)));
    assert.deepEqual(out, [
      { kind: 'drop', reason: 'twilio_21211' },
      { kind: 'drop', reason: 'twilio_21610' },
      { kind: 'retry', reason: 'http_429', afterMs: 3000 },
    ]);
  } finally { await p.close(); }
});

test('twilio-sms: a replayed key with the same store sends no second SMS', async () => {
  const p = await startPlatform(created);
  try {
    const store = new Map<string, string>();
    const first = await manifest.send([message('k1', ['+33612345678'], 'hi')], ctx(config(p.url), store));
    assert.equal(first[0]?.kind, 'ok');
    const second = await manifest.send([message('k1', ['+33612345678'], 'hi')], ctx(config(p.url), store));
    assert.deepEqual(second, first, 'the replay answers with the first MessageSid');
    assert.equal(p.requests.length, 1);
  } finally { await p.close(); }
});

test('twilio-sms: Auth Token credentials and a Messaging Service when no API key / no From', async () => {
  const check = validateWith(ACCOUNT, AUTH_TOKEN);
  const p = await startPlatform((req) => check(req) === null ? created() : { status: 400, body: { error: check(req) } });
  try {
    const c: TwilioSmsConfigT = { accountSid: ACCOUNT, authToken: AUTH_TOKEN, messagingServiceSid: 'MG' + 'a'.repeat(32), apiBase: p.url };
    const out = await manifest.send([message('k1', ['+33612345678'], 'hi')], ctx(c));
    assert.equal(out[0]?.kind, 'ok', JSON.stringify(out));
    const form = new URLSearchParams(p.requests[0]!.body);
    assert.equal(form.get('MessagingServiceSid'), 'MG' + 'a'.repeat(32));
    assert.equal(form.get('From'), null);
    assert.equal(form.get('To'), '+33612345678', 'the + is kept');
    assert.equal(form.get('StatusCallback'), 'https://cdp.example/v1/status/k1?sig=abc');
  } finally { await p.close(); }
});

test('twilio-sms: items without a usable phone or body are dropped without a call; no personal data in logs', async () => {
  const p = await startPlatform(created);
  try {
    assert.deepEqual(manifest.identify({ phone: ['0612345678', '+33 6 12', '+33612345678'] }, config('')), { phone: ['+33612345678'] });
    const c = ctx(config(p.url));
    const out = await manifest.send([message('k1', ['06 12 34 56 78'], 'hi'), message('k2', ['+33612345678'], '  ')], c);
    assert.deepEqual(out, [{ kind: 'drop', reason: 'no_phone' }, { kind: 'drop', reason: 'no_body' }]);
    assert.equal(p.requests.length, 0);
    assert.ok(!c.logs.join('\n').includes('+336'), 'no phone number in logs');
  } finally { await p.close(); }
});

test('twilio-sms: a config without sender is a dead letter, not a silent drop', async () => {
  const out = await manifest.send([message('k1', ['+33612345678'], 'hi')], ctx({ accountSid: ACCOUNT, authToken: AUTH_TOKEN, apiBase: 'http://127.0.0.1:9' }));
  assert.equal(out[0]?.kind, 'dead');
});

test("twilio-sms: X-Twilio-Signature matches Twilio's documented example", () => {
  // Webhooks security (twilio.com/docs/usage/security#validating-requests): Auth Token 12345.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' };
  assert.equal(twilioSignature('12345', url, params), '0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  assert.equal(verifyTwilioSignature('12345', url, params, '0/KCTR6DLpKmkAf8muzZqo1nDgQ='), true);
  assert.equal(verifyTwilioSignature('12345', url, { ...params, Digits: '9999' }, '0/KCTR6DLpKmkAf8muzZqo1nDgQ='), false, 'a tampered parameter');
  assert.equal(verifyTwilioSignature('12345', url.replace('bar=2', 'bar=3'), params, '0/KCTR6DLpKmkAf8muzZqo1nDgQ='), false, 'another URL');
  assert.equal(verifyTwilioSignature('54321', url, params, '0/KCTR6DLpKmkAf8muzZqo1nDgQ='), false, 'another token');
  assert.equal(verifyTwilioSignature('12345', url, params, undefined), false);
  assert.equal(verifyTwilioSignature('12345', url, params, '0/KCTR6DLpKmkAf8muzZqo1nDgQ'), false, 'truncated');
});

test('twilio-sms: status callbacks become track events without phone numbers', () => {
  const base = { MessageSid: 'SM' + '1'.repeat(32), AccountSid: ACCOUNT, From: '+15005550006', To: '+33612345678', ApiVersion: '2010-04-01' };
  assert.deepEqual(twilioStatusEvent({ ...base, MessageStatus: 'delivered' }), { event: 'SMS Delivered', properties: { messageSid: base.MessageSid, status: 'delivered', errorCode: null } });
  assert.deepEqual(twilioStatusEvent({ ...base, MessageStatus: 'undelivered', ErrorCode: '30003' }), { event: 'SMS Undelivered', properties: { messageSid: base.MessageSid, status: 'undelivered', errorCode: '30003' } });
  assert.equal(twilioStatusEvent({ ...base, MessageStatus: 'failed', ErrorCode: '30008' })?.event, 'SMS Failed');
  assert.equal(twilioStatusEvent({ ...base, MessageStatus: 'sent' })?.event, 'SMS Sent');
  assert.equal(twilioStatusEvent({ ...base, MessageStatus: 'queued' })?.event, 'SMS Queued');
  assert.equal(twilioStatusEvent({ ...base, SmsStatus: 'delivered' })?.event, 'SMS Delivered', 'the legacy SmsStatus name');
  assert.equal(twilioStatusEvent({ ...base, MessageStatus: 'received' }), null, 'inbound is not a delivery status');
  assert.equal(twilioStatusEvent({ MessageStatus: 'delivered' }), null, 'no MessageSid');
  assert.ok(!JSON.stringify(twilioStatusEvent({ ...base, MessageStatus: 'delivered' })).includes('+33'), 'no phone in the event');
});
