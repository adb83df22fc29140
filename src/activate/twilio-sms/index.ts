/**
 * Twilio SMS: one outbound message per item through Twilio Programmable Messaging (REST API
 * 2010-04-01, Messages resource): `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`,
 * form-encoded `To`, `From` | `MessagingServiceSid`, `Body`, `StatusCallback`, HTTP Basic auth.
 *
 * Twilio documents no idempotency key for creating a Message (`I-Twilio-Idempotency-Token` is a
 * header Twilio puts on the webhooks it sends, not one it honours on API requests), so replays
 * are guarded here: after Twilio accepts an item its MessageSid is kept in `ctx.store` under the
 * item key, and an item whose key is already there is answered `ok` without a second SMS.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { DeliveryItem, DeliveryOutcome, DestinationContext, DestinationManifest, MessageItem } from '../../protocol/destination.js';
import { outcomeOfError, outcomeOfResponse } from '../http-outcome.js';

export { twilioStatusEvent, verifyTwilioSignature, twilioSignature, type TwilioStatusEvent } from './callback.js';

export const TwilioSmsConfig = Type.Object({
  accountSid: Type.String({ pattern: '^AC[0-9a-fA-F]{32}$', description: 'Account SID (AC…), the account the messages are created under.' }),
  authToken: Type.String({ minLength: 16, description: 'Auth Token: signs status callbacks; also the Basic auth password when no API key is set.' }),
  apiKeySid: Type.Optional(Type.String({ pattern: '^SK[0-9a-fA-F]{32}$', description: 'API key SID (SK…), used with apiKeySecret instead of the Auth Token.' })),
  apiKeySecret: Type.Optional(Type.String({ minLength: 16, description: 'API key secret.' })),
  from: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Sender: an E.164 Twilio number, short code or alphanumeric sender ID.' })),
  messagingServiceSid: Type.Optional(Type.String({ pattern: '^MG[0-9a-fA-F]{32}$', description: 'Messaging Service (MG…) choosing the sender; takes precedence over from.' })),
  apiBase: Type.Optional(Type.String({ pattern: '^https?://\\S+$', maxLength: 2048, default: 'https://api.twilio.com', description: 'Twilio REST API base URL.' })),
}, { additionalProperties: false });
export type TwilioSmsConfigT = Static<typeof TwilioSmsConfig>;

const E164 = /^\+[1-9][0-9]{6,14}$/;
/** Twilio's documented limit for `Body`. */
export const SMS_MAX_BODY = 1600;

function messagesUrl(c: TwilioSmsConfigT): string {
  return `${(c.apiBase ?? 'https://api.twilio.com').replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(c.accountSid)}/Messages.json`;
}

/** Basic credentials: an API key pair when configured (Twilio's recommendation), else SID:Auth Token. */
function authorization(c: TwilioSmsConfigT): string {
  const pair = c.apiKeySid && c.apiKeySecret ? `${c.apiKeySid}:${c.apiKeySecret}` : `${c.accountSid}:${c.authToken}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/** Twilio's error body `{ code, message, more_info, status }`: its numeric code, if any. */
async function twilioCode(res: Response): Promise<number | null> {
  const text = await res.text().catch(() => '');
  try {
    const code = (JSON.parse(text) as { code?: unknown }).code;
    return typeof code === 'number' && Number.isInteger(code) ? code : null;
  } catch { return null; }
}

async function messageSid(res: Response): Promise<string> {
  try {
    const sid = (await res.json() as { sid?: unknown }).sid;
    return typeof sid === 'string' ? sid : '';
  } catch { return ''; }
}

const storeKey = (itemKey: string) => `twilio-sms:sent:${itemKey}`;

async function sendOne(item: MessageItem, ctx: DestinationContext<TwilioSmsConfigT>): Promise<DeliveryOutcome> {
  const c = ctx.config;
  const to = (item.identifiers.phone ?? [])[0];
  if (to === undefined) return { kind: 'drop', reason: 'no_phone' };
  const body = item.content.body ?? '';
  if (body.trim() === '') return { kind: 'drop', reason: 'no_body' };
  if (body.length > SMS_MAX_BODY) return { kind: 'drop', reason: 'body_too_long' };
  const previous = await ctx.store.get(storeKey(item.key)).catch(() => null);
  if (previous) return { kind: 'ok', detail: previous };

  const form = new URLSearchParams({ To: to });
  if (c.messagingServiceSid) form.set('MessagingServiceSid', c.messagingServiceSid);
  else form.set('From', c.from ?? '');
  form.set('Body', body);
  if (item.links.status) form.set('StatusCallback', item.links.status);
  try {
    const res = await ctx.fetch(messagesUrl(c), {
      method: 'POST',
      headers: { authorization: authorization(c), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    const outcome = outcomeOfResponse(res, ctx.now());
    if (outcome.kind === 'ok') {
      const sid = await messageSid(res);
      if (sid !== '') await ctx.store.set(storeKey(item.key), sid).catch(() => undefined);
      return sid === '' ? outcome : { kind: 'ok', detail: sid };
    }
    const code = await twilioCode(res);
    // Twilio's code says why (21211 invalid To, 21610 unsubscribed recipient, ...); retries keep the HTTP reason.
    return outcome.kind === 'drop' && code !== null ? { kind: 'drop', reason: `twilio_${code}` } : outcome;
  } catch (err) {
    return outcomeOfError(err);
  }
}

export const manifest: DestinationManifest<TwilioSmsConfigT> = {
  id: 'twilio-sms',
  name: 'Twilio SMS',
  description: 'Text messages sent one by one through Twilio Programmable Messaging, with delivery status callbacks.',
  kinds: ['message'],
  configSchema: TwilioSmsConfig,
  secrets: ['authToken', 'apiKeySecret'],
  purpose: 'sms_marketing',
  advertising: false,
  identifiers: ['phone'],
  batchSize: 50,
  // Twilio queues what a sender cannot emit at once; this keeps the API calls modest.
  ratePerSecond: 10,
  // Phones arrive E.164; Twilio wants exactly that, with the '+'. Anything else cannot be sent.
  identify: (ids) => ({ phone: [...new Set((ids.phone ?? []).map((p) => p.trim()).filter((p) => E164.test(p)))] }),
  async send(batch: readonly DeliveryItem[], ctx) {
    const c = ctx.config;
    if (!c.messagingServiceSid && !c.from) {
      ctx.log.error({ destinationId: ctx.destinationId }, 'twilio-sms: neither from nor messagingServiceSid is configured');
      return batch.map(() => ({ kind: 'dead', error: 'config: from or messagingServiceSid required' }));
    }
    const outcomes: DeliveryOutcome[] = [];
    // One request per item, in order: Twilio creates one Message per call.
    for (const item of batch) {
      outcomes.push(item.kind === 'message' ? await sendOne(item, ctx) : { kind: 'drop', reason: 'unsupported_kind' });
    }
    const sent = outcomes.filter((o) => o.kind === 'ok').length;
    ctx.log.info({ destinationId: ctx.destinationId, items: batch.length, sent }, 'twilio-sms: batch sent');
    return outcomes;
  },
};
