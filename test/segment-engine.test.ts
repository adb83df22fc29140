/**
 * The incremental segment engine in isolation: the bounded state of counts and sequences, the
 * timers that make windows lapse, merges, splits, and profiles that belong to a segment before
 * any of its events (e.g. "never ordered").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProfileState } from '../src/protocol/profile.js';
import type { SegmentCondition, StoredSegment } from '../src/protocol/segment.js';
import { addToCount, countAt, sequenceHolds, newSequence, addToSequence, type SequenceShape } from '../src/segments/leaf-state.js';
import { DueTimers, type Due } from '../src/segments/timers.js';
import { ExternalValues, externalKey } from '../src/external/external-values.js';
import { SegmentEngine, type MembershipChange, type SegmentEvent } from '../src/segments/engine.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WS = 'ws_e';

test('a windowed count keeps only the k + 1 most recent times, which is enough forever after', () => {
  let s = addToCount([], 10, 3);
  for (const at of [50, 30, 20, 40]) s = addToCount(s, at, 3);
  assert.deepEqual(s, [50, 40, 30]);
  assert.equal(countAt(s, 60, 25), 2, 'the event at 30 (and the dropped 20 and 10) have lapsed');
  assert.equal(countAt([50, 40], 100, 35), 0);
});

test('sequence: viewed → added → no order within 7 days of the cart', () => {
  // steps: 0 View, 1 Cart, 2 Order (absent, trailing)
  const shape: SequenceShape = { positive: [1, 2], absentAfter: [0, 4], withinMs: 7 * DAY };
  const s = newSequence();
  addToSequence(s, { at: 0, seq: 1n, mask: 1 });
  assert.equal(sequenceHolds(s, shape), false);
  addToSequence(s, { at: HOUR, seq: 2n, mask: 2 });
  assert.equal(sequenceHolds(s, shape), true, 'in as soon as the cart follows the view');
  addToSequence(s, { at: 11 * DAY, seq: 3n, mask: 4 });
  assert.equal(sequenceHolds(s, shape), true, 'an order 11 days after the cart does not count');
  addToSequence(s, { at: 2 * DAY, seq: 4n, mask: 4 });
  assert.equal(sequenceHolds(s, shape), false, 'an order 2 days after the cart (arriving late) takes them out');
  addToSequence(s, { at: 3 * DAY, seq: 5n, mask: 2 });
  assert.equal(sequenceHolds(s, shape), true, 'a later cart after the view, within 7 days, with no order after it');
});

test('sequence: an absent step between two steps, and ties on time broken by sequence', () => {
  // A, then B with no N in between
  const shape: SequenceShape = { positive: [1, 4], absentAfter: [2, 0], withinMs: DAY };
  const s = newSequence();
  addToSequence(s, { at: 0, seq: 1n, mask: 1 });
  addToSequence(s, { at: 10, seq: 2n, mask: 2 });
  addToSequence(s, { at: 20, seq: 3n, mask: 4 });
  assert.equal(sequenceHolds(s, shape), false);
  addToSequence(s, { at: 10, seq: 4n, mask: 1 }); // same time as the N, later in the log: after it
  assert.equal(sequenceHolds(s, shape), true);
});

test('timers fire once, in order, and a reschedule supersedes the old time', () => {
  const fired: Due[][] = [];
  let now = 0;
  const t = new DueTimers((d) => fired.push(d), () => now, false);
  t.schedule('s', 'a', 30);
  t.schedule('s', 'b', 10);
  t.schedule('s', 'a', 20);
  t.schedule('s', 'c', 15);
  t.cancelProfiles(new Set(['c']));
  now = 25;
  t.runDue();
  assert.deepEqual(fired.flat().map((d) => [d.profileId, d.at]), [['b', 10], ['a', 20]]);
  now = 40;
  t.runDue();
  assert.equal(fired.length, 1, 'the superseded time (30) never fires');
  assert.equal(t.next(), null);
});

test('timers: superseded entries do not pile up when one pair is rescheduled again and again', () => {
  const fired: Due[] = [];
  let now = 0;
  const t = new DueTimers((d) => fired.push(...d), () => now, false);
  for (let i = 1; i <= 100_000; i++) t.schedule('s', 'a', 1_000_000 + i);
  t.schedule('s', 'b', 500);
  assert.ok((t as unknown as { heap: unknown[] }).heap.length < 2000, 'the heap was compacted');
  now = 2_000_000;
  t.runDue();
  assert.deepEqual(fired.map((d) => [d.profileId, d.at]), [['b', 500], ['a', 1_100_000]]);
});

function harness(external?: ExternalValues) {
  let now = 100 * DAY;
  let seq = 0n;
  const profiles = new Map<string, ProfileState>();
  const changes: MembershipChange[] = [];
  const engine = new SegmentEngine({
    live: (id) => { let p = profiles.get(id); while (p?.mergedInto) p = profiles.get(p.mergedInto); return p?.id; },
    traits: (id) => profiles.get(id)?.traits,
    consented: () => true,
    consentDecision: () => undefined,
    restricted: () => false,
    sourceServes: () => true,
    computed: () => undefined,
    computedWindowed: () => false,
    identifierKeys: () => [],
    liveProfiles: () => [...profiles.values()].filter((p) => !p.mergedInto).map((p) => p.id),
    eventCount: (id) => profiles.get(id)?.eventCount ?? 0,
    external: (ws, source, key, field) => external?.value(ws, source, key, field),
  }, () => now, () => undefined, false);
  engine.onChanges((c) => changes.push(...c));
  external?.onChange((ws, source, keys) => engine.externalChanged(ws, source, keys, externalKey));
  const segment = (id: string, definition: SegmentCondition): void => {
    const s: StoredSegment = { id, workspaceId: WS, name: id, definition, createdAt: 0, updatedAt: 0 };
    engine.add(s, 0n);
    engine.finish(WS, id, 'created');
  };
  const send = (pid: string, event: string, offset = 0): void => {
    let p = profiles.get(pid);
    if (!p) { p = { id: pid, workspaceId: WS, traits: {}, firstSeen: now, lastSeen: now, eventCount: 0, mergedInto: null }; profiles.set(pid, p); }
    p.eventCount++;
    seq++;
    const e: SegmentEvent = { type: 'track', event, properties: {}, at: now + offset, seq, sourceId: 'src' };
    engine.committed([], [{ workspaceId: WS, profileId: pid, event: e }]);
  };
  return {
    engine, profiles, changes, segment, send,
    advance(ms: number) { now += ms; engine.timers.runDue(now); },
    merge(from: string, into: string) {
      (profiles.get(from) as ProfileState).mergedInto = into;
      engine.committed([{ workspaceId: WS, fromProfile: from, intoProfile: into }], []);
    },
  };
}

test('a new profile joins a "never" segment with its first event, whatever the event', () => {
  const h = harness();
  h.segment('never_ordered', { kind: 'event', event: 'Order', count: { op: 'eq', value: 0 } });
  h.send('p1', 'Page Viewed');
  assert.equal(h.engine.isMember(WS, 'never_ordered', 'p1'), true);
  h.send('p1', 'Order');
  assert.equal(h.engine.isMember(WS, 'never_ordered', 'p1'), false);
});

test('a window lapses through the timer, and a merge adds the two profiles\' events up', () => {
  const h = harness();
  h.segment('two_carts', { kind: 'event', event: 'Cart', within: '7d', count: { op: 'gte', value: 2 } });
  h.send('a', 'Cart', -6 * DAY);
  h.send('b', 'Cart', -1 * DAY);
  assert.equal(h.engine.members(WS, 'two_carts')?.size, 0);
  h.merge('b', 'a');
  assert.deepEqual([...(h.engine.members(WS, 'two_carts') ?? [])], ['a'], 'the merged profile has two carts in 7 days');
  h.advance(DAY - 1);
  assert.equal(h.engine.isMember(WS, 'two_carts', 'a'), true);
  h.advance(1);
  assert.equal(h.engine.isMember(WS, 'two_carts', 'a'), false, 'the older cart lapses exactly 7 days after it');
  assert.deepEqual(h.changes.map((c) => [c.profileId, c.entered, c.cause]), [['a', true, 'merge'], ['a', false, 'time']]);
});

test('a start-up fill announces only the differences from what was announced before', () => {
  const h = harness();
  h.send('p1', 'Cart');
  h.send('p2', 'Page Viewed');
  h.send('p3', 'Cart');
  const segment: StoredSegment = { id: 'carts', workspaceId: WS, name: 'carts', definition: { kind: 'event', event: 'Cart' }, createdAt: 0, updatedAt: 0 };
  // Announced before the restart: p1 (still true), p2 (no longer: say its cart was split away).
  h.engine.add(segment, 10n, new Set(['p1', 'p2']));
  for (const [pid, event] of [['p1', 'Cart'], ['p3', 'Cart']] as const) {
    h.engine.backfill(WS, new Set(['carts']), pid, { type: 'track', event, properties: {}, at: 0, seq: 1n, sourceId: 'src' });
  }
  h.changes.length = 0;
  h.engine.finish(WS, 'carts', 'reconciled');
  assert.deepEqual(h.changes.map((c) => [c.profileId, c.entered]).sort(), [['p2', false], ['p3', true]]);
  assert.deepEqual([...(h.engine.members(WS, 'carts') ?? [])].sort(), ['p1', 'p3']);
});

test('external data: a pull moves exactly the profiles whose key trait names a changed key, without any event of theirs', () => {
  const weather = new ExternalValues();
  weather.defineFields(WS, 'weather', ['temp']);
  const h = harness(weather);
  const city = (pid: string, value: unknown): void => {
    h.send(pid, 'Seen');
    (h.profiles.get(pid) as ProfileState).traits.city = { value, at: 0, sourceId: 'src', messageId: `m-${pid}` } as never;
    h.engine.committed([], [{ workspaceId: WS, profileId: pid, event: { type: 'identify', event: null, properties: {}, at: 0, seq: 0n, sourceId: 'src' } }]);
  };
  city('p1', 'Paris');
  city('p2', ' LYON ');
  city('p3', 7);
  h.segment('hot', { kind: 'external', source: 'weather', key: 'city', field: 'temp', op: 'gt', value: 25 });
  const members = () => [...(h.engine.members(WS, 'hot') ?? [])].sort();
  assert.deepEqual(members(), []);
  const pull = (values: Record<string, number>) => weather.replace(WS, 'weather', new Map(Object.entries(values).map(([k, v]) => [k, new Map([['temp', v]])])));
  pull({ paris: 27, lyon: 20 });
  assert.deepEqual(members(), ['p1']);
  assert.equal(h.changes.at(-1)?.cause, 'external');
  const before = h.changes.length;
  pull({ paris: 27, lyon: 30 });
  assert.deepEqual(members(), ['p1', 'p2'], 'the lyon key changed: p2 enters');
  assert.equal(h.changes.length, before + 1, 'p1, whose key did not change, is not re-announced');
  city('p1', 'Lyon');
  pull({ paris: 20, lyon: 30 });
  assert.deepEqual(members(), ['p1', 'p2'], 'p1 now reads Lyon');
  weather.remove(WS, 'weather');
  assert.deepEqual(members(), [], 'a removed source holds nothing');
});
