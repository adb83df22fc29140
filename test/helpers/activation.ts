/**
 * Test helpers for activation on a real server: send events and wait until they are processed,
 * their segment changes written and every due delivery attempted; wait (bounded) for what a
 * platform stand-in should have received.
 */
import assert from 'node:assert/strict';
import { basic, post, type TestServer } from './server.js';

/** Processing, segments, the fan-out and the delivery loops have caught up. */
export async function settleAll(s: TestServer): Promise<void> {
  await s.settle();
  await s.ensemble.activation.idle();
}

export async function sendEvents(s: TestServer, batch: unknown[]): Promise<void> {
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await settleAll(s);
}

/** Polls `done` (delivery loops may be waiting for a retry) until it holds, or fails after `ms`. */
export async function until(s: TestServer, done: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
    await s.ensemble.activation.idle();
  }
}
