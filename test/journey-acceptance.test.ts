/**
 * The journeys acceptance scenario in one run, with a controllable clock, on a real server,
 * DuckDB file, SMTP server and platform stand-ins (Twilio, a retargeting audience webhook):
 *
 * "Cart abandoners" → email → wait up to 2 days for `Email Opened` or `Email Link Clicked` → if
 * none, SMS (only with `sms_marketing` consent) → wait a day for `SMS Link Clicked` → if none and
 * with `advertising` consent, add to the retargeting audience for 30 days. `Order Completed` at
 * any point ends the journey and removes the person from the audience (the goal's `then`). Throughout: at most 3 messages a
 * week across channels, quiet hours 21:00–08:00 in the person's zone, a 10 % control group, and
 * a less important newsletter journey whose waiting message gives way to the cart email.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { removeDir, shiftedClock, startServer, tempDir, type TestServer } from './helpers/server.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';
import { startPlatform, type PlatformServer } from './helpers/platform-server.js';
import { sendEvents, settleAll, until } from './helpers/activation.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ZONE = 'Europe/Paris';
const ACCOUNT = `AC${'0'.repeat(31)}7`;
const clock = shiftedClock();
const dir = tempDir();
let s: TestServer;
let smtp: TestSmtpServer;
let twilio: PlatformServer;
let ads: PlatformServer;

const ws = () => `/api/workspaces/${s.workspaceId}`;
const uid = () => randomUUID().slice(0, 8);

/** Paris wall-clock time of an instant, `HH:MM`. */
const hhmm = (t: number) => new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(t));

/** Moves the clock on, fires due journey timers and wakes the delivery loops (their own timers run on real time). */
async function jump(ms: number): Promise<void> {
  clock.advance(ms);
  await s.ensemble.activation.fanout.tick();
  for (const d of s.ensemble.activation.destinations.list()) s.ensemble.activation.dispatcher.wake(d.id);
  await settleAll(s);
}

before(async () => {
  s = await startServer({}, dir, clock);
  smtp = await startSmtpServer({ authOptional: true });
  twilio = await startPlatform(() => ({ status: 201, body: { sid: `SM${'c'.repeat(32)}`, status: 'queued' } }));
  ads = await startPlatform();
  // Start at 21:30 in Paris: inside the quiet hours.
  let t = clock.now();
  while (hhmm(t) !== '21:30') t += MINUTE;
  clock.advance(t - clock.now());
});
after(async () => {
  await s.close();
  await smtp.close();
  await twilio.close();
  await ads.close();
  removeDir(dir);
});

test('cart recovery across email, SMS and retargeting, with caps, quiet hours, a control group, displacement and purchase exits', async () => {
  const policy = await s.api('PUT', `${ws()}/pressure-policy`, {
    caps: [{ channel: 'all', max: 3, within: '7d' }], quietHours: { from: '21:00', to: '08:00' }, defaultTimeZone: ZONE, displace: true,
  });
  assert.equal(policy.status, 200, JSON.stringify(policy.body));
  const cart = await s.api('POST', `${ws()}/segments`, { name: 'Cart abandoners', purposes: ['email_marketing'], definition: {
    kind: 'and', of: [{ kind: 'event', event: 'Product Added', within: '30d' }, { kind: 'event', event: 'Order Completed', within: '30d', count: { op: 'eq', value: 0 } }] } });
  assert.equal(cart.status, 201, JSON.stringify(cart.body));
  const pool = (await s.api('POST', `${ws()}/segments`, { name: 'Retargeting pool', purposes: ['advertising'], definition: { kind: 'event', event: 'Never Sent' } })).body.id;
  const email = (await s.api('POST', `${ws()}/destinations`, { type: 'email', name: 'Mail', config: { host: '127.0.0.1', port: smtp.port, secure: false, from: 'shop@shop.example', password: 'unused-password' } })).body.id;
  const sms = (await s.api('POST', `${ws()}/destinations`, { type: 'twilio-sms', name: 'SMS', config: { accountSid: ACCOUNT, authToken: 'twilio-auth-token-0123456789ab', from: '+33700000001', apiBase: twilio.url } })).body.id;
  const adsDest = await s.api('POST', `${ws()}/destinations`, { type: 'webhook', name: 'Retargeting', purpose: 'advertising', segments: [pool], config: { url: `${ads.url}/aud`, secret: 'whsec-acceptance-0123456789' } });
  assert.equal(adsDest.status, 201, JSON.stringify(adsDest.body));

  const recovery = await s.api('POST', `${ws()}/journeys`, {
    name: 'Cart recovery', entry: { kind: 'segment', segmentId: cart.body.id }, goal: { event: 'Order Completed', then: 'unads' }, reentry: { policy: 'once' }, priority: 8,
    start: 'split',
    steps: {
      split: { kind: 'split', branches: [{ percent: 90, next: 'mail', name: 'treated' }, { percent: 10, control: true, name: 'control' }] },
      mail: { kind: 'send', destinationId: email, template: { subject: 'Your cart', text: 'Come back: https://shop.example/cart', html: '<p><a href="https://shop.example/cart">Back to your cart</a></p>' }, next: 'waitMail' },
      waitMail: { kind: 'wait_for', events: [{ event: 'Email Opened' }, { event: 'Email Link Clicked' }], timeout: '2d', next: 'done', onTimeout: 'smsCheck' },
      smsCheck: { kind: 'branch', condition: { kind: 'consent', purpose: 'sms_marketing' }, then: 'sms', else: 'waitSms' },
      sms: { kind: 'send', destinationId: sms, template: { body: 'Your cart is waiting: https://shop.example/cart' }, next: 'waitSms' },
      waitSms: { kind: 'wait_for', events: [{ event: 'SMS Link Clicked' }], timeout: '1d', next: 'done', onTimeout: 'adsCheck' },
      adsCheck: { kind: 'branch', condition: { kind: 'consent', purpose: 'advertising' }, then: 'ads', else: 'done' },
      ads: { kind: 'audience', destinationId: adsDest.body.id, segmentId: pool, action: 'add', next: 'stay' },
      stay: { kind: 'wait', for: '30d', next: 'unads' },
      unads: { kind: 'audience', destinationId: adsDest.body.id, segmentId: pool, action: 'remove', next: 'done' },
      done: { kind: 'exit' },
    },
  });
  assert.equal(recovery.status, 201, JSON.stringify(recovery.body));
  const jid = recovery.body.id;
  const newsletter = await s.api('POST', `${ws()}/journeys`, {
    name: 'Newsletter', entry: { kind: 'event', event: 'Newsletter Due' }, reentry: { policy: 'always' }, priority: 2, start: 'mail',
    steps: { mail: { kind: 'send', destinationId: email, template: { subject: 'News', text: 'News' }, next: 'done' }, done: { kind: 'exit' } },
  });
  assert.equal(newsletter.status, 201, JSON.stringify(newsletter.body));

  // Thirty people with email consent; every third also SMS and advertising.
  const people = Array.from({ length: 30 }, (_v, i) => ({ i, anon: `acc-${i}-${uid()}`, email: `a${i}.${uid()}@example.com`, rich: i % 3 === 0, pid: '' }));
  await sendEvents(s, people.map((p) => ({
    type: 'identify', anonymousId: p.anon, traits: { email: p.email, phone: `+3361235${String(1000 + p.i).slice(-4)}` },
    context: { consent: { categoryPreferences: { email_marketing: true, sms_marketing: p.rich, advertising: p.rich } } },
  })));
  for (const p of people) p.pid = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${p.anon}`)).body.id;
  // The dry run tells who the split will treat (the draw is stable per journey and person).
  const treatedIds = new Set<string>();
  for (const p of people) {
    const sim = await s.api('GET', `${ws()}/journeys/${jid}/simulate?profileId=${p.pid}`);
    assert.equal(sim.status, 200, JSON.stringify(sim.body));
    if (sim.body.path[1]?.step === 'mail') treatedIds.add(p.pid);
  }
  const treated = people.filter((p) => treatedIds.has(p.pid));
  const control = people.filter((p) => !treatedIds.has(p.pid));
  const rich = treated.filter((p) => p.rich);
  assert.ok(rich.length >= 6, `enough treated people with every consent (${rich.length})`);
  const [busy, opener, clicker, buyer, smsClicker, lateBuyer] = [rich[0]!, treated.find((p) => !p.rich)!, rich[1]!, rich[2]!, rich[3]!, rich[4]!];

  // The busy person is due three newsletters (less important) before the cart email.
  await sendEvents(s, [1, 2, 3].map((n) => ({ type: 'track', anonymousId: busy.anon, event: 'Newsletter Due', messageId: `nl-${n}-${busy.anon}` })));
  await sendEvents(s, people.map((p) => ({ type: 'track', anonymousId: p.anon, event: 'Product Added' })));
  const mailsTo = (p: { email: string }) => smtp.messages.filter((m) => m.to.includes(p.email));
  assert.equal(smtp.messages.length, 0, 'quiet hours: nothing at 21:30');
  let stats = (await s.api('GET', `${ws()}/journeys/${jid}/stats`)).body;
  assert.equal(stats.entered, 30);
  assert.ok(Object.keys(stats.steps.mail).some((k) => k.startsWith('deferred:quiet_hours')), JSON.stringify(stats.steps.mail));

  // 08:01: the cart emails go, and the busy person's cap of 3 holds: the cart email took the third newsletter's turn.
  await jump(10 * HOUR + 31 * MINUTE);
  assert.equal(hhmm(clock.now()), '08:01');
  await until(s, () => smtp.messages.length >= treated.length + 2, 'the morning emails');
  await jump(MINUTE);
  for (const p of treated) assert.equal(mailsTo(p).filter((m) => m.subject === 'Your cart').length, 1, `one cart email for ${p.i}`);
  for (const p of control) assert.equal(mailsTo(p).length, 0, 'the control group gets nothing');
  assert.deepEqual(mailsTo(busy).map((m) => m.subject).sort(), ['News', 'News', 'Your cart']);
  const nl = (await s.api('GET', `${ws()}/journeys/${newsletter.body.id}/stats`)).body;
  assert.equal(nl.steps.mail.sent, 2, JSON.stringify(nl.steps.mail));
  assert.equal(nl.steps.mail['suppressed:displaced'], 1, JSON.stringify(nl.steps.mail));

  // Responses: one opens, one clicks the email's link, one buys.
  const html = (p: { email: string }) => mailsTo(p).find((m) => m.subject === 'Your cart')!.html;
  assert.equal((await fetch(/src="([^"]+\/v1\/m\/o\/[^"]+\.gif)"/.exec(html(opener))![1]!)).status, 200);
  const emailClick = await fetch(/href="([^"]+\/v1\/m\/c\/[^"]+)"/.exec(html(clicker))![1]!, { redirect: 'manual' });
  assert.equal(emailClick.status, 302);
  assert.equal(emailClick.headers.get('location'), 'https://shop.example/cart');
  await sendEvents(s, [{ type: 'track', anonymousId: buyer.anon, event: 'Order Completed', properties: { revenue: 40 } }]);
  await settleAll(s);
  const state = (p: { pid: string }) => s.ensemble.activation.journeys.stateOf(jid, p.pid);
  assert.equal(state(opener)?.outcome, 'exit');
  assert.equal(state(clicker)?.outcome, 'exit');
  assert.equal(state(buyer)?.outcome, 'goal');

  // Two days after entry (21:31): the SMS step, held by the quiet hours until the morning.
  await jump(2 * DAY - 10 * HOUR - 31 * MINUTE);
  assert.equal(hhmm(clock.now()), '21:31');
  assert.equal(twilio.requests.length, 0, 'no SMS at night');
  await jump(10 * HOUR + 30 * MINUTE);
  const smsTargets = rich.filter((p) => p !== busy && p !== clicker && p !== buyer);
  await until(s, () => twilio.requests.length >= smsTargets.length, 'the morning SMS');
  await jump(MINUTE);
  assert.equal(twilio.requests.length, smsTargets.length, 'an SMS for the treated who did not react, with SMS consent, under their weekly cap');
  stats = (await s.api('GET', `${ws()}/journeys/${jid}/stats`)).body;
  assert.equal(stats.steps.sms['suppressed:cap:all:3/7d'], 1, `the busy person had their 3 messages this week: ${JSON.stringify(stats.steps.sms)}`);

  // The SMS link is tracked: a click ends the wait.
  const smsTo = (p: { i: number }) => twilio.requests.map((r) => new URLSearchParams(r.body)).find((f) => f.get('To') === `+3361235${String(1000 + p.i).slice(-4)}`)!;
  const smsLink = /https?:\/\/\S+\/v1\/m\/c\/\S+/.exec(smsTo(smsClicker).get('Body') ?? '')?.[0];
  assert.ok(smsLink, smsTo(smsClicker).get('Body') ?? '');
  const smsClick = await fetch(smsLink, { redirect: 'manual' });
  assert.equal(smsClick.status, 302);
  await settleAll(s);
  assert.equal(state(smsClicker)?.outcome, 'exit', 'the SMS click ended the journey');

  // A day after the SMS step: those with advertising consent who did not react join the audience.
  await jump(DAY - 10 * HOUR - 31 * MINUTE);
  const retargeted = rich.filter((p) => p !== clicker && p !== buyer && p !== smsClicker);
  const items = (action: string) => ads.requests.flatMap((r) => JSON.parse(r.body).batch).filter((i: any) => i.action === action);
  await until(s, () => items('add').length >= retargeted.length, 'the audience additions');
  assert.equal(items('add').length, retargeted.length);

  // A purchase afterwards ends the journey as a goal and takes the person out of the audience.
  await sendEvents(s, [{ type: 'track', anonymousId: lateBuyer.anon, event: 'Order Completed', properties: { revenue: 25 } }]);
  await until(s, () => items('remove').length >= 1, 'the audience removal');
  assert.equal(items('remove').length, 1);
  assert.equal(state(lateBuyer)?.outcome, 'goal');

  stats = (await s.api('GET', `${ws()}/journeys/${jid}/stats`)).body;
  assert.equal(stats.outcomes.goal, 2);
  assert.equal(stats.outcomes.control ?? 0, control.length);
  assert.equal(stats.steps.mail.sent, treated.length);
  assert.equal(stats.steps.sms.sent, smsTargets.length);
  assert.ok(stats.branches.some((b: any) => b.branch === 'treated' && b.goals === 2), JSON.stringify(stats.branches));
});
