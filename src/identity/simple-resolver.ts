/**
 * Simple, safe identity rules (until the identity engine replaces them):
 * - identifiers: `user_id` (userId), `anonymous_id` (anonymousId), `email` (identify traits,
 *   lower-cased and trimmed), and for `alias`, `previousId` (as a user id or an anonymous id);
 * - an event whose identifiers point to several profiles merges them into the one holding the
 *   user id (else the oldest), recording the merge (from, into, event, rule) so it can be
 *   explained and undone;
 * - never merge two profiles that carry different user ids: that is a shared device or a shared
 *   address, not one person. The event then goes to the profile of its own user id, and the
 *   shared identifier stays with the profile that had it first.
 */
import { newId } from '../platform/ids.js';
import type { CollectedEvent } from '../protocol/event.js';
import type { IdentifierType, ProfileState } from '../protocol/profile.js';
import type { ProfileTx } from '../profiles/profile-tx.js';
import type { IdentityResolver } from './resolver.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

interface Claim {
  type: IdentifierType;
  value: string;
}

export class SimpleResolver implements IdentityResolver {
  resolve(event: CollectedEvent, eventTime: number, tx: ProfileTx): string {
    const ws = event.workspaceId;
    const claims = claimsOf(event);
    const userIdOf = (p: ProfileState): string | undefined => tx.identifiersOf(p.id).find((i) => i.type === 'user_id')?.value;

    // Candidate profiles, in claim order (user id first).
    const candidates: ProfileState[] = [];
    for (const c of claims) {
      const owner = tx.owner(ws, c.type, c.value);
      const p = owner === undefined ? undefined : tx.live(owner);
      if (p && !candidates.includes(p)) candidates.push(p);
    }
    // A profile that belongs to another user id is not this person's.
    const eventUser = event.userId ?? undefined;
    const compatible = candidates.filter((p) => {
      const u = userIdOf(p);
      return u === undefined || eventUser === undefined || u === eventUser;
    });

    let winner = compatible.find((p) => userIdOf(p) !== undefined) ?? oldest(compatible);
    if (!winner) {
      winner = tx.create({ id: newId('prof'), workspaceId: ws, traits: {}, firstSeen: eventTime, lastSeen: eventTime, eventCount: 0, mergedInto: null });
    }
    const winnerUser = (): string | undefined => userIdOf(winner as ProfileState);
    for (const other of compatible) {
      if (other.id === winner.id) continue;
      const otherUser = userIdOf(other);
      if (otherUser !== undefined && winnerUser() !== undefined && otherUser !== winnerUser()) continue;
      this.merge(other, winner, event, eventTime, tx);
    }
    for (const c of claims) {
      const owner = tx.owner(ws, c.type, c.value);
      if (owner !== undefined && tx.live(owner)?.id !== winner.id) continue; // kept by its first owner (shared)
      if (owner === undefined) tx.setIdentity({ workspaceId: ws, type: c.type, value: c.value, profileId: winner.id, firstSeen: eventTime });
    }
    return winner.id;
  }

  private merge(from: ProfileState, into: ProfileState, event: CollectedEvent, at: number, tx: ProfileTx): void {
    for (const [key, t] of Object.entries(from.traits)) {
      const mine = into.traits[key];
      if (!mine || t.at > mine.at || (t.at === mine.at && t.messageId > mine.messageId)) into.traits[key] = t;
    }
    into.firstSeen = Math.min(into.firstSeen, from.firstSeen);
    into.lastSeen = Math.max(into.lastSeen, from.lastSeen);
    into.eventCount += from.eventCount;
    from.mergedInto = into.id;
    for (const i of tx.identifiersOf(from.id)) {
      tx.setIdentity({ workspaceId: into.workspaceId, type: i.type as IdentifierType, value: i.value, profileId: into.id, firstSeen: at });
    }
    tx.merge({ workspaceId: into.workspaceId, fromProfile: from.id, intoProfile: into.id, at, messageId: event.messageId, rule: 'shared-identifier' });
  }
}

function oldest(ps: readonly ProfileState[]): ProfileState | undefined {
  return [...ps].sort((a, b) => a.firstSeen - b.firstSeen || (a.id < b.id ? -1 : 1))[0];
}

function claimsOf(e: CollectedEvent): Claim[] {
  const out: Claim[] = [];
  if (e.userId) out.push({ type: 'user_id', value: e.userId });
  if (e.anonymousId) out.push({ type: 'anonymous_id', value: e.anonymousId });
  const email = e.type === 'identify' ? e.traits.email : undefined;
  if (typeof email === 'string' && EMAIL.test(email.trim())) out.push({ type: 'email', value: email.trim().toLowerCase() });
  if (e.type === 'alias' && e.previousId) {
    out.push({ type: 'anonymous_id', value: e.previousId });
  }
  return out;
}
