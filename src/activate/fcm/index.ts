/**
 * Firebase Cloud Messaging: a notification to each of a person's app instances (registration
 * tokens) with the FCM HTTP v1 API, `POST /v1/projects/{projectId}/messages:send`, one message
 * per token, authorised by an OAuth 2.0 access token of a service account (token.ts).
 *
 * FCM has no idempotency key. Each message carries its key in `data.message_key` (the app can
 * ignore a key it has shown) and collapse keys derived from it, so a replay replaces a copy
 * still pending on Android, Apple and Web devices.
 */
import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { DeliveryItem, DeliveryOutcome, DestinationContext, DestinationManifest, MessageItem } from '../../protocol/destination.js';
import { outcomeOfError, outcomeOfResponse } from '../http-outcome.js';
import { accessToken, forgetToken, type ServiceAccount } from './token.js';

export const FcmConfig = Type.Object({
  projectId: Type.String({ pattern: '^[a-z][a-z0-9-]{4,61}[a-z0-9]$', description: 'Firebase project id (project_id of the service account file).' }),
  clientEmail: Type.String({ pattern: '^\\S+@\\S+$', maxLength: 320, description: 'Service account e-mail (client_email).' }),
  privateKey: Type.String({ minLength: 100, description: 'Service account private key, PKCS#8 PEM (private_key).' }),
  privateKeyId: Type.Optional(Type.String({ maxLength: 128, description: 'private_key_id, sent as the JWT kid.' })),
  tokenUri: Type.Optional(Type.String({ pattern: '^https?://\\S+$', maxLength: 2048, default: 'https://oauth2.googleapis.com/token', description: 'OAuth 2.0 token endpoint (token_uri).' })),
  apiBase: Type.Optional(Type.String({ pattern: '^https?://\\S+$', maxLength: 2048, default: 'https://fcm.googleapis.com', description: 'FCM API base URL.' })),
}, { additionalProperties: false });
export type FcmConfigT = Static<typeof FcmConfig>;

/** FCM refuses data keys it uses itself (ErrorCode INVALID_ARGUMENT, "invalid data key"). */
function reservedDataKey(k: string): boolean {
  const l = k.toLowerCase();
  return l === 'from' || l === 'notification' || l === 'message_type' || l.startsWith('google') || l.startsWith('gcm');
}

/** A collapse key derived from the message key: ≤ 64 bytes (apns-collapse-id) and base64url (Web Push Topic ≤ 32). */
export function collapseKeyOf(itemKey: string): string {
  return createHash('sha256').update(itemKey, 'utf8').digest('base64url').slice(0, 32);
}

export function fcmMessage(item: MessageItem, token: string): Record<string, unknown> {
  const { title = '', body = '', image, ...rest } = item.content;
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(rest)) if (!reservedDataKey(k) && typeof v === 'string') data[k] = v;
  data.message_key = item.key;
  const collapse = collapseKeyOf(item.key);
  const link = typeof rest.url === 'string' && rest.url.startsWith('https://') ? rest.url : undefined;
  return {
    token,
    notification: { title, body, ...(image ? { image } : {}) },
    data,
    android: { collapse_key: collapse },
    apns: { headers: { 'apns-collapse-id': collapse } },
    webpush: { headers: { Topic: collapse }, ...(link ? { fcm_options: { link } } : {}) },
  };
}

/** FCM's error body: the FcmError `errorCode` when given, else the google.rpc `status`. */
async function fcmErrorCode(res: Response): Promise<string | null> {
  const text = await res.text().catch(() => '');
  try {
    const e = (JSON.parse(text) as { error?: { status?: unknown; details?: unknown } }).error;
    if (typeof e !== 'object' || e === null) return null;
    if (Array.isArray(e.details)) {
      for (const d of e.details as Array<{ '@type'?: unknown; errorCode?: unknown }>) {
        if (typeof d?.['@type'] === 'string' && d['@type'].endsWith('google.firebase.fcm.v1.FcmError') && typeof d.errorCode === 'string') return d.errorCode;
      }
    }
    return typeof e.status === 'string' ? e.status : null;
  } catch { return null; }
}

const serviceAccount = (c: FcmConfigT): ServiceAccount => ({
  clientEmail: c.clientEmail, privateKey: c.privateKey,
  ...(c.privateKeyId ? { privateKeyId: c.privateKeyId } : {}), ...(c.tokenUri ? { tokenUri: c.tokenUri } : {}),
});

interface Session { token: string; expired: boolean }

async function sendOne(item: MessageItem, token: string, s: Session, ctx: DestinationContext<FcmConfigT>): Promise<DeliveryOutcome> {
  const c = ctx.config;
  const url = `${(c.apiBase ?? 'https://fcm.googleapis.com').replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(c.projectId)}/messages:send`;
  try {
    const res = await ctx.fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ message: fcmMessage(item, token) }),
    });
    const outcome = outcomeOfResponse(res, ctx.now());
    if (outcome.kind === 'ok') {
      const name = await res.json().then((b: { name?: unknown }) => (typeof b.name === 'string' ? b.name : ''), () => '');
      return name ? { kind: 'ok', detail: name } : outcome;
    }
    const code = await fcmErrorCode(res);
    // 401 without THIRD_PARTY_AUTH_ERROR: our access token was revoked or expired early.
    if (res.status === 401 && code !== 'THIRD_PARTY_AUTH_ERROR') { s.expired = true; return { kind: 'retry', reason: 'fcm_unauthenticated' }; }
    return outcome.kind === 'drop' && code !== null ? { kind: 'drop', reason: `fcm_${code.toLowerCase()}` } : outcome;
  } catch (err) {
    return outcomeOfError(err);
  }
}

/** One person, several devices: delivered if any got it; else retried if any may; else dropped. */
function combine(outcomes: DeliveryOutcome[]): DeliveryOutcome {
  const ok = outcomes.filter((o) => o.kind === 'ok');
  if (ok.length === 1 && outcomes.length === 1) return ok[0]!;
  if (ok.length > 0) return { kind: 'ok', detail: `delivered ${ok.length}/${outcomes.length}` };
  return outcomes.find((o) => o.kind === 'retry') ?? outcomes.find((o) => o.kind === 'dead') ?? outcomes[0] ?? { kind: 'drop', reason: 'no_token' };
}

export const manifest: DestinationManifest<FcmConfigT> = {
  id: 'fcm',
  name: 'Firebase Cloud Messaging',
  description: 'Push notifications to Android, Apple and Web app instances through the FCM HTTP v1 API.',
  kinds: ['message'],
  configSchema: FcmConfig,
  secrets: ['privateKey'],
  purpose: 'push_marketing',
  advertising: false,
  identifiers: ['fcm_token'],
  batchSize: 100,
  // FCM's default quota is 600,000 messages per minute per project; stay far below by default.
  ratePerSecond: 100,
  // Registration tokens are opaque: trimmed, deduplicated, and never hashed (FCM needs them).
  identify: (ids) => ({ fcm_token: [...new Set((ids.fcm_token ?? []).map((t) => t.trim()).filter((t) => t.length > 0 && t.length <= 4096 && !/\s/.test(t)))] }),
  async send(batch: readonly DeliveryItem[], ctx) {
    const messages = batch.filter((i): i is MessageItem => i.kind === 'message');
    const needsToken = messages.some((i) => (i.identifiers.fcm_token ?? []).length > 0);
    const got = needsToken ? await accessToken(serviceAccount(ctx.config), ctx) : { token: '' };
    if ('outcome' in got) return batch.map(() => got.outcome);
    const session: Session = { token: got.token, expired: false };
    const outcomes: DeliveryOutcome[] = [];
    for (const item of batch) {
      if (item.kind !== 'message') { outcomes.push({ kind: 'drop', reason: 'unsupported_kind' }); continue; }
      const tokens = item.identifiers.fcm_token ?? [];
      if (tokens.length === 0) { outcomes.push({ kind: 'drop', reason: 'no_token' }); continue; }
      const per: DeliveryOutcome[] = [];
      for (const t of tokens) per.push(session.expired ? { kind: 'retry', reason: 'fcm_unauthenticated' } : await sendOne(item, t, session, ctx));
      outcomes.push(combine(per));
    }
    if (session.expired) await forgetToken(serviceAccount(ctx.config), ctx);
    ctx.log.info({ destinationId: ctx.destinationId, items: batch.length, delivered: outcomes.filter((o) => o.kind === 'ok').length }, 'fcm: batch sent');
    return outcomes;
  },
};
