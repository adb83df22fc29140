/**
 * The changes one processor batch (or one rebuild) makes to profiles, kept apart from
 * `ProfileMemory` until they have committed: if the commit fails, the batch is retried from
 * unchanged memory.
 *
 * A rebuild (split) replays the events of some profiles as if those profiles had never existed:
 * they are `hidden`, so their identifiers read as unknown until the replay links them again.
 *
 * @example
 *   const tx = new ProfileTx(memory);
 *   const p = tx.profile(id); p.eventCount++;
 *   await store.commitBatch({ ...tx.changes(), events, cursor });
 *   tx.apply();
 */
import type { IdentityLogEntry, IdentityRecord, MergeRecord, ProfileState } from '../protocol/profile.js';
import { identityKey, type ProfileMemory } from './profile-memory.js';

export class ProfileTx {
  private readonly profiles = new Map<string, ProfileState>();
  private readonly identities = new Map<string, IdentityRecord>();
  private readonly merges: MergeRecord[] = [];
  private readonly log: IdentityLogEntry[] = [];
  /** profile id → keys of identifiers this tx points at it (an index for identifiersOf). */
  private readonly addedBy = new Map<string, Set<string>>();

  constructor(private readonly memory: ProfileMemory, private readonly hidden: ReadonlySet<string> = new Set()) {}

  /** True while replaying hidden profiles (identifiers of other profiles are out of reach). */
  get rebuilding(): boolean {
    return this.hidden.size > 0;
  }

  /** A writable copy of the profile (copied from memory on first touch), or undefined. */
  profile(id: string): ProfileState | undefined {
    const mine = this.profiles.get(id);
    if (mine) return mine;
    if (this.hidden.has(id)) return undefined;
    const base = this.memory.profiles.get(id);
    if (!base) return undefined;
    const copy: ProfileState = { ...base, traits: { ...base.traits } };
    this.profiles.set(id, copy);
    return copy;
  }

  /** The live profile behind `id`, following merges made in this tx or before. */
  live(id: string): ProfileState | undefined {
    let p = this.profile(id);
    for (let hops = 0; p?.mergedInto && hops < 64; hops++) p = this.profile(p.mergedInto);
    return p;
  }

  create(p: ProfileState): ProfileState {
    this.profiles.set(p.id, p);
    return p;
  }

  /** The record of an identifier as of this tx (undefined when unknown or hidden). */
  record(workspaceId: string, type: string, hash: string): IdentityRecord | undefined {
    return this.recordByKey(identityKey(workspaceId, type, hash));
  }

  /** The same, by identity key (callers that already built it save a string per lookup). */
  recordByKey(key: string): IdentityRecord | undefined {
    const mine = this.identities.get(key);
    if (mine) return mine;
    const base = this.memory.identities.get(key);
    return base && !this.hidden.has(base.profileId) ? base : undefined;
  }

  /** During a rebuild: whether the identifier belongs to a profile outside it (out of its reach). */
  ownedOutside(key: string): boolean {
    if (!this.rebuilding) return false;
    if (this.identities.has(key)) return false;
    const base = this.memory.identities.get(key);
    return base !== undefined && !this.hidden.has(base.profileId);
  }

  /** Identifier keys of a profile as they will be after this tx. */
  identifierKeys(profileId: string): string[] {
    const kept = this.hidden.has(profileId) ? [] : (this.memory.identifiersOf.get(profileId) ?? []).filter((k) => !this.identities.has(k));
    return [...kept, ...(this.addedBy.get(profileId) ?? [])];
  }

  setIdentity(r: IdentityRecord): void {
    const key = identityKey(r.workspaceId, r.type, r.hash);
    const previous = this.identities.get(key);
    if (previous) this.addedBy.get(previous.profileId)?.delete(key);
    this.identities.set(key, r);
    const mine = this.addedBy.get(r.profileId) ?? new Set<string>();
    mine.add(key);
    this.addedBy.set(r.profileId, mine);
  }

  merge(m: MergeRecord): void {
    this.merges.push(m);
  }

  note(entry: IdentityLogEntry): void {
    this.log.push(entry);
  }

  changes(): { profiles: ProfileState[]; identities: IdentityRecord[]; merges: MergeRecord[]; identityLog: IdentityLogEntry[] } {
    return { profiles: [...this.profiles.values()], identities: [...this.identities.values()], merges: [...this.merges], identityLog: [...this.log] };
  }

  /** Makes the changes visible in memory; call only after they committed. */
  apply(): void {
    for (const p of this.profiles.values()) this.memory.putProfile(p);
    for (const r of this.identities.values()) this.memory.setIdentity(r);
  }
}
