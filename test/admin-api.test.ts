/** The admin API: auth, workspaces, sources and key rotation, validation, OpenAPI, health and metrics. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

test('every /api route needs the bearer admin token', async () => {
  for (const [method, path] of [['GET', '/api/workspaces'], ['POST', '/api/workspaces'], ['GET', `/api/workspaces/${s.workspaceId}/profiles/x`]]) {
    const none = await fetch(`${s.url}${path}`, { method });
    assert.equal(none.status, 401, `${method} ${path}`);
    assert.equal(((await none.json()) as any).error.code, 'ENSEMBLE_ERR_ADMIN_TOKEN_INVALID');
    const wrong = await fetch(`${s.url}${path}`, { method, headers: { authorization: 'Bearer not-the-token-at-all' } });
    assert.equal(wrong.status, 401);
  }
});

test('workspaces: create and list; bad input is a 400 with the schema path', async () => {
  const created = await s.api('POST', '/api/workspaces', { name: 'Maison Dupont' });
  assert.equal(created.status, 201);
  assert.match(created.body.id, /^ws_/);
  const list = await s.api('GET', '/api/workspaces');
  assert.ok(list.body.workspaces.some((w: any) => w.id === created.body.id && w.name === 'Maison Dupont'));
  for (const bad of [{}, { name: '' }, { name: 'x', extra: 1 }, { name: 42 }]) {
    const r = await s.api('POST', '/api/workspaces', bad);
    assert.deepEqual([r.status, r.body.error.code], [400, 'ENSEMBLE_ERR_VALIDATION'], JSON.stringify(bad));
  }
  const notJson = await fetch(`${s.url}/api/workspaces`, { method: 'POST', headers: { authorization: `Bearer ${'test-admin-token-0123456789'}`, 'content-type': 'application/json' }, body: '{"name":' });
  assert.equal(((await notJson.json()) as any).error.code, 'ENSEMBLE_ERR_BODY_INVALID_JSON');
});

test('sources: create with a write key, list, unknown workspace → 404', async () => {
  const ws = (await s.api('POST', '/api/workspaces', { name: 'Brand B' })).body;
  const src = await s.api('POST', `/api/workspaces/${ws.id}/sources`, { name: 'iOS app', kind: 'mobile' });
  assert.equal(src.status, 201);
  assert.match(src.body.writeKey, /^wk_[A-Za-z0-9_-]{32}$/);
  const list = await s.api('GET', `/api/workspaces/${ws.id}/sources`);
  assert.deepEqual(list.body.sources.map((x: any) => x.id), [src.body.id]);
  const missing = await s.api('POST', '/api/workspaces/ws_nope/sources', { name: 'x', kind: 'website' });
  assert.deepEqual([missing.status, missing.body.error.code], [404, 'ENSEMBLE_ERR_WORKSPACE_NOT_FOUND']);
  const badKind = await s.api('POST', `/api/workspaces/${ws.id}/sources`, { name: 'x', kind: 'carrier-pigeon' });
  assert.equal(badKind.status, 400);
});

test('key rotation: the new key works at once; the old one stops, or keeps working during a grace period', async () => {
  const ws = (await s.api('POST', '/api/workspaces', { name: 'Rotation' })).body;
  const src = (await s.api('POST', `/api/workspaces/${ws.id}/sources`, { name: 'Web', kind: 'website' })).body;
  const event = () => ({ userId: 'u1', event: 'Ping', messageId: randomUUID() });
  const hard = (await s.api('POST', `/api/workspaces/${ws.id}/sources/${src.id}/rotate-key`, {})).body;
  assert.notEqual(hard.writeKey, src.writeKey);
  assert.equal((await post(`${s.url}/v1/track`, event(), { authorization: basic(src.writeKey) })).status, 401);
  assert.equal((await post(`${s.url}/v1/track`, event(), { authorization: basic(hard.writeKey) })).status, 200);
  const soft = (await s.api('POST', `/api/workspaces/${ws.id}/sources/${src.id}/rotate-key`, { graceSeconds: 3600 })).body;
  assert.ok(Date.parse(soft.previousKeyExpiresAt) > Date.now());
  assert.equal((await post(`${s.url}/v1/track`, event(), { authorization: basic(hard.writeKey) })).status, 200, 'old key in its grace period');
  assert.equal((await post(`${s.url}/v1/track`, event(), { authorization: basic(soft.writeKey) })).status, 200);
  const other = await s.api('POST', `/api/workspaces/${s.workspaceId}/sources/${src.id}/rotate-key`, {});
  assert.deepEqual([other.status, other.body.error.code], [404, 'ENSEMBLE_ERR_SOURCE_NOT_FOUND'], 'a source is only reachable through its own workspace');
});

test('profiles: unknown identifier type → 400, unknown profile → 404, other workspace → 404', async () => {
  const bad = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=shoe_size&value=42`);
  assert.deepEqual([bad.status, bad.body.error.code], [400, 'ENSEMBLE_ERR_IDENTIFIER_TYPE']);
  const none = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=user_id&value=nobody`);
  assert.deepEqual([none.status, none.body.error.code], [404, 'ENSEMBLE_ERR_PROFILE_NOT_FOUND']);
  await post(`${s.url}/v1/track`, { userId: 'isolated-user', event: 'Ping' }, { authorization: basic(s.writeKey) });
  await s.settle();
  const p = (await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=user_id&value=isolated-user`)).body;
  const ws2 = (await s.api('POST', '/api/workspaces', { name: 'Elsewhere' })).body;
  const cross = await s.api('GET', `/api/workspaces/${ws2.id}/profiles/${p.id}`);
  assert.equal(cross.status, 404, 'a profile is invisible from another workspace');
});

test('the OpenAPI document is generated from the route schemas', async () => {
  const res = await fetch(`${s.url}/api/openapi.json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as any;
  assert.match(doc.openapi, /^3\./);
  for (const path of ['/api/workspaces', '/api/workspaces/{ws}/sources', '/api/workspaces/{ws}/sources/{sourceId}/rotate-key',
    '/api/workspaces/{ws}/profiles/lookup', '/api/workspaces/{ws}/profiles/{profileId}', '/api/workspaces/{ws}/profiles/{profileId}/events']) {
    assert.ok(doc.paths[path], `${path} is in the OpenAPI document`);
  }
  assert.deepEqual(doc.paths['/api/workspaces'].post.requestBody.content['application/json'].schema.required, ['name']);
});

test('health and Prometheus metrics', async () => {
  const h = (await (await fetch(`${s.url}/healthz`)).json()) as any;
  assert.equal(h.status, 'ok');
  await post(`${s.url}/v1/batch`, { batch: [{ userId: 'm1', type: 'track', event: 'A' }, { type: 'track' }] }, { authorization: basic(s.writeKey) });
  const text = await (await fetch(`${s.url}/metrics`)).text();
  for (const name of ['ensemble_events_received_total', 'ensemble_events_accepted_total', 'ensemble_events_duplicate_total', 'ensemble_log_lag_events', 'ensemble_log_commit_seconds_bucket']) {
    assert.match(text, new RegExp(`^${name}`, 'm'), name);
  }
  assert.match(text, /^ensemble_events_rejected_total\{code="ENSEMBLE_ERR_EVENT_NO_IDENTITY"\} [1-9]/m);
});
