/**
 * Inbound webhooks: a hook created through the admin API maps any JSON body (one event, or an
 * array of items) to events of its source; a wrong secret stores nothing (401), bad JSON is a
 * 400 with a stable code, and a sender's retry of the same body is deduped.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { removeDir, startServer, type TestServer } from './helpers/server.js';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

async function hookPost(id: string, secret: string, body: string): Promise<{ status: number; body: any }> {
  const r = await fetch(`${s.url}/v1/hooks/${id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hook-secret': secret }, body });
  return { status: r.status, body: await r.json() };
}

async function eventsOf(userId: string): Promise<any[]> {
  const p = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=user_id&value=${encodeURIComponent(userId)}`);
  if (p.status !== 200) return [];
  return (await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${p.body.id}/events?limit=100`)).body.events;
}

test('a hook maps an array of items to events; bad secret 401, bad JSON 400, retries deduped', async () => {
  const created = await s.api('POST', `/api/workspaces/${s.workspaceId}/sources/${s.sourceId}/hooks`, {
    mapping: { kind: 'events', items: '/data/payments', eventField: '/status', userId: '/customer/ref', timestamp: '/paid_at',
      properties: { revenue: { field: '/amount', type: 'number' }, currency: '/currency' } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { hook, secret } = created.body;
  const body = JSON.stringify({ data: { payments: [
    { status: 'Payment Succeeded', customer: { ref: 'pay-1' }, paid_at: '2026-04-01T12:00:00Z', amount: '42.5', currency: 'EUR' },
    { status: 'Payment Failed', customer: { ref: 'pay-1' }, paid_at: '2026-04-01T12:05:00Z', amount: 10, currency: 'EUR' },
    { status: 'Payment Failed', customer: {}, paid_at: '2026-04-01T12:06:00Z', amount: 1 },
  ] } });

  const bad = await hookPost(hook.id, 'wrong', body);
  assert.equal(bad.status, 401);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_HOOK_SECRET');
  const broken = await hookPost(hook.id, secret, '{"data":');
  assert.equal(broken.status, 400);
  assert.equal(broken.body.error.code, 'ENSEMBLE_ERR_BODY_INVALID_JSON');
  const unknown = await hookPost('hk_nope', secret, body);
  assert.equal(unknown.status, 404);
  await s.settle();
  assert.equal((await eventsOf('pay-1')).length, 0);

  const ok = await hookPost(hook.id, secret, body);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.accepted, 2);
  assert.deepEqual(ok.body.rejected.map((r: any) => [r.index, r.column]), [[2, '/customer/ref']]);
  const retry = await hookPost(hook.id, secret, body);
  assert.equal(retry.body.accepted, 0);
  assert.equal(retry.body.duplicates, 2);
  await s.settle();
  const events = await eventsOf('pay-1');
  assert.deepEqual(events.map((e) => e.event).sort(), ['Payment Failed', 'Payment Succeeded']);
  assert.equal(events.find((e) => e.event === 'Payment Succeeded').properties.revenue, 42.5);

  const list = await s.api('GET', `/api/workspaces/${s.workspaceId}/hooks`);
  assert.deepEqual(list.body.hooks.map((h: any) => h.id), [hook.id]);
  assert.equal(JSON.stringify(list.body).includes(secret), false);
  assert.equal((await s.api('DELETE', `/api/workspaces/${s.workspaceId}/hooks/${hook.id}`)).status, 204);
  assert.equal((await hookPost(hook.id, secret, body)).status, 404);
});
