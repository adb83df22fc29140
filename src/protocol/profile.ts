/** Profiles, the identifiers that point to them, the identity log and the merges between them. */
import { Type } from '@sinclair/typebox';

/** One trait's value and where it came from (access requests show the source). */
export interface TraitValue {
  value: unknown;
  /** Event time of the write; a later event wins, whatever order events arrive in. */
  at: number;
  sourceId: string;
  messageId: string;
}

export interface ProfileState {
  id: string;
  workspaceId: string;
  traits: Record<string, TraitValue>;
  firstSeen: number;
  lastSeen: number;
  eventCount: number;
  /** Set when this profile was merged into another; the other one is the live profile. */
  mergedInto: string | null;
}

/**
 * An identifier linked to a profile. Looked up by `hash` (a keyed HMAC of the normalised value);
 * the clear value is kept only for non-personal types, personal ones are `sealed` with the data
 * key of the profile `keyOwner` (the profile it was first linked to).
 */
export interface IdentityRecord {
  workspaceId: string;
  type: string;
  hash: string;
  value: string | null;
  sealed: string | null;
  keyOwner: string | null;
  profileId: string;
  firstSeen: number;
}

/** One entry of the identity log: why an identifier was linked to a profile, or not. */
export interface IdentityLogEntry {
  workspaceId: string;
  seq: bigint;
  messageId: string;
  at: number;
  action: 'link' | 'drop';
  type: string;
  hash: string;
  /** The profile it was linked to (link) or stayed with (drop; null when it stayed unlinked). */
  profileId: string | null;
  rule: string;
  /** Where in the event it came from, and for a drop, what the conflict was. */
  detail: string;
}

export interface MergeRecord {
  workspaceId: string;
  fromProfile: string;
  intoProfile: string;
  at: number;
  seq: bigint;
  messageId: string;
  rule: string;
  /** The identifiers of the event that pointed to each profile: `type:hash` → profile id. */
  via: Record<string, string>;
}

export const ProfileView = Type.Object({
  id: Type.String(),
  /** `value` is null for a personal identifier when the caller may not see personal data. */
  identifiers: Type.Array(Type.Object({ type: Type.String(), value: Type.Union([Type.String(), Type.Null()]), hash: Type.String() })),
  traits: Type.Record(Type.String(), Type.Unknown()),
  /** Computed traits (counts, sums... over the profile's events), as of now. */
  computed: Type.Record(Type.String(), Type.Unknown()),
  traitSources: Type.Record(Type.String(), Type.Object({ sourceId: Type.String(), messageId: Type.String(), at: Type.String() })),
  mergedFrom: Type.Array(Type.String()),
  firstSeen: Type.String({ format: 'date-time' }),
  lastSeen: Type.String({ format: 'date-time' }),
  eventCount: Type.Integer(),
});
