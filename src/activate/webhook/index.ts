/**
 * Generic webhook: audience changes and forwarded events POSTed as JSON to the customer's own
 * endpoint, signed so the receiver can prove they come from Ensemble and are fresh.
 *
 * Signature: `X-Ensemble-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * A receiver recomputes the HMAC over the raw body and rejects timestamps older than a few
 * minutes (replays). Every item carries its `id` (the idempotency key): a retry resends the same.
 */
import { createHmac } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { DeliveryItem, DestinationManifest } from '../../protocol/destination.js';
import { sendAll } from '../http-outcome.js';
import { normaliseEmail, sha256Hex } from '../hashing.js';

export const WebhookConfig = Type.Object({
  url: Type.String({ pattern: '^https?://\\S+$', maxLength: 2048, description: 'Receiving endpoint (POST).' }),
  secret: Type.String({ minLength: 16, description: 'Shared secret of the HMAC signature.' }),
}, { additionalProperties: false });
export type WebhookConfigT = Static<typeof WebhookConfig>;

/** The signature header value of a body at a time (receivers compute the same). */
export function webhookSignature(secret: string, unixSeconds: number, body: string): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

function wire(item: DeliveryItem): Record<string, unknown> {
  const base = { id: item.key, profileId: item.profileId, identifiers: item.identifiers };
  switch (item.kind) {
    case 'audience': return { type: 'audience', action: item.action, segment: item.audience, ...base };
    case 'event': return { type: 'event', event: item.event, ...base };
    case 'message': return { type: 'message', content: item.content, ...base };
  }
}

export const manifest: DestinationManifest<WebhookConfigT> = {
  id: 'webhook',
  name: 'Webhook',
  description: 'Audience changes and events sent as signed JSON batches to your own HTTPS endpoint.',
  kinds: ['audience', 'event'],
  configSchema: WebhookConfig,
  secrets: ['secret'],
  purpose: 'analytics',
  advertising: false,
  identifiers: ['user_id', 'email', 'phone'],
  batchSize: 100,
  ratePerSecond: 20,
  // A customer's own user id is sent as is; emails and phones only as SHA-256 (hex).
  identify: (ids) => ({
    user_id: [...(ids.user_id ?? [])],
    email_sha256: (ids.email ?? []).map((e) => sha256Hex(normaliseEmail(e))),
    phone_sha256: (ids.phone ?? []).map((p) => sha256Hex(p)),
  }),
  async send(batch, ctx) {
    const body = JSON.stringify({ sentAt: new Date(ctx.now()).toISOString(), batch: batch.map(wire) });
    const signature = webhookSignature(ctx.config.secret, Math.floor(ctx.now() / 1000), body);
    return sendAll(batch.length, () => ctx.fetch(ctx.config.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Ensemble-Webhook/1', 'x-ensemble-signature': signature },
      body,
    }), ctx.now);
  },
};
