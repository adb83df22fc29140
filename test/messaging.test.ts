/**
 * Messaging end to end: a trigger sends a real email through a real SMTP server on 127.0.0.1
 * (Liquid with the person's traits, HTML escaped, RFC 8058 one-click unsubscribe, open pixel and
 * signed click redirects that come back as events); the unsubscribe records the objection and
 * stops the next message; SMS goes out in Twilio's format and its signed status callbacks
 * become events.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';
import { startPlatform, type PlatformServer } from './helpers/platform-server.js';
import { twilioSignature } from '../src/activate/twilio-sms/index.js';
import { sendEvents, settleAll, until as waitFor } from './helpers/activation.js';

let s: TestServer;
let smtp: TestSmtpServer;
let twilio: PlatformServer;
const AUTH_TOKEN = 'twilio-auth-token-0123456789abcdef';
const ACCOUNT = `AC${'0'.repeat(31)}1`;

before(async () => {
  s = await startServer();
  smtp = await startSmtpServer({ user: 'mailer', password: 'smtp-password-123' });
  twilio = await startPlatform(() => ({ status: 201, body: { sid: `SM${'a'.repeat(32)}`, status: 'queued' } }));
});
after(async () => {
  await s.close();
  await smtp.close();
  await twilio.close();
  removeDir(s.dir);
});

const uid = () => randomUUID().slice(0, 8);
const ws = () => `/api/workspaces/${s.workspaceId}`;

const send = (batch: unknown[]) => sendEvents(s, batch);
const settle = () => settleAll(s);
const until = (done: () => boolean, what: string, ms?: number) => waitFor(s, done, what, ms);

async function person(traits: Record<string, unknown>, purposes: string[]): Promise<{ anon: string; id: string }> {
  const anon = `m-${uid()}`;
  await send([{ type: 'identify', anonymousId: anon, traits }]);
  const id = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon}`)).body.id;
  if (purposes.length > 0) {
    const r = await s.api('PUT', `${ws()}/profiles/${id}/consents`, { consents: purposes.map((purpose) => ({ purpose, status: 'granted' })) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  await settle();
  return { anon, id };
}

async function eventsOf(profileId: string): Promise<any[]> {
  await settle();
  return (await s.api('GET', `${ws()}/profiles/${profileId}/events?limit=100`)).body.events;
}

test('email: a trigger sends the rendered message over SMTP with one-click unsubscribe, open and click tracking', async () => {
  const d = await s.api('POST', `${ws()}/destinations`, {
    type: 'email', name: 'Newsletter', config: { host: '127.0.0.1', port: smtp.port, secure: false, user: 'mailer', password: 'smtp-password-123', from: 'Shop News <news@shop.example>' },
  });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  const badTemplate = await s.api('POST', `${ws()}/triggers`, { name: 'x', when: { kind: 'event', event: 'Signed Up' }, then: { action: 'send', destinationId: d.body.id, template: { subject: 'Hi {{ traits.firstName ', text: 'x' } } });
  assert.equal(badTemplate.body.error.code, 'ENSEMBLE_ERR_TEMPLATE_INVALID');
  const trg = await s.api('POST', `${ws()}/triggers`, {
    name: 'Welcome', when: { kind: 'event', event: 'Signed Up' },
    then: { action: 'send', destinationId: d.body.id, template: {
      subject: 'Welcome {{ traits.firstName }}',
      html: '<html><body><p>Hello {{ traits.firstName }}</p><a href="https://shop.example/sale">Sale</a></body></html>',
      text: 'Hello {{ traits.firstName }}',
    } },
  });
  assert.equal(trg.status, 201, JSON.stringify(trg.body));

  const ana = await person({ email: `ana.${uid()}@example.com`, firstName: '<b>Ana</b>' }, ['email_marketing']);
  const bob = await person({ email: `bob.${uid()}@example.com`, firstName: 'Bob' }, []);
  await send([{ type: 'track', anonymousId: ana.anon, event: 'Signed Up' }, { type: 'track', anonymousId: bob.anon, event: 'Signed Up' }]);
  await until(() => smtp.messages.length >= 1, 'the email');
  await settle();
  assert.equal(smtp.messages.length, 1, 'Bob gave no email_marketing consent: nothing sent to him');
  const stats = (await s.api('GET', `${ws()}/destinations/${d.body.id}/stats`)).body;
  assert.equal(stats.dropped['consent:email_marketing'], 1);

  const mail = smtp.messages[0]!;
  assert.equal(mail.subject, 'Welcome <b>Ana</b>', 'plain fields are not escaped');
  assert.ok(mail.html.includes('Hello &lt;b&gt;Ana&lt;/b&gt;'), 'HTML output is escaped');
  assert.ok(mail.text.includes('Hello <b>Ana</b>'));
  assert.equal(mail.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
  const unsubscribe = /<(https?:\/\/[^>]+\/v1\/m\/u\/[^>]+)>/.exec(mail.headers['list-unsubscribe']!)![1]!;
  const click = /href="([^"]+\/v1\/m\/c\/[^"]+)"/.exec(mail.html)![1]!;
  const pixel = /src="([^"]+\/v1\/m\/o\/[^"]+\.gif)"/.exec(mail.html)![1]!;

  const opened = await fetch(pixel);
  assert.equal(opened.status, 200);
  assert.equal(opened.headers.get('content-type'), 'image/gif');
  const clicked = await fetch(click, { redirect: 'manual' });
  assert.equal(clicked.status, 302);
  assert.equal(clicked.headers.get('location'), 'https://shop.example/sale');
  const tampered = await fetch(click.slice(0, -3) + (click.endsWith('AAA') ? 'BBB' : 'AAA'), { redirect: 'manual' });
  assert.equal(tampered.status, 404);
  const names = (await eventsOf(ana.id)).map((e) => e.event);
  assert.ok(names.includes('Email Opened'), JSON.stringify(names));
  assert.ok(names.includes('Email Link Clicked'));

  // The unsubscribe page itself changes nothing (mail scanners follow links); the one-click POST does.
  assert.equal((await fetch(unsubscribe)).status, 200);
  assert.equal((await s.api('GET', `${ws()}/profiles/${ana.id}/consents`)).body.current.email_marketing.status, 'granted');
  const one = await fetch(unsubscribe, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  assert.equal(one.status, 200);
  await settle();
  const c = (await s.api('GET', `${ws()}/profiles/${ana.id}/consents`)).body.current.email_marketing;
  assert.equal(c.status, 'withdrawn');
  assert.equal(c.source, 'unsubscribe');
  await send([{ type: 'track', anonymousId: ana.anon, event: 'Signed Up' }]);
  await settle();
  assert.equal(smtp.messages.length, 1, 'no message after the unsubscribe');
  await s.api('DELETE', `${ws()}/destinations/${d.body.id}`);
});

test('SMS: Twilio\'s format with a status callback; signed callbacks become events, unsigned ones are refused', async () => {
  const d = await s.api('POST', `${ws()}/destinations`, {
    type: 'twilio-sms', name: 'SMS', config: { accountSid: ACCOUNT, authToken: AUTH_TOKEN, from: '+33700000000', apiBase: twilio.url },
  });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  const trg = await s.api('POST', `${ws()}/triggers`, { name: 'Shipped', when: { kind: 'event', event: 'Order Shipped' }, then: { action: 'send', destinationId: d.body.id, template: { body: 'Hi {{ traits.firstName }}, your order is on its way.' } } });
  assert.equal(trg.status, 201, JSON.stringify(trg.body));
  const cleo = await person({ phone: '+33 6 12 34 56 78', firstName: 'Cléo' }, ['sms_marketing']);
  await send([{ type: 'track', anonymousId: cleo.anon, event: 'Order Shipped' }]);
  await until(() => twilio.requests.length >= 1, 'the SMS');
  const req = twilio.requests[0]!;
  assert.equal(req.url, `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
  const form = Object.fromEntries(new URLSearchParams(req.body));
  assert.equal(form.To, '+33612345678');
  assert.equal(form.Body, 'Hi Cléo, your order is on its way.');
  const callback = form.StatusCallback!;
  assert.match(callback, /\/v1\/m\/s\//);

  const params = { MessageSid: `SM${'a'.repeat(32)}`, MessageStatus: 'delivered', To: '+33612345678' };
  const unsigned = await fetch(callback, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
  assert.equal(unsigned.status, 404);
  const signed = await fetch(callback, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(AUTH_TOKEN, callback, params) },
    body: new URLSearchParams(params).toString(),
  });
  assert.equal(signed.status, 204);
  const events = await eventsOf(cleo.id);
  const delivered = events.find((e) => e.event === 'SMS Delivered');
  assert.ok(delivered, JSON.stringify(events.map((e) => e.event)));
  assert.ok(!JSON.stringify(delivered.properties).includes('612345678'), 'no phone number in the event');
  await s.api('DELETE', `${ws()}/destinations/${d.body.id}`);
});
