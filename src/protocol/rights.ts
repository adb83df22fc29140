/**
 * Data-subject rights requests (GDPR arts. 15–22): what a DPO files for a person, its status,
 * its one-month due date (art. 12(3)) and its trail. A request names the person by one
 * identifier; only its type and a keyed hash are kept with the request, never the value.
 */
import { Type, type Static } from '@sinclair/typebox';

export const RIGHTS_TYPES = ['access', 'portability', 'rectification', 'erasure', 'restriction', 'objection'] as const;
export type RightsType = (typeof RIGHTS_TYPES)[number];

export const RIGHTS_STATUSES = ['received', 'completed', 'rejected'] as const;
export type RightsStatus = (typeof RIGHTS_STATUSES)[number];

export interface RightsTrailEntry {
  at: number;
  status: RightsStatus;
  note: string;
}

export interface RightsRequest {
  id: string;
  workspaceId: string;
  type: RightsType;
  /** The identifier's type; its value is never stored with the request. */
  identifierType: string;
  status: RightsStatus;
  receivedAt: number;
  dueAt: number;
  completedAt: number | null;
  /** The profile it concerns; cleared once an erasure completed (the receipt keeps counts only). */
  profileId: string | null;
  /** What was done: counts for an erasure, the purposes objected to, the traits rectified... */
  result: Record<string, unknown>;
  trail: RightsTrailEntry[];
}

export const RightsRequestInput = Type.Object({
  type: Type.Union(RIGHTS_TYPES.map((t) => Type.Literal(t))),
  identifier: Type.Object({ type: Type.String({ minLength: 1, maxLength: 64 }), value: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false }),
  /** objection: the purposes objected to (default: every purpose based on consent or legitimate interest). */
  purposes: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 64, uniqueItems: true })),
  /** rectification: the corrected traits (null removes one). */
  traits: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.Unknown(), { maxProperties: 100 })),
  /** restriction: `lift` ends a restriction in force. */
  lift: Type.Optional(Type.Boolean()),
  /** Free text for the trail (how the person was verified, the ticket...). No personal data, please. */
  note: Type.Optional(Type.String({ maxLength: 2000 })),
}, { additionalProperties: false });
export type RightsRequestInputT = Static<typeof RightsRequestInput>;

export const RightsRequestView = Type.Object({
  id: Type.String(),
  type: Type.String(),
  identifierType: Type.String(),
  status: Type.String(),
  receivedAt: Type.String({ format: 'date-time' }),
  dueAt: Type.String({ format: 'date-time' }),
  completedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  profileId: Type.Union([Type.String(), Type.Null()]),
  result: Type.Record(Type.String(), Type.Unknown()),
  trail: Type.Array(Type.Object({ at: Type.String({ format: 'date-time' }), status: Type.String(), note: Type.String() })),
  /** access / portability: where to download the bundle. */
  bundle: Type.Optional(Type.String()),
});

export function rightsRequestView(r: RightsRequest): Static<typeof RightsRequestView> {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: r.id, type: r.type, identifierType: r.identifierType, status: r.status, receivedAt: iso(r.receivedAt), dueAt: iso(r.dueAt),
    completedAt: r.completedAt === null ? null : iso(r.completedAt), profileId: r.profileId, result: r.result,
    trail: r.trail.map((t) => ({ at: iso(t.at), status: t.status, note: t.note })),
    ...((r.type === 'access' || r.type === 'portability') && r.status === 'completed' && r.profileId
      ? { bundle: `/api/workspaces/${r.workspaceId}/privacy/requests/${r.id}/bundle` } : {}),
  };
}
