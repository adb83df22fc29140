/**
 * The Google Ads API calls of Customer Match, over REST (JSON): OAuth token, user list creation
 * (or recovery by name), and the OfflineUserDataJob lifecycle — create, addOperations, run.
 * Every call answers `{ ok: true, body }` or `{ ok: false, outcome }`; nothing here throws.
 */
import type { DeliveryOutcome, DestinationContext } from '../../protocol/destination.js';
import { outcomeOfError } from '../http-outcome.js';
import { errorCodes, failureOutcome } from './failure.js';
import { settings, type GoogleAdsConfigT } from './config.js';

export type Result<T> = { ok: true; value: T } | { ok: false; outcome: DeliveryOutcome; codes: string[] };

/** A 2xx whose body lacks what the API reference promises: retried, an operator sees the reason. */
const UNEXPECTED: DeliveryOutcome = { kind: 'retry', reason: 'google_ads:unexpected_response' };

function fail<T>(outcome: DeliveryOutcome, codes: string[] = []): Result<T> {
  return { ok: false, outcome, codes };
}

function parse(text: string): unknown {
  try { return JSON.parse(text) as unknown; } catch { return undefined; }
}

function field(v: unknown, ...path: (string | number)[]): unknown {
  let cur = v;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

async function call(ctx: DestinationContext<GoogleAdsConfigT>, url: string, init: RequestInit): Promise<Result<unknown>> {
  try {
    const res = await ctx.fetch(url, init);
    const body = parse(await res.text().catch(() => ''));
    if (res.ok) return { ok: true, value: body };
    return fail(failureOutcome(res, body, ctx.now()), errorCodes(body));
  } catch (err) {
    return fail(outcomeOfError(err));
  }
}

/**
 * The bearer token for this send: a refresh-token exchange when the OAuth client is configured
 * (the durable setup), else the configured access token. The exchanged token lives only for
 * the send — nothing is cached in memory or in the store.
 */
export async function bearer(ctx: DestinationContext<GoogleAdsConfigT>): Promise<Result<string>> {
  const c = ctx.config;
  if (c.refreshToken && c.clientId && c.clientSecret) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: c.clientId, client_secret: c.clientSecret, refresh_token: c.refreshToken });
    const r = await call(ctx, settings(c).tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    if (!r.ok) return r;
    const token = field(r.value, 'access_token');
    return typeof token === 'string' && token.length > 0 ? { ok: true, value: token } : fail(UNEXPECTED);
  }
  if (c.accessToken) return { ok: true, value: c.accessToken };
  return fail({ kind: 'dead', error: 'config:no_credentials' });
}

export interface Client {
  ctx: DestinationContext<GoogleAdsConfigT>;
  post(path: string, body: unknown): Promise<Result<unknown>>;
}

export function client(ctx: DestinationContext<GoogleAdsConfigT>, token: string): Client {
  const { apiRoot } = settings(ctx.config);
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    'developer-token': ctx.config.developerToken,
    'content-type': 'application/json',
    ...(ctx.config.loginCustomerId ? { 'login-customer-id': ctx.config.loginCustomerId } : {}),
  };
  return { ctx, post: (path, body) => call(ctx, `${apiRoot}/${path}`, { method: 'POST', headers, body: JSON.stringify(body) }) };
}

/** The platform list's name: the segment's, tagged with its id so it stays unique and findable. */
export function listName(segment: { segmentId: string; name: string }): string {
  // Quotes and backslashes are dropped so the name can be looked up in GAQL without escaping.
  const clean = (s: string) => s.replace(/['"\\]/g, '').replace(/\s+/g, ' ').trim();
  return `${clean(segment.name).slice(0, 200)} (Ensemble ${clean(segment.segmentId).slice(0, 80)})`;
}

const storeKey = (segmentId: string) => `userList:${segmentId}`;

function listPattern(customerId: string): RegExp {
  return new RegExp(`^customers/${customerId}/userLists/[0-9]+$`);
}

/**
 * The user list mirroring a segment: the one remembered in the store, else a new CRM-based list
 * (contact info, first party). A create refused with NAME_ALREADY_USED means an earlier create
 * succeeded but was not remembered: the list is then found by its name.
 */
export async function ensureUserList(api: Client, segment: { segmentId: string; name: string }): Promise<Result<string>> {
  const { ctx } = api;
  const cid = ctx.config.customerId;
  let known: string | null;
  try { known = await ctx.store.get(storeKey(segment.segmentId)); } catch { return fail({ kind: 'retry', reason: 'store_unavailable' }); }
  if (known !== null && listPattern(cid).test(known)) return { ok: true, value: known };

  const name = listName(segment);
  const created = await api.post(`customers/${cid}/userLists:mutate`, {
    operations: [{ create: {
      name,
      description: `Ensemble segment ${segment.segmentId}, kept in sync by Ensemble.`,
      membershipStatus: 'OPEN',
      membershipLifeSpan: settings(ctx.config).lifeSpanDays,
      crmBasedUserList: { uploadKeyType: 'CONTACT_INFO', dataSourceType: 'FIRST_PARTY' },
    } }],
  });
  let resourceName: unknown;
  if (created.ok) {
    resourceName = field(created.value, 'results', 0, 'resourceName');
  } else if (created.codes.includes('NAME_ALREADY_USED')) {
    const found = await api.post(`customers/${cid}/googleAds:search`, { query: `SELECT user_list.resource_name FROM user_list WHERE user_list.name = '${name}'` });
    if (!found.ok) return found;
    resourceName = field(found.value, 'results', 0, 'userList', 'resourceName');
  } else {
    return created;
  }
  if (typeof resourceName !== 'string' || !listPattern(cid).test(resourceName)) return fail(UNEXPECTED);
  try { await ctx.store.set(storeKey(segment.segmentId), resourceName); } catch { return fail({ kind: 'retry', reason: 'store_unavailable' }); }
  ctx.log.info({ segmentId: segment.segmentId, userList: resourceName, recovered: !created.ok }, 'google-ads: user list ready');
  return { ok: true, value: resourceName };
}

/**
 * A Customer Match job on a list. Jobs that add carry the consent of all their users: Ensemble
 * only admits additions whose person consented to advertising, so both signals are GRANTED.
 * Jobs that remove carry no consent (Google: "for remove requests, consent is not needed").
 */
export async function createJob(api: Client, userList: string, withConsent: boolean): Promise<Result<string>> {
  const cid = api.ctx.config.customerId;
  const r = await api.post(`customers/${cid}/offlineUserDataJobs:create`, {
    job: {
      type: 'CUSTOMER_MATCH_USER_LIST',
      customerMatchUserListMetadata: { userList, ...(withConsent ? { consent: { adUserData: 'GRANTED', adPersonalization: 'GRANTED' } } : {}) },
    },
  });
  if (!r.ok) return r;
  const job = field(r.value, 'resourceName');
  // The job's name becomes part of the next URLs: accept only this customer's job names.
  return typeof job === 'string' && new RegExp(`^customers/${cid}/offlineUserDataJobs/[0-9]+$`).test(job) ? { ok: true, value: job } : fail(UNEXPECTED);
}

export async function addOperations(api: Client, job: string, operations: unknown[]): Promise<Result<unknown>> {
  return api.post(`${job}:addOperations`, { enablePartialFailure: true, operations });
}

export async function runJob(api: Client, job: string): Promise<Result<unknown>> {
  return api.post(`${job}:run`, {});
}
