/**
 * Retry delays: exponential with "equal jitter" — half the delay fixed, half random — so a
 * platform that failed for everyone at once is not hit again by every item at the same instant,
 * while no retry comes sooner than half its nominal delay. A platform's Retry-After wins when
 * it asks for longer.
 *
 * @example
 *   retryDelay(3, { baseMs: 1000, maxMs: 3_600_000 }, Math.random)  // 2000..4000 ms
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export function retryDelay(attempt: number, p: BackoffPolicy, random: () => number, retryAfterMs?: number): number {
  const nominal = Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = nominal / 2 + random() * (nominal / 2);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}
