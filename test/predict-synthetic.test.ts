/**
 * Generated data where the true signal is known, sent through the ingest API of a real server:
 *
 * - a label that depends on one trait only (logistic in `signal`, four noise traits beside it):
 *   the model finds it (high AUC, `signal` the top feature) and explains a high score by it;
 * - the same labels shuffled: the AUC is about 0.5 (wide tolerance), the model says it is no
 *   better than chance and scores no one;
 * - a propensity target validated by time split: people who viewed the pricing page in the ten
 *   days before a cut-off buy more often in the 30 days after it; events after the cut-off are
 *   never features (the split would otherwise leak the answer into the card).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';
import { rng } from '../src/predict/evaluate.js';

let s: TestServer;
const ws = () => `/api/workspaces/${s.workspaceId}`;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

const DAY = 86_400_000;
const random = rng(42);
const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const consent = { consent: { categoryPreferences: { analytics: true } } };

async function send(events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 200) {
    const r = await post(`${s.url}/v1/batch`, { batch: events.slice(i, i + 200) }, { authorization: basic(s.writeKey) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  await s.settle();
}

test('a planted signal is recovered; shuffled labels are no better than chance and score no one', async (t) => {
  const n = 600;
  const labels: boolean[] = [];
  const events = Array.from({ length: n }, (_, i) => {
    const signal = gauss();
    const converted = random() < 1 / (1 + Math.exp(-3 * signal));
    labels.push(converted);
    return { type: 'identify', userId: `gen-${i}`, traits: { signal, noise_a: gauss(), noise_b: gauss(), noise_c: gauss(), noise_d: gauss(), converted }, context: consent };
  });
  // The same class balance, no relation to anything.
  const shuffled = [...labels];
  for (let i = shuffled.length - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [shuffled[i], shuffled[j]] = [shuffled[j] as boolean, shuffled[i] as boolean]; }
  events.forEach((e, i) => { (e.traits as Record<string, unknown>).shuffled = shuffled[i]; });
  await send(events);

  const planted = await s.api('POST', `${ws()}/models`, { key: 'planted', name: 'Planted', target: { kind: 'label', trait: 'converted' } });
  assert.equal(planted.status, 201, JSON.stringify(planted.body));
  const v = await s.api('POST', `${ws()}/models/planted/train`);
  assert.equal(v.status, 201, JSON.stringify(v.body));
  t.diagnostic(`planted: ${JSON.stringify(v.body.card.candidates)} top ${JSON.stringify(v.body.card.topFeatures.slice(0, 3))}`);
  assert.equal(v.body.card.status, 'active');
  assert.ok(v.body.card.auc > 0.8, `AUC ${v.body.card.auc}`);
  assert.equal(v.body.card.topFeatures[0].feature, 'trait:signal');
  // Noise (and the shuffled label of the other model, a trait like any other) weighs far less.
  assert.ok(v.body.card.topFeatures[0].importance > 5 * v.body.card.topFeatures[1].importance, JSON.stringify(v.body.card.topFeatures));
  const top = (await s.api('GET', `${ws()}/models/planted/scores?limit=1`)).body.items[0];
  const explained = (await s.api('GET', `${ws()}/profiles/${top.profileId}/scores`)).body.find((x: any) => x.modelKey === 'planted');
  assert.equal(explained.explanation[0].feature, 'trait:signal', JSON.stringify(explained.explanation));
  assert.ok(explained.explanation[0].contribution > 0);

  const noise = await s.api('POST', `${ws()}/models`, { key: 'noise', name: 'Shuffled', target: { kind: 'label', trait: 'shuffled' } });
  assert.equal(noise.status, 201);
  const nv = await s.api('POST', `${ws()}/models/noise/train`);
  assert.equal(nv.status, 201, JSON.stringify(nv.body));
  t.diagnostic(`shuffled: ${JSON.stringify(nv.body.card.candidates)} interval ${JSON.stringify(nv.body.card.aucInterval)}`);
  assert.ok(nv.body.card.auc > 0.35 && nv.body.card.auc < 0.65, `AUC ${nv.body.card.auc} should be about 0.5`);
  assert.equal(nv.body.card.status, 'not_better_than_chance');
  assert.match(nv.body.card.statusReason, /chance/);
  const model = (await s.api('GET', `${ws()}/models/noise`)).body;
  assert.equal(model.activeVersion, null);
  assert.equal(model.scoredProfiles, 0, 'a model no better than chance scores no one');
  assert.equal(model.status, 'not_better_than_chance');
});

test('a propensity model is validated on a later window than it was fitted on, and finds the behaviour that predicts', async (t) => {
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const events: unknown[] = [];
  for (let i = 0; i < 500; i++) {
    const userId = `shopper-${i}`;
    events.push({ type: 'identify', userId, traits: { tier: random() < 0.5 ? 'gold' : 'silver' }, context: consent, timestamp: iso(now - 120 * DAY + i * 1000) });
    events.push({ type: 'track', userId, event: 'Page Viewed', timestamp: iso(now - 110 * DAY + i * 1000) });
    // Two windows: [cut-off - 10 d, cut-off) holds the pricing views, the 30 days after hold the purchases.
    for (const cutoff of [now - 60 * DAY, now - 30 * DAY]) {
      const interested = random() < 0.4;
      if (interested) for (let k = 0; k < 3; k++) events.push({ type: 'track', userId, event: 'Pricing Viewed', timestamp: iso(cutoff - (2 + k * 3) * DAY) });
      if (random() < (interested ? 0.7 : 0.08)) events.push({ type: 'track', userId, event: 'Order Completed', properties: { revenue: 50 }, timestamp: iso(cutoff + (5 + Math.floor(random() * 20)) * DAY) });
    }
  }
  await send(events);
  const m = await s.api('POST', `${ws()}/models`, { key: 'buy_30d', name: 'Will buy in 30 days', target: { kind: 'propensity', event: 'Order Completed', withinDays: 30 } });
  assert.equal(m.status, 201, JSON.stringify(m.body));
  const v = await s.api('POST', `${ws()}/models/buy_30d/train`);
  assert.equal(v.status, 201, JSON.stringify(v.body));
  const card = v.body.card;
  t.diagnostic(`propensity: ${JSON.stringify(card.candidates)} top ${JSON.stringify(card.topFeatures.slice(0, 3))}`);
  assert.equal(card.dataWindow.validation, 'time_split');
  assert.equal(Date.parse(card.dataWindow.labelTo) - Date.parse(card.dataWindow.cutoff), 30 * DAY);
  assert.equal(card.status, 'active');
  assert.ok(card.auc > 0.75, `AUC ${card.auc}`);
  assert.match(card.topFeatures[0].feature, /Pricing Viewed/);
  // Purchases inside a label window are never features of that window: no order count or revenue leads.
  assert.ok(!/Order Completed|monetary/.test(card.topFeatures[0].feature));
  assert.equal(card.population.trainedOn, 500);
  assert.equal((await s.api('GET', `${ws()}/models/buy_30d`)).body.scoredProfiles, 500 + 600);
});
