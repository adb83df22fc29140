/**
 * Server-side sessions for the console. The browser holds only an opaque random token (in an
 * HttpOnly, SameSite=Strict cookie); the store holds its SHA-256 digest, the user id and the
 * times, so a copy of the data file opens no session, and logout, a password change or deleting
 * the user revoke sessions for good. Sessions survive a restart (read back from the store).
 *
 * A session ends at `maxAgeMs` after login, or after `idleMs` without a request. The last-seen
 * time is kept in memory and written to the store at most once a minute per session (a write per
 * request would cost a DuckDB commit each), so after a restart a session may look up to a
 * minute less idle than it was.
 *
 * @example
 *   const sessions = await SessionService.open(store, { now: Date.now, maxAgeMs: 12 * 3600_000, idleMs: 30 * 60_000 });
 *   const { token } = await sessions.create('usr_1');
 *   sessions.resolve(token); // { status: 'ok', session: { userId: 'usr_1', ... } }
 *   await sessions.revoke(token);
 *   sessions.resolve(token); // { status: 'ended' }
 */
import { randomBytes } from 'node:crypto';
import { hashSecret } from '../platform/secret-hash.js';
import type { StoredSession, UserStore } from '../storage/duckdb/user-store.js';
import { csrfTokenFor } from './csrf.js';

export interface SessionOptions {
  now: () => number;
  maxAgeMs: number;
  idleMs: number;
  onError?: (err: Error) => void;
}

const TOUCH_EVERY_MS = 60_000;

export type Resolved = { status: 'ok'; session: StoredSession } | { status: 'ended' };

export class SessionService {
  private readonly byHash = new Map<string, StoredSession>();
  /** When each session's last-seen time was last written. */
  private readonly written = new Map<string, number>();
  private created = 0;

  private constructor(private readonly store: Pick<UserStore, 'listSessions' | 'insertSession' | 'touchSession' | 'deleteSessions'>, private readonly opts: SessionOptions) {}

  static async open(store: Pick<UserStore, 'listSessions' | 'insertSession' | 'touchSession' | 'deleteSessions'>, opts: SessionOptions): Promise<SessionService> {
    const s = new SessionService(store, opts);
    const now = opts.now();
    const ended: string[] = [];
    for (const row of await store.listSessions()) {
      if (s.alive(row, now)) {
        s.byHash.set(row.tokenHash, row);
        s.written.set(row.tokenHash, row.lastSeenAt);
      } else ended.push(row.tokenHash);
    }
    await store.deleteSessions(ended);
    return s;
  }

  /** A new session for `userId`: the token for the cookie and the CSRF token for the page. */
  async create(userId: string): Promise<{ token: string; csrfToken: string; session: StoredSession }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.opts.now();
    const session: StoredSession = { tokenHash: hashSecret(token), userId, createdAt: now, lastSeenAt: now, expiresAt: now + this.opts.maxAgeMs };
    await this.store.insertSession(session);
    this.byHash.set(session.tokenHash, session);
    this.written.set(session.tokenHash, now);
    // Sessions nobody comes back to would otherwise stay until the next start.
    if (++this.created % 100 === 0) this.sweep(now);
    return { token, csrfToken: csrfTokenFor(token), session };
  }

  /** The live session of `token`, its idle clock reset; `ended` when there is none or it timed out. */
  resolve(token: string): Resolved {
    const hash = hashSecret(token);
    const s = this.byHash.get(hash);
    const now = this.opts.now();
    if (!s) return { status: 'ended' };
    if (!this.alive(s, now)) {
      this.forget([hash]);
      return { status: 'ended' };
    }
    s.lastSeenAt = now;
    if (now - (this.written.get(hash) ?? 0) >= TOUCH_EVERY_MS) {
      this.written.set(hash, now);
      this.store.touchSession(hash, now).catch((err: Error) => this.opts.onError?.(err));
    }
    return { status: 'ok', session: s };
  }

  /** Logout: the session ends now, durably. */
  async revoke(token: string): Promise<void> {
    await this.drop([hashSecret(token)]);
  }

  /** Every session of a user (deleted, or changed password). */
  async revokeUser(userId: string): Promise<void> {
    await this.drop([...this.byHash.values()].filter((s) => s.userId === userId).map((s) => s.tokenHash));
  }

  /** How many live sessions a user has (for tests and the users list). */
  countOf(userId: string): number {
    let n = 0;
    const now = this.opts.now();
    for (const s of this.byHash.values()) if (s.userId === userId && this.alive(s, now)) n++;
    return n;
  }

  /** Drops every session that timed out. */
  sweep(now = this.opts.now()): void {
    const ended = [...this.byHash.values()].filter((s) => !this.alive(s, now)).map((s) => s.tokenHash);
    if (ended.length > 0) this.forget(ended);
  }

  private alive(s: StoredSession, now: number): boolean {
    return now < s.expiresAt && now - s.lastSeenAt < this.opts.idleMs;
  }

  private async drop(hashes: string[]): Promise<void> {
    await this.store.deleteSessions(hashes);
    for (const h of hashes) {
      this.byHash.delete(h);
      this.written.delete(h);
    }
  }

  /** Timed-out sessions leave memory at once and the store in the background. */
  private forget(hashes: string[]): void {
    for (const h of hashes) {
      this.byHash.delete(h);
      this.written.delete(h);
    }
    this.store.deleteSessions(hashes).catch((err: Error) => this.opts.onError?.(err));
  }
}
