/**
 * Web Push: a notification to each browser a person subscribed with, through the browser's
 * own push service — the Web Push protocol (RFC 8030), application server identification with
 * VAPID (RFC 8292) and the payload encrypted with aes128gcm (RFC 8291 over RFC 8188).
 *
 * The URL called is the subscription's endpoint (it names the push service, e.g. FCM, Mozilla
 * autopush, Apple, WNS), so unlike other connectors there is no `apiBase`; endpoints are parsed
 * strictly instead (https only; loopback http only when `allowInsecureEndpoints` is set).
 */
import { createECDH, createHash } from 'node:crypto';
import ece from 'http_ece';
import { Type, type Static } from '@sinclair/typebox';
import type { CryptoKey } from 'jose';
import type { DeliveryItem, DeliveryOutcome, DestinationContext, DestinationManifest, MessageItem } from '../../protocol/destination.js';
import { outcomeOfError, outcomeOfResponse } from '../http-outcome.js';
import { sha256Hex } from '../hashing.js';
import { parseSubscription, type PushSubscription } from './subscription.js';
import { vapidAuthorization, vapidSigningKey } from './vapid.js';

export { parseSubscription, type PushSubscription } from './subscription.js';

const B64URL = '^[A-Za-z0-9_-]+={0,2}$';

export const WebPushConfig = Type.Object({
  vapidPublicKey: Type.String({ pattern: B64URL, minLength: 86, maxLength: 88, description: 'VAPID public key: uncompressed P-256 point, base64url (the applicationServerKey given to subscribe()).' }),
  vapidPrivateKey: Type.String({ pattern: B64URL, minLength: 43, maxLength: 44, description: 'VAPID private key: the 32-byte P-256 scalar, base64url.' }),
  subject: Type.String({ pattern: '^(mailto:\\S+@\\S+|https://\\S+)$', maxLength: 512, description: 'VAPID contact (sub claim): a mailto: or https: URI the push service can reach you at.' }),
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 2419200, default: 86400, description: 'How long a push service keeps an undelivered message (TTL header).' })),
  urgency: Type.Optional(Type.Union([Type.Literal('very-low'), Type.Literal('low'), Type.Literal('normal'), Type.Literal('high')], { description: 'Urgency header (RFC 8030 §5.3); omitted means normal.' })),
  allowInsecureEndpoints: Type.Optional(Type.Boolean({ default: false, description: 'Accept http://127.0.0.1 and http://localhost endpoints (local testing only).' })),
}, { additionalProperties: false });
export type WebPushConfigT = Static<typeof WebPushConfig>;

/**
 * RFC 8291 §4: one record of at most 4096 octets: 86 octets of header (salt, rs, keyid = the
 * 65-byte sender key), the 16-octet tag and the 1-octet padding delimiter leave 3993 for text.
 */
export const MAX_PLAINTEXT = 4096 - 86 - 16 - 1;

/** Topic (RFC 8030 §5.4, ≤ 32 base64url characters): a replay of a pending message replaces it. */
export function topicOf(itemKey: string): string {
  return createHash('sha256').update(itemKey, 'utf8').digest('base64url').slice(0, 32);
}

/** What the service worker receives: `tag` is the message key, for `showNotification({ tag })`. */
function payloadOf(item: MessageItem): Buffer {
  const c = item.content;
  const p: Record<string, string> = { title: c.title ?? '', body: c.body ?? '' };
  if (c.url) p.url = c.url;
  if (c.icon) p.icon = c.icon;
  p.tag = item.key;
  return Buffer.from(JSON.stringify(p), 'utf8');
}

/** RFC 8291 encryption with a fresh ECDH key pair per message (keyid carries its public key). */
function encrypt(sub: PushSubscription, plaintext: Buffer): Buffer {
  const sender = createECDH('prime256v1');
  sender.generateKeys();
  return ece.encrypt(plaintext, { version: 'aes128gcm', privateKey: sender, dh: sub.keys.p256dh, authSecret: sub.keys.auth });
}

/** One person, several browsers: delivered if any got it; else retried if any may; else dropped. */
function combine(outcomes: DeliveryOutcome[]): DeliveryOutcome {
  if (outcomes.length === 0) return { kind: 'drop', reason: 'no_subscription' };
  const ok = outcomes.filter((o) => o.kind === 'ok').length;
  if (ok > 0) return { kind: 'ok', detail: `delivered ${ok}/${outcomes.length}` };
  return outcomes.find((o) => o.kind === 'retry') ?? outcomes.find((o) => o.kind === 'dead') ?? outcomes[0]!;
}

interface Signer { authorization(origin: string): Promise<string> }

async function pushOne(sub: PushSubscription, body: Buffer, topic: string, signer: Signer, ctx: DestinationContext<WebPushConfigT>): Promise<DeliveryOutcome> {
  try {
    const headers: Record<string, string> = {
      authorization: await signer.authorization(new URL(sub.endpoint).origin),
      ttl: String(ctx.config.ttlSeconds ?? 86400),
      'content-encoding': 'aes128gcm',
      'content-type': 'application/octet-stream',
      topic,
    };
    if (ctx.config.urgency) headers.urgency = ctx.config.urgency;
    const res = await ctx.fetch(sub.endpoint, { method: 'POST', headers, body: new Uint8Array(body) });
    await res.arrayBuffer().catch(() => undefined);
    // RFC 8030 §7.3: the subscription expired or was withdrawn; it will never work again.
    if (res.status === 404 || res.status === 410) {
      ctx.log.warn({ destinationId: ctx.destinationId, subscription: sha256Hex(sub.endpoint).slice(0, 16) }, 'web-push: subscription gone');
      return { kind: 'drop', reason: 'subscription_gone' };
    }
    return outcomeOfResponse(res, ctx.now());
  } catch (err) {
    return outcomeOfError(err);
  }
}

async function sendItem(item: MessageItem, signer: Signer, ctx: DestinationContext<WebPushConfigT>): Promise<DeliveryOutcome> {
  const subs = (item.identifiers.web_push ?? [])
    .map((s) => parseSubscription(s, ctx.config.allowInsecureEndpoints === true))
    .filter((s): s is PushSubscription => s !== null);
  if (subs.length === 0) return { kind: 'drop', reason: 'no_subscription' };
  if ((item.content.title ?? '') === '' && (item.content.body ?? '') === '') return { kind: 'drop', reason: 'no_content' };
  const plaintext = payloadOf(item);
  if (plaintext.length > MAX_PLAINTEXT) return { kind: 'drop', reason: 'payload_too_large' };
  const topic = topicOf(item.key);
  const outcomes: DeliveryOutcome[] = [];
  for (const sub of subs) outcomes.push(await pushOne(sub, encrypt(sub, plaintext), topic, signer, ctx));
  return combine(outcomes);
}

export const manifest: DestinationManifest<WebPushConfigT> = {
  id: 'web-push',
  name: 'Web Push',
  description: 'Browser notifications through each subscriber\'s push service (Web Push with VAPID and aes128gcm encryption).',
  kinds: ['message'],
  configSchema: WebPushConfig,
  secrets: ['vapidPrivateKey'],
  purpose: 'push_marketing',
  advertising: false,
  identifiers: ['web_push'],
  batchSize: 100,
  ratePerSecond: 50,
  // Each value is a PushSubscription JSON; only well-formed ones survive, re-serialised
  // canonically and deduplicated by endpoint. Nothing is hashed: the keys are needed to encrypt.
  identify: (ids, config) => {
    const byEndpoint = new Map<string, string>();
    for (const raw of ids.web_push ?? []) {
      const s = parseSubscription(raw, config.allowInsecureEndpoints === true);
      if (s && !byEndpoint.has(s.endpoint)) byEndpoint.set(s.endpoint, JSON.stringify(s));
    }
    return { web_push: [...byEndpoint.values()] };
  },
  async send(batch: readonly DeliveryItem[], ctx) {
    let key: CryptoKey;
    try {
      key = await vapidSigningKey({ publicKey: ctx.config.vapidPublicKey, privateKey: ctx.config.vapidPrivateKey });
    } catch {
      ctx.log.error({ destinationId: ctx.destinationId }, 'web-push: the VAPID key pair is unusable');
      return batch.map(() => ({ kind: 'dead', error: 'config: VAPID keys are not a P-256 key pair' }));
    }
    // One JWT per push service origin per batch (each is valid for hours).
    const jwts = new Map<string, Promise<string>>();
    const signer: Signer = {
      authorization: (origin) => {
        let t = jwts.get(origin);
        if (!t) { t = vapidAuthorization(key, ctx.config.vapidPublicKey, origin, ctx.config.subject, ctx.now()); jwts.set(origin, t); }
        return t;
      },
    };
    const outcomes: DeliveryOutcome[] = [];
    for (const item of batch) outcomes.push(item.kind === 'message' ? await sendItem(item, signer, ctx) : { kind: 'drop', reason: 'unsupported_kind' });
    ctx.log.info({ destinationId: ctx.destinationId, items: batch.length, delivered: outcomes.filter((o) => o.kind === 'ok').length }, 'web-push: batch sent');
    return outcomes;
  },
};
