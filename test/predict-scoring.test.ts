/**
 * Scoring on a real server: scores refreshed on the model's schedule (new people get scored,
 * nothing runs before the interval), segment `score` conditions kept equal to what the SQL
 * compiler finds in `model_scores` (the reconciliation finds no mismatch), and everything —
 * versions, scores, memberships — still there after a restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, post, removeDir, shiftedClock, startServer, tempDir, type TestServer } from './helpers/server.js';
import { rng } from '../src/predict/evaluate.js';

const clock = shiftedClock();
const dir = tempDir();
let s: TestServer;
const ws = () => `/api/workspaces/${s.workspaceId}`;
before(async () => { s = await startServer({}, dir, clock); });
after(async () => { await s.close(); removeDir(dir); });

const random = rng(7);
const consent = { consent: { categoryPreferences: { analytics: true } } };

async function people(from: number, count: number, labelled: boolean, shift = 0): Promise<void> {
  const batch = Array.from({ length: count }, (_, k) => {
    const signal = random() * 4 - 2 + shift;
    const traits: Record<string, unknown> = { signal, other: random() };
    if (labelled) traits.bought = random() < 1 / (1 + Math.exp(-3 * signal));
    return { type: 'identify', userId: `u-${from + k}`, traits, context: consent };
  });
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await s.settle();
}

let segmentId = '';

test('scores are refreshed on the model\'s schedule and segments follow; SQL agrees with the engine', async () => {
  await people(0, 300, true);
  assert.equal((await s.api('POST', `${ws()}/models`, { key: 'buyer', name: 'Buyer', rescoreHours: 1, target: { kind: 'label', trait: 'bought' } })).status, 201);
  const v = await s.api('POST', `${ws()}/models/buyer/train`);
  assert.equal(v.body.card.status, 'active', JSON.stringify(v.body.card));
  const seg = await s.api('POST', `${ws()}/segments`, { name: 'top fifth', definition: { kind: 'score', model: 'buyer', decile: { op: 'gte', value: 9 } } });
  assert.equal(seg.status, 201, JSON.stringify(seg.body));
  segmentId = seg.body.id;
  await s.settle();
  assert.equal((await s.api('GET', `${ws()}/segments/${segmentId}`)).body.size, 60);
  assert.equal(await s.ensemble.segments.service.reconcileAll(), 0, 'the SQL of the score condition finds the same members');

  // New people with a strong signal: not scored until the next run, which waits for its interval.
  await people(1000, 40, false, 2);
  const first = (await s.api('GET', `${ws()}/models/buyer`)).body;
  assert.equal(first.scoredProfiles, 300);
  await s.ensemble.predict.service.rescoreDue();
  assert.equal((await s.api('GET', `${ws()}/models/buyer`)).body.lastScoredAt, first.lastScoredAt, 'not due yet');
  clock.advance(61 * 60_000);
  await s.ensemble.predict.service.rescoreDue();
  await s.settle();
  const second = (await s.api('GET', `${ws()}/models/buyer`)).body;
  assert.equal(second.scoredProfiles, 340);
  assert.notEqual(second.lastScoredAt, first.lastScoredAt);
  assert.equal((await s.api('GET', `${ws()}/segments/${segmentId}`)).body.size, 68);
  const newcomer = await s.api('GET', `${ws()}/profiles/lookup?type=user_id&value=u-1000`);
  const score = (await s.api('GET', `${ws()}/profiles/${newcomer.body.id}/scores`)).body[0];
  assert.ok(score.decile >= 8, `a strong signal scores high: ${JSON.stringify(score)}`);
  assert.equal(await s.ensemble.segments.service.reconcileAll(), 0);
});

test('versions, scores and memberships survive a restart', async () => {
  const before0 = (await s.api('GET', `${ws()}/models/buyer`)).body;
  const top = (await s.api('GET', `${ws()}/models/buyer/scores?limit=5`)).body;
  await s.close();
  s = await startServer({}, dir, clock);
  await s.settle();
  const after0 = (await s.api('GET', `${ws()}/models/buyer`)).body;
  assert.deepEqual(after0, before0);
  assert.deepEqual((await s.api('GET', `${ws()}/models/buyer/scores?limit=5`)).body, top);
  assert.equal((await s.api('GET', `${ws()}/segments/${segmentId}`)).body.size, 68);
  // The restarted node scores again with the stored version (its fitted parameters were stored).
  clock.advance(61 * 60_000);
  await s.ensemble.predict.service.rescoreDue();
  assert.equal((await s.api('GET', `${ws()}/models/buyer`)).body.scoredProfiles, 340);
  assert.deepEqual((await s.api('GET', `${ws()}/models/buyer/scores?limit=5`)).body, top, 'the same version gives the same scores');
});

test('a population segment bounds who is trained on and scored; a lookalike model learns a segment', async () => {
  const half = await s.api('POST', `${ws()}/segments`, { name: 'some signal', definition: { kind: 'trait', trait: 'signal', op: 'gt', value: 0 } });
  assert.equal(half.status, 201, JSON.stringify(half.body));
  await s.settle();
  const size = (await s.api('GET', `${ws()}/segments/${half.body.id}`)).body.size as number;
  assert.ok(size > 100 && size < 300, `${size}`);
  assert.equal((await s.api('POST', `${ws()}/models`, { key: 'buyer_pos', name: 'Buyer (positive signal)', population: half.body.id, target: { kind: 'label', trait: 'bought' } })).status, 201);
  const v = await s.api('POST', `${ws()}/models/buyer_pos/train`);
  assert.equal(v.status, 201, JSON.stringify(v.body));
  assert.equal(v.body.card.population.eligible, size);
  const m = (await s.api('GET', `${ws()}/models/buyer_pos`)).body;
  if (m.activeVersion !== null) assert.equal(m.scoredProfiles, size, 'only the population is scored');
  else assert.equal(m.scoredProfiles, 0);

  const look = await s.api('POST', `${ws()}/models`, { key: 'like_signal', name: 'Looks like the positive-signal people', target: { kind: 'lookalike', segment: half.body.id } });
  assert.equal(look.status, 201, JSON.stringify(look.body));
  const lv = await s.api('POST', `${ws()}/models/like_signal/train`);
  assert.equal(lv.status, 201, JSON.stringify(lv.body));
  assert.equal(lv.body.card.classBalance.positives, size);
  assert.equal(lv.body.card.status, 'active');
  assert.ok(lv.body.card.auc > 0.95, `the rule is one trait: ${lv.body.card.auc}`);
  assert.equal(lv.body.card.topFeatures[0].feature, 'trait:signal');
});
