/**
 * Invariants of profile building, checked on random inputs (fast-check):
 * - traits: the final traits do not depend on the order events are processed in;
 * - identity: whatever the events, no live profile holds two user ids, every identifier leads to
 *   a live profile, and every event is counted exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CollectedEvent } from '../src/protocol/event.js';
import type { ProfileState } from '../src/protocol/profile.js';
import { applyTraits, traitValues } from '../src/profiles/traits.js';
import { ProfileMemory } from '../src/profiles/profile-memory.js';
import { ProfileTx } from '../src/profiles/profile-tx.js';
import { SimpleResolver } from '../src/identity/simple-resolver.js';

const write = fc.record({
  key: fc.constantFrom('plan', 'city', 'email', 'age'),
  value: fc.oneof(fc.string(), fc.integer(), fc.boolean()),
  at: fc.integer({ min: 0, max: 50 }),
  messageId: fc.uuid(),
});

test('traits: last write by event time wins, whatever the processing order', () => {
  fc.assert(fc.property(fc.array(write, { maxLength: 30 }).chain((ws) => fc.tuple(fc.constant(ws), fc.shuffledSubarray(ws, { minLength: ws.length, maxLength: ws.length }))), ([inOrder, shuffled]) => {
    const run = (writes: typeof inOrder): Record<string, unknown> => {
      const p: ProfileState = { id: 'p', workspaceId: 'w', traits: {}, firstSeen: 0, lastSeen: 0, eventCount: 0, mergedInto: null };
      for (const w of writes) applyTraits(p, { [w.key]: w.value }, w.at, 'src', w.messageId);
      return traitValues(p);
    };
    assert.deepEqual(run(shuffled), run(inOrder));
  }));
});

const idEvent = fc.record({
  type: fc.constantFrom('track', 'identify', 'alias', 'page'),
  userId: fc.option(fc.constantFrom('u1', 'u2', 'u3'), { nil: null }),
  anonymousId: fc.option(fc.constantFrom('a1', 'a2', 'a3', 'a4'), { nil: null }),
  email: fc.option(fc.constantFrom('x@example.com', 'y@example.com'), { nil: undefined }),
  previousId: fc.constantFrom('a1', 'a2', 'a3', 'a4'),
  batchBreak: fc.boolean(),
});

test('identity: never two user ids on a live profile; identifiers lead to live profiles; events counted once', () => {
  fc.assert(fc.property(fc.array(idEvent, { minLength: 1, maxLength: 40 }), (specs) => {
    const memory = new ProfileMemory();
    const resolver = new SimpleResolver();
    let tx = new ProfileTx(memory);
    let n = 0;
    for (const spec of specs) {
      if (spec.userId === null && spec.anonymousId === null) continue;
      if (spec.type === 'alias' && spec.userId === null) continue;
      const e: CollectedEvent = {
        type: spec.type as CollectedEvent['type'], messageId: `m${n}`, workspaceId: 'w', sourceId: 's', anonymousId: spec.anonymousId, userId: spec.userId,
        properties: {}, traits: spec.email ? { email: spec.email } : {}, context: {}, originalTimestamp: '', timestamp: '', sentAt: null, receivedAt: '', country: null,
        ...(spec.type === 'alias' ? { previousId: spec.previousId } : {}),
      };
      const id = resolver.resolve(e, n, tx);
      const p = tx.profile(id);
      assert.ok(p && p.mergedInto === null, 'events go to a live profile');
      p.eventCount++;
      n++;
      if (spec.batchBreak) { tx.apply(); tx = new ProfileTx(memory); } // commit boundaries do not matter
    }
    tx.apply();
    const live = [...memory.profiles.values()].filter((p) => p.mergedInto === null);
    assert.equal(live.reduce((sum, p) => sum + p.eventCount, 0), n, 'every event counted exactly once');
    for (const p of live) {
      const users = new Set(memory.lineage(p.id).flatMap((id) => memory.identifiersOf.get(id) ?? []).filter((i) => i.type === 'user_id').map((i) => i.value));
      assert.ok(users.size <= 1, `profile ${p.id} holds user ids ${[...users].join(', ')}`);
    }
    for (const [key, owner] of memory.identities) assert.ok(memory.live(owner), `identifier ${key} leads nowhere`);
  }), { numRuns: 300 });
});
