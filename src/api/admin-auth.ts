/**
 * Who is calling the admin API, and may they? Every /api request (but the OpenAPI document and
 * login) is authenticated by one of:
 * - `Authorization: Bearer <token>`: the admin token (ENSEMBLE_ADMIN_TOKEN, or generated on first
 *   start, stored only as a SHA-256 digest and printed once) → role admin; the optional reader
 *   token (ENSEMBLE_READER_TOKEN) → role viewer; an API key (`ens_key_…`) → the key's role.
 * - the `ensemble_session` cookie of a console login (src/auth/sessions.ts) → the user's role;
 *   then a state-changing method also needs `x-csrf-token` (src/auth/csrf.ts).
 * and then authorised by the route policy (src/auth/route-policy.ts) against the role matrix
 * (src/auth/roles.ts): 403 ENSEMBLE_ERR_FORBIDDEN otherwise, on the server, whatever the console shows.
 *
 * Without `auth` (unit tests of single routes), only the two tokens are known and the reader
 * token can only read — the behaviour before users existed.
 *
 * @example
 *   await http.register(async (scope) => {
 *     requireApiToken(scope, { admin: adminHash, reader: null }, new Set(['/api/openapi.json']), { users, sessions, apiKeys });
 *     // ... routes; in a handler: canSeePersonalData(req), actorOf(req), principalOf(req)
 *   });
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import { EnsembleError } from '../protocol/errors.js';
import { newSecret } from '../platform/ids.js';
import { hashSecret, secretMatches } from '../platform/secret-hash.js';
import type { ConfigStore } from '../storage/ports.js';
import { can, type Role } from '../auth/roles.js';
import { permissionFor } from '../auth/route-policy.js';
import { changesState, csrfMatches, CSRF_HEADER } from '../auth/csrf.js';
import type { UserService } from '../auth/users.js';
import type { SessionService } from '../auth/sessions.js';
import type { ApiKeyService } from '../auth/api-keys.js';

const SETTING = 'admin_token_sha256';
export const SESSION_COOKIE = 'ensemble_session';

/** Who made a request, once it was let in. */
export type Principal =
  | { kind: 'token'; id: 'admin' | 'reader'; role: Role }
  | { kind: 'user'; id: string; role: Role; sessionToken: string }
  | { kind: 'api-key'; id: string; role: Role };

export interface SessionAuth {
  users: UserService;
  sessions: SessionService;
  apiKeys: ApiKeyService;
}

const principals = new WeakMap<FastifyRequest, Principal>();
/** Requests authorised by the route policy (the app), as opposed to the token-only mode. */
const withPolicy = new WeakSet<FastifyRequest>();

export function principalOf(req: FastifyRequest): Principal | undefined {
  return principals.get(req);
}

/** Only admin and dpo see personal identifiers in clear (the `personal-data.clear` permission). */
export function canSeePersonalData(req: FastifyRequest): boolean {
  const p = principals.get(req);
  return p !== undefined && can(p.role, 'personal-data.clear');
}

/**
 * Who acted, for the audit log: `admin` / `reader` for the two tokens, `user:<id>` for a console
 * user, `api-key:<id>` for an API key — an id, never an email. Only meaningful once the request
 * was let in: a refused one (401) is recorded by the audit hook as `anonymous`.
 */
export function actorOf(req: FastifyRequest): string {
  const p = principals.get(req);
  if (!p) return 'anonymous';
  return p.kind === 'token' ? p.id : `${p.kind}:${p.id}`;
}

/** The role the request acted with, for the audit log; null in the token-only mode (the actor says it). */
export function roleOf(req: FastifyRequest): Role | null {
  const p = principals.get(req);
  return p !== undefined && withPolicy.has(req) ? p.role : null;
}

/** Login: the request that opened a session is the new user's own (the audit log names them). */
export function setPrincipal(req: FastifyRequest, p: Principal): void {
  principals.set(req, p);
}

/** The session token in the request's cookie, if any (not checked). */
export function sessionCookieOf(req: FastifyRequest): string | undefined {
  // Parsed by @fastify/cookie, registered at the root (main/app.ts).
  const value = req.cookies?.[SESSION_COOKIE];
  return value ? value : undefined;
}

/** Returns the token to print when one was generated now, else null. */
export async function ensureAdminToken(store: ConfigStore, configured: string | undefined): Promise<{ hash: string; generated: string | null }> {
  if (configured) {
    const hash = hashSecret(configured);
    if ((await store.getSetting(SETTING)) !== hash) await store.setSetting(SETTING, hash);
    return { hash, generated: null };
  }
  const stored = await store.getSetting(SETTING);
  if (stored) return { hash: stored, generated: null };
  const token = newSecret();
  const hash = hashSecret(token);
  await store.setSetting(SETTING, hash);
  return { hash, generated: token };
}

function bearerOf(req: FastifyRequest): string {
  const auth = req.headers.authorization;
  return typeof auth === 'string' && auth.slice(0, 7).toLowerCase() === 'bearer ' ? auth.slice(7).trim() : '';
}

export function requireApiToken(app: FastifyInstance, tokens: { admin: string; reader: string | null }, publicPaths: ReadonlySet<string>, auth?: SessionAuth): void {
  const byToken = (token: string): Principal | undefined => {
    if (secretMatches(token, tokens.admin)) return { kind: 'token', id: 'admin', role: 'admin' };
    if (tokens.reader !== null && secretMatches(token, tokens.reader)) return { kind: 'token', id: 'reader', role: 'viewer' };
    const key = auth?.apiKeys.resolve(token);
    return key ? { kind: 'api-key', id: key.id, role: key.role } : undefined;
  };

  /** The caller, or an error to answer with; `undefined` when no credential was sent. */
  const identify = (req: FastifyRequest): Principal | EnsembleError | undefined => {
    const token = bearerOf(req);
    if (token) return byToken(token) ?? new EnsembleError('ENSEMBLE_ERR_ADMIN_TOKEN_INVALID');
    if (req.headers.authorization) return new EnsembleError('ENSEMBLE_ERR_ADMIN_TOKEN_INVALID');
    const cookie = auth ? sessionCookieOf(req) : undefined;
    if (!auth || cookie === undefined) return undefined;
    const resolved = auth.sessions.resolve(cookie);
    const user = resolved.status === 'ok' ? auth.users.get(resolved.session.userId) : undefined;
    if (!user) return new EnsembleError('ENSEMBLE_ERR_SESSION_EXPIRED');
    return { kind: 'user', id: user.id, role: user.role, sessionToken: cookie };
  };

  app.addHook('onRequest', async (req) => {
    if (publicPaths.has(req.url.split('?')[0] ?? '')) return;
    if (!auth) {
      const p = identify(req);
      if (p === undefined || p instanceof EnsembleError) throw new EnsembleError('ENSEMBLE_ERR_ADMIN_TOKEN_INVALID');
      principals.set(req, p);
      if (p.id === 'reader' && changesState(req.method)) throw new EnsembleError('ENSEMBLE_ERR_FORBIDDEN', 'The reader token can only read.');
      return;
    }
    withPolicy.add(req);
    const pattern = req.routeOptions.url;
    const needs = pattern === undefined ? undefined : permissionFor(req.method, pattern);
    const p = identify(req);
    if (needs === 'public') {
      // Login and logout: a caller is recognised when they can be, never refused for a stale cookie.
      if (p !== undefined && !(p instanceof EnsembleError)) principals.set(req, p);
      return;
    }
    if (p instanceof EnsembleError) throw p;
    if (p === undefined) throw new EnsembleError('ENSEMBLE_ERR_ADMIN_TOKEN_INVALID', 'Log in, or send `Authorization: Bearer <token>` (the admin token or an API key).');
    principals.set(req, p);
    if (p.kind === 'user' && changesState(req.method) && !csrfMatches(p.sessionToken, req.headers[CSRF_HEADER])) {
      throw new EnsembleError('ENSEMBLE_ERR_CSRF');
    }
    if (needs === 'authenticated') return;
    const allowed = needs === undefined ? p.role === 'admin' : can(p.role, needs);
    if (!allowed) {
      throw new EnsembleError('ENSEMBLE_ERR_FORBIDDEN', `The ${p.role} role may not do this${needs ? ` (it needs ${needs})` : ''}.`, { role: p.role, ...(needs ? { permission: needs } : {}) });
    }
  });
}
