/**
 * The delivery engine's pure policies: retry delays (exponential, equal jitter, capped, never
 * sooner than a platform's Retry-After) and the per-destination token bucket, on a fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { retryDelay } from '../src/activate/backoff.js';
import { TokenBucket } from '../src/activate/rate-limit.js';
import { outcomeOfStatus, retryAfterMs, MAX_RETRY_AFTER_MS } from '../src/activate/http-outcome.js';

test('retry delays double per attempt within [nominal/2, nominal], are capped, whole milliseconds, and honour Retry-After', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 3_600_000 }),
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: undefined }),
    (attempt, baseMs, maxMs, r, after) => {
      const d = retryDelay(attempt, { baseMs, maxMs }, () => r, after);
      const nominal = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
      assert.ok(Number.isInteger(d));
      assert.ok(d >= Math.floor(nominal / 2) && d <= Math.ceil(Math.max(nominal, after ?? 0)), `${d} for nominal ${nominal}`);
      if (after !== undefined) assert.ok(d >= after);
    },
  ));
});

test('Retry-After is read as seconds or an HTTP date, capped at an hour; statuses map to outcomes once', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  assert.equal(retryAfterMs('7', now), 7000);
  assert.equal(retryAfterMs('Thu, 03 Dec 2026 12:00:30 GMT', now), 30_000);
  assert.equal(retryAfterMs('999999', now), MAX_RETRY_AFTER_MS);
  assert.equal(retryAfterMs('soon', now), undefined);
  assert.deepEqual(outcomeOfStatus(204, null, now), { kind: 'ok' });
  assert.deepEqual(outcomeOfStatus(429, '2', now), { kind: 'retry', reason: 'http_429', afterMs: 2000 });
  assert.deepEqual(outcomeOfStatus(408, null, now), { kind: 'retry', reason: 'http_408' });
  assert.deepEqual(outcomeOfStatus(502, null, now), { kind: 'retry', reason: 'http_502' });
  assert.deepEqual(outcomeOfStatus(404, null, now), { kind: 'drop', reason: 'http_404' });
});

test('the token bucket allows a second of burst, then one request per 1/rate seconds', () => {
  let t = 0;
  const bucket = new TokenBucket(4, () => t);
  for (let i = 0; i < 4; i++) assert.equal(bucket.tryTake(), 0, 'the burst');
  assert.equal(bucket.tryTake(), 250, 'then a quarter of a second per request');
  t += 250;
  assert.equal(bucket.tryTake(), 0);
  assert.ok(bucket.tryTake() > 0);
  t += 10_000;
  for (let i = 0; i < 4; i++) assert.equal(bucket.tryTake(), 0, 'idle time refills no more than the burst');
  assert.ok(bucket.tryTake() > 0);
  bucket.setRate(0.5);
  t += 1000;
  assert.equal(bucket.tryTake(), 1000, 'a lower rate applies at once');
});
