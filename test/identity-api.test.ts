/**
 * Identity resolution end to end, over HTTP on a real server and DuckDB file: the scenarios a
 * marketer meets (a family's shared computer, cross-device login, phones written every which
 * way), the workspace rules API, explain and split, and personal identifiers that are never
 * stored in clear and are shown only to callers allowed to see them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Database, all } from '../src/storage/duckdb/database.js';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

const READER = 'reader-token-0123456789abcdef';
let s: TestServer;
before(async () => { s = await startServer({ readerToken: READER }); });
after(async () => { await s.close(); removeDir(s.dir); });

async function send(batch: unknown[], server = s): Promise<void> {
  const r = await post(`${server.url}/v1/batch`, { batch }, { authorization: basic(server.writeKey) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.rejected, []);
  await server.settle();
}

async function lookup(type: string, value: string, server = s): Promise<any> {
  const r = await server.api('GET', `/api/workspaces/${server.workspaceId}/profiles/lookup?type=${type}&value=${encodeURIComponent(value)}`);
  return r.status === 200 ? r.body : null;
}

async function explain(profileId: string): Promise<any> {
  const r = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${profileId}/identity`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

const uid = () => randomUUID().slice(0, 8);

test('a shared family computer stays two people, and explain says why', async () => {
  const [cookie, dad, mom] = [`c-${uid()}`, `dad-${uid()}`, `mom-${uid()}`];
  await send([
    { type: 'page', anonymousId: cookie, name: 'Home' },
    { type: 'identify', anonymousId: cookie, userId: dad, traits: { email: `${dad}@family.example` } },
    { type: 'identify', anonymousId: cookie, userId: mom, traits: { email: `${mom}@family.example` } },
  ]);
  const d = await lookup('user_id', dad);
  const m = await lookup('user_id', mom);
  assert.ok(d && m);
  assert.notEqual(d.id, m.id, 'two user ids never share a profile');
  assert.equal((await lookup('anonymous_id', cookie)).id, d.id, 'the cookie stays with the first user');
  const why = await explain(m.id);
  const refused = why.refused.find((r: any) => r.type === 'anonymous_id');
  assert.equal(refused?.rule, 'limit:user_id', JSON.stringify(why.refused));
  assert.equal(refused.from, `anonymousId; stays with ${d.id}`);
});

test('cross-device: phone and laptop joined by a login become one profile, merged into the oldest', async () => {
  const [phone, laptop, user] = [`ph-${uid()}`, `lt-${uid()}`, `u-${uid()}`];
  await send([{ type: 'page', anonymousId: phone, name: 'Home', timestamp: '2026-03-01T10:00:00Z' }]);
  await send([{ type: 'page', anonymousId: laptop, name: 'Home', timestamp: '2026-03-02T10:00:00Z' }]);
  const before = (await lookup('anonymous_id', phone)).id;
  await send([{ type: 'identify', anonymousId: phone, userId: user, timestamp: '2026-03-03T10:00:00Z' }]);
  await send([{ type: 'track', anonymousId: laptop, userId: user, event: 'Login', timestamp: '2026-03-04T10:00:00Z' }]);
  const p = await lookup('user_id', user);
  assert.equal(p.id, before, 'the survivor is the oldest profile');
  assert.equal((await lookup('anonymous_id', laptop)).id, p.id);
  assert.equal(p.eventCount, 4);
  assert.equal(p.mergedFrom.length, 1);
  const why = await explain(p.id);
  const laptopId = why.identifiers.find((i: any) => i.type === 'anonymous_id' && i.value === laptop);
  assert.equal(laptopId.linked.rule, 'new-profile');
  assert.equal(laptopId.merges.length, 1, 'the laptop id came with a merge');
  assert.equal(laptopId.merges[0].rule, 'shared-identifier');
  assert.deepEqual(laptopId.merges[0].through.map((t: any) => t.type).sort(), ['anonymous_id', 'user_id']);
  // The merged-away id still answers, with the survivor.
  const old = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${p.mergedFrom[0]}`);
  assert.equal(old.body.id, p.id);
});

test('phones are normalised to E.164 with the workspace country, emails trimmed and lower-cased', async () => {
  const anon = `a-${uid()}`;
  const local = '06 12 34 56 78';
  await send([{ type: 'identify', anonymousId: anon, traits: { phone: local, email: '  Jane.DOE@Example.com ' } }]);
  const p = await lookup('phone', `+33 ${local.slice(1)}`);
  assert.ok(p, 'found by the international form');
  assert.equal((await lookup('email', 'jane.doe@example.com')).id, p.id);
  const phone = p.identifiers.find((i: any) => i.type === 'phone');
  assert.equal(phone.value, `+33${local.slice(1).replace(/\s/g, '')}`);
  assert.equal((await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=phone&value=not-a-phone`)).status, 404);
  assert.equal((await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=shoe_size&value=42`)).body.error.code, 'ENSEMBLE_ERR_IDENTIFIER_TYPE');
});

test('context.traits and context.externalIds link identifiers from any event type', async () => {
  const anon = `a-${uid()}`;
  const crm = `CRM-${uid()}`;
  await send([{ type: 'track', anonymousId: anon, event: 'Viewed', context: { traits: { email: `${anon}@ctx.example` }, externalIds: [{ id: crm, type: 'crm_id', collection: 'users', encoding: 'none' }] } }]);
  const p = await lookup('crm_id', crm);
  assert.ok(p);
  assert.equal((await lookup('email', `${anon}@ctx.example`)).id, p.id);
  const why = await explain(p.id);
  assert.equal(why.identifiers.find((i: any) => i.type === 'crm_id').linked.from, 'context.externalIds[0]');
});

test('identity rules are per workspace: validated with precise errors, custom types link, blocked patterns never do', async () => {
  const path = `/api/workspaces/${s.workspaceId}/identity-config`;
  const current = (await s.api('GET', path)).body;
  assert.equal(current.types.find((t: any) => t.type === 'user_id').limit, 1);
  const bad = await s.api('PUT', path, { ...current, defaultCountry: 'XX', types: [...current.types, { ...current.types[0] }, { type: 'x', priority: 9, limit: null, normaliser: 'id', personal: false, blocked: [], blockedPatterns: ['('] }] });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_IDENTITY_CONFIG_INVALID');
  const paths = bad.body.error.details.map((d: any) => d.path);
  assert.ok(paths.includes('/defaultCountry') && paths.some((p: string) => p.endsWith('/type')) && paths.some((p: string) => p.includes('/blockedPatterns/0')), JSON.stringify(bad.body.error.details));
  const custom = { type: 'member_no', priority: 2, limit: 1, normaliser: 'lowercase', personal: true, blocked: [], blockedPatterns: ['^guest-'] };
  const ok = await s.api('PUT', path, { ...current, types: [...current.types, custom] });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const [a, b] = [`a-${uid()}`, `b-${uid()}`];
  await send([
    { type: 'identify', anonymousId: a, traits: { member_no: ' M-77 ' } },
    { type: 'identify', anonymousId: b, traits: { member_no: 'm-77' } },
    { type: 'identify', anonymousId: `g1-${uid()}`, traits: { member_no: 'guest-1' } },
    { type: 'identify', anonymousId: `g2-${uid()}`, traits: { member_no: 'GUEST-1' } },
  ]);
  assert.equal((await lookup('anonymous_id', a)).id, (await lookup('anonymous_id', b)).id, 'the custom type links');
  assert.equal(await lookup('member_no', 'guest-1'), null, 'a blocked pattern never links');
  await s.api('PUT', path, current);
});

test('personal identifiers: sealed at rest, pseudonyms in stored events, clear only for the admin token', async () => {
  const email = `secret.${uid()}@private.example`;
  const anon = `a-${uid()}`;
  await send([{ type: 'identify', anonymousId: anon, userId: `u-${uid()}`, traits: { email, plan: 'gold' } }]);
  const admin = await lookup('email', email);
  assert.equal(admin.traits.email, email);
  assert.equal(admin.identifiers.find((i: any) => i.type === 'email').value, email);
  const asReader = async (path: string, method = 'GET') => {
    const r = await fetch(`${s.url}${path}`, { method, headers: { authorization: `Bearer ${READER}`, 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { body: '{"name":"x"}' }) });
    return { status: r.status, body: (await r.json()) as any };
  };
  const reader = await asReader(`/api/workspaces/${s.workspaceId}/profiles/${admin.id}`);
  assert.equal(reader.status, 200);
  assert.equal(reader.body.traits.email, null, 'a reader never sees a personal trait');
  assert.equal(reader.body.traits.plan, 'gold');
  assert.equal(reader.body.identifiers.find((i: any) => i.type === 'email').value, null);
  assert.equal(reader.body.identifiers.find((i: any) => i.type === 'anonymous_id').value, anon);
  assert.equal((await asReader('/api/workspaces', 'POST')).body.error.code, 'ENSEMBLE_ERR_FORBIDDEN');
  const timeline = (await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${admin.id}/events`)).body.events[0];
  assert.equal(timeline.traits.email, email, 'the admin timeline shows the clear value');
  const readerTimeline = (await asReader(`/api/workspaces/${s.workspaceId}/profiles/${admin.id}/events`)).body.events[0];
  assert.match(readerTimeline.traits.email, /^ens:email:/);
  assert.ok(!s.logs.join('').includes(email), 'never in the logs');

  // At rest: no byte of the database holds the address.
  await s.close();
  for (const f of readdirSync(s.dir).filter((f) => f.endsWith('.duckdb') || f.endsWith('.wal'))) {
    assert.ok(!readFileSync(join(s.dir, f)).includes(email), `${f} holds the email in clear`);
  }
  const db = await Database.open(join(s.dir, 'ensemble.duckdb'));
  const [row] = await all(await db.connect(), `SELECT traits::VARCHAR AS t FROM events WHERE anonymous_id = $1`, [anon]);
  await db.close();
  assert.match(String(row?.t), /"email":"ens:email:[A-Za-z0-9_-]+"/);
  // And after a restart, the sealed values open again with the same master key.
  s = await startServer({ readerToken: READER }, s.dir);
  assert.equal((await lookup('email', email)).traits.email, email);
});

test('split: the wrongly joined identifier leaves with its own events, and stays apart', async () => {
  const [a, b, user] = [`a-${uid()}`, `b-${uid()}`, `u-${uid()}`];
  const email = `${b}@split.example`;
  await send([
    { type: 'identify', anonymousId: a, userId: user, traits: { plan: 'gold' } },
    { type: 'identify', anonymousId: b, traits: { email, plan: 'free' }, timestamp: new Date(Date.now() + 1000).toISOString() },
    { type: 'track', anonymousId: b, event: 'Viewed' },
  ]);
  const beforeA = await lookup('user_id', user);
  const beforeB = await lookup('email', email);
  // A wrong join: the CRM put the user id and that email on one record.
  await send([{ type: 'identify', userId: user, traits: { email }, timestamp: new Date(Date.now() + 2000).toISOString() }]);
  const merged = await lookup('user_id', user);
  assert.equal((await lookup('email', email)).id, merged.id);
  const ct = await s.api('POST', `/api/workspaces/${s.workspaceId}/computed-traits`, { name: 'views', op: 'count', event: 'Viewed' });
  assert.equal(ct.status, 201, JSON.stringify(ct.body));
  assert.equal((await lookup('user_id', user)).computed.views, 1);
  const split = await s.api('POST', `/api/workspaces/${s.workspaceId}/profiles/${merged.id}/split`, { type: 'email', value: email });
  assert.equal(split.status, 200, JSON.stringify(split.body));
  assert.equal(split.body.profiles.length, 2);
  const afterA = await lookup('user_id', user);
  const afterB = await lookup('email', email);
  assert.equal(afterA.id, beforeA.id, 'the user keeps their profile id');
  assert.equal(afterB.id, beforeB.id, 'the other profile comes back with its old id');
  assert.equal(afterB.eventCount, 2);
  assert.equal(afterB.traits.plan, 'free');
  assert.deepEqual(afterB.identifiers.map((i: any) => i.type).sort(), ['anonymous_id', 'email']);
  assert.equal(afterB.computed.views, 1, 'computed traits follow the split');
  assert.equal(afterA.computed.views, 0);
  // The barrier holds for later events.
  await send([{ type: 'track', userId: user, event: 'Again', context: { traits: { email } } }]);
  assert.notEqual((await lookup('email', email)).id, (await lookup('user_id', user)).id);
  const bad = await s.api('POST', `/api/workspaces/${s.workspaceId}/profiles/${afterB.id}/split`, { type: 'email', value: 'nobody@else.example' });
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_IDENTIFIER_NOT_ON_PROFILE');
});

test('profiles are derived data: rebuilt from the stored events and identities when the profiles table is empty', async () => {
  const dir = s.dir;
  const user = `u-${uid()}`;
  await send([{ type: 'identify', anonymousId: `a-${uid()}`, userId: user, traits: { email: `${user}@up.example`, plan: 'pro' } }]);
  const before = await lookup('user_id', user);
  await s.close();
  const db = await Database.open(join(dir, 'ensemble.duckdb'));
  const conn = await db.connect();
  for (const t of ['profiles', 'identity_log', 'profile_merges']) await conn.run(`DELETE FROM ${t}`);
  await db.close();
  s = await startServer({ readerToken: READER }, dir);
  const after = await lookup('user_id', user);
  assert.equal(after.id, before.id, 'same profile id');
  assert.equal(after.traits.plan, 'pro');
  assert.equal(after.traits.email, `${user}@up.example`);
  assert.equal(after.eventCount, before.eventCount);
});

test('a split whose commit fails leaves no barrier behind', async () => {
  const { ProfileRebuilder } = await import('../src/identity/split.js');
  const { identityKey } = await import('../src/profiles/profile-memory.js');
  const store = { replayEvents: async () => [], commitRebuild: async () => { throw new Error('disk full'); } };
  const rebuilder = new ProfileRebuilder({ memory: s.ensemble.memory, store: store as never, identity: s.ensemble.identity, now: Date.now });
  const barrier = { workspaceId: 'ws_x', a: { type: 'email', hash: 'h'.repeat(43) }, b: { type: 'user_id', hash: 'u'.repeat(43) }, at: 0 };
  await assert.rejects(rebuilder.rebuild('ws_x', ['prof_none'], [barrier]), /disk full/);
  const keys = new Set([identityKey('ws_x', 'email', 'h'.repeat(43)), identityKey('ws_x', 'user_id', 'u'.repeat(43))]);
  assert.equal(s.ensemble.identity.barriers.violation(keys), undefined);
});
