/**
 * UID2 / EUID pieces the Trade Desk connector needs: the DII normalisation and Base64 SHA-256
 * encoding of the UID2 "Normalization and Encoding" page, and the request/response envelope of
 * "Encrypting Requests and Decrypting Responses" used by `POST /v3/identity/map`.
 *
 * Envelope (request): base64( 0x01 | iv(12) | AES-256-GCM( ts_ms int64 BE | nonce(8) | json ) | tag(16) )
 * Envelope (response, HTTP 200 only): base64( iv(12) | AES-256-GCM( ts_ms | nonce(8) | json ) | tag(16) ),
 * whose nonce must equal the request's (replay protection).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { normaliseEmail, sha256Base64 } from '../hashing.js';

/**
 * UID2 email rule: trim, lower-case, and for `gmail.com` only (not googlemail.com) drop every
 * `.` and anything from `+` in the local part.
 */
export function uid2NormaliseEmail(email: string): string {
  const e = normaliseEmail(email);
  const at = e.lastIndexOf('@');
  if (at <= 0 || e.slice(at + 1) !== 'gmail.com') return e;
  const local = e.slice(0, at).split('+')[0]!.replaceAll('.', '');
  return `${local}@gmail.com`;
}

/** E.164 as UID2 accepts it: `+`, country code, subscriber number, at most 15 digits. */
export function isUid2Phone(phone: string): boolean {
  return /^\+[1-9][0-9]{5,14}$/.test(phone);
}

/** Base64 of the SHA-256 bytes (not of the hex string): what `email_hash`/`phone_hash` carry. */
export const uid2EmailHash = (email: string): string => sha256Base64(uid2NormaliseEmail(email));
export const uid2PhoneHash = (phone: string): string => sha256Base64(phone);

const IV_BYTES = 12;
const TAG_BYTES = 16;
const NONCE_BYTES = 8;

export interface SealedRequest {
  /** The base64 envelope: the whole HTTP body. */
  body: string;
  /** Kept to check the response envelope. */
  nonce: Buffer;
}

function keyOf(clientSecretB64: string): Buffer {
  const key = Buffer.from(clientSecretB64, 'base64');
  if (key.length !== 32) throw new Error('client secret is not a base64 256-bit key');
  return key;
}

/** Encrypts a JSON request for the operator (version-1 envelope). */
export function sealRequest(clientSecretB64: string, json: string, nowMs: number): SealedRequest {
  const nonce = randomBytes(NONCE_BYTES);
  const iv = randomBytes(IV_BYTES);
  const ts = Buffer.alloc(8);
  ts.writeBigInt64BE(BigInt(Math.trunc(nowMs)));
  const cipher = createCipheriv('aes-256-gcm', keyOf(clientSecretB64), iv, { authTagLength: TAG_BYTES });
  const encrypted = Buffer.concat([cipher.update(Buffer.concat([ts, nonce, Buffer.from(json, 'utf8')])), cipher.final()]);
  const envelope = Buffer.concat([Buffer.from([1]), iv, encrypted, cipher.getAuthTag()]);
  return { body: envelope.toString('base64'), nonce };
}

/**
 * Decrypts an operator response (HTTP 200) and returns its JSON; throws when the tag does not
 * verify, the envelope is truncated or the nonce is not the request's.
 */
export function openResponse(clientSecretB64: string, bodyB64: string, nonce: Buffer): unknown {
  const bytes = Buffer.from(bodyB64.trim(), 'base64');
  if (bytes.length < IV_BYTES + TAG_BYTES + 16) throw new Error('response envelope too short');
  const iv = bytes.subarray(0, IV_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', keyOf(clientSecretB64), iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  if (!plain.subarray(8, 16).equals(nonce)) throw new Error('response nonce does not match the request');
  return JSON.parse(plain.subarray(16).toString('utf8')) as unknown;
}

/** One input's mapping in a v3 identity map answer: the raw id (and the previous one), or why not. */
export type Mapped = { u: string; p: string | null } | { e: string };

function mappedList(v: unknown): Mapped[] | null {
  if (!Array.isArray(v)) return null;
  const out: Mapped[] = [];
  for (const m of v) {
    if (typeof m !== 'object' || m === null) return null;
    const o = m as Record<string, unknown>;
    if (typeof o.u === 'string') out.push({ u: o.u, p: typeof o.p === 'string' ? o.p : null });
    else out.push({ e: typeof o.e === 'string' ? o.e : 'unmapped' });
  }
  return out;
}

/**
 * Reads the decrypted `{ body: { email_hash: [...], phone_hash: [...] }, status: 'success' }`;
 * null when it is not that shape, or its arrays do not line up with the request's.
 */
export function readIdentityMap(json: unknown, emails: number, phones: number): { email: Mapped[]; phone: Mapped[] } | null {
  if (typeof json !== 'object' || json === null) return null;
  const r = json as { status?: unknown; body?: Record<string, unknown> };
  if (r.status !== 'success' || typeof r.body !== 'object' || r.body === null) return null;
  const email = emails === 0 ? [] : mappedList(r.body.email_hash);
  const phone = phones === 0 ? [] : mappedList(r.body.phone_hash);
  if (!email || !phone || email.length !== emails || phone.length !== phones) return null;
  return { email, phone };
}
