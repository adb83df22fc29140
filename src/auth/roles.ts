/**
 * Roles and what each may do: one table, read by the route policy (route-policy.ts) on the server
 * and returned to the console by `GET /api/auth/me` (`permissions`) so it can hide what the server
 * would refuse anyway. The console hiding a button is a courtesy; the server's 403 is the rule.
 *
 * @example
 *   can('marketer', 'segments.write');   // true
 *   can('marketer', 'privacy.read');     // false: only admin and dpo
 *   permissionsOf('viewer');             // ['workspaces.read', 'sources.read', ...]
 */

export const ROLES = ['admin', 'dpo', 'marketer', 'analyst', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

const ALL: readonly Role[] = ROLES;
const ADMIN_DPO: readonly Role[] = ['admin', 'dpo'];
const ADMIN: readonly Role[] = ['admin'];
const BUILDERS: readonly Role[] = ['admin', 'marketer'];
const BUILDERS_ANALYST: readonly Role[] = ['admin', 'marketer', 'analyst'];

/**
 * The permission matrix. Reads of non-privacy data are open to every role; personal identifiers
 * in clear, privacy settings, rights requests, breaches and the audit log belong to admin and dpo
 * (least privilege: the people whose job is to protect the data, GDPR art. 32 and 39).
 */
export const MATRIX = {
  /** Workspaces, sources, destination types: what exists. */
  'workspaces.read': ALL,
  'workspaces.write': ADMIN,
  'sources.read': ALL,
  /** Create and edit sources, rotate write keys, inbound hooks. */
  'sources.write': BUILDERS,
  /** File imports (CSV, NDJSON, Parquet, CRM) into a source. */
  'imports.write': BUILDERS,
  /** Profiles, their events, identity graph, segments and consents, with personal identifiers masked. */
  'profiles.read': ALL,
  /** The same with personal identifiers in clear. */
  'personal-data.clear': ADMIN_DPO,
  /** Split a profile's identity graph, record a consent decision on someone's behalf. */
  'profiles.write': ADMIN_DPO,
  /** The identity rules of a workspace (which identifiers link people). */
  'identity-config.read': ALL,
  'identity-config.write': ADMIN,
  'segments.read': ALL,
  'segments.write': BUILDERS_ANALYST,
  /** Approve a segment that reads special-category data (GDPR art. 9). */
  'segments.approve': ADMIN_DPO,
  'computed-traits.read': ALL,
  'computed-traits.write': BUILDERS_ANALYST,
  'journeys.read': ALL,
  /** Journeys, the marketing-pressure policy, triggers. */
  'journeys.write': BUILDERS,
  'destinations.read': ALL,
  /** Destinations, test deliveries, dead-letter replay, personalisation settings. */
  'destinations.write': BUILDERS,
  'geofences.read': ALL,
  'geofences.write': BUILDERS,
  'external-sources.read': ALL,
  'external-sources.write': BUILDERS,
  'models.read': ALL,
  'models.write': BUILDERS_ANALYST,
  'analytics.read': ALL,
  /** Purposes, consent mapping, retention, register, sensitive data, security events, breaches. */
  'privacy.read': ADMIN_DPO,
  'privacy.write': ADMIN_DPO,
  /** Data-subject rights requests (access, erasure, ...). */
  'privacy.requests': ADMIN_DPO,
  /** Read and verify the audit log. */
  'audit.read': ADMIN_DPO,
  'users.manage': ADMIN,
  'api-keys.manage': ADMIN,
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof MATRIX;
export const PERMISSIONS = Object.keys(MATRIX) as Permission[];

export function can(role: Role, permission: Permission): boolean {
  return (MATRIX[permission] as readonly Role[]).includes(role);
}

export function permissionsOf(role: Role): Permission[] {
  return PERMISSIONS.filter((p) => can(role, p));
}
