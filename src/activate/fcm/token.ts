/**
 * OAuth 2.0 access tokens for FCM from a Google service account ("Using OAuth 2.0 for Server to
 * Server Applications"): an RS256 JWT assertion (iss = the account's client_email, scope,
 * aud = the token URI, iat, exp ≤ iat + 1 h) exchanged at the token URI with the
 * `urn:ietf:params:oauth:grant-type:jwt-bearer` grant. The token is cached in the destination's
 * store until five minutes before it expires, so batches do not each mint one.
 */
import { SignJWT, importPKCS8 } from 'jose';
import type { DeliveryOutcome, DestinationContext } from '../../protocol/destination.js';
import { outcomeOfError, outcomeOfResponse } from '../http-outcome.js';
import { sha256Hex } from '../hashing.js';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
export const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** A cached token is not used in its last five minutes (clock skew, long batches). */
const EARLY_MS = 5 * 60_000;

export interface ServiceAccount {
  clientEmail: string;
  privateKey: string;
  privateKeyId?: string;
  tokenUri?: string;
}

/** Keyed by account and token URI, so a changed config never reuses another account's token. */
function storeKey(a: ServiceAccount): string {
  return `fcm:access-token:${sha256Hex(`${a.clientEmail}\n${a.tokenUri ?? DEFAULT_TOKEN_URI}`).slice(0, 24)}`;
}

/** The JSON key file stores the PEM with `\n` escapes; pasted as is, it still works. */
function pem(key: string): string {
  return key.includes('\\n') ? key.replace(/\\n/g, '\n') : key;
}

export async function signAssertion(a: ServiceAccount, nowMs: number): Promise<string> {
  const key = await importPKCS8(pem(a.privateKey), 'RS256');
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ scope: FCM_SCOPE })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(a.privateKeyId ? { kid: a.privateKeyId } : {}) })
    .setIssuer(a.clientEmail)
    .setAudience(a.tokenUri ?? DEFAULT_TOKEN_URI)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(key);
}

/** A bearer token, or the outcome every item of the batch gets when none can be had. */
export async function accessToken<C>(a: ServiceAccount, ctx: DestinationContext<C>): Promise<{ token: string } | { outcome: DeliveryOutcome }> {
  const cached = await ctx.store.get(storeKey(a)).catch(() => null);
  if (cached) {
    try {
      const c = JSON.parse(cached) as { token?: unknown; expiresAt?: unknown };
      if (typeof c.token === 'string' && typeof c.expiresAt === 'number' && c.expiresAt - EARLY_MS > ctx.now()) return { token: c.token };
    } catch { /* unreadable cache: mint a new token */ }
  }
  let assertion: string;
  try {
    assertion = await signAssertion(a, ctx.now());
  } catch {
    return { outcome: { kind: 'dead', error: 'config: privateKey is not a PKCS#8 PEM RSA key' } };
  }
  try {
    const res = await ctx.fetch(a.tokenUri ?? DEFAULT_TOKEN_URI, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString(),
    });
    const outcome = outcomeOfResponse(res, ctx.now());
    if (outcome.kind !== 'ok') {
      await res.arrayBuffer().catch(() => undefined);
      ctx.log.warn({ destinationId: ctx.destinationId, status: res.status }, 'fcm: token request refused');
      return { outcome };
    }
    const body = await res.json().catch(() => null) as { access_token?: unknown; expires_in?: unknown } | null;
    if (typeof body?.access_token !== 'string' || body.access_token === '') return { outcome: { kind: 'retry', reason: 'token_response_invalid' } };
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    await ctx.store.set(storeKey(a), JSON.stringify({ token: body.access_token, expiresAt: ctx.now() + expiresIn * 1000 })).catch(() => undefined);
    return { token: body.access_token };
  } catch (err) {
    return { outcome: outcomeOfError(err) };
  }
}

/** Forgets the cached token (FCM said it is no longer valid). */
export async function forgetToken<C>(a: ServiceAccount, ctx: DestinationContext<C>): Promise<void> {
  await ctx.store.set(storeKey(a), '').catch(() => undefined);
}
