/**
 * Roles enforced on the server, through real console sessions (cookie + CSRF token): a marketer
 * is refused every privacy and audit route and reads profiles with identifiers masked, a DPO sees
 * them in clear and runs a rights request, a viewer cannot write, an analyst builds segments but
 * not journeys or destinations; and every action is in the audit log under the user's id and
 * role, never their email.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';
import { asSession, sessionsPerRole, type Session } from './helpers/auth.js';
import type { Role } from '../src/auth/roles.js';

let s: TestServer;
let as: Record<Role, Session>;
const ws = () => `/api/workspaces/${s.workspaceId}`;
const EMAIL = `jane.${randomUUID().slice(0, 8)}@private.example`;
let profileId = '';

before(async () => {
  s = await startServer();
  as = await sessionsPerRole(s, ['admin', 'dpo', 'marketer', 'analyst', 'viewer']);
  const r = await post(`${s.url}/v1/identify`, { userId: 'u-jane', anonymousId: 'a-jane', traits: { email: EMAIL, plan: 'gold' } }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 200);
  await s.settle();
  profileId = (await s.api('GET', `${ws()}/profiles/lookup?type=user_id&value=u-jane`)).body.id;
});
after(async () => { await s.close(); removeDir(s.dir); });

test('a marketer gets 403 on every privacy and audit route, reads and writes alike', async () => {
  const routes = s.ensemble.routes.filter((r) => /^\/api\/workspaces\/:ws\/(privacy\/|audit)/.test(r.url) && r.method !== 'HEAD');
  assert.ok(routes.length >= 25, `${routes.length} routes`);
  for (const who of ['marketer', 'analyst', 'viewer'] as const) {
    for (const r of routes) {
      const path = r.url.replace(':ws', s.workspaceId).replace(/:[A-Za-z]+/g, 'x');
      const got = await asSession(s.url, as[who], r.method, path, r.method === 'GET' || r.method === 'DELETE' ? undefined : {});
      assert.deepEqual([got.status, got.body?.error?.code], [403, 'ENSEMBLE_ERR_FORBIDDEN'], `${who} ${r.method} ${r.url}`);
    }
  }
  // The DPO and the admin are let through (the register is a plain read).
  assert.equal((await asSession(s.url, as.dpo, 'GET', `${ws()}/privacy/register`)).status, 200);
  assert.equal((await asSession(s.url, as.admin, 'GET', `${ws()}/audit/verify`)).status, 200);
});

test('a marketer reads profiles with personal identifiers masked; a DPO reads them in clear', async () => {
  const m = await asSession(s.url, as.marketer, 'GET', `${ws()}/profiles/${profileId}`);
  assert.equal(m.status, 200);
  assert.equal(m.body.traits.email, null);
  assert.equal(m.body.traits.plan, 'gold');
  assert.equal(m.body.identifiers.find((i: { type: string }) => i.type === 'email').value, null);
  assert.ok(!JSON.stringify(m.body).includes(EMAIL), 'the email is nowhere in the marketer\'s answer');
  const events = await asSession(s.url, as.marketer, 'GET', `${ws()}/profiles/${profileId}/events`);
  assert.ok(!JSON.stringify(events.body).includes(EMAIL));
  const d = await asSession(s.url, as.dpo, 'GET', `${ws()}/profiles/${profileId}`);
  assert.equal(d.body.traits.email, EMAIL);
  assert.equal(d.body.identifiers.find((i: { type: string }) => i.type === 'email').value, EMAIL);
  // Looking someone up by email works for a marketer (a search), but the answer stays masked.
  const found = await asSession(s.url, as.marketer, 'GET', `${ws()}/profiles/lookup?type=email&value=${encodeURIComponent(EMAIL)}`);
  assert.deepEqual([found.status, found.body.id, found.body.traits.email], [200, profileId, null]);
});

test('a DPO runs an access request; a marketer cannot, nor download a bundle', async () => {
  const body = { type: 'access', identifier: { type: 'email', value: EMAIL } };
  assert.equal((await asSession(s.url, as.marketer, 'POST', `${ws()}/privacy/requests`, body)).status, 403);
  const r = await asSession(s.url, as.dpo, 'POST', `${ws()}/privacy/requests`, body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const bundle = await asSession(s.url, as.marketer, 'GET', `${ws()}/privacy/requests/${r.body.id}/bundle`);
  assert.equal(bundle.status, 403);
});

test('a viewer reads but cannot write; an analyst builds segments but not journeys or destinations', async () => {
  const seg = { name: 'Gold', definition: { kind: 'trait', trait: 'plan', op: 'eq', value: 'gold' } };
  assert.equal((await asSession(s.url, as.viewer, 'GET', `${ws()}/segments`)).status, 200);
  for (const [method, path, body] of [['POST', `${ws()}/segments`, seg], ['POST', `${ws()}/sources`, { name: 'x', kind: 'website' }], ['POST', '/api/workspaces', { name: 'x' }]] as const) {
    const got = await asSession(s.url, as.viewer, method, path, body);
    assert.deepEqual([got.status, got.body.error.code], [403, 'ENSEMBLE_ERR_FORBIDDEN'], `viewer ${method} ${path}`);
  }
  const created = await asSession(s.url, as.analyst, 'POST', `${ws()}/segments`, seg);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal((await asSession(s.url, as.analyst, 'POST', `${ws()}/journeys`, {})).status, 403);
  assert.equal((await asSession(s.url, as.analyst, 'POST', `${ws()}/destinations`, {})).status, 403);
  assert.equal((await asSession(s.url, as.analyst, 'PUT', `${ws()}/pressure-policy`, {})).status, 403);
  // A marketer may edit journeys and destinations (the call reaches validation: 400, not 403).
  assert.equal((await asSession(s.url, as.marketer, 'POST', `${ws()}/destinations`, {})).status, 400);
  // Only admin and dpo approve special-category segments (this one is not one: 409, not 403).
  assert.equal((await asSession(s.url, as.marketer, 'POST', `${ws()}/segments/${created.body.id}/approve`, {})).status, 403);
  assert.notEqual((await asSession(s.url, as.dpo, 'POST', `${ws()}/segments/${created.body.id}/approve`, {})).status, 403);
  // Users and API keys are the admin's.
  assert.equal((await asSession(s.url, as.dpo, 'GET', '/api/users')).status, 403);
  assert.equal((await asSession(s.url, as.admin, 'GET', '/api/users')).status, 200);
  // The permissions the console is told match what the server does.
  assert.ok(as.analyst.permissions.includes('segments.write') && !as.analyst.permissions.includes('journeys.write'));
});

test('every action is in the audit log with the user id and role, never an email', async () => {
  const seg = { name: 'Audited', definition: { kind: 'trait', trait: 'plan', op: 'eq', value: 'gold' } };
  const made = await asSession(s.url, as.marketer, 'POST', `${ws()}/segments`, seg);
  assert.equal(made.status, 201);
  await asSession(s.url, as.marketer, 'GET', `${ws()}/privacy/register`);
  await asSession(s.url, as.dpo, 'GET', `${ws()}/profiles/${profileId}`);
  await s.ensemble.audit.flush();
  const log = (await s.api('GET', `${ws()}/audit?limit=1000`)).body.entries as Array<{ actor: string; action: string; detail: any }>;
  const by = (role: Role, action: string) => log.filter((e) => e.actor === `user:${as[role].user.id}` && e.action === action);
  const [create] = by('marketer', 'POST /api/workspaces/:ws/segments');
  assert.equal(create?.detail.role, 'marketer');
  assert.equal(create?.detail.createdId, made.body.id);
  const [refused] = by('marketer', 'GET /api/workspaces/:ws/privacy/register');
  assert.deepEqual([refused?.detail.status, refused?.detail.role], [403, 'marketer'], 'a refusal is audited too');
  const [read] = by('dpo', 'GET /api/workspaces/:ws/profiles/:profileId');
  assert.deepEqual([read?.detail.role, read?.detail.personalData, read?.detail.inClear], ['dpo', true, true]);
  // Logins are on the system chain (no workspace), under the user's id.
  const system = (await s.api('GET', '/api/workspaces/*/audit?limit=1000')).body.entries as Array<{ actor: string; action: string; detail: any }>;
  const logins = system.filter((e) => e.action === 'POST /api/auth/login' && e.detail.status === 200);
  assert.ok(logins.some((e) => e.actor === `user:${as.dpo.user.id}` && e.detail.role === 'dpo'), JSON.stringify(logins.slice(0, 2)));
  // No user email and no identifier in clear anywhere in the chain.
  const text = JSON.stringify([...log, ...system]);
  for (const role of Object.keys(as) as Role[]) assert.ok(!text.includes(as[role].user.email), `${role}'s email is in the audit log`);
  assert.ok(!text.includes(EMAIL));
});
