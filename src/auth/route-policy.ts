/**
 * What each /api route needs: `METHOD /pattern` (the pattern as registered, e.g.
 * `/api/workspaces/:ws/segments/:id`) → a permission of the role matrix (roles.ts), or
 * `authenticated` (any logged-in caller: their own session and settings), or `public`.
 * HEAD needs what GET needs.
 *
 * Families whose every route is sensitive also have a prefix rule, so a route added there later
 * is never open by accident: anything under `/privacy/` or `/audit` needs the privacy or audit
 * permission. A route that matches neither an entry nor a family is refused to every role but
 * admin, and test/route-policy.test.ts fails until it is added here.
 *
 * @example
 *   permissionFor('GET', '/api/workspaces/:ws/privacy/register'); // 'privacy.read'
 *   permissionFor('POST', '/api/workspaces/:ws/segments');        // 'segments.write'
 */
import type { Permission } from './roles.js';

export type Requirement = Permission | 'authenticated' | 'public';

const W = '/api/workspaces/:ws';

/** One line per route and method. */
export const ROUTE_POLICY: Readonly<Record<string, Requirement>> = {
  'GET /api/openapi.json': 'public',
  'POST /api/auth/login': 'public',
  'POST /api/auth/logout': 'public',
  'GET /api/auth/me': 'authenticated',
  'PUT /api/auth/me': 'authenticated',

  'GET /api/users': 'users.manage',
  'POST /api/users': 'users.manage',
  'PATCH /api/users/:id': 'users.manage',
  'DELETE /api/users/:id': 'users.manage',
  'GET /api/api-keys': 'api-keys.manage',
  'POST /api/api-keys': 'api-keys.manage',
  'DELETE /api/api-keys/:id': 'api-keys.manage',

  'GET /api/destination-types': 'destinations.read',
  'GET /api/workspaces': 'workspaces.read',
  'POST /api/workspaces': 'workspaces.write',

  [`GET ${W}/audit`]: 'audit.read',
  [`GET ${W}/audit/verify`]: 'audit.read',

  [`GET ${W}/sources`]: 'sources.read',
  [`POST ${W}/sources`]: 'sources.write',
  [`PATCH ${W}/sources/:sourceId`]: 'sources.write',
  [`POST ${W}/sources/:sourceId/rotate-key`]: 'sources.write',
  [`POST ${W}/sources/:sourceId/imports`]: 'imports.write',
  [`POST ${W}/sources/:sourceId/imports/crm`]: 'imports.write',
  [`GET ${W}/sources/:sourceId/imports/:jobId`]: 'sources.read',
  [`POST ${W}/sources/:sourceId/hooks`]: 'sources.write',
  [`GET ${W}/hooks`]: 'sources.read',
  [`DELETE ${W}/hooks/:hookId`]: 'sources.write',
  [`GET ${W}/sources/:sourceId/debugger`]: 'sources.read',
  [`GET ${W}/sources/:sourceId/debugger/recent`]: 'sources.read',

  [`GET ${W}/segments`]: 'segments.read',
  [`POST ${W}/segments`]: 'segments.write',
  // A count of a draft definition: changes nothing, so a read.
  [`POST ${W}/segments/preview`]: 'segments.read',
  [`GET ${W}/segments/overlap`]: 'segments.read',
  [`POST ${W}/segments/lists`]: 'segments.write',
  [`GET ${W}/segments/:id`]: 'segments.read',
  [`PUT ${W}/segments/:id`]: 'segments.write',
  [`DELETE ${W}/segments/:id`]: 'segments.write',
  [`POST ${W}/segments/:id/approve`]: 'segments.approve',
  [`GET ${W}/segments/:id/members`]: 'segments.read',
  [`GET ${W}/segments/:id/explain`]: 'segments.read',
  [`GET ${W}/segments/:id/sizes`]: 'segments.read',
  [`GET ${W}/segments/:id/changes`]: 'segments.read',
  [`POST ${W}/segments/:id/reconcile`]: 'segments.write',
  [`GET ${W}/segment-changes`]: 'segments.read',

  [`GET ${W}/profiles`]: 'profiles.read',
  [`GET ${W}/profiles/lookup`]: 'profiles.read',
  [`GET ${W}/profiles/:profileId`]: 'profiles.read',
  [`GET ${W}/profiles/:profileId/events`]: 'profiles.read',
  [`GET ${W}/profiles/:profileId/identity`]: 'profiles.read',
  [`GET ${W}/profiles/:profileId/journeys`]: 'profiles.read',
  [`POST ${W}/profiles/:profileId/split`]: 'profiles.write',
  [`GET ${W}/profiles/:id/segments`]: 'profiles.read',
  [`GET ${W}/profiles/:profileId/consents`]: 'profiles.read',
  [`PUT ${W}/profiles/:profileId/consents`]: 'profiles.write',
  [`GET ${W}/profiles/:profileId/scores`]: 'profiles.read',

  [`GET ${W}/identity-config`]: 'identity-config.read',
  [`PUT ${W}/identity-config`]: 'identity-config.write',

  [`GET ${W}/computed-traits`]: 'computed-traits.read',
  [`POST ${W}/computed-traits`]: 'computed-traits.write',
  [`GET ${W}/computed-traits/:id`]: 'computed-traits.read',
  [`DELETE ${W}/computed-traits/:id`]: 'computed-traits.write',

  [`GET ${W}/destinations`]: 'destinations.read',
  [`POST ${W}/destinations`]: 'destinations.write',
  [`GET ${W}/destinations/:id`]: 'destinations.read',
  [`PUT ${W}/destinations/:id`]: 'destinations.write',
  [`DELETE ${W}/destinations/:id`]: 'destinations.write',
  [`POST ${W}/destinations/:id/test`]: 'destinations.write',
  [`GET ${W}/destinations/:id/stats`]: 'destinations.read',
  [`GET ${W}/destinations/:id/dead-letters`]: 'destinations.read',
  [`POST ${W}/destinations/:id/dead-letters`]: 'destinations.write',
  [`GET ${W}/triggers`]: 'destinations.read',
  [`POST ${W}/triggers`]: 'destinations.write',
  [`GET ${W}/triggers/:id`]: 'destinations.read',
  [`PUT ${W}/triggers/:id`]: 'destinations.write',
  [`DELETE ${W}/triggers/:id`]: 'destinations.write',
  [`GET ${W}/personalization`]: 'destinations.read',
  [`PUT ${W}/personalization`]: 'destinations.write',

  [`GET ${W}/journeys`]: 'journeys.read',
  [`POST ${W}/journeys`]: 'journeys.write',
  [`GET ${W}/journeys/:id`]: 'journeys.read',
  [`PUT ${W}/journeys/:id`]: 'journeys.write',
  [`GET ${W}/journeys/:id/simulate`]: 'journeys.read',
  [`GET ${W}/journeys/:id/stats`]: 'journeys.read',
  [`POST ${W}/journeys/:id/:action`]: 'journeys.write',
  [`GET ${W}/pressure-policy`]: 'journeys.read',
  [`PUT ${W}/pressure-policy`]: 'journeys.write',

  [`GET ${W}/geofences`]: 'geofences.read',
  [`POST ${W}/geofences`]: 'geofences.write',
  [`GET ${W}/geofences/:id`]: 'geofences.read',
  [`PUT ${W}/geofences/:id`]: 'geofences.write',
  [`DELETE ${W}/geofences/:id`]: 'geofences.write',

  [`GET ${W}/external-sources`]: 'external-sources.read',
  [`POST ${W}/external-sources`]: 'external-sources.write',
  [`GET ${W}/external-sources/:id`]: 'external-sources.read',
  [`PATCH ${W}/external-sources/:id`]: 'external-sources.write',
  [`DELETE ${W}/external-sources/:id`]: 'external-sources.write',
  [`POST ${W}/external-sources/:id/pull`]: 'external-sources.write',
  [`GET ${W}/external-sources/:id/values`]: 'external-sources.read',

  [`GET ${W}/analytics/overview`]: 'analytics.read',
  [`GET ${W}/analytics/events/trend`]: 'analytics.read',
  [`GET ${W}/analytics/events/names`]: 'analytics.read',
  // A report over a posted definition: changes nothing.
  [`POST ${W}/analytics/funnel`]: 'analytics.read',
  [`GET ${W}/analytics/campaigns`]: 'analytics.read',
  [`GET ${W}/analytics/attribution`]: 'analytics.read',
  // Aggregates per purpose, no person in them: a marketing metric as much as a privacy one.
  [`GET ${W}/analytics/consent-rates`]: 'analytics.read',

  [`GET ${W}/models`]: 'models.read',
  [`POST ${W}/models`]: 'models.write',
  [`GET ${W}/models/:id`]: 'models.read',
  [`PATCH ${W}/models/:id`]: 'models.write',
  [`DELETE ${W}/models/:id`]: 'models.write',
  [`POST ${W}/models/:id/train`]: 'models.write',
  [`GET ${W}/models/:id/scores`]: 'models.read',
  [`GET ${W}/models/:id/distribution`]: 'models.read',

  [`GET ${W}/privacy/purposes`]: 'privacy.read',
  [`PUT ${W}/privacy/purposes/:purposeId`]: 'privacy.write',
  [`GET ${W}/privacy/consent-mapping`]: 'privacy.read',
  [`PUT ${W}/privacy/consent-mapping`]: 'privacy.write',
  [`GET ${W}/privacy/controller`]: 'privacy.read',
  [`PUT ${W}/privacy/controller`]: 'privacy.write',
  [`GET ${W}/privacy/retention`]: 'privacy.read',
  [`PUT ${W}/privacy/retention`]: 'privacy.write',
  [`POST ${W}/privacy/retention/run`]: 'privacy.write',
  [`GET ${W}/privacy/register`]: 'privacy.read',
  [`GET ${W}/privacy/requests`]: 'privacy.requests',
  [`POST ${W}/privacy/requests`]: 'privacy.requests',
  [`GET ${W}/privacy/requests/:id`]: 'privacy.requests',
  [`GET ${W}/privacy/requests/:id/bundle`]: 'privacy.requests',
  [`GET ${W}/privacy/sensitive-data`]: 'privacy.read',
  [`PUT ${W}/privacy/sensitive-data`]: 'privacy.write',
  [`GET ${W}/privacy/security-events`]: 'privacy.read',
  [`GET ${W}/privacy/anonymous-counts`]: 'privacy.read',
  [`GET ${W}/privacy/breaches`]: 'privacy.read',
  [`POST ${W}/privacy/breaches`]: 'privacy.write',
  [`GET ${W}/privacy/breaches/:id`]: 'privacy.read',
  [`PATCH ${W}/privacy/breaches/:id`]: 'privacy.write',
  [`GET ${W}/privacy/breaches/:id/notification`]: 'privacy.read',
};

/**
 * Prefix families: a route under one of them that has no entry above still gets the family's
 * permission (reads and writes apart). Privacy and audit first: they must never fall open.
 */
const FAMILIES: ReadonlyArray<{ prefix: RegExp; read: Permission; write: Permission }> = [
  { prefix: /^\/api\/workspaces\/:[^/]+\/privacy\//, read: 'privacy.read', write: 'privacy.write' },
  { prefix: /^\/api\/workspaces\/:[^/]+\/audit(\/|$)/, read: 'audit.read', write: 'audit.read' },
  { prefix: /^\/api\/workspaces\/:[^/]+\/analytics\//, read: 'analytics.read', write: 'analytics.read' },
  { prefix: /^\/api\/workspaces\/:[^/]+\/models(\/|$)/, read: 'models.read', write: 'models.write' },
];

function isRead(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/** The exact entry of a route, if it has one (HEAD reads GET's). */
export function entryFor(method: string, pattern: string): Requirement | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  return ROUTE_POLICY[`${m} ${pattern}`];
}

/**
 * What `method pattern` needs: its entry, else its family's permission, else undefined (then
 * only an admin may call it).
 */
export function permissionFor(method: string, pattern: string): Requirement | undefined {
  const exact = entryFor(method, pattern);
  if (exact !== undefined) return exact;
  const family = FAMILIES.find((f) => f.prefix.test(pattern));
  if (family) return isRead(method) ? family.read : family.write;
  return undefined;
}
