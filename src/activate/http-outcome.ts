/**
 * The one mapping from HTTP answers to delivery outcomes (DESIGN §5): 2xx delivered; 408, 429
 * and 5xx retried, honouring `Retry-After` (seconds or an HTTP date); every other 4xx dropped —
 * sending the same request again would fail the same way. A network error is retried.
 *
 * @example
 *   const res = await ctx.fetch(url, init);
 *   return batch.map(() => outcomeOfResponse(res, ctx.now()));
 */
import type { DeliveryOutcome } from '../protocol/destination.js';

/** Longest wait a Retry-After may impose (a platform asking for a day is capped to an hour). */
export const MAX_RETRY_AFTER_MS = 3_600_000;

export function outcomeOfStatus(status: number, retryAfter: string | null, now: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 408 || status === 429 || status >= 500) {
    const afterMs = retryAfterMs(retryAfter, now);
    return { kind: 'retry', reason: `http_${status}`, ...(afterMs === undefined ? {} : { afterMs }) };
  }
  return { kind: 'drop', reason: `http_${status}` };
}

export function outcomeOfResponse(res: Response, now: number): DeliveryOutcome {
  return outcomeOfStatus(res.status, res.headers.get('retry-after'), now);
}

/** A failed fetch (refused, reset, timed out): retried; the reason names the kind, never the URL. */
export function outcomeOfError(err: unknown): DeliveryOutcome {
  const name = err instanceof Error ? (err.name === 'TimeoutError' || err.name === 'AbortError' ? 'timeout' : 'network') : 'network';
  return { kind: 'retry', reason: name };
}

/** Retry-After as milliseconds from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.min(Math.max(0, t - now), MAX_RETRY_AFTER_MS);
}

/** Sends one request for a whole batch and gives every item its outcome. */
export async function sendAll(count: number, request: () => Promise<Response>, now: () => number): Promise<DeliveryOutcome[]> {
  try {
    const res = await request();
    // The body is read so the connection is reused; its content is not logged (it may echo data).
    await res.arrayBuffer().catch(() => undefined);
    const o = outcomeOfResponse(res, now());
    return Array.from({ length: count }, () => o);
  } catch (err) {
    const o = outcomeOfError(err);
    return Array.from({ length: count }, () => o);
  }
}
