/**
 * Retention on a real server and DuckDB file, with time moved by the caller: old events go,
 * recent ones stay; an inactive profile is erased (no suppression: the person may come back);
 * its consent proofs stay for their own period, then go; full IPs (truncation off) go after
 * 30 days while the country stays; every run is in the audit log.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

const DAY = 86_400_000;
let s: TestServer;
before(async () => { s = await startServer({ collect: { truncateIp: false } }); });
after(async () => { await s.close(); removeDir(s.dir); });

const uid = () => randomUUID().slice(0, 8);
const ws = () => `/api/workspaces/${s.workspaceId}`;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

async function send(batch: unknown[]): Promise<void> {
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.rejected, []);
  await s.settle();
}

async function profile(userId: string): Promise<any> {
  const r = await s.api('GET', `${ws()}/profiles/lookup?type=user_id&value=${userId}`);
  return r.status === 200 ? r.body : null;
}

async function events(profileId: string): Promise<any[]> {
  return (await s.api('GET', `${ws()}/profiles/${profileId}/events?limit=100`)).body.events;
}

test('the retention periods apply per data category, as of the time the job is given', async () => {
  const [active, gone] = [`act-${uid()}`, `old-${uid()}`];
  await send([
    { type: 'track', userId: active, event: 'Ancient', timestamp: ago(500) },
    { type: 'track', userId: active, event: 'Older visit', timestamp: ago(45), context: { ip: '203.0.113.77' } },
    { type: 'track', userId: active, event: 'Recent', timestamp: ago(5), context: { ip: '203.0.113.78' } },
    { type: 'identify', userId: gone, traits: { email: `${gone}@example.com` }, timestamp: ago(4 * 365), context: { consent: { categoryPreferences: { email_marketing: true } } } },
  ]);
  const a = await profile(active);
  const g = await profile(gone);
  assert.ok(a && g);
  assert.equal((await events(a.id)).length, 3);

  const run = await s.api('POST', `${ws()}/privacy/retention/run`);
  assert.equal(run.status, 200, JSON.stringify(run.body));
  assert.equal(run.body.profiles, 1, 'the profile inactive for over 3 years');
  assert.equal(run.body.events, 1, 'the 500-day-old event (the inactive profile\'s went with it)');
  assert.equal(run.body.rawIps, 1, 'the 45-day-old full IP');

  const left = await events(a.id);
  assert.deepEqual(left.map((e) => e.event).sort(), ['Older visit', 'Recent']);
  const older = left.find((e) => e.event === 'Older visit');
  assert.equal(older.context.ip, undefined, 'the full IP is gone after 30 days');
  assert.equal(left.find((e) => e.event === 'Recent').context.ip, '203.0.113.78', 'a recent IP stays');
  assert.equal(await profile(gone), null, 'the inactive profile is erased');

  // Its consent proof stays for its own period (5 years), then goes.
  const later = await s.ensemble.retention.run(s.workspaceId, Date.now() + 6 * 365 * DAY);
  assert.equal(later.consentProofs, 1);
  // The person may come back (no suppression after retention).
  await send([{ type: 'identify', userId: gone, traits: { plan: 'new' } }]);
  assert.ok(await profile(gone));

  const audit = await s.api('GET', `${ws()}/audit?limit=1000`);
  const runs = audit.body.entries.filter((e: any) => e.action === 'privacy.retention');
  assert.equal(runs.length, 2);
  assert.equal(runs[0].detail.profiles, 1);
  assert.equal((await s.api('GET', `${ws()}/audit/verify`)).body.ok, true);
});

test('the retention periods are per workspace and validated', async () => {
  const bad = await s.api('PUT', `${ws()}/privacy/retention`, { eventsDays: 0, rawIpDays: 30, inactiveProfileDays: 1000, consentProofDays: 1825, anonymousCountsDays: 100 });
  assert.equal(bad.status, 400);
  const policy = { eventsDays: 30, rawIpDays: 7, inactiveProfileDays: 365, consentProofDays: 1825, anonymousCountsDays: 90 };
  assert.equal((await s.api('PUT', `${ws()}/privacy/retention`, policy)).status, 200);
  assert.deepEqual((await s.api('GET', `${ws()}/privacy/retention`)).body, policy);
  const user = `short-${uid()}`;
  await send([{ type: 'track', userId: user, event: 'Last month', timestamp: ago(40) }, { type: 'track', userId: user, event: 'Now' }]);
  const run = await s.api('POST', `${ws()}/privacy/retention/run`);
  assert.ok(run.body.events >= 1);
  const p = await profile(user);
  assert.deepEqual((await events(p.id)).map((e) => e.event), ['Now']);
});
