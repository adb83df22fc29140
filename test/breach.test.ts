/**
 * Breach support end to end on a real server: a burst of refused tokens and an export of
 * profiles become one security event each (row, metric, log line, audit entry), a breach built on
 * them gets its 72-hour deadline and estimated numbers, the draft notification says what art.
 * 33(3) asks for, escaped; then the deadline (a fake clock, on the service and the monitor
 * directly) and the status rules.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Database } from '../src/storage/duckdb/database.js';
import { DuckDbBreachStore } from '../src/storage/duckdb/breach-store.js';
import { BreachService, breachView, NOTIFY_WITHIN_MS } from '../src/privacy/breaches.js';
import { draftNotification, renderNotificationMarkdown } from '../src/privacy/breach-notification.js';
import { SecurityMonitor, MAX_TRACKED_ACTORS, type SecurityEvent } from '../src/privacy/security-monitor.js';
import { ControllerSettings } from '../src/privacy/controller-settings.js';
import { memoryConfigStore } from '../src/storage/memory/config-store.js';
import type { AuditInput } from '../src/privacy/audit-log.js';
import { createMetrics } from '../src/platform/metrics.js';
import { createLogger } from '../src/platform/logger.js';
import { parseConfig } from '../src/platform/config.js';
import { ADMIN_TOKEN, basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

const HOUR = 3_600_000;
let s: TestServer;
// A low export threshold, so a test can cross it with a handful of reads.
before(async () => { s = await startServer({ security: { exportReadThreshold: 10 } }); });
after(async () => { await s.close(); removeDir(s.dir); });

const ws = () => `/api/workspaces/${s.workspaceId}`;
const uid = () => randomUUID().slice(0, 8);

async function refused(path: string): Promise<number> {
  const r = await fetch(s.url + path, { headers: { authorization: 'Bearer not-the-token-guess-123456' } });
  await r.text();
  return r.status;
}

async function metric(name: string, kind: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{kind="${kind}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function events(chain: string): Promise<any[]> {
  const r = await s.api('GET', `/api/workspaces/${chain}/privacy/security-events`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.events;
}

let authEvent: any;
let exportEvent: any;
const emails: string[] = [];

test('25 refused tokens in a burst are one auth-failure security event, with a metric, a log line and an audit entry', async () => {
  const statuses = await Promise.all(Array.from({ length: 25 }, (_, i) => refused(i % 2 ? '/api/workspaces' : `${ws()}/profiles/lookup?type=email&value=x`)));
  assert.deepEqual(new Set(statuses), new Set([401]));
  const spikes = (await events('*')).filter((e) => e.kind === 'auth-failure-spike');
  assert.equal(spikes.length, 1, 'once per window, not once per failure');
  authEvent = spikes[0];
  assert.equal(authEvent.workspaceId, '*');
  assert.ok(authEvent.detail.count >= 20 && authEvent.detail.count <= 25, `count ${authEvent.detail.count}`);
  assert.equal(authEvent.detail.threshold, 20);
  assert.equal(authEvent.detail.windowSeconds, 60);
  assert.equal(await metric('ensemble_security_events_total', 'auth-failure-spike'), 1);

  const line = s.logs.find((l) => l.includes('security event detected'));
  assert.ok(line, 'a warning is logged');
  assert.ok(line.includes(authEvent.id));
  assert.ok(!line.includes('not-the-token'), 'nothing the caller sent is logged');

  await s.ensemble.audit.flush();
  const chain = await s.ensemble.audit.list('*', { limit: 1000 });
  const entries = chain.filter((e) => e.action === 'security.auth-failure-spike');
  assert.equal(entries.length, 1);
  assert.equal(entries[0]?.actor, 'system');
  assert.equal((entries[0]?.detail as any).eventId, authEvent.id);
  assert.ok((await s.ensemble.audit.verify('*')).ok);
});

test('reading profiles above the configured export threshold is one export event counting the distinct profiles, never their ids', async () => {
  const batch: unknown[] = [];
  for (let i = 0; i < 8; i++) {
    const email = `exp${uid()}@example.com`;
    emails.push(email);
    batch.push({ type: 'identify', userId: `u-${uid()}`, traits: { email } });
  }
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 200);
  await s.settle();
  const ids = [...s.ensemble.memory.profiles.values()].filter((p) => p.workspaceId === s.workspaceId && p.mergedInto === null).map((p) => p.id);
  assert.equal(ids.length, 8);

  // 16 profile reads (each profile twice) and one lookup: the threshold (10) is crossed at the 11th.
  for (const id of [...ids, ...ids]) assert.equal((await s.api('GET', `${ws()}/profiles/${id}`)).status, 200);
  assert.equal((await s.api('GET', `${ws()}/profiles/lookup?type=email&value=${encodeURIComponent(emails[0] as string)}`)).status, 200);

  const found = (await events(s.workspaceId)).filter((e) => e.kind === 'export-volume');
  assert.equal(found.length, 1);
  exportEvent = found[0];
  assert.equal(exportEvent.detail.actor, 'admin');
  assert.equal(exportEvent.detail.reads, 17);
  assert.equal(exportEvent.detail.distinctProfiles, 8);
  assert.equal(exportEvent.detail.byKind.profile, 16);
  assert.equal(exportEvent.detail.byKind.lookup, 1);
  assert.equal(exportEvent.detail.ongoing, true);
  assert.equal(await metric('ensemble_security_events_total', 'export-volume'), 1);
  const stored = JSON.stringify(exportEvent);
  for (const id of ids) assert.ok(!stored.includes(id), 'no profile id in the event');
  for (const line of s.logs.filter((l) => l.includes('security event detected'))) {
    for (const e of emails) assert.ok(!line.includes(e));
    for (const id of ids) assert.ok(!line.includes(id));
  }
  const audited = (await s.ensemble.audit.list(s.workspaceId, { limit: 1000 })).filter((e) => e.action === 'security.export-volume');
  assert.equal(audited.length, 1);
  assert.equal(audited[0]?.actor, 'system');
});

test('a breach from those events: deadline 72 h after awareness, estimated numbers, and a draft notification with every art. 33(3) point', async () => {
  assert.ok(authEvent && exportEvent, 'the earlier tests made the events');
  const put = await s.api('PUT', `${ws()}/privacy/controller`, {
    controllerName: 'Acme SAS', controllerContact: 'privacy@acme.example', dpoName: 'Dana Protect', dpoContact: 'dpo@acme.example',
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));

  const before = Date.now();
  const created = await s.api('POST', `${ws()}/privacy/breaches`, {
    nature: 'Export of <b>profiles</b> with a leaked *admin* token | [link](http://x)',
    categories: ['contact', 'behaviour'], dataSubjects: ['customers'],
    measures: 'Token rotated; reader access reviewed.',
    securityEventIds: [authEvent.id, exportEvent.id],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const b = created.body;
  assert.equal(b.status, 'open');
  const awareAt = Date.parse(b.awareAt);
  assert.ok(awareAt >= before - 5 && awareAt <= Date.now());
  assert.equal(Date.parse(b.notifyBy), awareAt + 72 * HOUR);
  assert.ok(b.hoursLeft > 71.9 && b.hoursLeft <= 72, `hoursLeft ${b.hoursLeft}`);
  assert.equal(b.overdue, false);
  assert.ok(Date.parse(b.detectedAt) <= Date.parse(authEvent.detectedAt), 'detected when the first event was');
  assert.equal(b.approxPeople, 9, '8 distinct profiles and 1 lookup');
  assert.equal(b.peopleEstimated, true);
  assert.equal(b.approxRecords, 17);
  assert.equal(b.recordsEstimated, true);

  const one = await s.api('GET', `${ws()}/privacy/breaches/${b.id}`);
  assert.equal(one.status, 200);
  assert.equal(one.body.id, b.id);
  const list = await s.api('GET', `${ws()}/privacy/breaches`);
  assert.ok(list.body.breaches.some((x: any) => x.id === b.id));

  const json = await s.api('GET', `${ws()}/privacy/breaches/${b.id}/notification`);
  assert.equal(json.status, 200);
  const d = json.body;
  assert.match(d.nature.description, /leaked \*admin\* token/);
  assert.deepEqual(d.nature.dataCategories, ['Contact details', 'Behaviour (pages and screens viewed, actions, events)']);
  assert.deepEqual(d.nature.dataSubjects, ['Customers']);
  assert.equal(d.nature.approxPeople.value, 9);
  assert.equal(d.nature.approxPeople.estimated, true);
  // Only the export event says anything about people; the auth-failure spike is context.
  assert.equal(d.nature.approxPeople.text, `About 9 people (estimate from security event ${exportEvent.id}: distinct profiles and access bundles read, each lookup counted as one person). To confirm.`);
  assert.match(d.nature.approxRecords.text, /About 17 records \(estimate/);
  assert.equal(d.contact.dpoContact, 'dpo@acme.example');
  assert.match(d.contact.text, /Dana Protect, dpo@acme\.example/);
  assert.equal(d.consequences.toComplete, true);
  assert.match(d.consequences.text, /^To complete/);
  assert.equal(d.measures, 'Token rotated; reader access reviewed.');
  assert.equal(d.informingPeople.highRisk, null);
  assert.match(d.informingPeople.text, /art\. 34/);
  assert.equal(d.delay.required, false);
  assert.equal(d.securityEvents.length, 2);
  assert.ok(d.toComplete.some((t: string) => /consequences/.test(t)));

  const res = await fetch(`${s.url}${ws()}/privacy/breaches/${b.id}/notification?format=markdown`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/markdown/);
  const md = await res.text();
  assert.match(md, /^# Notification of a personal data breach/);
  assert.ok(md.includes('Export of \\<b\\>profiles\\</b\\> with a leaked \\*admin\\* token \\| \\[link\\](http://x)'), 'typed text is escaped');
  assert.ok(!md.includes('<b>'));
  for (const want of ['(a) Nature of the breach', 'Contact details', 'About 9 people', 'About 17 records', 'dpo@acme.example', '(c) Likely consequences', 'Token rotated; reader access reviewed.', 'art. 34']) {
    assert.ok(md.includes(want), `markdown has ${want}`);
  }

  const notified = await s.api('PATCH', `${ws()}/privacy/breaches/${b.id}`, { notifiedAt: new Date().toISOString(), consequences: 'Phishing with the contact details.', note: 'Filed with the authority, ref 42.' });
  assert.equal(notified.status, 200, JSON.stringify(notified.body));
  assert.equal(notified.body.status, 'notified');
  assert.equal(notified.body.hoursLeft, null);
  assert.equal(notified.body.overdue, false);
  assert.equal(notified.body.notifiedLate, false);
  assert.deepEqual(notified.body.history.at(-1).changed, ['consequences', 'notifiedAt']);
  const again = await s.api('PATCH', `${ws()}/privacy/breaches/${b.id}`, { notifiedAt: new Date().toISOString() });
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'ENSEMBLE_ERR_BREACH_STATUS');
  const closed = await s.api('PATCH', `${ws()}/privacy/breaches/${b.id}`, { status: 'closed' });
  assert.equal(closed.status, 200);
  assert.equal(closed.body.status, 'closed');
  const final = await s.api('PATCH', `${ws()}/privacy/breaches/${b.id}`, { measures: 'More.' });
  assert.equal(final.status, 409);
  assert.equal(final.body.error.code, 'ENSEMBLE_ERR_BREACH_STATUS');

  const audited = (await s.ensemble.audit.list(s.workspaceId, { limit: 1000 })).filter((e) => e.action === 'POST /api/workspaces/:ws/privacy/breaches');
  assert.equal((audited.at(-1)?.detail as any).createdId, b.id);
});

test('a breach the controller became aware of over 72 hours ago is overdue, and its draft asks for the reasons of the delay', async () => {
  const r = await s.api('POST', `${ws()}/privacy/breaches`, {
    nature: 'Laptop with an export stolen.', awareAt: new Date(Date.now() - 73 * HOUR).toISOString(), categories: ['identifiers'],
    approxPeople: 120, measures: 'Remote wipe.', highRisk: true,
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.overdue, true);
  assert.ok(r.body.hoursLeft < -0.9 && r.body.hoursLeft > -1.1, `hoursLeft ${r.body.hoursLeft}`);
  assert.equal(r.body.peopleEstimated, false);
  assert.equal(r.body.approxRecords, null, 'no events, no estimate');
  const d = (await s.api('GET', `${ws()}/privacy/breaches/${r.body.id}/notification`)).body;
  assert.equal(d.deadline.overdue, true);
  assert.equal(d.delay.required, true);
  assert.match(d.delay.text, /reasons for the delay/);
  assert.match(d.nature.approxPeople.text, /^About 120 people\.$/);
  assert.match(d.nature.approxRecords.text, /^Unknown/);
  assert.match(d.informingPeople.text, /must be told without undue delay/);
  const late = await s.api('PATCH', `${ws()}/privacy/breaches/${r.body.id}`, { notifiedAt: new Date().toISOString(), delayReason: 'The theft was reported late.' });
  assert.equal(late.body.notifiedLate, true);
});

test('invalid breach records and changes are refused with their codes', async () => {
  const base = { nature: 'x', categories: ['contact'], measures: 'y' };
  const cases: Array<[unknown, number, string]> = [
    [{ ...base, categories: ['dna'] }, 400, 'ENSEMBLE_ERR_VALIDATION'],
    [{ nature: 'x', categories: ['contact'] }, 400, 'ENSEMBLE_ERR_VALIDATION'],
    [{ ...base, categories: [] }, 400, 'ENSEMBLE_ERR_VALIDATION'],
    [{ ...base, approxPeople: -1 }, 400, 'ENSEMBLE_ERR_VALIDATION'],
    [{ ...base, extra: true }, 400, 'ENSEMBLE_ERR_VALIDATION'],
    [{ ...base, awareAt: 'yesterday' }, 400, 'ENSEMBLE_ERR_VALIDATION'],
    [{ ...base, awareAt: new Date(Date.now() + 2 * HOUR).toISOString() }, 400, 'ENSEMBLE_ERR_BREACH_INVALID'],
    [{ ...base, securityEventIds: ['sev_nope'] }, 400, 'ENSEMBLE_ERR_SECURITY_EVENT_NOT_FOUND'],
  ];
  for (const [body, status, code] of cases) {
    const r = await s.api('POST', `${ws()}/privacy/breaches`, body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.body.error.code, code, JSON.stringify(body));
  }
  assert.deepEqual((await s.api('POST', `${ws()}/privacy/breaches`, { ...base, securityEventIds: ['sev_nope'] })).body.error.details, { unknown: ['sev_nope'] });

  const missing = await s.api('GET', `${ws()}/privacy/breaches/brc_nope`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'ENSEMBLE_ERR_BREACH_NOT_FOUND');
  assert.equal((await s.api('GET', '/api/workspaces/ws_nope/privacy/breaches')).body.error.code, 'ENSEMBLE_ERR_WORKSPACE_NOT_FOUND');

  const b = (await s.api('POST', `${ws()}/privacy/breaches`, { ...base, awareAt: new Date(Date.now() - HOUR).toISOString() })).body;
  const patches: Array<[unknown, number, string]> = [
    [{}, 400, 'ENSEMBLE_ERR_VALIDATION'],
    [{ status: 'open' }, 400, 'ENSEMBLE_ERR_VALIDATION'],
    [{ notifiedAt: new Date(Date.now() - 2 * HOUR).toISOString() }, 400, 'ENSEMBLE_ERR_BREACH_INVALID'],
    [{ notifiedAt: new Date(Date.now() + 2 * HOUR).toISOString() }, 400, 'ENSEMBLE_ERR_BREACH_INVALID'],
    [{ status: 'closed' }, 400, 'ENSEMBLE_ERR_BREACH_INVALID'],
  ];
  for (const [body, status, code] of patches) {
    const r = await s.api('PATCH', `${ws()}/privacy/breaches/${b.id}`, body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.body.error.code, code, JSON.stringify(body));
  }
  const closed = await s.api('PATCH', `${ws()}/privacy/breaches/${b.id}`, { status: 'closed', note: 'Encrypted data, key not exposed: no risk (art. 33(1)).' });
  assert.equal(closed.status, 200);
  assert.equal(closed.body.status, 'closed');
  assert.equal(closed.body.notifiedAt, null);
  assert.equal((await s.api('PATCH', `${ws()}/privacy/breaches/${b.id}`, { note: 'late' })).status, 409);
});

test('the deadline follows the clock: hours left shrink, then the breach is overdue and a late notification says so', async () => {
  const db = await Database.open(':memory:');
  try {
    let now = Date.UTC(2026, 5, 1, 9, 0, 0);
    const store = await DuckDbBreachStore.open(db);
    const service = new BreachService({ store, monitor: { flush: async () => undefined }, now: () => now });
    const b = await service.create('ws_1', { nature: 'Misdirected email with a customer list.', categories: ['contact'], measures: 'Recall requested.' });
    assert.equal(b.notifyBy, now + NOTIFY_WITHIN_MS);
    assert.equal(breachView(b, now).hoursLeft, 72);
    now += 71 * HOUR;
    assert.equal(breachView(await service.get('ws_1', b.id), now).hoursLeft, 1);
    assert.equal(breachView(await service.get('ws_1', b.id), now).overdue, false);
    now += 2 * HOUR;
    const late = breachView(await service.get('ws_1', b.id), now);
    assert.equal(late.overdue, true);
    assert.equal(late.hoursLeft, -1);
    const controller = new ControllerSettings(memoryConfigStore()).get({ id: 'ws_1', name: 'Shop' });
    const draft = draftNotification({ breach: await service.get('ws_1', b.id), workspace: { id: 'ws_1', name: 'Shop' }, controller, events: [], now });
    assert.equal(draft.deadline.overdue, true);
    assert.equal(draft.delay.required, true);
    assert.match(draft.contact.text, /^Not set/, 'no DPO or contact: to complete');
    assert.ok(draft.toComplete.some((t) => /contact point/.test(t)));
    assert.match(renderNotificationMarkdown(draft), /OVERDUE by 1 hours/);
    // Typed text cannot start a block of its own (a rule, a list, a heading).
    const blocky = await service.create('ws_1', { nature: '---', categories: ['contact'], measures: '1. Rotate # keys\n- then audit' });
    const md = renderNotificationMarkdown(draftNotification({ breach: blocky, workspace: { id: 'ws_1', name: 'Shop' }, controller, events: [], now }));
    assert.ok(md.includes('\n\\---\n'), md);
    assert.ok(md.includes('\n1\\. Rotate \\# keys - then audit\n'), md);
    const notified = await service.update('ws_1', b.id, { notifiedAt: new Date(now).toISOString() });
    assert.equal(breachView(notified, now).notifiedLate, true);
    assert.equal(breachView(notified, now).overdue, false);
  } finally {
    await db.close();
  }
});

/** A monitor over in-memory sinks, on a clock the test moves. */
function monitorFixture(over: Record<string, unknown> = {}) {
  const clock = { t: Date.UTC(2026, 5, 1), now() { return this.t; } };
  const saved = new Map<string, SecurityEvent>();
  const audited: AuditInput[] = [];
  const metrics = createMetrics();
  const monitor = new SecurityMonitor({
    store: { saveEvent: async (e) => { saved.set(e.id, e); } },
    audit: { record: (i: AuditInput) => { audited.push(i); return undefined as never; } },
    metrics, logger: createLogger('silent'), clock, config: parseConfig({ security: over }).security,
  });
  const fail = (n: number, stepMs = 0) => {
    for (let i = 0; i < n; i++) {
      monitor.observe({ workspaceId: '*', actor: 'anonymous', action: 'GET /api/workspaces', status: 401, personalData: false });
      clock.t += stepMs;
    }
  };
  return { clock, saved, audited, monitor, fail };
}

test('auth failures: one event per window while an attack lasts, its final count once the window ends, none for a slow trickle', async () => {
  const f = monitorFixture();
  f.fail(25, 100);
  await f.monitor.flush();
  assert.equal(f.saved.size, 1);
  const [first] = [...f.saved.values()];
  assert.equal(first?.detail.count, 25);
  assert.equal(first?.detail.ongoing, true);
  f.clock.t += 61_000;
  await f.monitor.flush();
  assert.equal(f.saved.get(first?.id as string)?.detail.ongoing, false, 'the window ended');
  assert.equal(f.saved.size, 1, 'a quiet minute makes no new event');
  f.fail(21, 100);
  await f.monitor.flush();
  assert.equal(f.saved.size, 2, 'a new burst in a new window is a new event');
  assert.equal(f.audited.filter((a) => a.action === 'security.auth-failure-spike').length, 2);

  const slow = monitorFixture();
  slow.fail(200, 3_100); // 20 per 62 s: never more than 20 within 60 s
  await slow.monitor.flush();
  assert.equal(slow.saved.size, 0);
});

test('export volume is counted per token and workspace; reads that failed or held no personal data do not count; memory stays bounded', async () => {
  const f = monitorFixture({ exportReadThreshold: 5 });
  const read = (workspaceId: string, actor: string, subject: string, status = 200, personalData = true, action = 'GET /api/workspaces/:ws/profiles/:profileId') => {
    f.monitor.observe({ workspaceId, actor, action, status, personalData, subject });
  };
  for (let i = 0; i < 5; i++) read('ws_1', 'admin', `p${i}`);
  for (let i = 0; i < 5; i++) read('ws_2', 'admin', `p${i}`);
  for (let i = 0; i < 5; i++) read('ws_1', 'reader', `p${i}`);
  for (let i = 0; i < 20; i++) read('ws_1', 'admin', `p${i}`, 404, false);
  for (let i = 0; i < 20; i++) read('ws_1', 'admin', `p${i}`, 200, false, 'GET /api/workspaces/:ws/segments');
  for (let i = 0; i < 20; i++) read('ws_1', 'admin', `p${i}`, 201, true, 'POST /api/workspaces/:ws/privacy/requests');
  await f.monitor.flush();
  assert.equal(f.saved.size, 0, 'no counter went over 5');
  read('ws_1', 'admin', 'p0');
  await f.monitor.flush();
  const [event] = [...f.saved.values()];
  assert.equal(event?.workspaceId, 'ws_1');
  assert.equal(event?.detail.reads, 6);
  assert.equal(event?.detail.distinctProfiles, 5);

  for (let a = 0; a < MAX_TRACKED_ACTORS * 3; a++) read(`ws_${a}`, 'admin', 'p');
  assert.ok((f.monitor as unknown as { exports: Map<string, unknown> }).exports.size <= MAX_TRACKED_ACTORS);
});
