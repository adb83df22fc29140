/** Shapes of the server's answers the core pages read (see docs/api/openapi.json for all of them). */

export interface SourceView {
  id: string;
  workspaceId: string;
  name: string;
  kind: string;
  writeKey: string;
  previousKeyExpiresAt: string | null;
  createdAt: string;
  purposes: string[];
  dataCategories: string[];
  consentMode: string;
}

export interface Overview {
  eventsPerDay: Array<{ day: string; count: number }>;
  profiles: number;
  activeProfiles: number;
  identifiedShare: number;
  sources: Array<{ id: string; name: string; kind: string; lastEventAt: string | null; eventsToday: number; rejectedToday: number }>;
  processingLagMs: number;
}

export type DebuggerEntry =
  | { status: 'accepted'; messageId: string; type: string; event: string | null; receivedAt: string }
  | { status: 'rejected'; code: string; message: string; receivedAt: string };

export interface ProfileListItem {
  id: string;
  createdAt: string;
  updatedAt: string;
  identifiers: Array<{ type: string; value: string | null }>;
  traitsPreview: Record<string, unknown>;
}

export interface ProfileView {
  id: string;
  identifiers: Array<{ type: string; hash: string; value: string | null }>;
  traits: Record<string, unknown>;
  computed: Record<string, unknown>;
  traitSources: Record<string, { sourceId: string; messageId: string; at: string }>;
  mergedFrom: string[];
  firstSeen: string;
  lastSeen: string;
  eventCount: number;
}

export interface LinkStep { seq: string; messageId: string; at: string; rule: string }
export interface MergeStep extends LinkStep {
  fromProfile: string;
  intoProfile: string;
  through: Array<{ type: string; hash: string; value: string | null; profileId: string }>;
}
export interface IdentityGraph {
  profileId: string;
  mergedFrom: string[];
  identifiers: Array<{ type: string; hash: string; value: string | null; linked: (LinkStep & { from: string; profileId: string }) | null; merges: MergeStep[] }>;
  refused: Array<LinkStep & { type: string; hash: string; value: string | null; from: string }>;
}

export interface SegmentView {
  id: string;
  workspaceId: string;
  name: string;
  description?: string;
  definition: unknown;
  purposes: string[];
  sensitive: string[];
  approvedAt: string | null;
  kind: 'rules' | 'list';
  size: number;
  createdAt: string;
  updatedAt: string;
}

export interface Explanation {
  condition: unknown;
  matched: boolean;
  actual?: unknown;
  children?: Explanation[];
}

export interface ConsentRecordView {
  id: string;
  purpose: string;
  status: string;
  at: string;
  recordedAt: string;
  source: string;
  proof: Record<string, unknown>;
}
