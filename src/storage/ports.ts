/**
 * Storage ports: the small interfaces the rest of Ensemble depends on. The embedded default
 * implements them on DuckDB (`duckdb/`); scale-out adapters (PostgreSQL, ClickHouse, NATS)
 * implement the same contracts and run the same contract tests (`test/contract/`).
 *
 * Every method takes or returns rows scoped by `workspaceId`.
 */
import type { ProcessedEvent } from '../protocol/event.js';
import type { ProfileState, MergeRecord, IdentityRecord, IdentityLogEntry } from '../protocol/profile.js';
import type { Barrier } from '../identity/barriers.js';
import type { Source, Workspace } from '../protocol/workspace.js';
import type { ConsentRecord } from '../protocol/privacy.js';
import type { AnonymousCount, LiftedSuppression } from '../privacy/consent-step.js';

/** One accepted event in the durable log. `payload` is the JSON of a `CollectedEvent`. */
export interface LogRecord {
  seq: bigint;
  workspaceId: string;
  messageId: string;
  receivedAt: number;
  payload: string;
}

/** Which log records an erasure removes. */
export interface LogErasure {
  messageIds: ReadonlySet<string>;
  needles: readonly string[];
}

/** The durable, ordered log the collector appends to and the processor consumes. */
export interface EventLog {
  /**
   * Appends records durably: resolves only after the commit, and a rejected append stored none
   * of them. After a crash, a group that was never acknowledged may be partly present: callers
   * dedupe on messageId, so the client's retry does not duplicate it.
   */
  append(records: readonly LogRecord[]): Promise<void>;
  /** Records with seq > `afterSeq`, in seq order, at most `limit`. */
  readAfter(afterSeq: bigint, limit: number): Promise<LogRecord[]>;
  /** The highest seq in the log (0n when empty; after a prune, the caller also knows its cursor). */
  lastSeq(): Promise<bigint>;
  /** (workspaceId, messageId) pairs received at or after `sinceMs`, for the dedupe index. */
  recentMessageIds(sinceMs: number): Promise<Array<[string, string]>>;
  /**
   * Erasure: deletes the workspace's records with one of these messageIds, or whose payload
   * contains one of the needles (identifiers as JSON strings); returns how many.
   */
  erase(workspaceId: string, match: LogErasure): Promise<number>;
  /** Deletes records with seq ≤ `uptoSeq` received before `beforeMs` (already processed); may keep more. */
  prune(uptoSeq: bigint, beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

export interface ConfigStore {
  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): Promise<void>;
  deleteSetting(key: string): Promise<void>;
  listWorkspaces(): Promise<Workspace[]>;
  insertWorkspace(ws: Workspace): Promise<void>;
  listSources(): Promise<Source[]>;
  insertSource(source: Source): Promise<void>;
  updateSourceKeys(source: Source): Promise<void>;
  /** Name, purposes, data categories and consent mode. */
  updateSourceDeclaration(source: Source): Promise<void>;
  workspaceSettings(key: string): Promise<Map<string, string>>;
  setWorkspaceSetting(workspaceId: string, key: string, value: string): Promise<void>;
}

/** A profile's data key, wrapped, to persist with the batch that created it. */
export interface NewProfileKey {
  workspaceId: string;
  profileId: string;
  wrapped: string;
}

/** A profile as stored: its traits as JSON text, personal values already sealed. */
export type StoredProfile = Omit<ProfileState, 'traits'> & { traitsJson: string };

/** What a batch or a rebuild changes in profiles and identities. */
export interface IdentityChanges {
  profiles: readonly StoredProfile[];
  identities: readonly IdentityRecord[];
  merges: readonly MergeRecord[];
  identityLog: readonly IdentityLogEntry[];
  keys: readonly NewProfileKey[];
}

/** Everything one processed micro-batch changes, committed in one transaction with the cursor. */
export interface ProcessedBatch extends IdentityChanges {
  /** The log seq up to which this batch consumed (the new cursor). */
  cursor: bigint;
  events: readonly ProcessedEvent[];
  /** Consent decisions the batch's events carried (privacy/consent-step.ts). */
  consents?: readonly ConsentRecord[];
  /** Events of strict sources kept only as counts. */
  anonymous?: readonly AnonymousCount[];
  /** Suppressions lifted by a returning person's consent. */
  liftedSuppressions?: readonly LiftedSuppression[];
}

/** What a split changes: the replayed profiles replaced, each replayed event re-attached. */
export interface RebuildBatch extends IdentityChanges {
  workspaceId: string;
  /** Every profile id the rebuild replaced (their identities and merges are deleted first). */
  replacedProfiles: readonly string[];
  /** Replayed events: their new profile, and pseudonymised traits/context when they changed. */
  events: ReadonlyArray<{ seq: bigint; profileId: string; traits?: Record<string, unknown>; context?: Record<string, unknown> }>;
  barriers: readonly Barrier[];
}

/** A stored event, as much of it as identity resolution, traits and computed traits need. */
export interface ReplayEvent {
  seq: bigint;
  messageId: string;
  /** The profile the event was attached to when it was processed. */
  profileId: string;
  type: string;
  event: string | null;
  name: string | null;
  anonymousId: string | null;
  userId: string | null;
  previousId: string | null;
  sourceId: string;
  timestamp: string;
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
  properties: Record<string, unknown>;
}

export interface ProcessingStore {
  cursor(): Promise<bigint>;
  commitBatch(batch: ProcessedBatch): Promise<void>;
  commitRebuild(batch: RebuildBatch): Promise<void>;
  /** Keeps a record the processor cannot handle, with the reason, and moves the cursor past it (one transaction). */
  deadLetter(record: LogRecord, reason: string): Promise<void>;
  loadProfiles(): Promise<StoredProfile[]>;
  loadIdentities(): Promise<IdentityRecord[]>;
  loadKeys(): Promise<Array<{ workspaceId: string; profileId: string; wrapped: string }>>;
  loadBarriers(): Promise<Barrier[]>;
  identityHistory(workspaceId: string, profileIds: readonly string[]): Promise<{ log: IdentityLogEntry[]; merges: MergeRecord[] }>;
  replayEvents(workspaceId: string, profileIds: readonly string[]): Promise<ReplayEvent[]>;
  profileIdsWithEvents(workspaceId: string): Promise<string[]>;
}

/** A page of a profile's events, newest first. */
export interface EventPage {
  events: StoredEventView[];
  nextCursor: string | null;
}

/** An event as the API shows it. */
export interface StoredEventView {
  messageId: string;
  type: string;
  event: string | null;
  name: string | null;
  timestamp: string;
  receivedAt: string;
  sourceId: string;
  profileId: string;
  properties: unknown;
  traits: unknown;
  context: unknown;
  consent: unknown;
  enrichment: Record<string, unknown>;
}

export interface EventStore {
  /** Events of the given profile ids, newest first, keyset-paginated by an opaque cursor. */
  eventsOfProfiles(workspaceId: string, profileIds: readonly string[], limit: number, cursor: string | null): Promise<EventPage>;
  /** (workspaceId, messageId) pairs of stored events received at or after `sinceMs`. */
  recentMessageIds(sinceMs: number): Promise<Array<[string, string]>>;
  count(workspaceId: string): Promise<number>;
}
