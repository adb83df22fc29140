/**
 * Invariants of identity resolution on random events (fast-check), at the engine level:
 * - without limits, the final partition of identifiers does not depend on event order;
 * - with the default limits, no live profile ever exceeds a type's limit;
 * - blocked values never link anything and are never stored;
 * - every event goes to a live profile and is counted once, whatever the batch boundaries;
 * - traits: the most recent write wins whatever the processing order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CollectedEvent } from '../src/protocol/event.js';
import type { ProfileState } from '../src/protocol/profile.js';
import { applyTraits, traitValues } from '../src/profiles/traits.js';
import { ProfileMemory } from '../src/profiles/profile-memory.js';
import { ProfileTx } from '../src/profiles/profile-tx.js';
import { DEFAULT_IDENTITY_CONFIG } from '../src/identity/identity-config.js';
import { event, testIdentity } from './helpers/identity.js';

const spec = fc.record({
  type: fc.constantFrom('track', 'identify', 'alias', 'page'),
  userId: fc.option(fc.constantFrom('u1', 'u2', 'u3'), { nil: null }),
  anonymousId: fc.option(fc.constantFrom('a1', 'a2', 'a3', 'a4', 'a5'), { nil: null }),
  email: fc.option(fc.constantFrom('x@example.com', ' X@Example.com', 'y@example.com', 'z@example.com'), { nil: undefined }),
  phone: fc.option(fc.constantFrom('06 12 34 56 78', '+33612345678', '07 00 00 00 01'), { nil: undefined }),
  previousId: fc.constantFrom('a1', 'a2', 'u1'),
  commit: fc.boolean(),
});
type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never;

function toEvent(s: Spec, i: number): CollectedEvent | null {
  if (s.userId === null && s.anonymousId === null) return null;
  const traits: Record<string, unknown> = {};
  if (s.email) traits.email = s.email;
  if (s.phone) traits.phone = s.phone;
  return event({
    type: s.type as CollectedEvent['type'], messageId: `m${i}`, userId: s.userId, anonymousId: s.anonymousId,
    traits: s.type === 'identify' ? traits : {}, context: s.type === 'identify' ? {} : { traits },
    ...(s.type === 'alias' ? { previousId: s.previousId } : {}),
  });
}

/** Runs the events through the engine; returns memory and the number of events processed. */
async function run(specs: readonly Spec[], config: unknown = DEFAULT_IDENTITY_CONFIG): Promise<{ memory: ProfileMemory; n: number }> {
  // One master key for every run, so the same identifier has the same hash in both orders.
  const { identity, memory } = testIdentity(new ProfileMemory(), Buffer.alloc(32, 7));
  await identity.setConfig('w', config);
  let tx = new ProfileTx(memory);
  let n = 0;
  specs.forEach((s, i) => {
    const e = toEvent(s, i);
    if (!e) return;
    const { profileId } = identity.resolver.resolve(e, Date.parse(e.timestamp), tx, BigInt(i + 1));
    const p = tx.profile(profileId);
    assert.ok(p && p.mergedInto === null, 'events go to a live profile');
    p.eventCount++;
    n++;
    if (s.commit) {
      identity.committed([], []);
      tx.apply();
      tx = new ProfileTx(memory);
    }
  });
  identity.committed([], []);
  tx.apply();
  return { memory, n };
}

/** The partition of identifiers into live profiles, as sorted lists of `type:hash`. */
function partition(memory: ProfileMemory): string[][] {
  const groups = new Map<string, string[]>();
  for (const rec of memory.identities.values()) {
    const live = memory.live(rec.profileId);
    assert.ok(live, 'every identifier leads to a live profile');
    groups.set(live.id, [...(groups.get(live.id) ?? []), `${rec.type}:${rec.hash}`]);
  }
  return [...groups.values()].map((g) => g.sort()).sort((a, b) => (a.join() < b.join() ? -1 : 1));
}

const UNLIMITED = { ...DEFAULT_IDENTITY_CONFIG, types: DEFAULT_IDENTITY_CONFIG.types.map((t) => ({ ...t, limit: null })) };

test('without limits, the partition of identifiers does not depend on event order', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(spec, { minLength: 1, maxLength: 30 }).chain((xs) => fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs, { minLength: xs.length, maxLength: xs.length }))),
    async ([inOrder, shuffled]) => {
      // Alias makes the type of previousId depend on what is known at that time: keep it out here.
      const plain = (xs: Spec[]) => xs.map((s) => ({ ...s, type: s.type === 'alias' ? 'track' : s.type }));
      const a = await run(plain(inOrder), UNLIMITED);
      const b = await run(plain(shuffled), UNLIMITED);
      assert.deepEqual(partition(b.memory), partition(a.memory));
    },
  ), { numRuns: 150 });
});

test('limits are never exceeded, and every event is counted exactly once', async () => {
  await fc.assert(fc.asyncProperty(fc.array(spec, { minLength: 1, maxLength: 40 }), async (specs) => {
    const { memory, n } = await run(specs);
    const live = [...memory.profiles.values()].filter((p) => p.mergedInto === null);
    assert.equal(live.reduce((sum, p) => sum + p.eventCount, 0), n);
    for (const p of live) {
      const counts = new Map<string, number>();
      for (const r of memory.recordsOf(p.id)) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
      for (const t of DEFAULT_IDENTITY_CONFIG.types) {
        if (t.limit !== null) assert.ok((counts.get(t.type) ?? 0) <= t.limit, `${p.id} holds ${counts.get(t.type)} ${t.type}`);
      }
    }
  }), { numRuns: 200 });
});

test('blocked values never link two events and are never stored', async () => {
  const blocked = fc.constantFrom('null', 'undefined', '0', 'anonymous', ' NULL ', '');
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(blocked, blocked, fc.constantFrom('test@test.com', 'noreply@shop.fr', 'null')), { minLength: 2, maxLength: 10 }), async (rows) => {
    const { identity, memory } = testIdentity();
    const tx = new ProfileTx(memory);
    const profiles = rows.map(([u, a, email], i) => {
      // Each event also has a unique, valid anonymous id, so it always has a profile.
      const e = event({ type: 'identify', userId: u, anonymousId: `anon-${i}`, traits: { email }, context: { traits: { phone: a } } });
      return identity.resolver.resolve(e, Date.parse(e.timestamp), tx, BigInt(i + 1)).profileId;
    });
    assert.equal(new Set(profiles).size, rows.length, 'no two events were linked by a blocked value');
    tx.apply();
    for (const rec of memory.identities.values()) assert.equal(rec.type, 'anonymous_id', `a blocked ${rec.type} was stored`);
  }), { numRuns: 100 });
});

const write = fc.record({
  key: fc.constantFrom('plan', 'city', 'email', 'age'),
  value: fc.oneof(fc.string(), fc.integer(), fc.boolean()),
  at: fc.integer({ min: 0, max: 50 }),
  messageId: fc.uuid(),
});

test('traits: the most recent write by event time wins, whatever the processing order', () => {
  fc.assert(fc.property(fc.array(write, { maxLength: 30 }).chain((ws) => fc.tuple(fc.constant(ws), fc.shuffledSubarray(ws, { minLength: ws.length, maxLength: ws.length }))), ([inOrder, shuffled]) => {
    const replay = (writes: typeof inOrder): Record<string, unknown> => {
      const p: ProfileState = { id: 'p', workspaceId: 'w', traits: {}, firstSeen: 0, lastSeen: 0, eventCount: 0, mergedInto: null };
      for (const w of writes) applyTraits(p, { [w.key]: w.value }, w.at, 'src', w.messageId, () => 'most_recent');
      return traitValues(p);
    };
    assert.deepEqual(replay(shuffled), replay(inOrder));
  }));
});
