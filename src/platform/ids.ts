/** Identifier generation: random, URL-safe, never derived from personal data. */
import { randomBytes, randomUUID } from 'node:crypto';

/** A prefixed random id, e.g. `newId('ws')` → `ws_3fZk9...`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

/** A public write key: 32 random bytes, URL-safe. */
export function newWriteKey(): string {
  return `wk_${randomBytes(24).toString('base64url')}`;
}

/** A secret admin token. */
export function newSecret(): string {
  return `ens_${randomBytes(32).toString('base64url')}`;
}

export const newUuid = randomUUID;
