/**
 * Xandr (Microsoft Invest, formerly AppNexus) segments, keyed by Xandr user ids obtained through
 * cookie sync (`xandr_id`), uploaded with the Batch Segment Service:
 * 1. `POST {apiBase}/batch-segment?member_id=N` (authenticated) → a job id and an `upload_url`;
 * 2. `POST <upload_url>` with the segment file (`application/octet-stream`, legacy text format).
 * Processing is asynchronous (up to 24 h); per-line results are only in the job status, which
 * this connector logs the id of but does not poll: an accepted upload counts as delivered.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { DeliveryItem, DeliveryOutcome, DestinationContext, DestinationManifest } from '../../protocol/destination.js';
import { outcomeOfError, outcomeOfResponse } from '../http-outcome.js';
import { apiResponse, bodyOutcome, DEFAULT_API_BASE, withSession } from './auth.js';
import { bssLines, DEFAULT_FORMAT, formatProblem, isXandrId, type BssFormat, type Membership } from './bss-file.js';

/** 180 days, the documented maximum: what EXPIRATION `0` means. */
export const MAX_EXPIRATION_MINUTES = 259_200;

const Separator = Type.String({ minLength: 1, maxLength: 1, pattern: '^[^\\[\\](){}$\\\\/|?*+\\-0-9]$' });

export const XandrConfig = Type.Object({
  memberId: Type.Integer({ minimum: 1, description: 'Xandr member (seat) id.' }),
  username: Type.String({ minLength: 1, maxLength: 200, description: 'API user name.' }),
  password: Type.String({ minLength: 1, maxLength: 200, description: 'API user password.' }),
  apiBase: Type.Optional(Type.String({ pattern: '^https?://\\S+$', maxLength: 2048, description: `Digital Platform API (default ${DEFAULT_API_BASE}).` })),
  segments: Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.Integer({ minimum: 1 }), {
    description: 'Ensemble segment id → existing Xandr segment id. Unmapped segments are not sent.',
  }),
  expirationMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_EXPIRATION_MINUTES, default: 0, description: 'Membership lifetime; 0 = the 180-day maximum.' })),
  fileFormat: Type.Optional(Type.Object({
    separator1: Separator,
    separator2: Separator,
    separator3: Separator,
    segmentFields: Type.Union([Type.Literal('SEG_ID,EXPIRATION'), Type.Literal('SEG_ID,EXPIRATION,VALUE')]),
  }, { additionalProperties: false, description: "The seat's Batch Segment Service file format (default: ',' ';' ':' and SEG_ID,EXPIRATION,VALUE)." })),
}, { additionalProperties: false });
export type XandrConfigT = Static<typeof XandrConfig>;

const drop = (reason: string): DeliveryOutcome => ({ kind: 'drop', reason });

type Step = { text: string } | { outcome: DeliveryOutcome };

/** Step 1: a job and its upload URL. */
async function openJob(ctx: DestinationContext<XandrConfigT>): Promise<{ jobId: string; uploadUrl: string } | { outcome: DeliveryOutcome }> {
  const c = ctx.config;
  const a = await withSession(ctx, (token) => ctx.fetch(`${c.apiBase ?? DEFAULT_API_BASE}/batch-segment?member_id=${c.memberId}`, {
    method: 'POST',
    headers: { authorization: token },
  }));
  if ('outcome' in a) return a;
  const o = outcomeOfResponse(a.res, ctx.now());
  if (o.kind !== 'ok') return { outcome: o };
  const r = apiResponse(a.text);
  const b = bodyOutcome(r);
  if (b.kind !== 'ok') return { outcome: b };
  const job = r?.batch_segment_upload_job;
  // Data providers on the Impbus API get a one-element array instead of the object.
  const j = (Array.isArray(job) ? job[0] : job) as Record<string, unknown> | undefined;
  const uploadUrl = typeof j?.upload_url === 'string' ? j.upload_url : '';
  if (!/^https?:\/\/\S+$/.test(uploadUrl)) return { outcome: { kind: 'retry', reason: 'xandr_no_upload_url' } };
  return { jobId: typeof j?.job_id === 'string' ? j.job_id : '', uploadUrl };
}

/** Step 2: the file itself. The upload URL carries the job; no session token goes to it. */
async function upload(ctx: DestinationContext<XandrConfigT>, uploadUrl: string, file: string): Promise<Step> {
  try {
    const res = await ctx.fetch(uploadUrl, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(file, 'latin1') });
    const text = await res.text();
    const o = outcomeOfResponse(res, ctx.now());
    return o.kind === 'ok' ? { text } : { outcome: o };
  } catch (err) {
    return { outcome: outcomeOfError(err) };
  }
}

export const manifest: DestinationManifest<XandrConfigT> = {
  id: 'xandr',
  name: 'Xandr (Microsoft Invest)',
  description: 'Audience segments on Xandr, for users synced by cookie, uploaded with the Batch Segment Service.',
  kinds: ['audience'],
  configSchema: XandrConfig,
  secrets: ['password'],
  purpose: 'advertising',
  advertising: true,
  identifiers: ['xandr_id'],
  // One job per batch: Xandr asks for at most one upload a minute, so batches are large and rare.
  batchSize: 10_000,
  ratePerSecond: 1 / 60,
  identify: (ids) => ({ xandr_id: [...new Set((ids.xandr_id ?? []).map((s) => s.trim()).filter(isXandrId))] }),
  async send(batch: readonly DeliveryItem[], ctx) {
    const c = ctx.config;
    const out: (DeliveryOutcome | undefined)[] = batch.map(() => undefined);
    const memberships: Membership[] = [];
    const sent: number[] = [];
    batch.forEach((item, i) => {
      if (item.kind !== 'audience') { out[i] = drop('unsupported_kind'); return; }
      const segment = Object.hasOwn(c.segments, item.audience.segmentId) ? c.segments[item.audience.segmentId] : undefined;
      if (segment === undefined) { out[i] = drop('segment_not_mapped'); return; }
      const uids = (item.identifiers.xandr_id ?? []).filter(isXandrId);
      if (uids.length === 0) { out[i] = drop('no_identifier'); return; }
      const expiration = item.action === 'remove' ? -1 : (c.expirationMinutes ?? 0);
      for (const uid of uids) memberships.push({ uid, segment, expiration });
      sent.push(i);
    });
    if (sent.length === 0) return out.map((o) => o ?? drop('no_identifier'));

    const format: BssFormat = c.fileFormat ?? DEFAULT_FORMAT;
    const fill = (o: DeliveryOutcome) => out.map((x) => x ?? o);
    if (formatProblem(format) !== null) return fill({ kind: 'dead', error: 'xandr_invalid_file_format' });
    const lines = bssLines(memberships, format);

    const job = await openJob(ctx);
    if ('outcome' in job) return fill(job.outcome);
    const up = await upload(ctx, job.uploadUrl, `${lines.join('\n')}\n`);
    if ('outcome' in up) return fill(up.outcome);
    const result = bodyOutcome(apiResponse(up.text));
    ctx.log.info({ jobId: job.jobId, items: sent.length, lines: lines.length, accepted: result.kind === 'ok' }, 'xandr: segment file uploaded');
    return fill(result);
  },
};
