/**
 * Password hashing with scrypt (memory-hard, built into node:crypto, so no native dependency):
 * N = 2^17, r = 8, p = 1 — 128 MiB and ~0.4 s per hash on our 2-core machines, the minimum OWASP's
 * password storage guidance gives for scrypt. The parameters are stored with each hash, so they
 * can be raised later and old hashes still verify (`needsRehash` says when to upgrade one).
 *
 * Hashes run one at a time: scrypt runs on libuv's thread pool, which the file log and file
 * imports share; four concurrent logins must not stall every fsync behind them.
 *
 * @example
 *   const stored = await hashPassword('correct horse battery staple');
 *   await verifyPassword('correct horse battery staple', stored); // true
 *   await verifyPassword('wrong', stored);                        // false
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const LOG_N = 17;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** A password longer than this is refused before hashing (a hash of megabytes is a denial of service). */
export const MAX_PASSWORD_LENGTH = 1024;
export const MIN_PASSWORD_LENGTH = 12;

let queue: Promise<unknown> = Promise.resolve();

/** Runs `fn` after every hash queued before it. */
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  return serialised(() => new Promise<Buffer>((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  }));
}

/** `scrypt$17$8$1$<salt>$<hash>` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, LOG_N, R, P);
  return ['scrypt', LOG_N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [logN, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![logN, r, p].every((n) => Number.isInteger(n) && n > 0) || logN > 22) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (password.length > MAX_PASSWORD_LENGTH || expected.length !== KEY_LENGTH) return false;
  const key = await derive(password, salt, logN, r, p);
  return timingSafeEqual(key, expected);
}

/** True when `stored` was made with weaker parameters than today's. */
export function needsRehash(stored: string): boolean {
  const [, logN, r, p] = stored.split('$').map(Number);
  return !(logN === LOG_N && r === R && p === P);
}

/**
 * A hash of a random password nobody kept, verified against when the email is unknown, so an
 * unknown email costs the same time as a wrong password (no account enumeration by timing).
 * A constant with today's parameters: computing one at start would cost every start 0.4 s of CPU.
 */
const DECOY = 'scrypt$17$8$1$9CGxDWU4H6GlQCxOFkOvSQ$_UtWW0jYurJeO-87Q85q2E0jlkY6Jd9yhIlcpMG6uOk';
export function decoyHash(): string {
  return DECOY;
}

/** A password for a generated account (first admin, `ensemble user add` without one): 24 random characters. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Why a chosen password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `A password has at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (password.length > MAX_PASSWORD_LENGTH) return `A password has at most ${MAX_PASSWORD_LENGTH} characters.`;
  return null;
}
