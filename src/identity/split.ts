/**
 * Splitting a profile, and rebuilding profiles from their events.
 *
 * A split removes the link that brought an identifier into a profile and rebuilds, from the
 * stored events and the identity log, every profile that was merged into it — deterministically:
 * the events replay in their original order through the same engine, a profile created by the
 * same event as before gets its old id back, and a barrier (barriers.ts) keeps the removed edge
 * removed, now and for later events. So merge-then-split gives back the profiles as they were.
 *
 * Which edge: if the identifier came with a profile that was merged in, the last merge that
 * brought its side in is undone; if it was linked to this profile directly and caused merges,
 * the most recent of them is undone; otherwise the identifier is separated from the profile's most
 * trusted other identifier.
 */
import type { CollectedEvent, EventType } from '../protocol/event.js';
import type { IdentityRecord, MergeRecord, ProfileState } from '../protocol/profile.js';
import { EnsembleError } from '../protocol/errors.js';
import type { CommittedEvent } from '../processor/processor.js';
import { touch } from '../processor/processor.js';
import { identityKey, type ProfileMemory } from '../profiles/profile-memory.js';
import { ProfileTx } from '../profiles/profile-tx.js';
import type { ProcessingStore, ReplayEvent } from '../storage/ports.js';
import type { Barrier } from './barriers.js';
import type { IdentityService } from './identity-service.js';
import { identifierRef, mergeChain, parseIdentifierRef } from './merge-log.js';
import { parsePseudonym } from './pseudonym.js';

export interface RebuildObserver {
  rebuilt(workspaceId: string, replaced: readonly string[], events: readonly CommittedEvent[]): void;
}

export interface SplitResult {
  /** The live profiles the rebuilt lineage became, the one holding the identifier first. */
  profiles: string[];
  barrier: Barrier;
  replayedEvents: number;
}

export class ProfileRebuilder {
  private readonly observers: RebuildObserver[] = [];

  constructor(private readonly deps: { memory: ProfileMemory; store: ProcessingStore; identity: IdentityService; now: () => number }) {}

  observe(o: RebuildObserver): void {
    this.observers.push(o);
  }

  /** Splits identifier (type, hash) off the live profile `profileId`. Run it exclusively of the processor. */
  async split(workspaceId: string, profileId: string, type: string, hash: string): Promise<SplitResult> {
    const { memory, store } = this.deps;
    const live = memory.live(profileId);
    if (!live || live.workspaceId !== workspaceId) throw new EnsembleError('ENSEMBLE_ERR_PROFILE_NOT_FOUND');
    const key = identityKey(workspaceId, type, hash);
    const records = memory.recordsOf(live.id);
    if (!records.some((r) => r.type === type && r.hash === hash)) throw new EnsembleError('ENSEMBLE_ERR_IDENTIFIER_NOT_ON_PROFILE');
    if (records.length < 2) throw new EnsembleError('ENSEMBLE_ERR_SPLIT_LAST_IDENTIFIER');
    const lineage = memory.lineage(live.id);
    const history = await store.identityHistory(workspaceId, lineage);
    const barrier = this.edgeToRemove(workspaceId, live, { type, hash }, history.log.find((l) => l.action === 'link' && l.type === type && l.hash === hash)?.profileId ?? live.id, history.merges, records);
    const { profiles: result, replayedEvents } = await this.rebuild(workspaceId, lineage, [barrier]);
    const owner = memory.identities.get(key);
    const first = owner ? memory.live(owner.profileId)?.id : undefined;
    return { profiles: first ? [first, ...result.filter((p) => p !== first)] : result, barrier, replayedEvents };
  }

  private edgeToRemove(ws: string, live: ProfileState, x: { type: string; hash: string }, original: string, merges: readonly MergeRecord[], records: readonly IdentityRecord[]): Barrier {
    const rank = (type: string) => this.deps.identity.rules(ws).rule(type)?.rank ?? Number.MAX_SAFE_INTEGER;
    const best = (claims: Array<{ type: string; hash: string }>) => [...claims].sort((a, b) => rank(a.type) - rank(b.type))[0];
    const at = this.deps.now();
    if (original !== live.id) {
      // Follow the identifier's profile through its merges up to the live one; undo the last.
      const last = mergeChain(merges, original, live.id).at(-1);
      if (last) {
        const mine = Object.entries(last.via).filter(([, p]) => p === last.fromProfile).map(([k]) => parseIdentifierRef(k));
        const theirs = Object.entries(last.via).filter(([, p]) => p !== last.fromProfile).map(([k]) => parseIdentifierRef(k));
        const a = best(mine);
        const b = best(theirs);
        if (a && b) return { workspaceId: ws, a, b, at };
      }
    }
    // The most recent merge the identifier caused: the join a person asking for a split means.
    const ref = identifierRef(x.type, x.hash);
    const caused = [...merges].reverse().find((m) => m.via[ref] !== undefined);
    if (caused) {
      const xSide = caused.via[ref];
      const other = best(Object.entries(caused.via).filter(([, p]) => p !== xSide).map(([k]) => parseIdentifierRef(k)));
      if (other) return { workspaceId: ws, a: x, b: other, at };
    }
    const anchor = best(records.filter((r) => !(r.type === x.type && r.hash === x.hash)).map((r) => ({ type: r.type, hash: r.hash })));
    return { workspaceId: ws, a: x, b: anchor as { type: string; hash: string }, at };
  }

  /**
   * Replays the events of `lineage` (profile ids) as if those profiles had never existed, with
   * `barriers` added, and replaces them with the result: the live profile ids it produced.
   */
  async rebuild(workspaceId: string, lineage: readonly string[], barriers: readonly Barrier[]): Promise<{ profiles: string[]; replayedEvents: number }> {
    const { memory, store, identity } = this.deps;
    const events = await store.replayEvents(workspaceId, lineage);
    const oldRecords = new Map<string, IdentityRecord>();
    for (const id of lineage) for (const r of memory.recordsOf(id)) oldRecords.set(identifierRef(r.type, r.hash), r);
    // The first event stored under a profile id is the one that created it: that event creates
    // it again in the replay, with the same id.
    const foundedBy = new Map<string, string>();
    const founderOf = new Map<string, string>();
    for (const r of events) {
      if (founderOf.has(r.profileId)) continue;
      founderOf.set(r.profileId, r.messageId);
      foundedBy.set(r.messageId, r.profileId);
    }
    for (const b of barriers) identity.barriers.add(b);
    const tx = new ProfileTx(memory, new Set(lineage));
    const strategyOf = identity.strategyOf(workspaceId);
    const updates: Array<{ seq: bigint; profileId: string; traits?: Record<string, unknown>; context?: Record<string, unknown> }> = [];
    const committed: CommittedEvent[] = [];
    const eventProfile = new Map<string, string>();
    for (const [i, r] of events.entries()) {
      if (i > 0 && i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
      const e = this.toCollected(workspaceId, r, oldRecords);
      const at = Date.parse(e.timestamp);
      const { profileId } = identity.resolver.resolve(e, at, tx, r.seq, (m) => foundedBy.get(m));
      const p = tx.profile(profileId);
      if (p) touch(p, e, at, strategyOf);
      eventProfile.set(r.messageId, profileId);
      const stored = identity.pseudonymise(e);
      updates.push({ seq: r.seq, profileId, ...(stored ? { traits: stored.traits, context: stored.context } : {}) });
      committed.push({ seq: r.seq, profileId, event: e, at });
    }
    // Identifiers the replay knew only by pseudonym keep their sealed value from before.
    const changes = tx.changes();
    const identities = changes.identities.map((rec) => {
      const old = oldRecords.get(identifierRef(rec.type, rec.hash));
      return rec.value === null && rec.sealed === null && old ? { ...rec, value: old.value, sealed: old.sealed, keyOwner: old.keyOwner } : rec;
    });
    // Old ids the replay did not recreate still redirect, to where their founding event went.
    const recreated = new Set(changes.profiles.map((p) => p.id));
    const fallback = changes.profiles.find((p) => p.mergedInto === null)?.id ?? null;
    const orphans: ProfileState[] = lineage.filter((id) => !recreated.has(id)).flatMap((id) => {
      const old = memory.profiles.get(id);
      if (!old) return [];
      const founder = founderOf.get(id);
      const target = (founder && eventProfile.get(founder)) ?? fallback;
      return target ? [{ ...old, traits: {}, eventCount: 0, mergedInto: target }] : [];
    });
    const profiles = [...changes.profiles, ...orphans];
    try {
      const encoded = profiles.map((p) => identity.encode(p));
      await store.commitRebuild({ workspaceId, replacedProfiles: lineage, events: updates, barriers, ...changes, identities, profiles: encoded, keys: identity.newKeys() });
    } catch (err) {
      // Nothing of the rebuild was stored: neither may its barriers stay in force.
      for (const b of barriers) identity.barriers.remove(b);
      identity.aborted();
      throw err;
    }
    memory.remove(lineage);
    for (const p of profiles) memory.putProfile(p);
    for (const rec of identities) memory.setIdentity(rec);
    identity.keys.loadPending();
    for (const o of this.observers) o.rebuilt(workspaceId, lineage, committed.map((c) => ({ ...c, profileId: memory.live(c.profileId)?.id ?? c.profileId })));
    return { profiles: [...new Set(changes.profiles.filter((p) => p.mergedInto === null).map((p) => p.id))], replayedEvents: events.length };
  }

  /** A stored event back in the shape resolution takes, personal values restored from their seals. */
  private toCollected(ws: string, r: ReplayEvent, old: ReadonlyMap<string, IdentityRecord>): CollectedEvent {
    const clear = (v: unknown): unknown => {
      const p = typeof v === 'string' ? parsePseudonym(v) : undefined;
      const rec = p && old.get(identifierRef(p.type, p.hash));
      return rec ? (this.deps.identity.clearValue(rec) ?? v) : v;
    };
    const unseal = (t: unknown): Record<string, unknown> => {
      if (t === null || typeof t !== 'object' || Array.isArray(t)) return {};
      return Object.fromEntries(Object.entries(t as Record<string, unknown>).map(([k, v]) => [k, clear(v)]));
    };
    const context = { ...r.context };
    if (context.traits !== undefined) context.traits = unseal(context.traits);
    if (Array.isArray(context.externalIds)) {
      context.externalIds = context.externalIds.map((x: unknown) => (x && typeof x === 'object' ? { ...(x as Record<string, unknown>), id: clear((x as Record<string, unknown>).id) } : x));
    }
    return {
      type: r.type as EventType, messageId: r.messageId, workspaceId: ws, sourceId: r.sourceId,
      ...(r.anonymousId ? { anonymousId: r.anonymousId } : {}), ...(r.userId ? { userId: r.userId } : {}),
      ...(r.previousId ? { previousId: r.previousId } : {}), ...(r.event ? { event: r.event } : {}), ...(r.name ? { name: r.name } : {}),
      traits: unseal(r.traits), context, properties: r.properties, timestamp: r.timestamp,
    } as CollectedEvent;
  }
}
