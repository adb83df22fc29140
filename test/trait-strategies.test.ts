/**
 * Trait conflicts resolve per trait, on every write and when profiles merge: most_recent (the
 * default), first, max, min, sum (adds up on merge), non_empty (an empty write never erases).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_IDENTITY_CONFIG } from '../src/identity/identity-config.js';
import { ProfileTx } from '../src/profiles/profile-tx.js';
import { touch } from '../src/processor/processor.js';
import { traitValues } from '../src/profiles/traits.js';
import { event, testIdentity } from './helpers/identity.js';

test('per-trait strategies on writes and on merge', async () => {
  const { identity, memory } = testIdentity();
  await identity.setConfig('w', {
    ...DEFAULT_IDENTITY_CONFIG,
    traitStrategies: { ltv: 'sum', firstSource: 'first', score: 'max', lowest: 'min', nickname: 'non_empty' },
  });
  const tx = new ProfileTx(memory);
  let seq = 0n;
  const send = (over: Parameters<typeof event>[0], ts: string) => {
    const e = event({ type: 'identify', timestamp: ts, ...over });
    const { profileId } = identity.resolver.resolve(e, Date.parse(ts), tx, ++seq);
    touch(tx.profile(profileId)!, e, Date.parse(ts), identity.strategyOf('w'));
    return profileId;
  };
  const a = send({ anonymousId: 'a', traits: { ltv: 100, firstSource: 'ads', score: 5, lowest: 5, nickname: 'Al', plan: 'free' } }, '2026-01-01T00:00:00Z');
  send({ anonymousId: 'a', traits: { score: 3, lowest: 3, nickname: '', firstSource: 'email' } }, '2026-01-02T00:00:00Z');
  const b = send({ anonymousId: 'b', traits: { ltv: 40, firstSource: 'shop', score: 9, lowest: 9, plan: 'gold' } }, '2026-01-03T00:00:00Z');
  assert.notEqual(a, b);
  assert.deepEqual(traitValues(tx.profile(a)!), { ltv: 100, firstSource: 'ads', score: 5, lowest: 3, nickname: 'Al', plan: 'free' }, 'writes follow the strategies');
  const merged = send({ anonymousId: 'a', userId: 'u', context: { externalIds: [{ id: 'b', type: 'anonymous_id' }] } }, '2026-01-04T00:00:00Z');
  assert.equal(merged, a, 'merged into the oldest');
  assert.deepEqual(traitValues(tx.profile(a)!), {
    ltv: 140, // sum on merge
    firstSource: 'ads', // the earliest write
    score: 9, // max
    lowest: 3, // min
    nickname: 'Al', // non_empty: b had none, a's empty write was ignored
    plan: 'gold', // most_recent (default)
  });
});
