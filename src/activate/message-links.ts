/**
 * Signed message links: the unsubscribe, open-pixel, click-redirect and status-callback URLs put
 * into a message. Each carries an opaque token that names the workspace, destination, profile and
 * message it was made for, so the public routes can act on it without any lookup table and
 * without trusting anything the client could forge.
 *
 * Token: `base64url(JSON payload) "." base64url(HMAC-SHA256(key, "ensemble-link/1." + payload part))`,
 * the MAC truncated to 18 bytes (144 bits, a whole number of base64 groups). Verification is
 * constant-time and accepts only the canonical encoding, so changing any character of a token
 * makes it invalid. The payload is signed, not encrypted: it holds ids, never personal data.
 *
 * Kinds: `u` unsubscribe, `o` open, `c` click (with its target `u`, http or https only: the
 * redirect is never an open redirect to other schemes), `s` status callbacks. A route checks the
 * kind it expects, so one token cannot be replayed against another route. The open pixel's URL
 * ends in `.gif` after the token: the route strips it before verifying.
 *
 * @example
 *   const links = messageLinks('https://cdp.example.com', key, { workspaceId, destinationId, profileId, messageKey });
 *   links.unsubscribe    // https://cdp.example.com/v1/m/u/<token>
 *   verifyLink(key, token, 'u') // → payload, or null
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MessageLinks } from '../protocol/destination.js';

export type LinkKind = 'u' | 'o' | 'c' | 's';

export interface LinkPayload {
  /** Workspace id. */
  w: string;
  /** Destination id. */
  d: string;
  /** Profile id. */
  p: string;
  /** Message key (the delivery item's key). */
  m: string;
  k: LinkKind;
  /** Click target (kind `c` only). */
  u?: string;
}

export interface LinkIds {
  workspaceId: string;
  destinationId: string;
  profileId: string;
  messageKey: string;
}

const MAC_BYTES = 18;
const DOMAIN = 'ensemble-link/1.';
const KINDS: readonly string[] = ['u', 'o', 'c', 's'];
/** Longest click target signed (characters): browsers and mail clients cope with far longer, proxies not always. */
export const MAX_TARGET_LENGTH = 4096;

/** Whether a click target may be redirected to: an absolute http(s) URL. */
export function isTrackableUrl(url: string): boolean {
  if (url.length > MAX_TARGET_LENGTH) return false;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function mac(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(DOMAIN + body).digest().subarray(0, MAC_BYTES);
}

/** Signs a payload into a URL-safe token. Throws for a click without an http(s) target. */
export function signLink(key: Buffer, payload: LinkPayload): string {
  if (payload.k === 'c' ? payload.u === undefined || !isTrackableUrl(payload.u) : payload.u !== undefined) {
    throw new RangeError(payload.k === 'c' ? 'a click link needs an http or https target URL' : 'only click links carry a target URL');
  }
  // A fixed key order keeps tokens stable for the same payload.
  const ordered: LinkPayload = { w: payload.w, d: payload.d, p: payload.p, m: payload.m, k: payload.k, ...(payload.u !== undefined ? { u: payload.u } : {}) };
  const body = Buffer.from(JSON.stringify(ordered), 'utf8').toString('base64url');
  return `${body}.${mac(key, body).toString('base64url')}`;
}

/** Decodes base64url only when `text` is its canonical encoding (Node ignores stray characters and bits). */
function strictBase64url(text: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

function payloadOf(value: unknown): LinkPayload | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v);
  if (!keys.every((k) => ['w', 'd', 'p', 'm', 'k', 'u'].includes(k))) return null;
  const { w, d, p, m, k, u } = v;
  if (typeof w !== 'string' || typeof d !== 'string' || typeof p !== 'string' || typeof m !== 'string') return null;
  if (typeof k !== 'string' || !KINDS.includes(k)) return null;
  if (k === 'c' ? typeof u !== 'string' || !isTrackableUrl(u) : u !== undefined) return null;
  return { w, d, p, m, k: k as LinkKind, ...(typeof u === 'string' ? { u } : {}) };
}

/** The payload of a genuine token (of the expected kind, when given); null for anything else. */
export function verifyLink(key: Buffer, token: string, kind?: LinkKind): LinkPayload | null {
  if (typeof token !== 'string' || token.length > 2 * MAX_TARGET_LENGTH + 1024) return null;
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return null;
  const body = token.slice(0, dot);
  const given = strictBase64url(token.slice(dot + 1));
  const raw = strictBase64url(body);
  if (given === null || raw === null || given.length !== MAC_BYTES) return null;
  if (!timingSafeEqual(given, mac(key, body))) return null;
  let parsed: unknown;
  try { parsed = JSON.parse(raw.toString('utf8')); } catch { return null; }
  const payload = payloadOf(parsed);
  if (payload === null || (kind !== undefined && payload.k !== kind)) return null;
  return payload;
}

/**
 * The links of one message. `baseUrl` is Ensemble's public URL (https in production: RFC 8058
 * asks for an HTTPS unsubscribe URI). `click(url)` throws a RangeError for a non-http(s) target;
 * `instrumentHtml` (email connector) only rewrites http(s) links.
 */
export function messageLinks(baseUrl: string, key: Buffer, ids: LinkIds): MessageLinks {
  const base = baseUrl.replace(/\/+$/, '');
  const sign = (k: LinkKind, u?: string) => signLink(key, { w: ids.workspaceId, d: ids.destinationId, p: ids.profileId, m: ids.messageKey, k, ...(u !== undefined ? { u } : {}) });
  return {
    unsubscribe: `${base}/v1/m/u/${sign('u')}`,
    open: `${base}/v1/m/o/${sign('o')}.gif`,
    click: (url: string) => `${base}/v1/m/c/${sign('c', url)}`,
    status: `${base}/v1/m/s/${sign('s')}`,
  };
}
