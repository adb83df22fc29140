/**
 * Invariants of the auth building blocks, for any input: the privacy and audit families never
 * open to marketer, analyst or viewer whatever the route's name; the viewer only ever holds read
 * permissions; a CSRF token matches its own session only; the login limiter allows an attempt
 * exactly when fewer than N failures fall in the window (checked against a plain model).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { permissionFor } from '../src/auth/route-policy.js';
import { can, MATRIX, permissionsOf, type Permission } from '../src/auth/roles.js';
import { csrfMatches, csrfTokenFor } from '../src/auth/csrf.js';
import { LoginLimiter } from '../src/auth/login-limiter.js';

const segment = fc.stringMatching(/^[a-z:-][a-z0-9-]{0,12}$/);
const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE');

test('any route under /privacy/ or /audit is refused to marketer, analyst and viewer, allowed to dpo', () => {
  fc.assert(fc.property(method, fc.constantFrom('privacy/', 'audit/', 'audit'), fc.array(segment, { maxLength: 4 }), (m, family, rest) => {
    const pattern = `/api/workspaces/:ws/${family}${family.endsWith('/') ? '' : rest.length > 0 ? '/' : ''}${rest.join('/')}`;
    if (family === 'privacy/' && rest.length === 0) return;
    const needs = permissionFor(m, pattern);
    assert.ok(needs !== undefined && needs !== 'public' && needs !== 'authenticated', `${m} ${pattern}: ${needs}`);
    for (const role of ['marketer', 'analyst', 'viewer'] as const) assert.equal(can(role, needs as Permission), false, `${role} ${m} ${pattern}`);
    assert.equal(can('dpo', needs as Permission), true);
  }), { numRuns: 500 });
});

test('the viewer holds read permissions only; clear personal data is admin and dpo only; admin holds everything', () => {
  assert.ok(permissionsOf('viewer').every((p) => p.endsWith('.read')), permissionsOf('viewer').join(', '));
  assert.deepEqual([...MATRIX['personal-data.clear']].sort(), ['admin', 'dpo']);
  assert.deepEqual(permissionsOf('admin'), Object.keys(MATRIX));
});

test('a CSRF token matches its own session only, and no altered token matches', () => {
  const token = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
  fc.assert(fc.property(token, token, fc.nat(), fc.integer({ min: 1, max: 25 }), (a, b, at, shift) => {
    const t = csrfTokenFor(a);
    assert.equal(csrfMatches(a, t), true);
    if (a !== b) assert.equal(csrfMatches(b, t), false);
    const i = at % t.length;
    const altered = t.slice(0, i) + String.fromCharCode(((t.charCodeAt(i) - 45 + shift) % 78) + 45) + t.slice(i + 1);
    if (altered !== t) assert.equal(csrfMatches(a, altered), false);
    assert.equal(csrfMatches(a, t.slice(1)), false);
    assert.equal(csrfMatches(a, undefined), false);
  }), { numRuns: 300 });
});

test('the login limiter allows an attempt exactly when fewer than N failures fall in the window', () => {
  const step = fc.oneof(
    fc.record({ kind: fc.constant('fail' as const), who: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('ok' as const), who: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 400 }) }),
  );
  fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 60 }), (attempts, steps) => {
    let now = 0;
    const windowMs = 1000;
    const limiter = new LoginLimiter({ attempts, windowMs, now: () => now });
    const model = new Map<number, number[]>();
    const who = (i: number) => [`user${i}@shop.example`, '203.0.113.7'] as const;
    for (const s of steps) {
      if (s.kind === 'wait') {
        now += s.ms;
        continue;
      }
      const recent = (model.get(s.who) ?? []).filter((t) => t > now - windowMs);
      const allowed = recent.length < attempts;
      assert.equal(limiter.retryAfterMs(...who(s.who)) === 0, allowed);
      if (!allowed) continue;
      if (s.kind === 'fail') {
        limiter.failed(...who(s.who));
        model.set(s.who, [...recent, now]);
      } else {
        limiter.succeeded(...who(s.who));
        model.set(s.who, []);
      }
    }
  }), { numRuns: 300 });
});

test('the decoy hash has today\'s parameters (an unknown email costs what a wrong password costs)', async () => {
  const { decoyHash, needsRehash, verifyPassword } = await import('../src/auth/passwords.js');
  assert.equal(needsRehash(decoyHash()), false);
  assert.equal(await verifyPassword('anything', decoyHash()), false);
});

test('sessions: a timed-out session is refused and swept from the store, a live one is kept', async () => {
  const { SessionService } = await import('../src/auth/sessions.js');
  const rows = new Map<string, { tokenHash: string; userId: string; createdAt: number; lastSeenAt: number; expiresAt: number }>();
  const store = {
    listSessions: async () => [...rows.values()],
    insertSession: async (r: any) => { rows.set(r.tokenHash, { ...r }); },
    touchSession: async (h: string, at: number) => { const r = rows.get(h); if (r) r.lastSeenAt = at; },
    deleteSessions: async (hs: readonly string[]) => { for (const h of hs) rows.delete(h); },
  };
  let now = 0;
  const sessions = await SessionService.open(store, { now: () => now, maxAgeMs: 10_000, idleMs: 1_000 });
  const old = await sessions.create('u1');
  now = 900;
  const fresh = await sessions.create('u2');
  now = 1_500;
  sessions.sweep();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([...rows.values()].map((r) => r.userId), ['u2']);
  assert.equal(sessions.resolve(old.token).status, 'ended');
  assert.equal(sessions.resolve(fresh.token).status, 'ok');
});
