/**
 * Journeys end to end with a controllable clock, on a real server, DuckDB file, SMTP server and
 * platform stand-ins: cart abandoners get an email; those who do not open it within 2 days get
 * an SMS (only with sms_marketing consent); a day later, with advertising consent, they join the
 * retargeting audience; a purchase at any point ends the journey (goal); a 10 % control group gets
 * nothing. Timers survive a restart and fire once; definitions are validated precisely; a live
 * edit makes a new version; pause stops everything; the dry run shows the path; stats count it all.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { removeDir, shiftedClock, startServer, tempDir, type TestServer } from './helpers/server.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';
import { startPlatform, type PlatformServer } from './helpers/platform-server.js';
import { sendEvents, settleAll } from './helpers/activation.js';

const DAY = 86_400_000;
const SECRET = 'whsec-journeys-test-01234';
const ACCOUNT = `AC${'0'.repeat(31)}2`;
const clock = shiftedClock();
const dir = tempDir();
let s: TestServer;
let smtp: TestSmtpServer;
let twilio: PlatformServer;
let ads: PlatformServer;
const ids: Record<string, string> = {};

const ws = () => `/api/workspaces/${s.workspaceId}`;
const uid = () => randomUUID().slice(0, 8);
const send = (batch: unknown[]) => sendEvents(s, batch);

async function tick(): Promise<void> {
  await s.ensemble.activation.fanout.tick();
  await settleAll(s);
}

async function advance(ms: number): Promise<void> {
  clock.advance(ms);
  await tick();
}

function journeyDef(): Record<string, unknown> {
  return {
    name: 'Cart recovery', entry: { kind: 'segment', segmentId: ids.cart }, goal: { event: 'Order Completed' }, reentry: { policy: 'once' },
    start: 'split',
    steps: {
      split: { kind: 'split', branches: [{ percent: 90, next: 'mail', name: 'treated' }, { percent: 10, control: true, name: 'control' }] },
      mail: { kind: 'send', destinationId: ids.email, template: { subject: 'Your cart, {{ traits.firstName }}', text: 'Come back', html: '<p>Come back</p>' }, next: 'waitOpen' },
      waitOpen: { kind: 'wait_for', event: { event: 'Email Opened' }, timeout: '2d', next: 'done', onTimeout: 'smsCheck' },
      smsCheck: { kind: 'branch', condition: { kind: 'consent', purpose: 'sms_marketing' }, then: 'sms', else: 'wait1' },
      sms: { kind: 'send', destinationId: ids.sms, template: { body: 'Your cart is waiting' }, next: 'wait1' },
      wait1: { kind: 'wait', for: '1d', next: 'adsCheck' },
      adsCheck: { kind: 'branch', condition: { kind: 'consent', purpose: 'advertising' }, then: 'ads', else: 'done' },
      ads: { kind: 'audience', destinationId: ids.ads, segmentId: ids.pool, action: 'add', next: 'done' },
      done: { kind: 'exit' },
    },
  };
}

before(async () => {
  s = await startServer({}, dir, clock);
  smtp = await startSmtpServer({ authOptional: true });
  twilio = await startPlatform(() => ({ status: 201, body: { sid: `SM${'b'.repeat(32)}`, status: 'queued' } }));
  ads = await startPlatform();
  const cart = await s.api('POST', `${ws()}/segments`, { name: 'Cart abandoners', purposes: ['email_marketing'], definition: {
    kind: 'and', of: [{ kind: 'event', event: 'Product Added', within: '30d' }, { kind: 'event', event: 'Order Completed', within: '30d', count: { op: 'eq', value: 0 } }] } });
  assert.equal(cart.status, 201, JSON.stringify(cart.body));
  ids.cart = cart.body.id;
  ids.pool = (await s.api('POST', `${ws()}/segments`, { name: 'Retargeting pool', purposes: ['advertising'], definition: { kind: 'event', event: 'Never Sent' } })).body.id;
  ids.email = (await s.api('POST', `${ws()}/destinations`, { type: 'email', name: 'Mail', config: { host: '127.0.0.1', port: smtp.port, secure: false, from: 'shop@shop.example', password: 'unused-password' } })).body.id;
  ids.sms = (await s.api('POST', `${ws()}/destinations`, { type: 'twilio-sms', name: 'SMS', config: { accountSid: ACCOUNT, authToken: 'twilio-auth-token-0123456789ab', from: '+33700000001', apiBase: twilio.url } })).body.id;
  const adsDest = await s.api('POST', `${ws()}/destinations`, { type: 'webhook', name: 'Retargeting', purpose: 'advertising', segments: [ids.pool], config: { url: `${ads.url}/aud`, secret: SECRET } });
  assert.equal(adsDest.status, 201, JSON.stringify(adsDest.body));
  ids.ads = adsDest.body.id;
});
after(async () => {
  await s.close();
  await smtp.close();
  await twilio.close();
  await ads.close();
  removeDir(dir);
});

test('a journey definition is validated with precise errors', async () => {
  const bad = await s.api('POST', `${ws()}/journeys`, {
    name: 'Broken', entry: { kind: 'segment', segmentId: 'seg_nope' }, start: 'a',
    steps: {
      a: { kind: 'split', branches: [{ percent: 50, next: 'b' }, { percent: 40, next: 'zz' }] },
      b: { kind: 'branch', condition: { kind: 'event', event: 'X' }, then: 'c', else: 'a' },
      c: { kind: 'send', destinationId: ids.ads, template: { subject: 'x' }, next: 'a' },
    },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_JOURNEY_INVALID');
  const codes = bad.body.error.details.problems.map((p: any) => `${p.path} ${p.code}`);
  for (const expected of ['/entry/segmentId unknown_segment', '/steps/a/branches split_sum', '/steps/a/branches/1/next unknown_step', '/steps/b/condition condition_kind', '/steps/c/destinationId destination_kind']) {
    assert.ok(codes.includes(expected), `${expected} in ${JSON.stringify(codes)}`);
  }
  assert.ok(codes.some((c: string) => c.endsWith('loop_without_wait')), 'a loop without a wait is refused');

  const waitsAtGoal = await s.api('POST', `${ws()}/journeys`, {
    name: 'Goal that waits', entry: { kind: 'event', event: 'Go' }, goal: { event: 'Order Completed', then: 'pause' }, start: 'w',
    steps: {
      w: { kind: 'wait_for', event: { event: 'A' }, events: [{ event: 'B' }], timeout: '1d', next: 'done', onTimeout: 'done' },
      pause: { kind: 'wait', for: '1d', next: 'done' },
      done: { kind: 'exit' },
    },
  });
  assert.equal(waitsAtGoal.status, 400);
  const more = waitsAtGoal.body.error.details.problems.map((p: any) => `${p.path} ${p.code}`);
  assert.ok(more.includes('/goal/then goal_then_waits'), JSON.stringify(more));
  assert.ok(more.includes('/steps/w wait_for_form'), JSON.stringify(more));
});

test('cart recovery: email, then SMS for those who did not open it, then retargeting; purchases end it; a control group gets nothing', async () => {
  const j = await s.api('POST', `${ws()}/journeys`, journeyDef());
  assert.equal(j.status, 201, JSON.stringify(j.body));
  const jid = j.body.id;
  ids.journey = jid;

  // Twenty people with email consent; every third also SMS and advertising; one will open the email, one will buy.
  const people = Array.from({ length: 20 }, (_v, i) => ({ anon: `jr-${i}-${uid()}`, email: `p${i}.${uid()}@example.com`, rich: i % 3 === 0 }));
  await send(people.map((p) => ({
    type: 'identify', anonymousId: p.anon, traits: { email: p.email, phone: `+3361234${String(1000 + people.indexOf(p)).slice(-4)}`, firstName: `P${people.indexOf(p)}` },
    context: { consent: { categoryPreferences: { email_marketing: true, sms_marketing: p.rich, advertising: p.rich } } },
  })));
  await send(people.map((p) => ({ type: 'track', anonymousId: p.anon, event: 'Product Added' })));
  await tick();
  const pid = async (anon: string) => (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon}`)).body.id as string;
  const states = new Map<string, any>();
  for (const p of people) states.set(p.anon, s.ensemble.activation.journeys.stateOf(jid, await pid(p.anon)));
  const control = people.filter((p) => states.get(p.anon)?.branch === 'control');
  const treated = people.filter((p) => states.get(p.anon)?.branch === 'treated');
  assert.equal(control.length + treated.length, 20, 'everyone entered');
  assert.ok(treated.length > 0);
  const end = Date.now() + 5000;
  while (smtp.messages.length < treated.length && Date.now() < end) { await new Promise((r) => setTimeout(r, 20)); await settleAll(s); }
  assert.equal(smtp.messages.length, treated.length, 'one email per treated person, none for the control group');
  for (const c of control) assert.ok(!smtp.messages.some((m) => m.to.includes(c.email)));

  // One treated person opens the email (the pixel), one buys.
  const opener = treated[0]!;
  const buyer = treated.find((p) => p !== opener && p.rich) ?? treated[1]!;
  const mail = smtp.messages.find((m) => m.to.includes(opener.email))!;
  const pixel = /src="([^"]+\/v1\/m\/o\/[^"]+\.gif)"/.exec(mail.html)![1]!;
  assert.equal((await fetch(pixel)).status, 200);
  await send([{ type: 'track', anonymousId: buyer.anon, event: 'Order Completed', properties: { revenue: 30 } }]);
  assert.equal(s.ensemble.activation.journeys.stateOf(jid, await pid(opener.anon))?.outcome, 'exit', 'the opener left through the wait_for');
  assert.equal(s.ensemble.activation.journeys.stateOf(jid, await pid(buyer.anon))?.outcome, 'goal', 'the buyer reached the goal');

  // A restart before the timers: none is lost, none repeats.
  await s.close();
  s = await startServer({}, dir, clock);
  await advance(2 * DAY + 60_000);
  const smsTargets = treated.filter((p) => p !== opener && p !== buyer && p.rich);
  const end2 = Date.now() + 5000;
  while (twilio.requests.length < smsTargets.length && Date.now() < end2) { await new Promise((r) => setTimeout(r, 20)); await settleAll(s); }
  assert.equal(twilio.requests.length, smsTargets.length, 'an SMS only for the treated who did not open, did not buy, and consented');
  await tick();
  assert.equal(twilio.requests.length, smsTargets.length, 'a timer fires once');
  assert.equal(smtp.messages.length, treated.length, 'no email repeated after the restart');

  await advance(DAY + 60_000);
  const end3 = Date.now() + 5000;
  const added = () => ads.requests.flatMap((r) => JSON.parse(r.body).batch).filter((i: any) => i.action === 'add');
  while (added().length < smsTargets.length && Date.now() < end3) { await new Promise((r) => setTimeout(r, 20)); await settleAll(s); }
  assert.equal(added().length, smsTargets.length, 'the retargeting audience gets those with advertising consent');

  const stats = await s.api('GET', `${ws()}/journeys/${jid}/stats`);
  assert.equal(stats.status, 200, JSON.stringify(stats.body));
  assert.equal(stats.body.entered, 20);
  assert.equal(stats.body.outcomes.control ?? 0, control.length);
  assert.equal(stats.body.outcomes.goal, 1);
  assert.equal(stats.body.steps.mail.sent, treated.length);
  assert.equal(stats.body.steps.sms.sent, smsTargets.length);
  assert.ok(stats.body.branches.some((b: any) => b.branch === 'treated' && b.goals === 1));
});

test('editing a live journey makes a new version; pause holds everyone; the dry run shows the path', async () => {
  const jid = ids.journey!;
  const v2 = await s.api('PUT', `${ws()}/journeys/${jid}`, { ...journeyDef(), name: 'Cart recovery v2' });
  assert.equal(v2.status, 200, JSON.stringify(v2.body));
  assert.equal(v2.body.version, 2);
  const someone = s.ensemble.activation.journeys.statesOf(jid)[0]!;
  assert.equal(someone.version, 1, 'people inside keep their version');
  assert.equal((await s.api('POST', `${ws()}/journeys/${jid}/pause`)).body.status, 'paused');
  assert.equal((await s.api('POST', `${ws()}/journeys/${jid}/resume`)).body.status, 'active');

  const anon = `sim-${uid()}`;
  await send([{ type: 'identify', anonymousId: anon, traits: { email: `${anon}@example.com` }, context: { consent: { categoryPreferences: { sms_marketing: true } } } }]);
  const pid = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon}`)).body.id;
  const sim = await s.api('GET', `${ws()}/journeys/${jid}/simulate?profileId=${pid}`);
  assert.equal(sim.status, 200, JSON.stringify(sim.body));
  const steps = sim.body.path.map((p: any) => p.step);
  assert.equal(steps[0], 'split');
  if (steps[1] === 'mail') {
    assert.deepEqual(steps.slice(1), ['mail', 'waitOpen', 'smsCheck', 'sms', 'wait1', 'adsCheck', 'done'], 'SMS consent, no advertising consent');
    assert.equal(sim.body.outcome, 'exit');
  } else {
    assert.equal(sim.body.outcome, 'control');
  }
  assert.equal((await s.api('POST', `${ws()}/journeys/${jid}/archive`)).body.status, 'archived');
  assert.equal((await s.api('POST', `${ws()}/journeys/${jid}/resume`)).status, 409);
});

test('marketing pressure: quiet hours defer a message to their end in the person\'s zone; a full cap suppresses; decisions are counted', async () => {
  const hhmm = (t: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(t));
  const now = clock.now();
  const bad = await s.api('PUT', `${ws()}/pressure-policy`, { caps: [{ channel: 'email', max: 1, within: 'soon' }], quietHours: { from: '25:00', to: '08:00' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_PRESSURE_POLICY_INVALID');
  const policy = await s.api('PUT', `${ws()}/pressure-policy`, {
    caps: [{ channel: 'email', max: 1, within: '7d' }], quietHours: { from: hhmm(now - 3_600_000), to: hhmm(now + 2 * 3_600_000) }, defaultTimeZone: 'Europe/Paris',
  });
  assert.equal(policy.status, 200, JSON.stringify(policy.body));
  const j = await s.api('POST', `${ws()}/journeys`, {
    name: 'Polite', entry: { kind: 'event', event: 'Pressure Test' }, reentry: { policy: 'always' }, start: 'mail',
    steps: { mail: { kind: 'send', destinationId: ids.email, template: { subject: 'Hello', text: 'Hi' }, next: 'done' }, done: { kind: 'exit' } },
  });
  assert.equal(j.status, 201, JSON.stringify(j.body));
  const anon = `pz-${uid()}`;
  const email = `${anon}@example.com`;
  await send([{ type: 'identify', anonymousId: anon, traits: { email }, context: { consent: { categoryPreferences: { email_marketing: true } } } }]);
  await send([{ type: 'track', anonymousId: anon, event: 'Pressure Test' }]);
  const got = () => smtp.messages.filter((m) => m.to.includes(email)).length;
  assert.equal(got(), 0, 'quiet hours: not now');
  let stats = (await s.api('GET', `${ws()}/journeys/${j.body.id}/stats`)).body;
  assert.ok(Object.keys(stats.steps.mail).some((k) => k.startsWith('deferred:quiet_hours')), JSON.stringify(stats.steps));

  clock.advance(2 * 3_600_000 + 120_000);
  for (const d of s.ensemble.activation.destinations.list()) s.ensemble.activation.dispatcher.wake(d.id);
  const end = Date.now() + 5000;
  while (got() === 0 && Date.now() < end) { await new Promise((r) => setTimeout(r, 20)); await settleAll(s); }
  assert.equal(got(), 1, 'sent once the quiet hours ended');

  await send([{ type: 'track', anonymousId: anon, event: 'Pressure Test' }]);
  assert.equal(got(), 1, 'the weekly cap of one email holds');
  stats = (await s.api('GET', `${ws()}/journeys/${j.body.id}/stats`)).body;
  assert.equal(stats.steps.mail.sent, 1);
  assert.equal(stats.steps.mail['suppressed:cap:email:1/7d'], 1, JSON.stringify(stats.steps.mail));
});

test('a scheduled journey enters everyone in its segment at the set time, once per run', async () => {
  const hhmm = (t: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(t));
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Newsletter readers', definition: { kind: 'event', event: 'Read Newsletter' } })).body;
  const anons = [`sc-${uid()}`, `sc-${uid()}`];
  await send(anons.map((a) => ({ type: 'track', anonymousId: a, event: 'Read Newsletter' })));
  const at = hhmm(clock.now() + 3_600_000);
  const j = await s.api('POST', `${ws()}/journeys`, {
    name: 'Morning digest', entry: { kind: 'schedule', segmentId: seg.id, at, timeZone: 'UTC' }, reentry: { policy: 'always' }, start: 'mark',
    steps: { mark: { kind: 'update_trait', traits: { digest: 'sent' }, next: 'done' }, done: { kind: 'exit' } },
  });
  assert.equal(j.status, 201, JSON.stringify(j.body));
  await tick();
  assert.equal(s.ensemble.activation.journeys.statesOf(j.body.id).length, 0, 'not before its time');
  await advance(3_600_000 + 60_000);
  await tick();
  const states = s.ensemble.activation.journeys.statesOf(j.body.id);
  assert.equal(states.length, 2);
  assert.ok(states.every((x) => x.entries === 1 && x.outcome === 'exit'), 'one entry per person for this run');
  await settleAll(s);
  const pid = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anons[0]}`)).body;
  assert.equal(pid.traits.digest, 'sent', 'update_trait went through the collector');
  await advance(86_400_000);
  assert.ok(s.ensemble.activation.journeys.statesOf(j.body.id).every((x) => x.entries === 2), 'the next day, the next run');
});

test('a paused journey holds its timers; resuming fires those that fell due meanwhile, once', async () => {
  const j = await s.api('POST', `${ws()}/journeys`, {
    name: 'Held', entry: { kind: 'event', event: 'Hold Test' }, start: 'w',
    steps: { w: { kind: 'wait', for: '1h', next: 'mark' }, mark: { kind: 'update_trait', traits: { held: 'released' }, next: 'done' }, done: { kind: 'exit' } },
  });
  assert.equal(j.status, 201, JSON.stringify(j.body));
  const anon = `hold-${uid()}`;
  await send([{ type: 'track', anonymousId: anon, event: 'Hold Test' }]);
  const pid = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon}`)).body.id;
  const state = () => s.ensemble.activation.journeys.stateOf(j.body.id, pid);
  assert.equal(state()?.step, 'w');
  assert.equal((await s.api('POST', `${ws()}/journeys/${j.body.id}/pause`)).status, 200);
  await advance(2 * 3_600_000);
  assert.equal(state()?.step, 'w', 'held while paused');
  assert.equal((await s.api('POST', `${ws()}/journeys/${j.body.id}/resume`)).status, 200);
  await tick();
  assert.equal(state()?.outcome, 'exit', 'released on resumption');
  const stats = (await s.api('GET', `${ws()}/journeys/${j.body.id}/stats`)).body;
  assert.equal(stats.steps.mark.passed, 1, JSON.stringify(stats.steps));
});

test('wait_for a segment change: entering the segment moves the person on; the others time out', async () => {
  const vip = (await s.api('POST', `${ws()}/segments`, { name: 'Big spenders', definition: { kind: 'event', event: 'Big Order' } })).body;
  const j = await s.api('POST', `${ws()}/journeys`, {
    name: 'Await VIP', entry: { kind: 'event', event: 'Await Test' }, start: 'w',
    steps: {
      w: { kind: 'wait_for', segment: { segmentId: vip.id, on: 'entered' }, timeout: '1d', next: 'yes', onTimeout: 'no' },
      yes: { kind: 'update_trait', traits: { vip_path: 'entered' }, next: 'done' },
      no: { kind: 'update_trait', traits: { vip_path: 'timeout' }, next: 'done' },
      done: { kind: 'exit' },
    },
  });
  assert.equal(j.status, 201, JSON.stringify(j.body));
  const [a, b] = [`wf-${uid()}`, `wf-${uid()}`];
  await send([a, b].map((anonymousId) => ({ type: 'track', anonymousId, event: 'Await Test' })));
  await send([{ type: 'track', anonymousId: a, event: 'Big Order' }]);
  await tick();
  await advance(86_400_000 + 60_000);
  const stats = (await s.api('GET', `${ws()}/journeys/${j.body.id}/stats`)).body;
  assert.equal(stats.steps.yes?.passed, 1, JSON.stringify(stats.steps));
  assert.equal(stats.steps.no?.passed, 1, JSON.stringify(stats.steps));
  await settleAll(s);
  const pathOf = async (anon: string) => {
    const p = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon}`)).body;
    return [s.ensemble.activation.journeys.stateOf(j.body.id, p.id)?.outcome, p.traits?.vip_path?.value ?? p.traits?.vip_path];
  };
  assert.deepEqual([await pathOf(a), await pathOf(b)], [['exit', 'entered'], ['exit', 'timeout']]);
});
