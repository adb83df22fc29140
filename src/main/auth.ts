/**
 * Wires users, sessions, API keys and the login limiter over the embedded store, and registers
 * their routes. The request hook that uses them is `requireApiToken` (api/admin-auth.ts).
 *
 * @example
 *   const auth = await wireAuth({ db, config: config.auth, clock, logger });
 *   requireApiToken(scope, tokens, publicPaths, auth.session);
 *   auth.register(scope);
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../platform/config.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Database } from '../storage/duckdb/database.js';
import { DuckDbUserStore } from '../storage/duckdb/user-store.js';
import { UserService } from '../auth/users.js';
import { SessionService } from '../auth/sessions.js';
import { ApiKeyService } from '../auth/api-keys.js';
import { LoginLimiter } from '../auth/login-limiter.js';
import type { SessionAuth } from '../api/admin-auth.js';
import { registerAuthRoutes } from '../api/auth-routes.js';
import { registerUserRoutes } from '../api/user-routes.js';
import { registerApiKeyRoutes } from '../api/api-key-routes.js';

export interface AuthWiring {
  users: UserService;
  sessions: SessionService;
  apiKeys: ApiKeyService;
  limiter: LoginLimiter;
  /** What `requireApiToken` needs. */
  session: SessionAuth;
  register(scope: FastifyInstance): void;
}

export async function wireAuth(deps: { db: Database; config: Config['auth']; clock: Clock; logger: Logger }): Promise<AuthWiring> {
  const { config, clock, logger } = deps;
  const store = await DuckDbUserStore.open(deps.db);
  const now = () => clock.now();
  const maxAgeMs = config.sessionMaxAgeSeconds * 1000;
  const sessions = await SessionService.open(store, {
    now, maxAgeMs, idleMs: config.sessionIdleSeconds * 1000,
    onError: (err) => logger.error({ err: { name: err.name, message: err.message } }, 'session store write failed'),
  });
  const users = await UserService.open(store, { now, onRevoke: (id) => sessions.revokeUser(id) });
  const apiKeys = await ApiKeyService.open(store, now);
  const limiter = new LoginLimiter({ attempts: config.loginAttempts, windowMs: config.loginWindowSeconds * 1000, now });
  return {
    users, sessions, apiKeys, limiter,
    session: { users, sessions, apiKeys },
    register(scope) {
      registerAuthRoutes(scope, { users, sessions, limiter, maxAgeMs, cookieSecure: config.cookieSecure });
      registerUserRoutes(scope, { users });
      registerApiKeyRoutes(scope, { apiKeys });
    },
  };
}
