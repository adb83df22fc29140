/**
 * Marketing API (Graph API) calls for customer-file Custom Audiences: audience creation on an
 * ad account and the `/{audience_id}/users` uploads, with Graph errors read as outcomes. The
 * access token travels only in the Authorization header, never in a URL.
 */
import type { DeliveryOutcome, DestinationContext } from '../../protocol/destination.js';
import { MAX_RETRY_AFTER_MS, outcomeOfError, outcomeOfResponse, retryAfterMs } from '../http-outcome.js';
import { settings, type MetaConfigT } from './config.js';

export type Result<T> = { ok: true; value: T } | { ok: false; outcome: DeliveryOutcome };

const UNEXPECTED: DeliveryOutcome = { kind: 'retry', reason: 'meta:unexpected_response' };

/**
 * Graph error codes Meta documents as "wait and retry": 1 and 2 (temporary issue), 4, 17, 32,
 * 341 and 613 (rate limits), 80003 (Custom Audience business use case rate limit). Meta answers
 * most of them with HTTP 400, which the shared status mapping alone would drop.
 */
const TRANSIENT_CODES = new Set([1, 2, 4, 17, 32, 341, 613, 80003]);

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function parse(text: string): unknown {
  try { return JSON.parse(text) as unknown; } catch { return undefined; }
}

/** Minutes until access comes back, from `X-Business-Use-Case-Usage` (Meta's rate limit header). */
function regainAfterMs(res: Response): number | undefined {
  const usage = record(parse(res.headers.get('x-business-use-case-usage') ?? ''));
  let minutes = 0;
  for (const entries of Object.values(usage ?? {})) {
    for (const e of Array.isArray(entries) ? entries : []) {
      const m = record(e)?.estimated_time_to_regain_access;
      if (typeof m === 'number' && m > minutes) minutes = m;
    }
  }
  return minutes > 0 ? Math.min(minutes * 60_000, MAX_RETRY_AFTER_MS) : undefined;
}

/** A non-2xx Graph answer as an outcome; only numeric codes are kept (messages may echo data). */
export function graphOutcome(res: Response, body: unknown, now: number): DeliveryOutcome {
  const base = outcomeOfResponse(res, now);
  if (base.kind !== 'drop') return base;
  const err = record(record(body)?.error);
  const code = typeof err?.code === 'number' && Number.isInteger(err.code) ? err.code : undefined;
  if (code === undefined) return base;
  if (TRANSIENT_CODES.has(code) || err?.is_transient === true) {
    const afterMs = retryAfterMs(res.headers.get('retry-after'), now) ?? regainAfterMs(res);
    return { kind: 'retry', reason: `meta:${code}`, ...(afterMs === undefined ? {} : { afterMs }) };
  }
  const sub = typeof err?.error_subcode === 'number' && Number.isInteger(err.error_subcode) ? `/${err.error_subcode}` : '';
  return { kind: 'drop', reason: `${base.reason}:meta_${code}${sub}` };
}

async function call(ctx: DestinationContext<MetaConfigT>, method: 'POST' | 'DELETE', path: string, body: unknown): Promise<Result<unknown>> {
  try {
    const res = await ctx.fetch(`${settings(ctx.config).apiRoot}/${path}`, {
      method,
      headers: { authorization: `Bearer ${ctx.config.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const parsed = parse(await res.text().catch(() => ''));
    return res.ok ? { ok: true, value: parsed } : { ok: false, outcome: graphOutcome(res, parsed, ctx.now()) };
  } catch (err) {
    return { ok: false, outcome: outcomeOfError(err) };
  }
}

/** The audience's name: the segment's, tagged with its id so an operator can tell them apart. */
export function audienceName(segment: { segmentId: string; name: string }): string {
  return `${segment.name.replace(/\s+/g, ' ').trim().slice(0, 200)} (Ensemble ${segment.segmentId})`;
}

const storeKey = (segmentId: string) => `audience:${segmentId}`;

/** The Custom Audience mirroring a segment: remembered in the store, else created empty (CUSTOM). */
export async function ensureAudience(ctx: DestinationContext<MetaConfigT>, segment: { segmentId: string; name: string }): Promise<Result<string>> {
  let known: string | null;
  try { known = await ctx.store.get(storeKey(segment.segmentId)); } catch { return { ok: false, outcome: { kind: 'retry', reason: 'store_unavailable' } }; }
  if (known !== null && /^[0-9]+$/.test(known)) return { ok: true, value: known };
  const r = await call(ctx, 'POST', `act_${ctx.config.adAccountId}/customaudiences`, {
    name: audienceName(segment),
    subtype: 'CUSTOM',
    description: `Ensemble segment ${segment.segmentId}, kept in sync by Ensemble.`,
    customer_file_source: settings(ctx.config).customerFileSource,
  });
  if (!r.ok) return r;
  const id = record(r.value)?.id;
  // The id becomes part of later URLs: only a numeric Graph id is accepted.
  if (typeof id !== 'string' || !/^[0-9]+$/.test(id)) return { ok: false, outcome: UNEXPECTED };
  try { await ctx.store.set(storeKey(segment.segmentId), id); } catch { return { ok: false, outcome: { kind: 'retry', reason: 'store_unavailable' } }; }
  ctx.log.info({ segmentId: segment.segmentId, audienceId: id }, 'meta: custom audience created');
  return { ok: true, value: id };
}

export interface UsersBatch {
  /** Rows of [EMAIL hash, PHONE hash], '' where a key is missing. */
  data: string[][];
  session: { session_id: number; batch_seq: number; last_batch_flag: boolean; estimated_num_total: number };
}

export interface UsersAnswer {
  numReceived: number;
  numInvalid: number;
  /** Strings Meta quotes as invalid (samples: at most 100 a request). */
  invalidSamples: Set<string>;
}

/** Adds (POST) or removes (DELETE) one batch of rows on `/{audience_id}/users`. */
export async function uploadUsers(ctx: DestinationContext<MetaConfigT>, audienceId: string, action: 'add' | 'remove', batch: UsersBatch): Promise<Result<UsersAnswer>> {
  const r = await call(ctx, action === 'add' ? 'POST' : 'DELETE', `${audienceId}/users`, { payload: { schema: ['EMAIL', 'PHONE'], data: batch.data }, session: batch.session });
  if (!r.ok) return r;
  const body = record(r.value) ?? {};
  const samples = new Set<string>();
  const raw = body.invalid_entry_samples;
  // Documented as an array of strings or a map of strings; both sides of a map are kept.
  for (const v of Array.isArray(raw) ? raw : Object.entries(record(raw) ?? {}).flat()) if (typeof v === 'string') samples.add(v);
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : 0);
  return { ok: true, value: { numReceived: num(body.num_received), numInvalid: num(body.num_invalid_entries), invalidSamples: samples } };
}
