/**
 * The email connector: the destination contract over a real SMTP relay on 127.0.0.1 (received
 * messages parsed with mailparser), then what only mail has — Liquid rendering with escaping,
 * RFC 2369 / RFC 8058 unsubscribe headers, a stable Message-ID across replays, SMTP reply codes
 * mapped to outcomes, secrets kept out of logs, and HTML instrumentation for opens and clicks.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { destinationContract } from './contract/destination.contract.js';
import { startSmtpServer } from './helpers/smtp-server.js';
import { instrumentHtml, manifest, messageIdOf, type EmailConfigT } from '../src/activate/email/index.js';
import { createSmtpSender, smtpOutcome } from '../src/activate/smtp.js';
import { renderTemplate, validateTemplate } from '../src/activate/templates.js';
import { messageLinks, verifyLink } from '../src/activate/message-links.js';
import type { DeliveryItem, DeliveryOutcome, DestinationContext, MessageItem } from '../src/protocol/destination.js';

const USER = 'relay-user';
const PASSWORD = 'relay-pass-S3cr3t-0123';
const LINK_KEY = Buffer.from('email-test-link-key-0123456789ab');
const BASE = 'https://cdp.example.com';

const relay = await startSmtpServer({ user: USER, password: PASSWORD });
const sender = createSmtpSender();
/** Every log line and outcome of every test, checked for secrets at the end. */
const said: string[] = [];
after(async () => {
  sender.close();
  await relay.close();
});

const config = (over: Partial<EmailConfigT> = {}): EmailConfigT => ({
  host: relay.host, port: relay.port, secure: false, user: USER, password: PASSWORD,
  from: 'Ensemble News <news@example.com>', replyTo: 'help@example.com', ...over,
});

const TEMPLATE = {
  subject: 'Hello {{ traits.first_name | default: "there" }}',
  html: '<html><body><h1>Hi {{ traits.first_name }}</h1><p>Your plan: {{ traits.plan }}</p>'
    + '<a href="https://shop.example.com/sale?utm=mail&amp;x=1">Sale</a> <a href="{{ links.unsubscribe }}">Unsubscribe</a></body></html>',
  text: 'Hi {{ traits.first_name }}, your plan: {{ traits.plan }}. Unsubscribe: {{ links.unsubscribe }}',
};

function message(key: string, profileId: string, emails: string[], traits: Record<string, unknown>): MessageItem {
  const links = messageLinks(BASE, LINK_KEY, { workspaceId: 'ws_contract', destinationId: 'dst_contract', profileId, messageKey: key });
  const content = renderTemplate(TEMPLATE, { traits, profile: { id: profileId }, links: { unsubscribe: links.unsubscribe, open: links.open } });
  content.html = instrumentHtml(content.html!, links);
  return { kind: 'message', key, profileId, identifiers: manifest.identify({ email: emails }, config()), content, traits, links };
}

const items = (): DeliveryItem[] => [
  message('dst_contract:m:1', 'prf_a', ['ana@example.com'], { first_name: 'Ana', plan: 'pro' }),
  message('dst_contract:m:2', 'prf_b', ['bob@example.org'], { first_name: 'Bob', plan: '<script>alert(1)</script>' }),
];

destinationContract({
  manifest,
  config: () => config(),
  items,
  // No HTTP requests: the SMTP relay checks the protocol, the tests below check the messages.
  validate: () => null,
  idempotency: 'natural',
  smtp: (options, msg) => sender.send(options, msg),
});

async function send(batch: readonly DeliveryItem[], cfg: EmailConfigT = config()): Promise<{ outcomes: DeliveryOutcome[]; logs: string[] }> {
  const logs: string[] = [];
  const line = (level: string) => (fields: Record<string, unknown>, msg: string) => { logs.push(`${level} ${msg} ${JSON.stringify(fields)}`); };
  const ctx: DestinationContext<EmailConfigT> = {
    workspaceId: 'ws_contract', destinationId: 'dst_contract', config: cfg,
    fetch: async () => { throw new Error('the email connector makes no HTTP requests'); },
    smtp: (options, msg) => sender.send(options, msg),
    log: { info: line('info'), warn: line('warn'), error: line('error') },
    now: () => Date.now(),
    store: { get: async () => null, set: async () => undefined },
  };
  const outcomes = await manifest.send(batch, ctx);
  said.push(JSON.stringify(outcomes), ...logs);
  assert.equal(outcomes.length, batch.length, 'one outcome per item');
  return { outcomes, logs };
}

const received = (key: string) => relay.messages.filter((m) => m.headers['x-ensemble-message'] === key);

test('email: the message arrives rendered, traits escaped in HTML, with sender, reply-to and text part', async () => {
  const { outcomes } = await send(items());
  assert.deepEqual(outcomes.map((o) => o.kind), ['ok', 'ok']);
  const [ana] = received('dst_contract:m:1').slice(-1);
  const [bob] = received('dst_contract:m:2').slice(-1);
  assert.ok(ana && bob);
  assert.deepEqual(ana.envelope, { from: 'news@example.com', to: ['ana@example.com'] });
  assert.equal(ana.user, USER, 'the relay saw our AUTH');
  assert.equal(ana.from, '"Ensemble News" <news@example.com>');
  assert.equal(ana.to, 'ana@example.com');
  assert.equal(ana.headers['reply-to'], 'help@example.com');
  assert.equal(ana.subject, 'Hello Ana');
  assert.match(ana.html, /<h1>Hi Ana<\/h1><p>Your plan: pro<\/p>/);
  assert.match(ana.text, /^Hi Ana, your plan: pro\. Unsubscribe: https:\/\/cdp\.example\.com\/v1\/m\/u\//);
  assert.ok(!bob.html.includes('<script>'), 'a trait cannot inject markup');
  assert.match(bob.html, /Your plan: &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(bob.text, /your plan: <script>alert\(1\)<\/script>\./, 'the text part is not HTML-escaped');
});

test('email: RFC 2369 List-Unsubscribe and RFC 8058 List-Unsubscribe-Post carry the signed one-click URL', async () => {
  const batch = items();
  await send(batch);
  const m = received('dst_contract:m:1').at(-1)!;
  const links = (batch[0] as MessageItem).links;
  assert.equal(m.headers['list-unsubscribe'], `<${links.unsubscribe}>`);
  assert.equal(m.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
  assert.equal(m.headers['list-id'], '<dst_contract.ws_contract.example.com>', 'RFC 2919 list identifier');
  const token = /\/v1\/m\/u\/([^>]+)>$/.exec(m.headers['list-unsubscribe']!)![1]!;
  assert.deepEqual(verifyLink(LINK_KEY, token, 'u'), { w: 'ws_contract', d: 'dst_contract', p: 'prf_a', m: 'dst_contract:m:1', k: 'u' });

  await send(batch.slice(0, 1), config({ unsubscribeMailto: 'unsubscribe@example.com' }));
  const withMailto = received('dst_contract:m:1').at(-1)!;
  assert.equal(withMailto.headers['list-unsubscribe'], `<${links.unsubscribe}>, <mailto:unsubscribe@example.com?subject=unsubscribe>`);
});

test('email: a replay carries the same Message-ID (derived from the item key)', async () => {
  const one = items().slice(0, 1);
  await send(one);
  await send(one);
  const copies = received('dst_contract:m:1').slice(-2);
  assert.equal(copies.length, 2);
  const expected = messageIdOf('ws_contract', 'dst_contract', 'dst_contract:m:1', 'example.com');
  assert.match(expected, /^<[0-9a-f]{32}@example\.com>$/);
  assert.equal(copies[0]!.messageId, expected);
  assert.equal(copies[1]!.messageId, expected);
  assert.equal(copies[0]!.headers['x-ensemble-message'], 'dst_contract:m:1');
  const other = received('dst_contract:m:2').at(-1)!;
  assert.notEqual(other.messageId, expected);
});

test('email: 550 drops that recipient as smtp_550 (the reason never names the address), others still go', async () => {
  relay.reject('bob@example.org', 550, 'Mailbox unavailable');
  try {
    const before = relay.messages.length;
    const { outcomes, logs } = await send(items());
    assert.equal(outcomes[0]!.kind, 'ok');
    assert.deepEqual(outcomes[1], { kind: 'drop', reason: 'smtp_550' });
    assert.equal(relay.messages.length, before + 1);
    const text = JSON.stringify(outcomes) + logs.join('\n');
    assert.ok(!text.includes('bob@') && !text.includes('ana@'), 'no address in outcomes or logs');
  } finally {
    relay.accept();
  }
});

test('email: 451 and 452 are retried; 553 and 501 dropped', async () => {
  for (const [code, expected] of [[451, { kind: 'retry', reason: 'smtp_451' }], [452, { kind: 'retry', reason: 'smtp_452' }],
    [553, { kind: 'drop', reason: 'smtp_553' }], [501, { kind: 'drop', reason: 'smtp_501' }]] as const) {
    relay.reject('*', code);
    try {
      const { outcomes } = await send(items().slice(0, 1));
      assert.deepEqual(outcomes, [expected], String(code));
    } finally {
      relay.accept();
    }
  }
});

test('email: refused credentials make every item dead (smtp_auth_535) and stop the batch; the password is never said', async () => {
  const batch = Array.from({ length: 12 }, (_, i) => message(`dst_contract:m:auth${i}`, `prf_${i}`, [`p${i}@example.com`], { first_name: 'X' }));
  const failuresBefore = relay.authFailures;
  const { outcomes, logs } = await send(batch, config({ password: 'wrong-password-123' }));
  for (const o of outcomes) assert.deepEqual(o, { kind: 'dead', error: 'smtp_auth_535' });
  assert.ok(relay.authFailures - failuresBefore <= 5, `the batch stopped after the pool's first refusals (${relay.authFailures - failuresBefore})`);
  assert.equal(received('dst_contract:m:auth0').length, 0);
  assert.ok(!(JSON.stringify(outcomes) + logs.join('\n')).includes('wrong-password-123'));
});

test('email: an unreachable relay is retried for the whole batch, quickly', async () => {
  const down = await startSmtpServer();
  const port = down.port;
  await down.close();
  const started = Date.now();
  const { outcomes } = await send(items(), config({ port }));
  for (const o of outcomes) assert.deepEqual(o, { kind: 'retry', reason: 'smtp_connection' });
  assert.ok(Date.now() - started < 5000);
});

test('email: a relay without AUTH is used without credentials', async () => {
  const open = await startSmtpServer({ authOptional: true });
  try {
    const cfg = config({ port: open.port });
    delete cfg.user;
    delete cfg.password;
    assert.ok(Value.Check(manifest.configSchema, cfg));
    const { outcomes } = await send(items().slice(0, 1), cfg);
    assert.deepEqual(outcomes, [{ kind: 'ok', detail: messageIdOf('ws_contract', 'dst_contract', 'dst_contract:m:1', 'example.com') }]);
    assert.equal(open.messages.length, 1);
    assert.equal(open.messages[0]!.user, undefined);
  } finally {
    sender.close();
    await open.close();
  }
});

test('email: items without a usable address or content are dropped without sending', async () => {
  const base = items()[0] as MessageItem;
  const before = relay.messages.length;
  const { outcomes } = await send([
    { ...base, key: 'k1', identifiers: { email: [] } },
    { ...base, key: 'k2', identifiers: { email: ['a@example.com, b@example.com'] } },
    { ...base, key: 'k3', content: { html: '<p>x</p>' } },
    { ...base, key: 'k4', content: { subject: 'S' } },
    { kind: 'event', key: 'k5', profileId: 'p', identifiers: {}, event: {} },
  ]);
  assert.deepEqual(outcomes, [
    { kind: 'drop', reason: 'no_identifier' }, { kind: 'drop', reason: 'invalid_address' },
    { kind: 'drop', reason: 'no_subject' }, { kind: 'drop', reason: 'no_content' }, { kind: 'drop', reason: 'unsupported_kind' },
  ]);
  assert.equal(relay.messages.length, before);
  assert.deepEqual(manifest.identify({ email: ['ana@example.com', 'x y@example.com', 'a@b.com,c@d.com'] }, config()), { email: ['ana@example.com'] });
});

test('email: a subject cannot add headers', async () => {
  const base = items()[0] as MessageItem;
  const { outcomes } = await send([{ ...base, key: 'dst_contract:m:inj', content: { ...base.content, subject: 'Hi\r\nBcc: victim@example.net' } }]);
  assert.equal(outcomes[0]!.kind, 'ok');
  const m = received('dst_contract:m:inj').at(-1)!;
  assert.equal(m.headers.bcc, undefined);
  assert.deepEqual(m.envelope.to, ['ana@example.com']);
});

test('email: instrumentHtml adds the open pixel and routes http(s) links through the click redirect', () => {
  const links = messageLinks(BASE, LINK_KEY, { workspaceId: 'w', destinationId: 'd', profileId: 'p', messageKey: 'm' });
  const html = '<html><body><a class="b" href="https://shop.example.com/?a=1&amp;b=2">Shop</a>'
    + "<a href='http://blog.example.com/post'>Blog</a><a href=\"mailto:help@example.com\">Mail</a><a href=\"#top\">Top</a>"
    + `<a href="${links.unsubscribe}">Unsubscribe</a><a data-ensemble-notrack href="https://private.example.com/">Account</a></body></html>`;
  const out = instrumentHtml(html, links);
  const clicks = [...out.matchAll(/href="https:\/\/cdp\.example\.com\/v1\/m\/c\/([^"]+)"/g)].map((m) => verifyLink(LINK_KEY, m[1]!, 'c')?.u);
  assert.deepEqual(clicks, ['https://shop.example.com/?a=1&b=2', 'http://blog.example.com/post']);
  assert.ok(out.includes('href="mailto:help@example.com"') && out.includes('href="#top"'));
  assert.ok(out.includes(`href="${links.unsubscribe}"`), 'the unsubscribe link is not a tracked click');
  assert.ok(out.includes('href="https://private.example.com/"'), 'data-ensemble-notrack is honoured');
  assert.ok(out.includes('class="b"'), 'other attributes are kept');
  assert.match(out, new RegExp(`<img src="${links.open.replaceAll('.', '\\.')}" width="1" height="1" alt=""[^>]*/></body></html>$`));
  assert.ok(instrumentHtml('<p>no body</p>', links).endsWith('/>'), 'without </body> the pixel goes at the end');
  assert.equal([...instrumentHtml('<body></body><body></body>', links).matchAll(/<img/g)].length, 1);
});

test('email: the received HTML carries the pixel and click links that lead back to the target', async () => {
  await send(items().slice(0, 1));
  const m = received('dst_contract:m:1').at(-1)!;
  const click = /href="https:\/\/cdp\.example\.com\/v1\/m\/c\/([^"]+)"/.exec(m.html);
  assert.ok(click);
  assert.deepEqual(verifyLink(LINK_KEY, click[1]!, 'c'), { w: 'ws_contract', d: 'dst_contract', p: 'prf_a', m: 'dst_contract:m:1', k: 'c', u: 'https://shop.example.com/sale?utm=mail&x=1' });
  assert.match(m.html, /<img src="https:\/\/cdp\.example\.com\/v1\/m\/o\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.gif"/);
});

test('smtpOutcome maps reply codes and transport errors', () => {
  const e = (props: Record<string, unknown>) => Object.assign(new Error('Recipient command failed: 550 <ana@example.com> no'), props);
  const cases: Array<[Record<string, unknown>, DeliveryOutcome]> = [
    [{ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }, { kind: 'drop', reason: 'smtp_550' }],
    [{ code: 'EENVELOPE', responseCode: 553, command: 'RCPT TO' }, { kind: 'drop', reason: 'smtp_553' }],
    [{ code: 'EMESSAGE', responseCode: 554, command: 'DATA' }, { kind: 'drop', reason: 'smtp_554' }],
    [{ code: 'EENVELOPE', responseCode: 450, command: 'RCPT TO' }, { kind: 'retry', reason: 'smtp_450' }],
    [{ code: 'EENVELOPE', responseCode: 421 }, { kind: 'retry', reason: 'smtp_421' }],
    [{ code: 'EPROTOCOL', responseCode: 503 }, { kind: 'retry', reason: 'smtp_503' }],
    [{ code: 'EENVELOPE', responseCode: 553, command: 'MAIL FROM' }, { kind: 'dead', error: 'smtp_553_sender' }],
    [{ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }, { kind: 'dead', error: 'smtp_auth_535' }],
    [{ code: 'ENOAUTH' }, { kind: 'dead', error: 'smtp_auth' }],
    [{ code: 'EENVELOPE' }, { kind: 'drop', reason: 'invalid_address' }],
    [{ code: 'ETIMEDOUT' }, { kind: 'retry', reason: 'smtp_timeout' }],
    [{ code: 'ESOCKET' }, { kind: 'retry', reason: 'smtp_connection' }],
    [{ code: 'EDNS' }, { kind: 'retry', reason: 'smtp_dns' }],
    [{}, { kind: 'retry', reason: 'smtp_error' }],
  ];
  for (const [props, expected] of cases) assert.deepEqual(smtpOutcome(e(props)), expected, JSON.stringify(props));
  assert.deepEqual(smtpOutcome('not an error'), { kind: 'retry', reason: 'smtp_error' });
});

test('templates: Liquid renders traits; HTML output escaped, subject and text plain; raw opts out', () => {
  const out = renderTemplate(
    { subject: '{{ traits.name }} & co', html: '<b>{{ traits.name }}</b>{{ traits.snippet | raw }}', text: '{{ traits.name | upcase }}' },
    { traits: { name: 'A<b>', snippet: '<i>ok</i>' }, profile: { id: 'prf_1' } },
  );
  assert.deepEqual(out, { subject: 'A<b> & co', html: '<b>A&lt;b&gt;</b><i>ok</i>', text: 'A<B>' });
  assert.equal(renderTemplate({ subject: 'Hi {{ traits.missing }}!' }, { traits: {}, profile: { id: 'p' } }).subject, 'Hi !');
  assert.equal(renderTemplate({ text: '{{ profile.id }}' }, { traits: {}, profile: { id: 'prf_9' } }).text, 'prf_9');
  // Prototype properties are not reachable from a template.
  assert.equal(renderTemplate({ text: '[{{ traits.constructor }}]' }, { traits: {}, profile: { id: 'p' } }).text, '[]');
});

test('templates: validateTemplate names the field and the Liquid error; files cannot be included', () => {
  assert.deepEqual(validateTemplate(TEMPLATE), []);
  const errors = validateTemplate({ subject: 'Hi {{ traits.name | nosuchfilter }}', html: '{% if traits.x %}open', text: 'fine' });
  assert.deepEqual(errors.map((e) => e.field), ['subject', 'html']);
  assert.match(errors[0]!.message, /nosuchfilter/);
  assert.match(errors[1]!.message, /if/);
  for (const tag of ["{% include 'secrets' %}", "{% render '/etc/passwd' %}", "{% layout 'x' %}"]) {
    const [err] = validateTemplate({ html: tag });
    assert.ok(err, tag);
    assert.match(err.message, /not allowed/);
    assert.throws(() => renderTemplate({ html: tag }, { traits: {}, profile: { id: 'p' } }));
  }
  assert.deepEqual(validateTemplate({ subject: 42 }), [{ field: 'subject', message: 'must be a string' }]);
  assert.equal(validateTemplate('nope').length, 1);
});

test('email: the config schema accepts a display name and refuses header tricks', () => {
  for (const from of ['news@example.com', 'News <news@example.com>', '"News, Inc" <news@example.com>']) {
    assert.ok(Value.Check(manifest.configSchema, config({ from })), from);
  }
  for (const from of ['news', 'a@example.com, b@example.com', 'News, Inc <news@example.com>', 'x@example.com\r\nBcc: y@example.com']) {
    assert.ok(!Value.Check(manifest.configSchema, config({ from })), from);
  }
  assert.ok(!Value.Check(manifest.configSchema, { ...config(), extra: 1 }));
});

test('email: the password appears in no log line or outcome of any test', () => {
  assert.ok(said.length > 0);
  for (const s of said) assert.ok(!s.includes(PASSWORD), 'the password leaked');
});
