/**
 * Console login: `POST /api/auth/login` opens a server-side session (an HttpOnly, SameSite=Strict
 * cookie) and returns the CSRF token the page sends back on state-changing calls; `GET /api/auth/me`
 * says who is logged in and what they may do; `PUT /api/auth/me` changes one's own name and
 * language; `POST /api/auth/logout` ends the session for good.
 *
 * Failed logins answer the same for an unknown email and a wrong password, and are limited per
 * email and client IP (src/auth/login-limiter.ts). Neither the email nor the password is ever
 * logged; the audit log records a login under the user's id.
 *
 * @example
 *   const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' },
 *     body: JSON.stringify({ email: 'dpo@shop.example', password: '…' }) });
 *   const { csrfToken } = await res.json(); // and the ensemble_session cookie
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type {} from '@fastify/cookie';
import { EnsembleError } from '../protocol/errors.js';
import { ErrorResponse } from './error-handler.js';
import { principalOf, SESSION_COOKIE, sessionCookieOf, setPrincipal } from './admin-auth.js';
import { csrfMatches, csrfTokenFor, CSRF_HEADER } from '../auth/csrf.js';
import { permissionsOf, type Role } from '../auth/roles.js';
import type { LoginLimiter } from '../auth/login-limiter.js';
import type { SessionService } from '../auth/sessions.js';
import type { User, UserService } from '../auth/users.js';
import { MAX_PASSWORD_LENGTH } from '../auth/passwords.js';

export const Locale = Type.Union([Type.Literal('en'), Type.Literal('fr')]);
export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('dpo'), Type.Literal('marketer'), Type.Literal('analyst'), Type.Literal('viewer')]);
export const UserView = Type.Object({
  id: Type.String(), email: Type.String(), name: Type.String(), role: RoleSchema, locale: Locale,
  createdAt: Type.Optional(Type.String()), updatedAt: Type.Optional(Type.String()),
});
const LoginBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 320 }),
  password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
}, { additionalProperties: false });
const MeBody = Type.Object({ locale: Type.Optional(Locale), name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false });
const Session = Type.Object({ user: UserView, csrfToken: Type.Union([Type.String(), Type.Null()]), permissions: Type.Array(Type.String()) });
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse };

export interface AuthRouteDeps {
  users: UserService;
  sessions: SessionService;
  limiter: LoginLimiter;
  /** Session lifetime, for the cookie's Max-Age. */
  maxAgeMs: number;
  /** Always mark the cookie Secure (behind a TLS-terminating proxy); otherwise only over https. */
  cookieSecure: boolean;
}

/** A token caller as a user-shaped answer, so the console can treat every caller alike. */
function tokenUser(id: string, role: Role): Static<typeof UserView> {
  return { id, email: '', name: id, role, locale: 'en' };
}

export function registerAuthRoutes(app: FastifyInstance, deps: AuthRouteDeps): void {
  const cookie = (req: FastifyRequest, reply: FastifyReply, value: string, maxAgeSeconds: number) => reply.setCookie(SESSION_COOKIE, value, {
    httpOnly: true, sameSite: 'strict', path: '/', maxAge: maxAgeSeconds, secure: deps.cookieSecure || req.protocol === 'https',
  });
  const answer = (user: User, csrfToken: string | null) => ({ user, csrfToken, permissions: permissionsOf(user.role) });

  app.post<{ Body: Static<typeof LoginBody> }>('/api/auth/login', {
    schema: { tags: ['auth'], summary: 'Log in to the console: sets the session cookie and returns the CSRF token', security: [], body: LoginBody, response: { 200: Session, ...errors } },
  }, async (req, reply) => {
    const { email, password } = req.body;
    const wait = deps.limiter.retryAfterMs(email, req.ip);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      throw new EnsembleError('ENSEMBLE_ERR_LOGIN_RATE_LIMITED');
    }
    const user = await deps.users.authenticate(email, password);
    if (!user) {
      deps.limiter.failed(email, req.ip);
      throw new EnsembleError('ENSEMBLE_ERR_LOGIN_FAILED');
    }
    deps.limiter.succeeded(email, req.ip);
    const { token, csrfToken } = await deps.sessions.create(user.id);
    setPrincipal(req, { kind: 'user', id: user.id, role: user.role, sessionToken: token });
    cookie(req, reply, token, Math.floor(deps.maxAgeMs / 1000));
    reply.header('cache-control', 'no-store');
    return answer(user, csrfToken);
  });

  app.get('/api/auth/me', {
    schema: { tags: ['auth'], summary: 'Who is calling, their role, permissions and CSRF token', response: { 200: Session, ...errors } },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const p = principalOf(req);
    if (!p) throw new EnsembleError('ENSEMBLE_ERR_ADMIN_TOKEN_INVALID');
    if (p.kind !== 'user') return { user: tokenUser(p.kind === 'token' ? `${p.id}-token` : p.id, p.role), csrfToken: null, permissions: permissionsOf(p.role) };
    return answer(deps.users.require(p.id), csrfTokenFor(p.sessionToken));
  });

  app.put<{ Body: Static<typeof MeBody> }>('/api/auth/me', {
    schema: { tags: ['auth'], summary: 'Change one\'s own name or language', body: MeBody, response: { 200: Type.Object({ user: UserView }), ...errors } },
  }, async (req) => {
    const p = principalOf(req);
    if (p?.kind !== 'user') throw new EnsembleError('ENSEMBLE_ERR_FORBIDDEN', 'Only a logged-in user has settings of their own.');
    const user = await deps.users.update(p.id, { ...(req.body.locale ? { locale: req.body.locale } : {}), ...(req.body.name ? { name: req.body.name } : {}) });
    return { user };
  });

  app.post('/api/auth/logout', {
    schema: { tags: ['auth'], summary: 'End the session (idempotent): the cookie is cleared and the session revoked', security: [], response: { 204: Type.Null(), ...errors } },
  }, async (req, reply: FastifyReply) => {
    const token = sessionCookieOf(req);
    if (token !== undefined && deps.sessions.resolve(token).status === 'ok') {
      // A cross-site page must not be able to log someone out either.
      if (!csrfMatches(token, req.headers[CSRF_HEADER])) throw new EnsembleError('ENSEMBLE_ERR_CSRF');
      await deps.sessions.revoke(token);
    }
    cookie(req, reply, '', 0);
    return reply.code(204).send();
  });
}
