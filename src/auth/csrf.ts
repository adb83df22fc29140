/**
 * CSRF protection for cookie sessions. A cross-site form or script can make the browser send the
 * session cookie (SameSite=Strict already stops most of it), but cannot read the token that
 * `POST /api/auth/login` and `GET /api/auth/me` return to the page. State-changing requests
 * made with the cookie must echo it in `x-csrf-token`. Bearer-token requests need none: a
 * browser never adds an Authorization header on its own.
 *
 * The token is derived from the session token (an HMAC under it), so nothing more is stored and
 * it dies with the session.
 *
 * @example
 *   const csrf = csrfTokenFor(sessionToken);
 *   csrfMatches(sessionToken, req.headers['x-csrf-token']); // true when the page sent `csrf`
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const CSRF_HEADER = 'x-csrf-token';

export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('ensemble-csrf-v1').digest('base64url');
}

export function csrfMatches(sessionToken: string, header: unknown): boolean {
  if (typeof header !== 'string' || header.length === 0) return false;
  const a = Buffer.from(csrfTokenFor(sessionToken));
  const b = Buffer.from(header);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Methods that change state and so need the token with a cookie session. */
export function changesState(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}
