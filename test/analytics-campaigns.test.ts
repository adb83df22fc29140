/**
 * Campaign performance on a real server: a trigger sends real e-mails through a real SMTP
 * server on 127.0.0.1; the recipients open and click through the signed links in them, and one
 * of them orders afterwards. The campaigns row of that destination counts exactly what happened:
 * sent, delivered, opened, clicked and converted (within 7 days of the send).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { removeDir, startServer, type TestServer } from './helpers/server.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';
import { sendEvents, settleAll, until as waitFor } from './helpers/activation.js';

let s: TestServer;
let smtp: TestSmtpServer;

before(async () => {
  s = await startServer();
  smtp = await startSmtpServer({ user: 'mailer', password: 'smtp-password-123' });
});
after(async () => {
  await s.close();
  await smtp.close();
  removeDir(s.dir);
});

const ws = () => `/api/workspaces/${s.workspaceId}`;
const uid = () => randomUUID().slice(0, 8);

test('campaigns: sent, delivered, opened, clicked and converted of a trigger e-mail, as they happened', async () => {
  const d = await s.api('POST', `${ws()}/destinations`, {
    type: 'email', name: 'Welcome mail', config: { host: '127.0.0.1', port: smtp.port, secure: false, user: 'mailer', password: 'smtp-password-123', from: 'Shop <news@shop.example>' },
  });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  const trg = await s.api('POST', `${ws()}/triggers`, {
    name: 'Welcome', when: { kind: 'event', event: 'Signed Up' },
    then: { action: 'send', destinationId: d.body.id, template: { subject: 'Welcome', html: '<html><body><a href="https://shop.example/sale">Sale</a></body></html>', text: 'Hello' } },
  });
  assert.equal(trg.status, 201, JSON.stringify(trg.body));
  const people: Array<{ anon: string; id: string }> = [];
  for (let i = 0; i < 4; i++) {
    const anon = `camp-${i}-${uid()}`;
    await sendEvents(s, [{ type: 'identify', anonymousId: anon, traits: { email: `camp${i}.${uid()}@example.com` } }]);
    const id = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon}`)).body.id;
    // The fourth person gave no consent: nothing is sent to them, and nothing counted.
    if (i < 3) assert.equal((await s.api('PUT', `${ws()}/profiles/${id}/consents`, { consents: [{ purpose: 'email_marketing', status: 'granted' }] })).status, 200);
    people.push({ anon, id });
  }
  await settleAll(s);
  await sendEvents(s, people.map((p) => ({ type: 'track', anonymousId: p.anon, event: 'Signed Up' })));
  await waitFor(s, () => smtp.messages.length >= 3, 'three e-mails');
  await settleAll(s);
  assert.equal(smtp.messages.length, 3);
  const links = smtp.messages.map((m) => ({
    to: m.to,
    pixel: /src="([^"]+\/v1\/m\/o\/[^"]+\.gif)"/.exec(m.html)![1]!,
    click: /href="([^"]+\/v1\/m\/c\/[^"]+)"/.exec(m.html)![1]!,
  }));
  // Two open (one of them twice), one clicks; the clicker orders.
  assert.equal((await fetch(links[0]!.pixel)).status, 200);
  assert.equal((await fetch(links[0]!.pixel)).status, 200);
  assert.equal((await fetch(links[1]!.pixel)).status, 200);
  assert.equal((await fetch(links[1]!.click, { redirect: 'manual' })).status, 302);
  await settleAll(s);
  // Who got the clicked e-mail: the message's recipient address names the person.
  const clickedTo = String(links[1]!.to);
  const buyerIndex = [0, 1, 2].find((i) => clickedTo.includes(`camp${i}.`));
  assert.ok(buyerIndex !== undefined, clickedTo);
  await sendEvents(s, [{ type: 'track', anonymousId: people[buyerIndex]!.anon, event: 'Order Completed', properties: { revenue: 42 } }]);
  await settleAll(s);
  const r = await s.api('GET', `${ws()}/analytics/campaigns`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.rows, [{ channel: 'email', destinationId: d.body.id, journeyId: null, sent: 3, delivered: 3, opened: 2, clicked: 1, converted: 1 }]);
  const other = await s.api('GET', `${ws()}/analytics/campaigns?conversion=${encodeURIComponent('Never Happens')}`);
  assert.equal(other.body.rows[0].converted, 0, 'the conversion event is the one asked for');

  // Another recipient orders on a second device, which becomes theirs only when they log in
  // there afterwards: that profile is merged into theirs, and the order converts their message.
  const secondIndex = [0, 1, 2].find((i) => i !== buyerIndex)!;
  const phone = `camp-phone-${uid()}`;
  await sendEvents(s, [{ type: 'track', anonymousId: phone, event: 'Order Completed', properties: { revenue: 9 } }]);
  await settleAll(s);
  const phoneProfile = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${phone}`)).body.id;
  assert.notEqual(phoneProfile, people[secondIndex]!.id, 'the second device starts as a profile of its own');
  const recipient = (await s.api('GET', `${ws()}/profiles/${people[secondIndex]!.id}`)).body;
  const email = recipient.identifiers.find((x: { type: string }) => x.type === 'email').value;
  await sendEvents(s, [{ type: 'identify', anonymousId: phone, traits: { email } }]);
  await settleAll(s);
  assert.equal((await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${phone}`)).body.id, people[secondIndex]!.id, 'merged into the recipient');
  const merged = await s.api('GET', `${ws()}/analytics/campaigns`);
  assert.equal(merged.body.rows[0].converted, 2, 'the order placed under the merged profile counts');

  const past = await s.api('GET', `${ws()}/analytics/campaigns?from=2020-01-01&to=2020-12-31`);
  assert.deepEqual(past.body.rows, [], 'messages are counted in the range they were sent');
});
