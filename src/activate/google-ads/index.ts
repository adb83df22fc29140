/**
 * Google Ads Customer Match: each Ensemble segment is mirrored by a CRM-based user list, created
 * on first use and remembered in the destination's store. A batch becomes, per segment and
 * action, one OfflineUserDataJob — created, filled with `create` (add) or `remove` operations of
 * hashed emails and phones, then run. Additions and removals never share a job: Google refuses
 * jobs mixing them (CONFLICTING_OPERATION), and only addition jobs declare consent.
 *
 * Replays are naturally idempotent: adding a member twice or removing an absent one changes
 * nothing, and the requests of a replay are the same as the first time's.
 */
import type { AudienceItem, DeliveryItem, DeliveryOutcome, DestinationManifest } from '../../protocol/destination.js';
import { canonicalGmail, sha256Hex } from '../hashing.js';
import { addOperations, bearer, client, createJob, ensureUserList, runJob, type Client } from './api.js';
import { GoogleAdsConfig, type GoogleAdsConfigT } from './config.js';
import { operationOutcome, partialFailures } from './failure.js';

export { GoogleAdsConfig, type GoogleAdsConfigT } from './config.js';

/** Google recommends at most 10,000 identifiers per addOperations call (the hard limit is 100,000). */
export const IDENTIFIERS_PER_REQUEST = 10_000;

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Google's published normalisation (Data Manager API "Format user data", the same Customer Match
 * matching): emails lower-cased with every whitespace removed, and for gmail.com / googlemail.com
 * the dots of the local part and anything from a `+` dropped; phones in E.164 with the `+`.
 */
export function googleEmail(email: string): string {
  return canonicalGmail(email.replace(/\s+/g, ''));
}

export function googlePhone(e164: string): string {
  return `+${e164.replace(/[^0-9]/g, '')}`;
}

type UserIdentifier = { hashedEmail: string } | { hashedPhoneNumber: string };

/** The UserData identifiers of an item (one UserIdentifier per value, as Google asks). */
function userIdentifiers(item: DeliveryItem): UserIdentifier[] {
  const ok = (v: string) => HEX64.test(v);
  return [
    ...(item.identifiers.hashedEmail ?? []).filter(ok).map((h) => ({ hashedEmail: h })),
    ...(item.identifiers.hashedPhoneNumber ?? []).filter(ok).map((h) => ({ hashedPhoneNumber: h })),
  ];
}

/** Consecutive runs of items whose identifiers stay within one request's limit. */
function chunks(items: readonly AudienceItem[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  let count = 0;
  items.forEach((item, i) => {
    const n = userIdentifiers(item).length;
    if (i > start && count + n > IDENTIFIERS_PER_REQUEST) { out.push([start, i]); start = i; count = 0; }
    count += n;
  });
  if (start < items.length) out.push([start, items.length]);
  return out;
}

/** One job for one action on one list; outcomes in the items' order. */
async function syncJob(api: Client, userList: string, action: 'add' | 'remove', items: readonly AudienceItem[]): Promise<DeliveryOutcome[]> {
  const job = await createJob(api, userList, action === 'add');
  if (!job.ok) return items.map(() => job.outcome);
  // undefined: accepted by the job, waiting for it to run.
  const outcomes: Array<DeliveryOutcome | undefined> = items.map(() => undefined);
  let failed = 0;
  for (const [start, end] of chunks(items)) {
    const operations = items.slice(start, end).map((item) => ({ [action === 'add' ? 'create' : 'remove']: { userIdentifiers: userIdentifiers(item) } }));
    const r = await addOperations(api, job.value, operations);
    if (!r.ok) {
      for (let i = start; i < end; i++) outcomes[i] = r.outcome;
      failed += end - start;
      continue;
    }
    // With partial failure on, Google names the failed operations by index: only those items fail.
    for (const [index, code] of partialFailures(r.value)) {
      if (index < 0 || start + index >= end) continue;
      outcomes[start + index] = operationOutcome(code);
      failed++;
    }
  }
  const waiting = outcomes.flatMap((o, i) => (o === undefined ? [i] : []));
  if (waiting.length > 0) {
    const run = await runJob(api, job.value);
    const done: DeliveryOutcome = run.ok ? { kind: 'ok', detail: job.value } : run.outcome;
    for (const i of waiting) outcomes[i] = done;
  }
  api.ctx.log.info({ job: job.value, action, operations: items.length, failed, ran: waiting.length > 0 }, 'google-ads: offline user data job');
  return outcomes.map((o) => o ?? { kind: 'retry', reason: 'google_ads:unexpected_response' });
}

export const manifest: DestinationManifest<GoogleAdsConfigT> = {
  id: 'google-ads',
  name: 'Google Ads Customer Match',
  description: 'Segments mirrored as Google Ads Customer Match lists (hashed emails and phones, via the Google Ads API).',
  kinds: ['audience'],
  configSchema: GoogleAdsConfig,
  secrets: ['developerToken', 'accessToken', 'clientSecret', 'refreshToken'],
  purpose: 'advertising',
  advertising: true,
  identifiers: ['email', 'phone'],
  // 5,000 people with an email and a phone each is Google's recommended 10,000 identifiers a call.
  batchSize: 5000,
  ratePerSecond: 1,
  identify: (ids) => ({
    hashedEmail: [...new Set((ids.email ?? []).map((e) => sha256Hex(googleEmail(e))))],
    hashedPhoneNumber: [...new Set((ids.phone ?? []).map((p) => sha256Hex(googlePhone(p))))],
  }),
  async send(batch, ctx) {
    const outcomes: Array<DeliveryOutcome | undefined> = batch.map(() => undefined);
    const groups = new Map<string, { segment: AudienceItem['audience']; add: number[]; remove: number[] }>();
    batch.forEach((item, i) => {
      if (item.kind !== 'audience') { outcomes[i] = { kind: 'drop', reason: 'unsupported_kind' }; return; }
      if (userIdentifiers(item).length === 0) { outcomes[i] = { kind: 'drop', reason: 'no_identifier' }; return; }
      const g = groups.get(item.audience.segmentId) ?? { segment: item.audience, add: [], remove: [] };
      g[item.action].push(i);
      groups.set(item.audience.segmentId, g);
    });
    if (groups.size > 0) {
      const token = await bearer(ctx);
      if (!token.ok) {
        for (const g of groups.values()) for (const i of [...g.add, ...g.remove]) outcomes[i] = token.outcome;
      } else {
        const api = client(ctx, token.value);
        // Sequential on purpose: one list at a time keeps jobs on a list from overlapping more
        // than needed, and keeps the requests of a replay in the same order.
        for (const g of groups.values()) {
          const list = await ensureUserList(api, g.segment);
          for (const action of ['add', 'remove'] as const) {
            const idx = g[action];
            if (idx.length === 0) continue;
            const results = list.ok
              ? await syncJob(api, list.value, action, idx.map((i) => batch[i] as AudienceItem))
              : idx.map(() => list.outcome);
            idx.forEach((i, k) => { outcomes[i] = results[k]; });
          }
        }
      }
    }
    return outcomes.map((o) => o ?? { kind: 'retry', reason: 'google_ads:unexpected_response' });
  },
};
