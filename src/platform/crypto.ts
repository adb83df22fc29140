/**
 * Cryptographic primitives for personal identifiers, kept stateless so the key hierarchy
 * (privacy/key-ring.ts) is the only place that decides which key protects what.
 *
 * - One master key (configuration) → per-workspace keys by HKDF, so workspaces never share a key
 *   and nothing but the master key has to be kept secret or backed up apart from the data.
 * - AES-256-GCM with the context as additional data: a sealed value copied to another profile,
 *   identifier type or workspace fails to open instead of decrypting under the wrong owner.
 * - A version prefix on every token, so a later algorithm can be introduced beside this one.
 *
 *   const kek = deriveKey(master, 'kek', 'ws_1');
 *   const token = seal(kek, 'ada@example.com', 'email');   // 'v1.' + base64url(iv|tag|ct)
 *   open(kek, token, 'email').toString('utf8');            // 'ada@example.com'
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SALT = 'ensemble/v1';
const VERSION = 'v1.';
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * A 32-byte key for one purpose in one workspace. Different purposes give unrelated keys, so
 * the lookup key (which must stay fixed for hashes to match) never doubles as an encryption key.
 *
 *   deriveKey(master, 'lookup', 'ws_1').length === 32
 */
export function deriveKey(master: Buffer, purpose: 'kek' | 'lookup' | 'suppress' | 'pseudonym' | 'secrets' | 'links', workspaceId: string): Buffer {
  if (master.length !== KEY_BYTES) throw new Error(`master key must be ${KEY_BYTES} bytes`);
  return Buffer.from(hkdfSync('sha256', master, SALT, `${purpose}:${workspaceId}`, KEY_BYTES));
}

/**
 * The keyed hash an identifier is looked up by: the same value gives the same hash in one
 * workspace, so the store can find a person by email without holding the email. The type is
 * part of the input (separated by NUL, which no type contains) so an email and a phone with the
 * same text do not collide.
 *
 *   lookupHash(key, 'email', 'ada@example.com')   // 43 base64url characters
 */
export function lookupHash(lookupKey: Buffer, type: string, normalisedValue: string): string {
  return createHmac('sha256', lookupKey).update(type).update('\u0000').update(normalisedValue).digest('base64url');
}

/** A fresh random 256-bit data key. */
export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * Encrypts with AES-256-GCM under a random IV. `aad` is authenticated, not stored: the reader
 * must present the same context. Strings are encoded as UTF-8 (a lone surrogate becomes U+FFFD).
 *
 *   seal(dek, '+33612345678', 'phone:<hash>')
 */
export function seal(key: Buffer, plaintext: Buffer | string, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return VERSION + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/**
 * Decrypts a `seal` token. Every failure (wrong key, wrong context, tampering, malformed token,
 * unknown version) gives the same message, so an error never tells an attacker which check failed.
 *
 *   open(dek, token, 'phone:<hash>').toString('utf8')
 */
export function open(key: Buffer, token: string, aad: string): Buffer {
  try {
    if (!token.startsWith(VERSION)) throw new Error();
    const text = token.slice(VERSION.length);
    if (!BASE64URL.test(text)) throw new Error();
    const raw = Buffer.from(text, 'base64url');
    // Node's decoder ignores stray low bits; re-encoding makes one token map to one ciphertext.
    if (raw.length < IV_BYTES + TAG_BYTES || raw.toString('base64url') !== text) throw new Error();
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new Error('decryption failed');
  }
}

/**
 * Reads a master key given as 64 hex characters or as base64 / base64url of exactly 32 bytes
 * (surrounding whitespace, such as a file's final newline, is ignored). The error never repeats
 * the text: it may be a real key with a typo.
 *
 *   parseMasterKey(generateMasterKeyText()).length === 32
 */
export function parseMasterKey(text: string): Buffer {
  const t = text.trim();
  const help = `the master key must be ${KEY_BYTES} random bytes written as 64 hex characters or as base64/base64url (43 or 44 characters); generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`;
  if (t.length === 0) throw new Error(`the master key is empty; ${help}`);
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) {
    const key = Buffer.from(t, 'base64');
    if (key.length === KEY_BYTES) return key;
    throw new Error(`the master key decodes to ${key.length} bytes instead of ${KEY_BYTES}; ${help}`);
  }
  throw new Error(`the master key contains characters that are neither hex nor base64 (${t.length} characters given); ${help}`);
}

/** A new master key as text, in the form `parseMasterKey` reads. */
export function generateMasterKeyText(): string {
  return randomBytes(KEY_BYTES).toString('base64url');
}
