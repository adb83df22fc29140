/**
 * Console login, sessions, CSRF and API keys on a real server: cookie flags, the same answer for
 * an unknown email and a wrong password, the login rate limit, logout and user deletion revoking
 * sessions, sessions surviving a restart, expiry, and passwords never stored or logged in clear.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN, removeDir, shiftedClock, startServer, type TestServer } from './helpers/server.js';
import { asBearer, asSession, createUser, login, passwordOf } from './helpers/auth.js';

let s: TestServer;
const clock = shiftedClock();
before(async () => { s = await startServer({ auth: { loginAttempts: 3 } }, undefined, clock); });
after(async () => { await s.close(); removeDir(s.dir); });

test('login sets an HttpOnly, SameSite=Strict session cookie and returns the user, CSRF token and permissions', async () => {
  const u = await createUser(s, 'marketer', 'Mia@Shop.example');
  const r = await login(s.url, 'mia@shop.example', passwordOf('marketer'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const flags = r.session!.setCookie.split(';').map((p) => p.trim().toLowerCase());
  assert.match(r.session!.setCookie, /^ensemble_session=[A-Za-z0-9_-]{40,};/);
  assert.ok(flags.includes('httponly'), r.session!.setCookie);
  assert.ok(flags.includes('samesite=strict'), r.session!.setCookie);
  assert.ok(flags.includes('path=/'), r.session!.setCookie);
  assert.ok(!flags.includes('secure'), 'no Secure flag over plain http unless configured');
  assert.deepEqual(r.body.user, { ...r.body.user, id: u.id, email: 'mia@shop.example', role: 'marketer', locale: 'en' });
  assert.equal(typeof r.body.csrfToken, 'string');
  assert.ok(r.body.permissions.includes('segments.write'));
  assert.ok(!r.body.permissions.includes('privacy.read'));

  const me = await asSession(s.url, r.session!, 'GET', '/api/auth/me');
  assert.equal(me.status, 200);
  assert.deepEqual([me.body.user.id, me.body.csrfToken, me.body.permissions], [u.id, r.body.csrfToken, r.body.permissions]);
  const changed = await asSession(s.url, r.session!, 'PUT', '/api/auth/me', { locale: 'fr', name: 'Mia' });
  assert.deepEqual([changed.status, changed.body.user.locale, changed.body.user.name], [200, 'fr', 'Mia']);
});

test('Secure is added over https (here: X-Forwarded-Proto from a trusted proxy), and not over http', async () => {
  const t = await startServer({ trustProxy: true });
  try {
    await createUser(t, 'viewer');
    const https = await login(t.url, 'viewer@test.local', passwordOf('viewer'), { 'x-forwarded-proto': 'https' });
    assert.ok(https.session!.setCookie.split(';').map((p) => p.trim().toLowerCase()).includes('secure'), https.session!.setCookie);
    const http = await login(t.url, 'viewer@test.local', passwordOf('viewer'));
    assert.ok(!http.session!.setCookie.toLowerCase().includes('secure'), http.session!.setCookie);
  } finally {
    await t.close();
    removeDir(t.dir);
  }
});

test('Secure is added when configured (behind a TLS proxy)', async () => {
  const t = await startServer({ auth: { cookieSecure: true } });
  try {
    await createUser(t, 'viewer');
    const r = await login(t.url, 'viewer@test.local', passwordOf('viewer'));
    assert.ok(r.session!.setCookie.split(';').map((p) => p.trim().toLowerCase()).includes('secure'), r.session!.setCookie);
  } finally {
    await t.close();
    removeDir(t.dir);
  }
});

test('an unknown email and a wrong password get the same 401, and failures are rate limited per email and IP', async () => {
  await createUser(s, 'analyst', 'ana@shop.example');
  const unknown = await login(s.url, 'nobody@shop.example', 'whatever-password');
  const wrong = await login(s.url, 'ana@shop.example', 'not-the-password');
  assert.deepEqual([unknown.status, unknown.body], [401, { error: { code: 'ENSEMBLE_ERR_LOGIN_FAILED', message: 'Wrong email or password.' } }]);
  assert.deepEqual([wrong.status, wrong.body], [unknown.status, unknown.body]);
  assert.equal(unknown.headers.get('set-cookie'), null);

  await login(s.url, 'ana@shop.example', 'not-the-password');
  await login(s.url, 'ana@shop.example', 'not-the-password');
  // 3 failures (the configured limit): even the right password is refused now, with Retry-After.
  const limited = await login(s.url, 'ana@shop.example', passwordOf('analyst'));
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'ENSEMBLE_ERR_LOGIN_RATE_LIMITED');
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  // Another account from the same address is not locked by it.
  await createUser(s, 'dpo', 'dpo@shop.example');
  assert.equal((await login(s.url, 'dpo@shop.example', passwordOf('dpo'))).status, 200);
  // Once the window has passed, the right password works again.
  clock.advance(16 * 60_000);
  assert.equal((await login(s.url, 'ana@shop.example', passwordOf('analyst'))).status, 200);
});

test('CSRF: a cookie mutation without or with a wrong token is 403 and changes nothing; the right one passes; bearer needs none', async () => {
  await createUser(s, 'admin', 'root@shop.example');
  const { session } = await login(s.url, 'root@shop.example', passwordOf('admin'));
  const path = `/api/workspaces/${s.workspaceId}/sources`;
  const before = (await s.api('GET', path)).body.sources.length;
  const missing = await asSession(s.url, session!, 'POST', path, { name: 'No token', kind: 'website' }, false);
  assert.deepEqual([missing.status, missing.body.error.code], [403, 'ENSEMBLE_ERR_CSRF']);
  const wrong = await asSession(s.url, session!, 'POST', path, { name: 'Wrong token', kind: 'website' }, 'x'.repeat(43));
  assert.deepEqual([wrong.status, wrong.body.error.code], [403, 'ENSEMBLE_ERR_CSRF']);
  assert.equal((await s.api('GET', path)).body.sources.length, before, 'nothing was created');
  const ok = await asSession(s.url, session!, 'POST', path, { name: 'With token', kind: 'website' });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  // Reads need no token.
  assert.equal((await asSession(s.url, session!, 'GET', path, undefined, false)).status, 200);
  // Bearer requests never need one.
  assert.equal((await asBearer(s.url, ADMIN_TOKEN, 'POST', path, { name: 'Bearer', kind: 'website' })).status, 201);
});

test('logout revokes the session for good (the old cookie is refused); user deletion revokes theirs', async () => {
  const u = await createUser(s, 'viewer', 'vic@shop.example');
  const { session } = await login(s.url, 'vic@shop.example', passwordOf('viewer'));
  const { session: second } = await login(s.url, 'vic@shop.example', passwordOf('viewer'));
  assert.equal((await asSession(s.url, session!, 'GET', '/api/auth/me')).status, 200);
  const forged = await fetch(`${s.url}/api/auth/logout`, { method: 'POST', headers: { cookie: session!.cookie } });
  assert.equal(forged.status, 403, 'a cross-site page cannot log someone out either');
  assert.equal((await asSession(s.url, session!, 'GET', '/api/auth/me')).status, 200);
  const out = await fetch(`${s.url}/api/auth/logout`, { method: 'POST', headers: { cookie: session!.cookie, 'x-csrf-token': session!.csrfToken } });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie') ?? '', /^ensemble_session=;.*Max-Age=0/i);
  const after = await asSession(s.url, session!, 'GET', '/api/auth/me');
  assert.deepEqual([after.status, after.body.error.code], [401, 'ENSEMBLE_ERR_SESSION_EXPIRED']);
  assert.equal((await asSession(s.url, second!, 'GET', '/api/auth/me')).status, 200, 'another session of the user lives on');

  assert.equal((await s.api('DELETE', `/api/users/${u.id}`)).status, 204);
  assert.equal((await asSession(s.url, second!, 'GET', '/api/auth/me')).status, 401);
  assert.equal((await login(s.url, 'vic@shop.example', passwordOf('viewer'))).status, 401);
});

test('a password change ends the user\'s sessions', async () => {
  const u = await createUser(s, 'analyst', 'pat@shop.example');
  const { session } = await login(s.url, 'pat@shop.example', passwordOf('analyst'));
  assert.equal((await s.api('PATCH', `/api/users/${u.id}`, { password: 'a-brand-new-password' })).status, 200);
  assert.equal((await asSession(s.url, session!, 'GET', '/api/auth/me')).status, 401);
  assert.equal((await login(s.url, 'pat@shop.example', passwordOf('analyst'))).status, 401);
  assert.equal((await login(s.url, 'pat@shop.example', 'a-brand-new-password')).status, 200);
});

test('sessions end after the idle timeout and after their maximum age', async () => {
  await createUser(s, 'viewer', 'idle@shop.example');
  const { session } = await login(s.url, 'idle@shop.example', passwordOf('viewer'));
  clock.advance(29 * 60_000);
  assert.equal((await asSession(s.url, session!, 'GET', '/api/auth/me')).status, 200, 'active within the idle timeout');
  clock.advance(31 * 60_000);
  const idle = await asSession(s.url, session!, 'GET', '/api/auth/me');
  assert.deepEqual([idle.status, idle.body.error.code], [401, 'ENSEMBLE_ERR_SESSION_EXPIRED']);

  const { session: busy } = await login(s.url, 'idle@shop.example', passwordOf('viewer'));
  for (let i = 0; i < 30; i++) {
    clock.advance(25 * 60_000);
    await asSession(s.url, busy!, 'GET', '/api/auth/me');
  }
  assert.equal((await asSession(s.url, busy!, 'GET', '/api/auth/me')).status, 401, 'no session outlives 12 hours');
});

test('users API: validation, duplicates, the last admin, and admin only', async () => {
  const bad = await s.api('POST', '/api/users', { email: 'short@shop.example', role: 'viewer', password: 'short' });
  assert.deepEqual([bad.status, bad.body.error.code], [400, 'ENSEMBLE_ERR_USER_INVALID']);
  const badRole = await s.api('POST', '/api/users', { email: 'x@shop.example', role: 'owner', password: 'long-enough-password' });
  assert.deepEqual([badRole.status, badRole.body.error.code], [400, 'ENSEMBLE_ERR_VALIDATION']);
  await createUser(s, 'viewer', 'dup@shop.example');
  const dup = await s.api('POST', '/api/users', { email: 'DUP@shop.example', role: 'viewer', password: 'long-enough-password' });
  assert.deepEqual([dup.status, dup.body.error.code], [409, 'ENSEMBLE_ERR_USER_EXISTS']);
  const list = await s.api('GET', '/api/users');
  assert.ok(list.body.users.every((u: Record<string, unknown>) => !('passwordHash' in u) && !('password' in u)));

  const t = await startServer();
  try {
    const only = await createUser(t, 'admin', 'only@shop.example');
    assert.deepEqual((await t.api('DELETE', `/api/users/${only.id}`)).body.error.code, 'ENSEMBLE_ERR_LAST_ADMIN');
    assert.deepEqual((await t.api('PATCH', `/api/users/${only.id}`, { role: 'viewer' })).body.error.code, 'ENSEMBLE_ERR_LAST_ADMIN');
    assert.equal((await t.api('DELETE', '/api/users/usr_nope')).status, 404);
  } finally {
    await t.close();
    removeDir(t.dir);
  }
});

test('API keys: shown once, act with their role, revoked at once', async () => {
  const created = await s.api('POST', '/api/api-keys', { name: 'BI export', role: 'analyst' });
  assert.equal(created.status, 201);
  assert.match(created.body.token, /^ens_key_/);
  const listed = await s.api('GET', '/api/api-keys');
  assert.ok(listed.body.keys.some((k: { id: string }) => k.id === created.body.id));
  assert.ok(!JSON.stringify(listed.body).includes(created.body.token), 'the token is never listed');
  const ws = `/api/workspaces/${s.workspaceId}`;
  const token = created.body.token as string;
  assert.equal((await asBearer(s.url, token, 'GET', `${ws}/segments`)).status, 200);
  assert.equal((await asBearer(s.url, token, 'POST', `${ws}/segments`, { name: 'By key', definition: { kind: 'event', event: 'Order Completed' } })).status, 201);
  assert.equal((await asBearer(s.url, token, 'POST', `${ws}/journeys`, {})).status, 403, 'an analyst key cannot edit journeys');
  assert.equal((await asBearer(s.url, token, 'GET', `${ws}/privacy/register`)).status, 403);
  assert.equal((await asBearer(s.url, token, 'GET', '/api/users')).status, 403);
  const me = await asBearer(s.url, token, 'GET', '/api/auth/me');
  assert.deepEqual([me.body.user.role, me.body.csrfToken], ['analyst', null]);
  assert.equal((await s.api('DELETE', `/api/api-keys/${created.body.id}`)).status, 204);
  assert.equal((await asBearer(s.url, token, 'GET', `${ws}/segments`)).status, 401);
  assert.equal((await s.api('DELETE', `/api/api-keys/${created.body.id}`)).body.error.code, 'ENSEMBLE_ERR_API_KEY_NOT_FOUND');
});

test('a session survives a restart; passwords are nowhere in the store files or the logs', async () => {
  const PASSWORD = 'Restart-Proof-Passphrase-42';
  const r = await s.api('POST', '/api/users', { email: 'keep@shop.example', role: 'dpo', password: PASSWORD });
  assert.equal(r.status, 201);
  const { session } = await login(s.url, 'keep@shop.example', PASSWORD);
  await login(s.url, 'keep@shop.example', `${PASSWORD}-wrong`);
  const dir = s.dir;
  const logs = s.logs;
  await s.close();
  s = await startServer({ auth: { loginAttempts: 3 } }, dir, clock);
  const me = await asSession(s.url, session!, 'GET', '/api/auth/me');
  assert.deepEqual([me.status, me.body.user?.email], [200, 'keep@shop.example']);
  assert.equal((await asSession(s.url, session!, 'POST', `/api/workspaces/${s.workspaceId}/privacy/breaches`, {}, true)).status !== 403, true, 'the CSRF token still matches');

  const files = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));
  const token = session!.cookie.split('=')[1] ?? '';
  for (const f of files(dir)) {
    const bytes = readFileSync(f);
    assert.ok(!bytes.includes(PASSWORD), `the password is in ${f}`);
    assert.ok(!bytes.includes(token), `the session token is in ${f}`);
  }
  const allLogs = [...logs, ...s.logs].join('\n');
  assert.ok(!allLogs.includes(PASSWORD) && !allLogs.includes(`${PASSWORD}-wrong`), 'no password in the logs');
  assert.ok(!allLogs.includes('keep@shop.example'), 'no login email in the logs');
});
