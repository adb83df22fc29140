/**
 * The journey state machine on its own (pure): splits follow the draw, control receives nothing,
 * waits compute their due time, wait_for takes the event or the timeout, goals end at any step,
 * an unknown step drops the person, and time of day is found across daylight-saving changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { walk, type WalkFacts } from '../src/journeys/walk.js';
import { nextTimeOfDay } from '../src/journeys/time-of-day.js';
import type { JourneyInputT } from '../src/protocol/journey.js';

const NOW = Date.parse('2026-03-28T22:30:00Z');
const def: JourneyInputT = {
  name: 't', entry: { kind: 'event', event: 'Go' }, goal: { event: 'Bought' }, start: 'split',
  steps: {
    split: { kind: 'split', branches: [{ percent: 90, next: 'mail', name: 'treated' }, { percent: 10, control: true, name: 'control' }] },
    mail: { kind: 'send', destinationId: 'dst_m', template: { subject: 'x' }, next: 'wait' },
    wait: { kind: 'wait_for', event: { event: 'Opened' }, timeout: '2d', next: 'done', onTimeout: 'later' },
    later: { kind: 'wait', until: '08:00', next: 'done' },
    done: { kind: 'exit' },
  },
};
const facts = (draw: number, now = NOW): WalkFacts => ({ now, holds: () => true, draw: () => draw, nextTimeOfDay: (h) => nextTimeOfDay(now, h, 'Europe/Paris') });

test('a split follows the draw; the control group is sent nothing and ends at once', () => {
  const treated = walk(def, null, { kind: 'enter' }, facts(42));
  assert.deepEqual(treated.path, ['split', 'mail', 'wait']);
  assert.equal(treated.effects.length, 1);
  assert.equal(treated.state.branch, 'treated');
  assert.equal(treated.state.dueAt, NOW + 2 * 86_400_000);
  const control = walk(def, null, { kind: 'enter' }, facts(95));
  assert.deepEqual(control.effects, []);
  assert.equal(control.state.outcome, 'control');
  fc.assert(fc.property(fc.double({ min: 0, max: 100, maxExcluded: true, noNaN: true }), (d) => {
    const r = walk(def, null, { kind: 'enter' }, facts(d));
    assert.equal(r.state.branch, d < 90 ? 'treated' : 'control');
  }));
});

test('wait_for takes the event or the timeout; a goal ends the journey at any step; unrelated input changes nothing', () => {
  const at = walk(def, null, { kind: 'enter' }, facts(1)).state;
  assert.equal(walk(def, at, { kind: 'event', event: { type: 'track', event: 'Other', properties: {} } }, facts(1)).changed, false);
  assert.equal(walk(def, at, { kind: 'timer' }, facts(1, NOW + 1000)).changed, false, 'not due yet');
  assert.equal(walk(def, at, { kind: 'event', event: { type: 'track', event: 'Opened', properties: {} } }, facts(1)).state.outcome, 'exit');
  const timedOut = walk(def, at, { kind: 'timer' }, facts(1, NOW + 2 * 86_400_000));
  assert.equal(timedOut.state.step, 'later');
  // 2026-03-30 22:30Z is 00:30 in Paris (summer time since the 29th): 08:00 local is 06:00Z.
  assert.equal(new Date(timedOut.state.dueAt!).toISOString(), '2026-03-31T06:00:00.000Z');
  assert.equal(walk(def, timedOut.state, { kind: 'event', event: { type: 'track', event: 'Bought', properties: {} } }, facts(1)).state.outcome, 'goal');
  assert.equal(walk(def, { ...at, step: 'gone' }, { kind: 'timer' }, facts(1, NOW + 3 * 86_400_000)).state.outcome, 'dropped');
});

test('wait_for any of several events; a goal runs its instantaneous `then` steps on the way out and ends as a goal', () => {
  const d: JourneyInputT = {
    ...def, goal: { event: 'Bought', then: 'unads' },
    steps: {
      ...def.steps,
      wait: { kind: 'wait_for', events: [{ event: 'Opened' }, { event: 'Clicked', filters: [{ property: 'url', op: 'contains', value: 'cart' }] }], timeout: '2d', next: 'done', onTimeout: 'later' },
      unads: { kind: 'audience', destinationId: 'dst_ads', segmentId: 'seg_pool', action: 'remove', next: 'done' },
    },
  };
  const at = walk(d, null, { kind: 'enter' }, facts(1)).state;
  const ev = (event: string, properties: Record<string, unknown> = {}) => ({ kind: 'event' as const, event: { type: 'track', event, properties } });
  assert.equal(walk(d, at, ev('Clicked', { url: 'https://x.example/help' }), facts(1)).changed, false, 'filters apply per event');
  assert.equal(walk(d, at, ev('Clicked', { url: 'https://x.example/cart' }), facts(1)).state.outcome, 'exit');
  assert.equal(walk(d, at, ev('Opened'), facts(1)).state.outcome, 'exit');
  const goal = walk(d, at, ev('Bought'), facts(1));
  assert.equal(goal.state.outcome, 'goal');
  assert.equal(goal.state.step, null);
  assert.deepEqual(goal.path, ['unads', 'done']);
  assert.deepEqual(goal.effects, [{ kind: 'audience', step: 'unads', destinationId: 'dst_ads', segmentId: 'seg_pool', action: 'remove' }]);
});

test('the next time of day in a zone, across midnight and both daylight-saving changes', () => {
  assert.equal(new Date(nextTimeOfDay(Date.parse('2026-12-03T22:30:00Z'), '08:00', 'Europe/Paris')).toISOString(), '2026-12-04T07:00:00.000Z');
  assert.equal(new Date(nextTimeOfDay(Date.parse('2026-03-28T22:30:00Z'), '08:00', 'Europe/Paris')).toISOString(), '2026-03-29T06:00:00.000Z');
  assert.equal(new Date(nextTimeOfDay(Date.parse('2026-10-24T22:30:00Z'), '08:00', 'Europe/Paris')).toISOString(), '2026-10-25T07:00:00.000Z');
  assert.equal(new Date(nextTimeOfDay(Date.parse('2026-12-03T06:59:00Z'), '08:00', 'Europe/Paris')).toISOString(), '2026-12-03T07:00:00.000Z');
  assert.equal(new Date(nextTimeOfDay(Date.parse('2026-12-03T15:00:00Z'), '08:00', 'America/New_York')).toISOString(), '2026-12-04T13:00:00.000Z');
});
