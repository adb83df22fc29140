/**
 * Test helpers for console users: create a user per role through the admin API, log in as one
 * (a real cookie session), and call the API as that session (with or without the CSRF token).
 */
import type { TestServer } from './server.js';
import type { Role } from '../../src/auth/roles.js';

export interface Session {
  cookie: string;
  csrfToken: string;
  user: { id: string; email: string; role: Role; locale: string };
  permissions: string[];
  setCookie: string;
}

export const passwordOf = (role: string) => `test-${role}-password-123`;

export async function createUser(s: TestServer, role: Role, email = `${role}@test.local`): Promise<{ id: string; email: string }> {
  const r = await s.api('POST', '/api/users', { email, name: `Test ${role}`, role, password: passwordOf(role), locale: 'en' });
  if (r.status !== 201) throw new Error(`user not created: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function login(url: string, email: string, password: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; session?: Session; headers: Headers }> {
  const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ email, password }) });
  const body = await res.json();
  const setCookie = res.headers.get('set-cookie') ?? '';
  if (res.status !== 200) return { status: res.status, body, headers: res.headers };
  const cookie = setCookie.split(';')[0] ?? '';
  return { status: 200, body, headers: res.headers, session: { cookie, csrfToken: body.csrfToken, user: body.user, permissions: body.permissions, setCookie } };
}

/** Calls the API with a session cookie; `csrf` false leaves the token out, a string sends that one. */
export async function asSession(url: string, session: Session, method: string, path: string, body?: unknown, csrf: boolean | string = true): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { cookie: session.cookie };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (csrf !== false) headers['x-csrf-token'] = csrf === true ? session.csrfToken : csrf;
  const res = await fetch(url + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Calls the API with a bearer token. */
export async function asBearer(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** One user per role, logged in. */
export async function sessionsPerRole(s: TestServer, roles: readonly Role[]): Promise<Record<Role, Session>> {
  const out: Partial<Record<Role, Session>> = {};
  for (const role of roles) {
    const u = await createUser(s, role);
    const r = await login(s.url, u.email, passwordOf(role));
    if (!r.session) throw new Error(`login failed for ${role}: ${JSON.stringify(r.body)}`);
    out[role] = r.session;
  }
  return out as Record<Role, Session>;
}
