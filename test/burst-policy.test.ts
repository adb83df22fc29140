/**
 * The burst policy on a simulated event loop: processing steps back only while collection alone
 * keeps the loop busy, keeps its share meanwhile, and returns when the burst ends or the backlog
 * reaches its budget.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BurstPolicy, type LoopMeter } from '../src/processor/burst-policy.js';

/** A loop whose clock the test moves and whose busy fraction it sets per window. */
function fakeLoop(): LoopMeter & { advance(ms: number, busy: number): void } {
  let now = 0;
  let busy = 0;
  return {
    now: () => now,
    utilisation: () => busy,
    advance(ms, b) {
      now += ms;
      busy = b;
    },
  };
}

test('processing goes on at full speed while collection leaves the loop mostly free', () => {
  const loop = fakeLoop();
  const burst = new BurstPolicy({ lagBudget: 1_000, share: 0.1 }, loop);
  for (let i = 0; i < 10; i++) {
    loop.advance(100, 0.9);
    burst.spent(70); // the loop is busy, but mostly with processing: collection uses 20 %
    burst.batchDone(100);
    assert.equal(burst.pause(500), 0);
  }
});

test('a burst: processing keeps its share of the time, then returns when collection calms down', () => {
  const loop = fakeLoop();
  const burst = new BurstPolicy({ lagBudget: 1_000_000, share: 0.1 }, loop);
  loop.advance(100, 0.95); // collection alone keeps the loop busy
  assert.equal(burst.pause(10), 0, 'the first batch of a burst still runs');
  burst.batchDone(50); // that batch took 50 ms: 450 ms of pause are owed at a 10 % share
  let paused = 0;
  for (;;) {
    loop.advance(1, 0.95);
    const wait = burst.pause(10);
    if (wait === 0) break;
    assert.ok(wait <= 100, 'pauses are window-sized, so the mode is re-evaluated between them');
    paused += wait;
    loop.advance(wait, 0.95);
  }
  assert.equal(Math.round(paused), 450);
  // Collection falls to 40 %: still a burst (hysteresis); at 20 % processing is back at full speed.
  burst.batchDone(50);
  loop.advance(100, 0.4);
  assert.ok(burst.pause(10) > 0);
  loop.advance(100, 0.2);
  assert.equal(burst.pause(10), 0);
});

test('the backlog budget ends the deferral, and a budget of 0 turns it off', () => {
  const loop = fakeLoop();
  const burst = new BurstPolicy({ lagBudget: 1_000, share: 0.1 }, loop);
  loop.advance(100, 1);
  burst.pause(10);
  burst.batchDone(100);
  assert.ok(burst.pause(999) > 0, 'under the budget: processing waits');
  assert.equal(burst.pause(1_000), 0, 'at the budget: processing takes the loop back');

  const off = new BurstPolicy({ lagBudget: 0, share: 0.1 }, loop);
  loop.advance(100, 1);
  off.pause(10);
  off.batchDone(100);
  loop.advance(100, 1);
  assert.equal(off.pause(10), 0);
});
