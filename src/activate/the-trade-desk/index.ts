/**
 * The Trade Desk first-party audiences, keyed by UID2 (or EUID for European workspaces).
 *
 * TTD's advertiser-data endpoint takes raw UID2/EUID values, not hashed DII, so each batch is
 * sent in two calls: the hashed emails and phones are mapped to raw ids by the UID2/EUID
 * operator (`POST /v3/identity/map`, encrypted envelope), then the memberships are posted to
 * `POST {apiBase}/data/advertiser` with the `TTD-Auth` token. A removal is the same segment sent
 * with `TTLInMinutes: 0`, for the current and (when it rotated recently) the previous raw id.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { AudienceItem, DeliveryItem, DeliveryOutcome, DestinationContext, DestinationManifest } from '../../protocol/destination.js';
import { outcomeOfError, outcomeOfResponse } from '../http-outcome.js';
import { isUid2Phone, openResponse, readIdentityMap, sealRequest, uid2EmailHash, uid2PhoneHash, type Mapped } from './uid2.js';

/** 180 days: the longest membership TTD keeps (and the default here, so re-syncs refresh it). */
export const MAX_TTL_MINUTES = 259_200;
export const DEFAULT_API_BASE = 'https://usw-data.adsrvr.org';
export const OPERATOR_BASE = { uid2: 'https://prod.uidapi.com', euid: 'https://prod.euid.eu' } as const;
/** The identity map takes at most 5,000 values per request. */
const MAP_LIMIT = 5_000;

const Url = (description: string) => Type.String({ pattern: '^https?://\\S+$', maxLength: 2048, description });

export const TradeDeskConfig = Type.Object({
  advertiserId: Type.String({ minLength: 1, maxLength: 64, description: 'TTD advertiser id.' }),
  authToken: Type.String({ minLength: 1, description: 'Data API token, sent as the TTD-Auth header.' }),
  apiBase: Type.Optional(Url(`TTD data server nearest the users (default ${DEFAULT_API_BASE}; EU: https://euw-data.adsrvr.org).`)),
  identityScheme: Type.Optional(Type.Union([Type.Literal('uid2'), Type.Literal('euid')], { default: 'uid2', description: 'UID2, or EUID for European users.' })),
  ttlMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TTL_MINUTES, default: MAX_TTL_MINUTES, description: 'Membership lifetime of an addition.' })),
  operatorBase: Type.Optional(Url('UID2/EUID operator (default: the production operator of the scheme).')),
  apiKey: Type.String({ minLength: 1, description: 'UID2/EUID client API key (Bearer).' }),
  clientSecret: Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$', description: 'UID2/EUID client secret (base64, 32 bytes).' }),
}, { additionalProperties: false });
export type TradeDeskConfigT = Static<typeof TradeDeskConfig>;

interface Pending { index: number; item: AudienceItem; emails: string[]; phones: string[] }
type TtdItem = Record<string, unknown>;

const drop = (reason: string): DeliveryOutcome => ({ kind: 'drop', reason });
const uniq = (xs: readonly string[]): string[] => [...new Set(xs)];

/** Groups items so one identity-map request never carries more than MAP_LIMIT values. */
function chunks(pending: Pending[]): Pending[][] {
  const out: Pending[][] = [];
  let cur: Pending[] = [];
  let size = 0;
  for (const p of pending) {
    const n = p.emails.length + p.phones.length;
    if (cur.length > 0 && size + n > MAP_LIMIT) { out.push(cur); cur = []; size = 0; }
    cur.push(p);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

type MapResult = { email: Map<string, Mapped>; phone: Map<string, Mapped> } | { outcome: DeliveryOutcome };

async function identityMap(ctx: DestinationContext<TradeDeskConfigT>, emails: string[], phones: string[]): Promise<MapResult> {
  const c = ctx.config;
  const base = c.operatorBase ?? OPERATOR_BASE[c.identityScheme ?? 'uid2'];
  const json = JSON.stringify({ ...(emails.length > 0 ? { email_hash: emails } : {}), ...(phones.length > 0 ? { phone_hash: phones } : {}) });
  let sealed;
  try { sealed = sealRequest(c.clientSecret, json, ctx.now()); } catch { return { outcome: { kind: 'dead', error: 'invalid_client_secret' } }; }
  try {
    const res = await ctx.fetch(`${base}/v3/identity/map`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.apiKey}`, 'content-type': 'text/plain' },
      body: sealed.body,
    });
    const text = await res.text();
    const o = outcomeOfResponse(res, ctx.now());
    if (o.kind !== 'ok') return { outcome: o };
    // Only a 200 is encrypted; an answer that does not open (or lines up) is the operator's fault.
    let mapped: ReturnType<typeof readIdentityMap> = null;
    try { mapped = res.status === 200 ? readIdentityMap(openResponse(c.clientSecret, text, sealed.nonce), emails.length, phones.length) : null; } catch { mapped = null; }
    if (!mapped) return { outcome: { kind: 'retry', reason: 'identity_map_unreadable' } };
    const { email, phone } = mapped;
    return {
      email: new Map(emails.map((h, i) => [h, email[i]!])),
      phone: new Map(phones.map((h, i) => [h, phone[i]!])),
    };
  } catch (err) {
    return { outcome: outcomeOfError(err) };
  }
}

/** `FailedLines[].ItemNumber` is 1-based; older answers only say "item #N" in the message. */
function failedItemNumber(line: Record<string, unknown>): number | null {
  const n = Number(line.ItemNumber);
  if (Number.isInteger(n) && n >= 1) return n;
  const m = typeof line.Message === 'string' ? /item #(\d+)/i.exec(line.Message) : null;
  return m ? Number(m[1]) : null;
}

function failedLines(text: string): Record<string, unknown>[] {
  try {
    const body = JSON.parse(text) as { FailedLines?: unknown };
    return Array.isArray(body.FailedLines) ? body.FailedLines.filter((l): l is Record<string, unknown> => typeof l === 'object' && l !== null) : [];
  } catch {
    return [];
  }
}

/** Maps one chunk's DII to raw ids, posts the memberships, and gives each item its outcome. */
async function deliverChunk(chunk: Pending[], ctx: DestinationContext<TradeDeskConfigT>): Promise<DeliveryOutcome[]> {
  const c = ctx.config;
  const map = await identityMap(ctx, uniq(chunk.flatMap((p) => p.emails)), uniq(chunk.flatMap((p) => p.phones)));
  if ('outcome' in map) return chunk.map(() => map.outcome);

  const idField = c.identityScheme === 'euid' ? 'EUID' : 'UID2';
  const ttl = c.ttlMinutes ?? MAX_TTL_MINUTES;
  const results: (DeliveryOutcome | undefined)[] = chunk.map(() => undefined);
  const items: TtdItem[] = [];
  const owner: number[] = []; // TTD item i (0-based) belongs to chunk position owner[i]
  chunk.forEach((p, pos) => {
    const mapped = [...p.emails.map((h) => map.email.get(h)), ...p.phones.map((h) => map.phone.get(h))].filter((m): m is Mapped => m !== undefined);
    const ids = new Set<string>();
    for (const m of mapped) {
      if (!('u' in m)) continue;
      ids.add(m.u);
      // A rotated id may still hold the membership for up to 90 days: remove it too.
      if (p.item.action === 'remove' && m.p) ids.add(m.p);
    }
    if (ids.size === 0) {
      results[pos] = drop(mapped.some((m) => 'e' in m && m.e === 'optout') ? 'optout' : 'invalid_identifier');
      return;
    }
    for (const id of ids) {
      items.push({ [idField]: id, Data: [{ Name: p.item.audience.segmentId, TTLInMinutes: p.item.action === 'add' ? ttl : 0 }] });
      owner.push(pos);
    }
  });
  if (items.length === 0) return results.map((r) => r ?? drop('invalid_identifier'));

  const fill = (o: DeliveryOutcome) => results.map((r) => r ?? o);
  let res: Response;
  let text: string;
  try {
    res = await ctx.fetch(`${c.apiBase ?? DEFAULT_API_BASE}/data/advertiser`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'ttd-auth': c.authToken },
      body: JSON.stringify({ AdvertiserId: c.advertiserId, Items: items }),
    });
    text = await res.text();
  } catch (err) {
    return fill(outcomeOfError(err));
  }
  const o = outcomeOfResponse(res, ctx.now());
  if (o.kind !== 'ok') return fill(o);

  // A 200 may still reject some lines: those items are dropped, the others delivered.
  const failed = failedLines(text);
  let unattributed = 0;
  for (const line of failed) {
    const n = failedItemNumber(line);
    const pos = n === null ? undefined : owner[n - 1];
    if (pos === undefined) { unattributed++; continue; }
    const code = typeof line.ErrorCode === 'string' && /^[A-Za-z_]{1,64}$/.test(line.ErrorCode) ? line.ErrorCode : 'Unknown';
    if (results[pos] === undefined) results[pos] = drop(`ttd_${code}`);
  }
  if (failed.length > 0) ctx.log.warn({ items: items.length, failedLines: failed.length, unattributed }, 'the-trade-desk: lines rejected');
  // Lines TTD rejected without saying which: nobody can tell which memberships landed.
  return fill(unattributed > 0 ? { kind: 'dead', error: 'ttd_failed_lines_unattributed' } : { kind: 'ok' });
}

export const manifest: DestinationManifest<TradeDeskConfigT> = {
  id: 'the-trade-desk',
  name: 'The Trade Desk',
  description: 'First-party audiences on The Trade Desk, matched through UID2 (or EUID in Europe).',
  kinds: ['audience'],
  configSchema: TradeDeskConfig,
  secrets: ['authToken', 'apiKey', 'clientSecret'],
  purpose: 'advertising',
  advertising: true,
  identifiers: ['email', 'phone'],
  batchSize: 1000,
  ratePerSecond: 2,
  // UID2 and EUID share the rules: normalised DII, SHA-256, Base64 of the digest bytes.
  identify: (ids) => ({
    email_hash: uniq((ids.email ?? []).filter((e) => e.includes('@')).map(uid2EmailHash)),
    phone_hash: uniq((ids.phone ?? []).filter(isUid2Phone).map(uid2PhoneHash)),
  }),
  async send(batch: readonly DeliveryItem[], ctx) {
    const out: (DeliveryOutcome | undefined)[] = batch.map(() => undefined);
    const pending: Pending[] = [];
    batch.forEach((item, index) => {
      if (item.kind !== 'audience') { out[index] = drop('unsupported_kind'); return; }
      const emails = uniq(item.identifiers.email_hash ?? []);
      const phones = uniq(item.identifiers.phone_hash ?? []);
      if (emails.length + phones.length === 0) { out[index] = drop('no_identifier'); return; }
      pending.push({ index, item, emails, phones });
    });
    for (const chunk of chunks(pending)) {
      const results = await deliverChunk(chunk, ctx);
      chunk.forEach((p, i) => { out[p.index] = results[i]; });
    }
    const final = out.map((o) => o ?? drop('no_identifier'));
    ctx.log.info({ items: batch.length, ok: final.filter((o) => o.kind === 'ok').length }, 'the-trade-desk: batch sent');
    return final;
  },
};
