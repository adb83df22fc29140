/**
 * The register of processing activities: built from purposes, sources, retention, recipients and
 * security facts (pure), rendered as Markdown and HTML with every user value escaped, versioned by
 * content; and its routes on a real HTTP server over real privacy settings and catalog.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { DEFAULT_PURPOSES, DEFAULT_RETENTION, type Purpose } from '../src/protocol/privacy.js';
import { defaultDeclaration } from '../src/protocol/workspace.js';
import { buildRegister, renderHtml, renderMarkdown, type RegisterInput, type RegisterSource, type SecurityFacts } from '../src/privacy/register.js';
import { canonicalJson } from '../src/privacy/audit-log.js';
import { ControllerSettings } from '../src/privacy/controller-settings.js';
import { PrivacySettings } from '../src/privacy/privacy-settings.js';
import { Catalog } from '../src/api/catalog.js';
import { SourceRegistry } from '../src/collect/source-registry.js';
import { memoryConfigStore } from '../src/storage/memory/config-store.js';
import { registerRegisterRoutes } from '../src/api/register-routes.js';
import { registerErrorHandling } from '../src/api/error-handler.js';
import { useTypeBoxValidation } from '../src/api/validator.js';

const FACTS: SecurityFacts = { ipTruncation: true, personalIdentifierTypes: ['email', 'phone', 'loyalty_id'], auditLog: true, readerToken: false, logRetentionSeconds: 3600 };
const WORKSPACE = { id: 'ws_1', name: 'Acme shop' };

function source(id: string, name: string, kind: RegisterSource['kind'], over: Partial<RegisterSource> = {}): RegisterSource {
  return { id, name, kind, ...defaultDeclaration(kind), ...over };
}

function input(over: Partial<RegisterInput> = {}): RegisterInput {
  const controller = new ControllerSettings(memoryConfigStore()).get(WORKSPACE);
  return {
    workspace: WORKSPACE, controller, purposes: DEFAULT_PURPOSES, retention: DEFAULT_RETENTION, recipients: [], facts: FACTS,
    generatedAt: Date.UTC(2026, 5, 1),
    sources: [
      source('src_web', 'Web shop', 'website', { purposes: ['necessary', 'analytics'], consentMode: 'strict' }),
      source('src_crm', 'CRM', 'crm', { purposes: ['email_marketing'] }),
    ],
    ...over,
  };
}

const activity = (r: ReturnType<typeof buildRegister>, id: string) => {
  const a = r.activities.find((x) => x.purposeId === id);
  assert.ok(a, `activity ${id}`);
  return a;
};

test('every purpose is a processing activity with its legal basis, a custom one included', () => {
  const loyalty: Purpose = { id: 'loyalty', name: 'Loyalty programme', legalBasis: 'contract', description: 'Points and rewards.', builtIn: false };
  const r = buildRegister(input({ purposes: [...DEFAULT_PURPOSES, loyalty] }));
  assert.deepEqual(r.activities.map((a) => [a.purposeId, a.legalBasis]), [...DEFAULT_PURPOSES, loyalty].map((p) => [p.id, p.legalBasis]));
  const a = activity(r, 'loyalty');
  assert.equal(a.description, 'Points and rewards.');
  assert.equal(a.builtIn, false);
  assert.equal(a.inUse, false);
  const md = renderMarkdown(r);
  assert.match(md, /### 8\. Loyalty programme/);
  assert.match(md, /Performance of a contract \(GDPR art\. 6\(1\)\(b\)\)/);
  for (const p of DEFAULT_PURPOSES) assert.ok(md.includes(`. ${p.name}`), p.name);
});

test('a source\'s data categories and data subjects appear under the purposes it declares, and only there', () => {
  const r = buildRegister(input());
  const analytics = activity(r, 'analytics');
  assert.deepEqual(analytics.sources.map((s) => s.id), ['src_web']);
  assert.deepEqual(analytics.dataCategories, ['identifiers', 'behaviour', 'device', 'location']);
  assert.deepEqual(analytics.dataSubjects, ['website_visitors']);
  assert.deepEqual(analytics.retention.map((c) => c.category), analytics.dataCategories);
  const email = activity(r, 'email_marketing');
  assert.deepEqual(email.sources.map((s) => s.id), ['src_crm']);
  assert.deepEqual(email.dataCategories, ['identifiers', 'contact', 'transactions', 'preferences']);
  assert.deepEqual(email.dataSubjects, ['customers', 'prospects']);
  const ads = activity(r, 'advertising');
  assert.equal(ads.inUse, false);
  assert.deepEqual(ads.dataCategories, []);
  assert.deepEqual(r.security.strictSources, [{ id: 'src_web', name: 'Web shop' }]);
});

test('recipients: none when empty; outside the EEA a transfer with its safeguard; a missing safeguard is a gap', () => {
  const none = buildRegister(input());
  assert.deepEqual(none.recipients, []);
  assert.deepEqual(none.transfers, []);
  assert.match(renderMarkdown(none), /- \*\*Recipients:\*\* none/);

  const r = buildRegister(input({
    recipients: [
      { id: 'd_ads', name: 'Ad platform', kind: 'advertising', purpose: 'advertising', country: 'us', transferSafeguard: 'EU-US Data Privacy Framework (adequacy decision)' },
      { id: 'd_mail', name: 'Mailer', kind: 'email', purpose: 'email_marketing', country: 'DE' },
      { id: 'd_sms', name: 'SMS gateway', kind: 'sms', purpose: 'sms_marketing', country: 'IN', transferSafeguard: '  ' },
    ],
  }));
  assert.deepEqual(r.transfers.map((t) => [t.recipientId, t.country, t.safeguard]), [
    ['d_ads', 'US', 'EU-US Data Privacy Framework (adequacy decision)'],
    ['d_sms', 'IN', null],
  ]);
  assert.equal(r.recipients.find((x) => x.id === 'd_mail')?.inEea, true);
  assert.deepEqual(activity(r, 'advertising').transfers.map((t) => t.recipientId), ['d_ads']);
  assert.deepEqual(activity(r, 'email_marketing').recipients.map((x) => x.id), ['d_mail']);
  assert.deepEqual(activity(r, 'email_marketing').transfers, []);
  assert.ok(r.gaps.some((g) => g.includes('SMS gateway') && g.includes('no transfer safeguard')));
  const html = renderHtml(r);
  assert.ok(html.includes('<td>EU-US Data Privacy Framework (adequacy decision)</td>'));
  assert.ok(html.includes('<td>NONE RECORDED</td>'));
});

test('the version changes with a purpose\'s description or a retention period, not with generatedAt or input order', () => {
  const base = buildRegister(input());
  assert.match(base.version, /^[0-9a-f]{64}$/);
  const later = buildRegister(input({ generatedAt: Date.UTC(2027, 0, 1) }));
  assert.notEqual(later.generatedAt, base.generatedAt);
  assert.equal(later.version, base.version);
  const shuffled = input();
  assert.equal(buildRegister({ ...shuffled, sources: [...shuffled.sources].reverse() }).version, base.version);

  const redescribed = DEFAULT_PURPOSES.map((p) => (p.id === 'analytics' ? { ...p, description: 'Counting visits.' } : p));
  assert.notEqual(buildRegister(input({ purposes: redescribed })).version, base.version);
  assert.notEqual(buildRegister(input({ retention: { ...DEFAULT_RETENTION, eventsDays: 200 } })).version, base.version);
  assert.notEqual(buildRegister(input({ facts: { ...FACTS, ipTruncation: false } })).version, base.version);
});

test('retention per category and security measures follow the facts', () => {
  const on = buildRegister(input());
  const location = on.retention.byCategory.find((c) => c.category === 'location');
  assert.deepEqual(location?.rules, [{ data: 'events', days: DEFAULT_RETENTION.eventsDays }]);
  assert.deepEqual(on.retention.byCategory.find((c) => c.category === 'contact')?.rules, [
    { data: 'events', days: DEFAULT_RETENTION.eventsDays }, { data: 'profiles', days: DEFAULT_RETENTION.inactiveProfileDays },
  ]);
  const ids = on.security.measures.map((m) => m.id);
  assert.deepEqual(ids, ['encryption', 'crypto_shredding', 'keyed_lookups', 'ip_truncation', 'intake_log', 'access', 'audit_log', 'strict_consent']);
  const text = on.security.measures.map((m) => m.text).join('\n');
  assert.match(text, /AES-256-GCM/);
  assert.match(text, /HMAC-SHA256/);
  assert.match(text, /truncated \(IPv4 to \/24, IPv6 to \/48\)/);
  assert.match(text, /email, loyalty_id, phone/);
  assert.match(text, /strict consent mode \(Web shop\)/);
  assert.match(text, /1 hour old/);

  const off = buildRegister(input({ facts: { ...FACTS, ipTruncation: false, personalIdentifierTypes: [], readerToken: true } }));
  assert.deepEqual(off.retention.byCategory.find((c) => c.category === 'location')?.rules.at(-1), { data: 'raw_ip', days: DEFAULT_RETENTION.rawIpDays });
  const offText = off.security.measures.map((m) => m.text).join('\n');
  assert.match(offText, /IP truncation is off/);
  assert.match(offText, /No identifier type is marked personal/);
  assert.match(offText, /A read-only token is configured/);
  assert.ok(!off.security.measures.some((m) => m.id === 'crypto_shredding'));
});

test('the controller defaults to the workspace name and the register lists what is missing', () => {
  const r = buildRegister(input());
  assert.equal(r.controller.controllerName, 'Acme shop');
  assert.deepEqual(r.controller.missing, ['controllerName', 'controllerContact']);
  assert.equal(r.gaps.length, 2);
  const md = renderMarkdown(r);
  assert.match(md, /\*\*Controller:\*\* Acme shop \(\*\*not set: this is the workspace's name\*\*\)/);
  assert.match(md, /\*\*Contact:\*\* \*\*not set\*\*/);
});

test('HTML and Markdown escape user text: a script in a purpose description stays text', () => {
  const evil = '<script>alert("x")</script> & <img src=x onerror=alert(1)>';
  const purposes = DEFAULT_PURPOSES.map((p) => (p.id === 'analytics' ? { ...p, description: evil, name: 'A|B *bold* [l](http://e)' } : p));
  const r = buildRegister(input({ purposes, workspace: { id: 'ws_1', name: '<b>Shop</b>' } }));
  const html = renderHtml(r);
  assert.ok(!html.includes('<script>'));
  assert.ok(!html.includes('<img'));
  assert.ok(!html.includes('<b>Shop'));
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;'));
  const md = renderMarkdown(r);
  assert.ok(!/(^|[^\\])<script>/.test(md));
  assert.ok(md.includes('\\<script\\>alert("x")\\</script\\> \\& \\<img src=x onerror=alert(1)\\>'));
  assert.ok(md.includes('A\\|B \\*bold\\* \\[l\\](http://e)'));
  const multiline = buildRegister(input({ purposes: DEFAULT_PURPOSES.map((p) => (p.id === 'analytics' ? { ...p, description: 'one\n# two' } : p)) }));
  assert.ok(!/^# two/m.test(renderMarkdown(multiline)));
});

// ---------------------------------------------------------------------------------------------
// HTTP

async function startApp(): Promise<{ app: FastifyInstance; url: string; settings: PrivacySettings; catalog: Catalog; wsId: string }> {
  const store = memoryConfigStore();
  const settings = new PrivacySettings(store);
  await settings.load();
  const controller = new ControllerSettings(store);
  await controller.load();
  const catalog = new Catalog(store, new SourceRegistry(), { now: () => Date.UTC(2026, 0, 1) }, settings);
  const ws = await catalog.createWorkspace('Test shop');
  await catalog.createSource(ws.id, { name: 'Web', kind: 'website', consentMode: 'strict' });
  const app = Fastify();
  useTypeBoxValidation(app);
  registerErrorHandling(app);
  await app.register(swagger, { openapi: { info: { title: 'test', version: '0' } } });
  let now = Date.UTC(2026, 5, 1);
  registerRegisterRoutes(app, { catalog, settings, controller, recipients: () => [], facts: () => FACTS, now: () => (now += 1000) });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, settings, catalog, wsId: ws.id };
}

test('HTTP: the register in JSON, Markdown and HTML; PUT /controller changes it', async () => {
  const { app, url, settings, wsId } = await startApp();
  try {
    const base = `${url}/api/workspaces/${wsId}/privacy`;
    const json = await fetch(`${base}/register`);
    assert.equal(json.status, 200);
    assert.equal(json.headers.get('content-type'), 'application/json; charset=utf-8');
    const first = (await json.json()) as ReturnType<typeof buildRegister>;
    assert.equal(json.headers.get('etag'), `W/"${first.version}"`);
    assert.equal(first.workspace.name, 'Test shop');
    assert.equal(first.activities.length, DEFAULT_PURPOSES.length);
    assert.deepEqual(activity(first, 'analytics').sources.map((s) => s.name), ['Web']);
    assert.deepEqual(first.controller.missing, ['controllerName', 'controllerContact']);
    assert.equal(first.security.measures.length, 8);
    // The response schema drops no field: the version recomputed from the body as served matches.
    const { version: _v, generatedAt: _g, ...served } = first;
    assert.equal(createHash('sha256').update(canonicalJson(served)).digest('hex'), first.version);

    const again = (await (await fetch(`${base}/register?format=json`)).json()) as ReturnType<typeof buildRegister>;
    assert.notEqual(again.generatedAt, first.generatedAt);
    assert.equal(again.version, first.version);

    const md = await fetch(`${base}/register?format=markdown`);
    assert.equal(md.status, 200);
    assert.equal(md.headers.get('content-type'), 'text/markdown; charset=utf-8');
    const mdText = await md.text();
    assert.match(mdText, /^# Register of processing activities — Test shop\n/);
    assert.ok(mdText.includes(first.version));

    const html = await fetch(`${base}/register?format=html`);
    assert.equal(html.status, 200);
    assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(html.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(await html.text(), /^<!DOCTYPE html>[\s\S]*<h1>Register of processing activities — Test shop<\/h1>/);

    assert.equal((await fetch(`${base}/register?format=pdf`)).status, 400);
    assert.equal((await fetch(`${url}/api/workspaces/ws_nope/privacy/register`)).status, 404);

    const put = (body: unknown) => fetch(`${base}/controller`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await put({ controllerName: 'Acme SAS' })).status, 400);
    assert.equal((await put({ controllerName: 'Acme SAS', controllerContact: '   ' })).status, 400);
    const set = await put({ controllerName: ' Acme SAS ', controllerContact: 'privacy@acme.example', dpoName: 'Jane Doe', dpoContact: 'dpo@acme.example', representative: '' });
    assert.equal(set.status, 200);
    assert.deepEqual(await set.json(), {
      controllerName: 'Acme SAS', controllerAddress: null, controllerContact: 'privacy@acme.example', dpoName: 'Jane Doe', dpoContact: 'dpo@acme.example',
      representative: null, configured: true, missing: [],
    });
    assert.equal(((await (await fetch(`${base}/controller`)).json()) as { controllerName: string }).controllerName, 'Acme SAS');

    const second = (await (await fetch(`${base}/register`)).json()) as ReturnType<typeof buildRegister>;
    assert.notEqual(second.version, first.version);
    assert.equal(second.controller.controllerName, 'Acme SAS');
    assert.deepEqual(second.gaps, []);
    const mdAfter = await (await fetch(`${base}/register?format=markdown`)).text();
    assert.match(mdAfter, /\*\*Data protection officer:\*\* Jane Doe/);

    await settings.putPurpose(wsId, 'analytics', { name: 'Audience measurement', legalBasis: 'legitimate_interest', description: 'Exempted audience measurement.' });
    const third = (await (await fetch(`${base}/register`)).json()) as ReturnType<typeof buildRegister>;
    assert.notEqual(third.version, second.version);
    assert.equal(activity(third, 'analytics').legalBasis, 'legitimate_interest');

    const doc = app.swagger() as unknown as { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, unknown> }> }>> };
    assert.deepEqual(Object.keys(doc.paths['/api/workspaces/{ws}/privacy/register']?.get?.responses['200']?.content ?? {}).sort(), ['application/json', 'text/html', 'text/markdown']);
  } finally {
    await app.close();
  }
});

test('controller details survive a restart (stored as a workspace setting)', async () => {
  const store = memoryConfigStore();
  const ws = { id: 'ws_1', name: 'Shop' };
  await new ControllerSettings(store).set(ws, { controllerName: 'Acme SAS', controllerContact: 'privacy@acme.example', controllerAddress: '1 rue de la Paix, Paris' });
  const reloaded = new ControllerSettings(store);
  await reloaded.load();
  const d = reloaded.get(ws);
  assert.equal(d.controllerAddress, '1 rue de la Paix, Paris');
  assert.equal(d.configured, true);
  assert.equal(reloaded.get({ id: 'ws_2', name: 'Other' }).controllerName, 'Other');
});
