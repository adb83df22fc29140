/**
 * The route policy covers the whole API: every /api route registered on a real server has an
 * entry (so a route added later cannot be forgotten: this test fails until it gets one), refuses
 * a caller without credentials, and lets each role do exactly what the role matrix says — an API
 * key of each role, the admin token (admin) and the reader token (viewer) are tried on every
 * route and method, and the refusals are the policy's 403, on the server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, removeDir, startServer, type TestServer } from './helpers/server.js';
import { entryFor, permissionFor, ROUTE_POLICY } from '../src/auth/route-policy.js';
import { can, MATRIX, ROLES, type Role } from '../src/auth/roles.js';

const READER = 'route-policy-reader-token-0123456789';
let s: TestServer;
before(async () => { s = await startServer({ readerToken: READER }); });
after(async () => { await s.close(); removeDir(s.dir); });

const apiRoutes = () => s.ensemble.routes.filter((r) => r.url.startsWith('/api') && r.method !== 'HEAD' && r.method !== 'OPTIONS');

/** A concrete path for a pattern: the test workspace and source, made-up ids elsewhere. */
function pathOf(pattern: string): string {
  return pattern.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => (name === 'ws' ? s.workspaceId : name === 'sourceId' ? s.sourceId : 'nope'));
}

/** Status and error of one call; a streaming answer (the debugger) is closed once its head arrived. */
async function call(method: string, pattern: string, headers: Record<string, string>): Promise<{ status: number; code?: string; details?: any }> {
  const hasBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
  const res = await fetch(s.url + pathOf(pattern), { method, headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) }, ...(hasBody ? { body: '{}' } : {}) });
  if (!(res.headers.get('content-type') ?? '').includes('application/json')) {
    await res.body?.cancel();
    return { status: res.status };
  }
  const body = await res.json().catch(() => null) as { error?: { code: string; details?: unknown } } | null;
  return { status: res.status, ...(body?.error ? { code: body.error.code, details: body.error.details } : {}) };
}

test('every /api route registered on the server has an entry in the route policy', () => {
  const routes = apiRoutes();
  assert.ok(routes.length > 100, `${routes.length} routes found`);
  const missing = routes.filter((r) => entryFor(r.method, r.url) === undefined).map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(missing, [], 'add these to src/auth/route-policy.ts');
  // Entries name permissions of the matrix only.
  for (const [route, needs] of Object.entries(ROUTE_POLICY)) {
    assert.ok(needs === 'public' || needs === 'authenticated' || needs in MATRIX, `${route}: ${needs}`);
  }
});

test('the privacy and audit families stay closed to unlisted routes too', () => {
  assert.equal(permissionFor('GET', '/api/workspaces/:ws/privacy/some-new-report'), 'privacy.read');
  assert.equal(permissionFor('POST', '/api/workspaces/:ws/privacy/some-new-action'), 'privacy.write');
  assert.equal(permissionFor('GET', '/api/workspaces/:ws/audit/export'), 'audit.read');
  assert.equal(permissionFor('GET', '/api/workspaces/:ws/something-new'), undefined, 'anything else unlisted is admin only');
});

test('every /api route but the public ones refuses a caller without credentials (401), and a wrong bearer token', async () => {
  const open: string[] = [];
  for (const r of apiRoutes()) {
    if (entryFor(r.method, r.url) === 'public') continue;
    const none = await call(r.method, r.url, {});
    const wrong = await call(r.method, r.url, { authorization: 'Bearer not-a-token-at-all' });
    const stale = await call(r.method, r.url, { cookie: 'ensemble_session=not-a-session' });
    if (none.status !== 401 || wrong.status !== 401 || stale.status !== 401) open.push(`${r.method} ${r.url}: ${none.status}/${wrong.status}/${stale.status}`);
  }
  assert.deepEqual(open, []);
});

test('each role gets exactly what the matrix allows on every route (API keys per role, admin token, reader token)', async () => {
  const callers: Array<{ name: string; role: Role; token: string }> = [
    { name: 'admin token', role: 'admin', token: ADMIN_TOKEN },
    { name: 'reader token', role: 'viewer', token: READER },
  ];
  for (const role of ROLES) {
    const k = await s.api('POST', '/api/api-keys', { name: `walk ${role}`, role });
    assert.equal(k.status, 201);
    callers.push({ name: `${role} key`, role, token: k.body.token });
  }
  const wrong: string[] = [];
  let refused = 0;
  let allowed = 0;
  for (const r of apiRoutes()) {
    const needs = permissionFor(r.method, r.url);
    // Deleting API keys would remove the callers themselves; a made-up id is used, so it is safe.
    for (const c of callers) {
      const expected = needs === 'public' || needs === 'authenticated' || (needs === undefined ? c.role === 'admin' : can(c.role, needs));
      const got = await call(r.method, r.url, { authorization: `Bearer ${c.token}` });
      const byPolicy = got.status === 403 && got.code === 'ENSEMBLE_ERR_FORBIDDEN' && got.details?.role === c.role;
      if (expected && (byPolicy || got.status === 401)) wrong.push(`${c.name} refused ${r.method} ${r.url} (${got.status})`);
      if (!expected && !(byPolicy && got.details?.permission === needs)) wrong.push(`${c.name} not refused ${r.method} ${r.url} (${got.status} ${got.code ?? ''})`);
      if (expected) allowed++;
      else refused++;
    }
  }
  assert.deepEqual(wrong, []);
  assert.ok(refused > 200 && allowed > 200, `${refused} refused, ${allowed} allowed`);
});
