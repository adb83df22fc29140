/**
 * The changes one processor batch makes to profiles, kept apart from `ProfileMemory` until the
 * batch has committed: if the commit fails, the batch is retried from unchanged memory.
 *
 * @example
 *   const tx = new ProfileTx(memory);
 *   const p = tx.profile(id); p.eventCount++;
 *   await store.commitBatch({ ...tx.changes(), events, cursor });
 *   tx.apply();
 */
import type { IdentityRecord, MergeRecord, ProfileState } from '../protocol/profile.js';
import { identityKey, type ProfileMemory } from './profile-memory.js';

export class ProfileTx {
  private readonly profiles = new Map<string, ProfileState>();
  private readonly identities = new Map<string, IdentityRecord>();
  private readonly merges: MergeRecord[] = [];
  /** profile id → identity records this batch points at it (an index for identifiersOf). */
  private readonly addedBy = new Map<string, Map<string, IdentityRecord>>();

  constructor(private readonly memory: ProfileMemory) {}

  /** A writable copy of the profile (copied from memory on first touch), or undefined. */
  profile(id: string): ProfileState | undefined {
    const mine = this.profiles.get(id);
    if (mine) return mine;
    const base = this.memory.profiles.get(id);
    if (!base) return undefined;
    const copy: ProfileState = { ...base, traits: { ...base.traits } };
    this.profiles.set(id, copy);
    return copy;
  }

  /** The live profile behind `id`, following merges made in this batch or before. */
  live(id: string): ProfileState | undefined {
    let p = this.profile(id);
    for (let hops = 0; p?.mergedInto && hops < 64; hops++) p = this.profile(p.mergedInto);
    return p;
  }

  create(p: ProfileState): ProfileState {
    this.profiles.set(p.id, p);
    return p;
  }

  /** The profile id an identifier points to (not following merges), or undefined. */
  owner(workspaceId: string, type: string, value: string): string | undefined {
    const key = identityKey(workspaceId, type, value);
    return this.identities.get(key)?.profileId ?? this.memory.identities.get(key);
  }

  /** Identifiers of a profile as they will be after this batch. */
  identifiersOf(profileId: string): Array<{ type: string; value: string }> {
    const ws = this.profiles.get(profileId)?.workspaceId ?? this.memory.profiles.get(profileId)?.workspaceId ?? '';
    // Identifiers this batch re-pointed are listed from the batch's own records only.
    const kept = (this.memory.identifiersOf.get(profileId) ?? []).filter((i) => !this.identities.has(identityKey(ws, i.type, i.value)));
    const added = [...(this.addedBy.get(profileId)?.values() ?? [])].map((r) => ({ type: r.type, value: r.value }));
    return [...kept, ...added];
  }

  setIdentity(r: IdentityRecord): void {
    const key = identityKey(r.workspaceId, r.type, r.value);
    const previous = this.identities.get(key);
    if (previous) this.addedBy.get(previous.profileId)?.delete(key);
    this.identities.set(key, r);
    const mine = this.addedBy.get(r.profileId) ?? new Map<string, IdentityRecord>();
    mine.set(key, r);
    this.addedBy.set(r.profileId, mine);
  }

  merge(m: MergeRecord): void {
    this.merges.push(m);
  }

  changes(): { profiles: ProfileState[]; identities: IdentityRecord[]; merges: MergeRecord[] } {
    return { profiles: [...this.profiles.values()], identities: [...this.identities.values()], merges: [...this.merges] };
  }

  /** Makes the batch's changes visible in memory; call only after the batch committed. */
  apply(): void {
    for (const p of this.profiles.values()) this.memory.putProfile(p);
    for (const r of this.identities.values()) this.memory.setIdentity(r);
  }
}
