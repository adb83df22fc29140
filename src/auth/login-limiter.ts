/**
 * Failed-login rate limit, per email and client IP: after `attempts` failures within `windowMs`
 * further attempts are refused (429 with Retry-After) until the oldest failure leaves the window.
 * Keyed by a digest, so no email is kept in clear even in memory. A successful login clears the
 * key's failures. In memory: a restart forgets (a bound on guessing speed, not an account lock,
 * so an attacker cannot lock a real user out for long either).
 *
 * @example
 *   const limiter = new LoginLimiter({ attempts: 5, windowMs: 15 * 60_000, now: Date.now });
 *   limiter.retryAfterMs(email, ip); // 0 while allowed
 *   limiter.failed(email, ip);
 */
import { hashSecret } from '../platform/secret-hash.js';

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly opts: { attempts: number; windowMs: number; now: () => number }) {}

  /** 0 when an attempt is allowed now, else how long to wait. */
  retryAfterMs(email: string, ip: string): number {
    const times = this.recent(this.key(email, ip));
    if (times.length < this.opts.attempts) return 0;
    return Math.max(1, (times[0] ?? 0) + this.opts.windowMs - this.opts.now());
  }

  failed(email: string, ip: string): void {
    const key = this.key(email, ip);
    const times = this.recent(key);
    times.push(this.opts.now());
    this.failures.set(key, times);
    if (this.failures.size > 100_000) this.prune();
  }

  succeeded(email: string, ip: string): void {
    this.failures.delete(this.key(email, ip));
  }

  private key(email: string, ip: string): string {
    return hashSecret(`${email.trim().toLowerCase()}\u0000${ip}`);
  }

  private recent(key: string): number[] {
    const since = this.opts.now() - this.opts.windowMs;
    const times = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (times.length === 0) this.failures.delete(key);
    else this.failures.set(key, times);
    return times;
  }

  private prune(): void {
    for (const key of [...this.failures.keys()]) this.recent(key);
  }
}
