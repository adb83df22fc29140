/** Profiles, the identifiers that point to them, and the merges between them. */
import { Type } from '@sinclair/typebox';

/** Identifier types the resolver links today. The identity engine makes this configurable. */
export const IDENTIFIER_TYPES = ['user_id', 'anonymous_id', 'email'] as const;
export type IdentifierType = (typeof IDENTIFIER_TYPES)[number];

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

export interface IdentityRecord {
  workspaceId: string;
  type: IdentifierType;
  value: string;
  profileId: string;
  firstSeen: number;
}

export interface MergeRecord {
  workspaceId: string;
  fromProfile: string;
  intoProfile: string;
  at: number;
  messageId: string;
  rule: string;
}

export const ProfileView = Type.Object({
  id: Type.String(),
  identifiers: Type.Array(Type.Object({ type: Type.String(), value: Type.String() })),
  traits: Type.Record(Type.String(), Type.Unknown()),
  traitSources: Type.Record(Type.String(), Type.Object({ sourceId: Type.String(), messageId: Type.String(), at: Type.String() })),
  mergedFrom: Type.Array(Type.String()),
  firstSeen: Type.String({ format: 'date-time' }),
  lastSeen: Type.String({ format: 'date-time' }),
  eventCount: Type.Integer(),
});
