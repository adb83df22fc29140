/**
 * Puts every admin API call in the audit log: who (the token used), what (method and route
 * pattern), on what (the path with its parameters), how it ended (the status), and whether the
 * answer held personal data. The OpenAPI document is not audited, nor are /healthz, /metrics and
 * the /v1 ingest routes (register this hook in the /api scope; it also skips any other path).
 *
 * Reads and mutations are recorded at different points, on purpose:
 * - A read (GET, HEAD) is recorded in onResponse, buffered: once the answer is sent its status is
 *   final, and the thousands of profile reads a second share one commit every 250 ms, identical
 *   ones as one entry (AuditLog.recordRead).
 * - A mutation is recorded in onSend, durably, before its answer leaves: onResponse runs after the
 *   client already has its 2xx, so it could not promise that a 2xx means "audited". If the entry
 *   cannot be stored the client gets ENSEMBLE_ERR_AUDIT_UNAVAILABLE (503) instead of the 2xx.
 *
 * A refused token (401) is a security event: it goes to the system chain `'*'`, actor
 * `anonymous`, with the route pattern but no parameter values or query keys. The caller is not
 * trusted, so nothing they typed is kept (it could be anything, personal data included), and they
 * cannot create chains for made-up workspace ids. For the same reason a workspace id that does
 * not exist (when `catalog` is given) goes to the system chain.
 *
 * No personal identifier in clear (see privacy/audit-log.ts): path parameters are ids, query
 * strings are reduced to their keys (the lookup's `value` is an email or a phone number), and
 * only the values of a few known-safe parameters of successful calls are kept.
 *
 * @example
 *   await http.register(async (scope) => {
 *     requireApiToken(scope, tokens, publicPaths);
 *     registerAuditHook(scope, audit, { catalog });
 *     registerAuditRoutes(scope, { audit, catalog });
 *   });
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EnsembleError } from '../protocol/errors.js';
import { SYSTEM_CHAIN, type AuditDetail, type AuditInput, type AuditLog, type JsonValue } from '../privacy/audit-log.js';
import { observationOf, type SecurityMonitor } from '../privacy/security-monitor.js';
import { actorOf, canSeePersonalData, roleOf } from './admin-auth.js';
import type { Catalog } from './catalog.js';

const NOT_AUDITED = new Set(['/api/openapi.json']);

/**
 * Routes whose answer is about identifiable people besides every `/profiles/` route (profiles,
 * their identifiers, events, consents, segments): lists of members. A profile id is pseudonymous
 * personal data, so lists of them count too. A new route returning such data must be added here.
 */
const PERSONAL_DATA_ROUTES: ReadonlySet<string> = new Set([
  'GET /api/workspaces/:ws/segments/:id/members',
  'POST /api/workspaces/:ws/privacy/requests',
  'GET /api/workspaces/:ws/privacy/requests',
  'GET /api/workspaces/:ws/privacy/requests/:id',
  'GET /api/workspaces/:ws/privacy/requests/:id/bundle',
  'GET /api/workspaces/:ws/segments/:id/explain',
  'GET /api/workspaces/:ws/segments/:id/changes',
  'GET /api/workspaces/:ws/segment-changes',
]);

/** Query parameters whose values are kept (of successful calls, whose values passed validation). */
const SAFE_QUERY = new Set(['limit', 'afterSeq', 'days', 'type', 'profileId']);

export interface AuditHookOptions {
  /** When given, entries for an unknown workspace id go to the system chain. */
  catalog?: Pick<Catalog, 'workspace'>;
  /**
   * Replaces profile ids by keyed pseudonyms (KeyRing.pseudonym): the chain cannot be edited, so
   * it must not hold an id an erasure has to remove everywhere else. Default: ids as they are.
   */
  pseudonym?: (workspaceId: string, profileId: string) => string;
  /** Shown every recorded call, 401s included, to detect security events (privacy/security-monitor.ts). */
  monitor?: Pick<SecurityMonitor, 'observe'>;
}

/** Path and query parameters that hold a profile id. */
function isProfileParam(pattern: string, name: string): boolean {
  return name === 'profileId' || (name === 'id' && pattern.includes('/profiles/:id'));
}

export function registerAuditHook(app: FastifyInstance, audit: AuditLog, opts: AuditHookOptions = {}): void {
  // Each request once: an onSend that fails re-enters onSend with the error answer.
  const recorded = new WeakSet<FastifyRequest>();
  const known = (ws: string): boolean => {
    if (!opts.catalog) return true;
    try {
      opts.catalog.workspace(ws);
      return true;
    } catch {
      return false;
    }
  };

  app.addHook('onSend', (req, reply, payload, done) => {
    if (isRead(req.method) || recorded.has(req) || !audited(req)) {
      done(null, payload);
      return;
    }
    recorded.add(req);
    const input = auditInput(req, reply.statusCode, payload, known, opts.pseudonym);
    opts.monitor?.observe(observationOf(input, reply.statusCode));
    audit.recordDurable(input).then(
      () => done(null, payload),
      (err: unknown) => {
        req.log.error({ err: { name: (err as Error).name, message: (err as Error).message }, route: req.routeOptions.url }, 'audit entry not stored');
        done(new EnsembleError('ENSEMBLE_ERR_AUDIT_UNAVAILABLE'));
      },
    );
  });

  app.addHook('onResponse', (req, reply, done) => {
    if (isRead(req.method) && !recorded.has(req) && audited(req)) {
      recorded.add(req);
      try {
        const input = auditInput(req, reply.statusCode, null, known, opts.pseudonym);
        opts.monitor?.observe(observationOf(input, reply.statusCode));
        audit.recordRead(input);
      } catch (err) {
        // Only after close: a hook must not throw once the answer is gone.
        req.log.error({ err: { name: (err as Error).name, message: (err as Error).message } }, 'audit entry not recorded');
      }
    }
    done();
  });
}

function isRead(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

function audited(req: FastifyRequest): boolean {
  const path = req.url.split('?')[0] ?? '';
  return path.startsWith('/api/') && !NOT_AUDITED.has(path) && !NOT_AUDITED.has(req.routeOptions.url ?? '');
}

/** The audit entry of a request that ended with `status`; `payload` is the answer (mutations only). */
export function auditInput(
  req: FastifyRequest, status: number, payload: unknown, known: (ws: string) => boolean,
  pseudonym: (workspaceId: string, profileId: string) => string = (_ws, id) => id,
): AuditInput {
  const pattern = req.routeOptions.url ?? '(no route)';
  const action = `${req.method} ${pattern}`;
  if (status === 401) {
    return { workspaceId: SYSTEM_CHAIN, actor: 'anonymous', action, resource: pattern, detail: { status, credential: credentialKind(req.headers.authorization) } };
  }
  const params = stringParams(req.params);
  const ws = params.ws !== undefined && known(params.ws) ? params.ws : SYSTEM_CHAIN;
  for (const k of Object.keys(params)) if (isProfileParam(pattern, k)) params[k] = pseudonym(ws, params[k] as string);
  const detail: AuditDetail = { status, params };
  // The role acted with (users and API keys are named by id in `actor`; a role can change later).
  const role = roleOf(req);
  if (role !== null) detail.role = role;
  const query = req.query !== null && typeof req.query === 'object' ? (req.query as Record<string, unknown>) : {};
  const keys = Object.keys(query).sort();
  if (keys.length > 0) detail.queryKeys = keys;
  if (status < 400) {
    const safe: AuditDetail = {};
    for (const k of keys) {
      const v = query[k];
      if (SAFE_QUERY.has(k) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) safe[k] = k === 'profileId' ? pseudonym(ws, String(v)) : v;
    }
    if (Object.keys(safe).length > 0) detail.query = safe;
    if (action.includes('/profiles/') || PERSONAL_DATA_ROUTES.has(action)) {
      detail.personalData = true;
      // Masked (reader token) or in clear (admin token): what a regulator asks first.
      detail.inClear = canSeePersonalData(req);
    }
  }
  const created = status === 201 ? createdId(payload) : null;
  if (created !== null) detail.createdId = created;
  return { workspaceId: ws, actor: actorOf(req), action, resource: fillPattern(pattern, params), detail };
}

function stringParams(params: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (params === null || typeof params !== 'object') return out;
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** `/api/workspaces/:ws/profiles/:profileId` with its values: the resource acted on. */
function fillPattern(pattern: string, params: Record<string, string>): string {
  return pattern.replace(/:([A-Za-z0-9_]+)/g, (m, name: string) => (params[name] === undefined ? m : encodeURIComponent(params[name])));
}

/** The id of what a 201 created (a workspace, source, segment...), so the log says which. */
function createdId(payload: unknown): string | null {
  if (typeof payload !== 'string' || payload.length > 1_000_000) return null;
  let body: JsonValue;
  try {
    body = JSON.parse(payload) as JsonValue;
  } catch {
    return null;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const id = body.id;
  return typeof id === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(id) ? id : null;
}

/** What a refused caller presented, never the value itself. */
function credentialKind(header: string | undefined): 'none' | 'bearer' | 'other' {
  if (!header) return 'none';
  return header.slice(0, 7).toLowerCase() === 'bearer ' ? 'bearer' : 'other';
}
