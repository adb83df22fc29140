/**
 * Meta Custom Audiences (customer file): each Ensemble segment is mirrored by a CUSTOM audience
 * on the ad account, created on first use and remembered in the destination's store. Additions
 * are POSTed and removals DELETEd on `/{audience_id}/users`, as multi-key rows
 * (schema EMAIL, PHONE) of SHA-256 hex digests, at most 10,000 rows a request.
 *
 * Every upload carries a `session` whose id is derived from the audience, the action and the
 * items' keys: a replay of the same items is the same session, with the same requests.
 */
import { createHash } from 'node:crypto';
import type { AudienceItem, DeliveryItem, DeliveryOutcome, DestinationContext, DestinationManifest } from '../../protocol/destination.js';
import { normaliseEmail, phoneDigits, sha256Hex } from '../hashing.js';
import { MetaConfig, type MetaConfigT } from './config.js';
import { ensureAudience, uploadUsers } from './graph.js';

export { MetaConfig, type MetaConfigT } from './config.js';

/** Meta: "You can add an unlimited number of records to an audience, but only up to 10000 at a time." */
export const ROWS_PER_REQUEST = 10_000;
/** Rows per person at most (Meta's customer files take up to three emails and three phones). */
export const ROWS_PER_PERSON = 3;

const HEX64 = /^[0-9a-f]{64}$/;

/** Meta's PHONE rule: symbols and letters removed, no leading zeros, country code included. */
export function metaPhone(e164: string): string {
  return phoneDigits(e164).replace(/^0+/, '');
}

/**
 * The rows of one person: its emails and phones paired in order ([EMAIL, PHONE]), an empty
 * string where one list is shorter ("you can provide some or all multi-keys for a record").
 */
export function rowsOf(item: DeliveryItem): string[][] {
  const emails = (item.identifiers.EMAIL ?? []).filter((h) => HEX64.test(h));
  const phones = (item.identifiers.PHONE ?? []).filter((h) => HEX64.test(h));
  const n = Math.min(ROWS_PER_PERSON, Math.max(emails.length, phones.length));
  return Array.from({ length: n }, (_, i) => [emails[i] ?? '', phones[i] ?? '']);
}

/** A positive integer below 2^53 (exact in JSON), the same for the same audience, action and keys. */
export function sessionId(audienceId: string, action: 'add' | 'remove', keys: readonly string[]): number {
  const digest = createHash('sha256').update(`${audienceId}\n${action}\n${keys.join('\n')}`).digest('hex');
  return Number.parseInt(digest.slice(0, 13), 16) || 1;
}

/** Consecutive runs of items whose rows fit one request; a person is never split. */
function chunks(rows: readonly string[][][]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  let count = 0;
  rows.forEach((r, i) => {
    if (i > start && count + r.length > ROWS_PER_REQUEST) { out.push([start, i]); start = i; count = 0; }
    count += r.length;
  });
  if (start < rows.length) out.push([start, rows.length]);
  return out;
}

/** One session for one action on one audience; outcomes in the items' order. */
async function sync(ctx: DestinationContext<MetaConfigT>, audienceId: string, action: 'add' | 'remove', items: readonly AudienceItem[]): Promise<DeliveryOutcome[]> {
  const rows = items.map(rowsOf);
  const total = rows.reduce((n, r) => n + r.length, 0);
  const id = sessionId(audienceId, action, items.map((i) => i.key));
  const parts = chunks(rows);
  const outcomes: DeliveryOutcome[] = [];
  for (const [k, [start, end]] of parts.entries()) {
    const r = await uploadUsers(ctx, audienceId, action, {
      data: rows.slice(start, end).flat(),
      session: { session_id: id, batch_seq: k + 1, last_batch_flag: k === parts.length - 1, estimated_num_total: total },
    });
    for (let i = start; i < end; i++) {
      if (!r.ok) { outcomes.push(r.outcome); continue; }
      // Meta quotes (some of) the entries it could not read: a person all of whose digests are
      // quoted was not taken; anyone else was.
      const values = rows[i]!.flat().filter((v) => v !== '');
      outcomes.push(values.every((v) => r.value.invalidSamples.has(v)) ? { kind: 'drop', reason: 'meta:invalid_entry' } : { kind: 'ok' });
    }
    ctx.log.info({ audienceId, action, session: id, batch: k + 1, rows: rows.slice(start, end).flat().length, ...(r.ok ? { received: r.value.numReceived, invalid: r.value.numInvalid } : { failed: true }) }, 'meta: users batch');
  }
  return outcomes;
}

export const manifest: DestinationManifest<MetaConfigT> = {
  id: 'meta',
  name: 'Meta Custom Audiences',
  description: 'Segments mirrored as Meta (Facebook, Instagram) customer-file Custom Audiences, from hashed emails and phones.',
  kinds: ['audience'],
  configSchema: MetaConfig,
  secrets: ['accessToken'],
  purpose: 'advertising',
  advertising: true,
  identifiers: ['email', 'phone'],
  batchSize: ROWS_PER_REQUEST,
  ratePerSecond: 2,
  // Meta's rules: EMAIL trimmed and lower-cased; PHONE digits only with the country code, no
  // '+' and no leading zeros; both SHA-256, lowercase hex.
  identify: (ids) => ({
    EMAIL: [...new Set((ids.email ?? []).map((e) => sha256Hex(normaliseEmail(e))))],
    PHONE: [...new Set((ids.phone ?? []).map((p) => metaPhone(p)).filter((p) => p.length > 0).map(sha256Hex))],
  }),
  async send(batch, ctx) {
    const outcomes: Array<DeliveryOutcome | undefined> = batch.map(() => undefined);
    const groups = new Map<string, { segment: AudienceItem['audience']; add: number[]; remove: number[] }>();
    batch.forEach((item, i) => {
      if (item.kind !== 'audience') { outcomes[i] = { kind: 'drop', reason: 'unsupported_kind' }; return; }
      if (rowsOf(item).length === 0) { outcomes[i] = { kind: 'drop', reason: 'no_identifier' }; return; }
      const g = groups.get(item.audience.segmentId) ?? { segment: item.audience, add: [], remove: [] };
      g[item.action].push(i);
      groups.set(item.audience.segmentId, g);
    });
    // Sequential: the same batch always produces the same requests in the same order.
    for (const g of groups.values()) {
      const audience = await ensureAudience(ctx, g.segment);
      for (const action of ['add', 'remove'] as const) {
        const idx = g[action];
        if (idx.length === 0) continue;
        const results = audience.ok ? await sync(ctx, audience.value, action, idx.map((i) => batch[i] as AudienceItem)) : idx.map(() => audience.outcome);
        idx.forEach((i, k) => { outcomes[i] = results[k]; });
      }
    }
    return outcomes.map((o) => o ?? { kind: 'retry', reason: 'meta:unexpected_response' });
  },
};
