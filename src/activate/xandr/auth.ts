/**
 * Xandr API sessions: `POST {apiBase}/auth` with `{"auth":{"username","password"}}` answers a
 * token that is then sent as `Authorization: <token>`. A token lives 2 hours after its last use
 * and 24 hours at most, and logins are limited (10 per 5 minutes), so the token is kept in the
 * destination's store and reused across sends; on a `NOAUTH` answer it is replaced once.
 */
import type { DeliveryOutcome, DestinationContext } from '../../protocol/destination.js';
import { outcomeOfError, outcomeOfResponse } from '../http-outcome.js';
import { sha256Hex } from '../hashing.js';

export interface XandrAuthConfig {
  username: string;
  password: string;
  apiBase?: string;
}

export const DEFAULT_API_BASE = 'https://api.appnexus.com';

/** Reused while younger than these (with margin on the documented 2 h idle / 24 h hard expiry). */
const IDLE_MS = 90 * 60_000;
const HARD_MS = 23 * 3_600_000;

interface Cached { token: string; obtainedAt: number; usedAt: number }

/** One token per API and user, so changing either in the config starts a new session. */
function storeKey(c: XandrAuthConfig): string {
  return `xandr-token:${sha256Hex(`${c.apiBase ?? DEFAULT_API_BASE}\n${c.username}`).slice(0, 24)}`;
}

/** The `response` object of a Xandr API answer, or null when the body is not one. */
export function apiResponse(text: string): Record<string, unknown> | null {
  try {
    const j = JSON.parse(text) as { response?: unknown };
    return typeof j.response === 'object' && j.response !== null ? j.response as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

/** The error id of an answer (`error_id`, or `error_code` on the upload side), made safe for a reason. */
export function errorId(r: Record<string, unknown>): string {
  const id = typeof r.error_id === 'string' ? r.error_id : typeof r.error_code === 'string' ? r.error_code : 'ERROR';
  return /^[A-Z_]{1,40}$/.test(id) ? id : 'ERROR';
}

/** Body-level errors of a 2xx: rate limits and system errors are retried, the rest dropped. */
export function bodyOutcome(r: Record<string, unknown> | null): DeliveryOutcome {
  if (r === null) return { kind: 'retry', reason: 'xandr_unreadable' };
  if (r.status === 'OK') return { kind: 'ok' };
  const id = errorId(r);
  if (id === 'RATE_LIMIT_EXCEEDED') return { kind: 'retry', reason: `xandr_${id}`, afterMs: 60_000 };
  if (id === 'SYSTEM') return { kind: 'retry', reason: `xandr_${id}` };
  return { kind: 'drop', reason: `xandr_${id}` };
}

async function login(ctx: DestinationContext<XandrAuthConfig>): Promise<{ token: string } | { outcome: DeliveryOutcome }> {
  const c = ctx.config;
  try {
    const res = await ctx.fetch(`${c.apiBase ?? DEFAULT_API_BASE}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { username: c.username, password: c.password } }),
    });
    const text = await res.text();
    const o = outcomeOfResponse(res, ctx.now());
    if (o.kind !== 'ok') return { outcome: o };
    const r = apiResponse(text);
    if (r !== null && r.status === 'OK' && typeof r.token === 'string' && r.token.length > 0) {
      const now = ctx.now();
      await ctx.store.set(storeKey(c), JSON.stringify({ token: r.token, obtainedAt: now, usedAt: now } satisfies Cached));
      return { token: r.token };
    }
    // Wrong or disabled credentials fail every item until someone fixes the config.
    if (r !== null && errorId(r).startsWith('NOAUTH')) return { outcome: { kind: 'dead', error: 'xandr_auth_failed' } };
    return { outcome: bodyOutcome(r) };
  } catch (err) {
    return { outcome: outcomeOfError(err) };
  }
}

async function cached(ctx: DestinationContext<XandrAuthConfig>): Promise<string | null> {
  const raw = await ctx.store.get(storeKey(ctx.config));
  if (raw === null) return null;
  try {
    const c = JSON.parse(raw) as Cached;
    const now = ctx.now();
    if (typeof c.token !== 'string' || now - c.usedAt > IDLE_MS || now - c.obtainedAt > HARD_MS) return null;
    await ctx.store.set(storeKey(ctx.config), JSON.stringify({ ...c, usedAt: now }));
    return c.token;
  } catch {
    return null;
  }
}

export interface Answer { res: Response; text: string }

/** Whether an answer says the session is gone (then a new login is worth one more try). */
function isNoAuth(a: Answer): boolean {
  if (a.res.status === 401) return true;
  const r = a.res.ok ? apiResponse(a.text) : null;
  return r !== null && r.error_id === 'NOAUTH';
}

/**
 * Runs an authenticated call with the cached token (logging in when there is none), and once
 * more with a fresh token when the answer is `NOAUTH`. Network errors become outcomes.
 */
export async function withSession(
  ctx: DestinationContext<XandrAuthConfig>,
  call: (token: string) => Promise<Response>,
): Promise<Answer | { outcome: DeliveryOutcome }> {
  let token = await cached(ctx);
  let fresh = false;
  for (;;) {
    if (token === null) {
      const l = await login(ctx);
      if ('outcome' in l) return l;
      token = l.token;
      fresh = true;
    }
    let a: Answer;
    try {
      const res = await call(token);
      a = { res, text: await res.text() };
    } catch (err) {
      return { outcome: outcomeOfError(err) };
    }
    if (!isNoAuth(a) || fresh) return a;
    token = null;
  }
}
