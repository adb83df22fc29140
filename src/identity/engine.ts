/**
 * The identity engine: attaches each event to a profile, linking, merging or refusing to merge
 * as the workspace's rules say.
 *
 * 1. The event's identifiers are gathered (claims.ts), normalised, and blocked values dropped.
 * 2. Each points to a profile or to none. If putting all those profiles and the new identifiers
 *    together would exceed a type's per-profile limit (two `user_id`s: a shared computer), or
 *    join two identifiers a split separated (barriers.ts), the lowest-priority identifier that
 *    takes part in the conflict is dropped from this event's linking, and the check runs again —
 *    Segment's identity rules, minus the identifiers that had nothing to do with the conflict.
 * 3. No profile: a new one. Several: they merge into the oldest (earliest first-seen), traits
 *    resolved per trait strategy. New identifiers are linked to the survivor.
 * Every link, drop and merge is written to the identity log with the event and the rule, so a
 * profile can be explained (explain.ts) and split (split.ts).
 *
 * Identifiers are looked up by a keyed hash (HMAC) of the normalised value; personal ones are
 * stored only sealed with the profile's data key (privacy/key-ring.ts).
 */
import { newId } from '../platform/ids.js';
import type { CollectedEvent } from '../protocol/event.js';
import type { IdentityRecord, ProfileState } from '../protocol/profile.js';
import { identityKey } from '../profiles/profile-memory.js';
import type { ProfileTx } from '../profiles/profile-tx.js';
import { mergeTraits } from '../profiles/traits.js';
import type { KeyRing } from '../privacy/key-ring.js';
import type { Barriers } from './barriers.js';
import { identifierRef } from './merge-log.js';
import { PREVIOUS_ID, rawClaims } from './claims.js';
import type { IdentityRules } from './normalise.js';
import { parsePseudonym } from './pseudonym.js';
import type { IdentityResolver, Resolution } from './resolver.js';

export interface Claim {
  type: string;
  hash: string;
  /** identityKey(workspace, type, hash), built once. */
  key: string;
  /** The normalised clear value; null when the event only carried its pseudonym (a replay). */
  value: string | null;
  from: string;
  rank: number;
  personal: boolean;
}

export interface IdentityEngineDeps {
  rules: (workspaceId: string) => IdentityRules;
  keys: KeyRing;
  barriers: Barriers;
}

/** Recent (workspace, type, value) → hash: a visitor's id repeats on every page view, an HMAC costs ~2 µs. */
const HASH_MEMO_SIZE = 100_000;

export class IdentityEngine implements IdentityResolver {
  private hashes = new Map<string, string>();

  constructor(private readonly deps: IdentityEngineDeps) {}

  private hash(ws: string, type: string, value: string): string {
    const key = `${ws}\u0000${type}\u0000${value}`;
    let h = this.hashes.get(key);
    if (h === undefined) {
      if (this.hashes.size >= HASH_MEMO_SIZE) this.hashes = new Map();
      h = this.deps.keys.lookupHash(ws, type, value);
      this.hashes.set(key, h);
    }
    return h;
  }

  /** The event's usable identifiers, most trusted first, without duplicates or blocked values. */
  claims(e: CollectedEvent, tx: ProfileTx): { claims: Claim[]; rejected: number } {
    const ws = e.workspaceId;
    const rules = this.deps.rules(ws);
    const out: Claim[] = [];
    const seen = new Set<string>();
    let rejected = 0;
    for (const raw of rawClaims(e, rules)) {
      let type = raw.type;
      const pseudo = typeof raw.raw === 'string' ? parsePseudonym(raw.raw) : undefined;
      let value: string | null = null;
      let hash: string;
      if (pseudo) {
        hash = pseudo.hash;
        if (type === PREVIOUS_ID) type = pseudo.type;
      } else {
        if (type === PREVIOUS_ID) {
          // Alias: the previous id is a user id when one is known under that value.
          const asUser = rules.normalise('user_id', raw.raw);
          const known = asUser.ok && tx.record(ws, 'user_id', this.hash(ws, 'user_id', asUser.value));
          type = known ? 'user_id' : 'anonymous_id';
        }
        const n = rules.normalise(type, raw.raw);
        if (!n.ok) {
          rejected++;
          continue;
        }
        value = n.value;
        hash = this.hash(ws, type, value);
      }
      const rule = rules.rule(type);
      const key = identityKey(ws, type, hash);
      if (!rule || seen.has(key)) continue;
      seen.add(key);
      out.push({ type, hash, key, value, from: raw.from, rank: rule.rank, personal: rule.config.personal });
    }
    out.sort((a, b) => a.rank - b.rank);
    return { claims: out, rejected };
  }

  resolve(e: CollectedEvent, at: number, tx: ProfileTx, seq: bigint, reuseId?: (messageId: string) => string | undefined): Resolution {
    const ws = e.workspaceId;
    const rules = this.deps.rules(ws);
    const { claims: all, rejected } = this.claims(e, tx);
    const known = this.knownProfile(all, tx);
    if (known) return { profileId: known.id, claims: all, rejected };
    // Refused identifiers are logged against the profile the event goes to, with who kept them.
    const refused: Array<{ c: Claim; keptBy: string | null; rule: string }> = [];
    const claims = this.withinEventLimits(all, rules, (c, rule) => refused.push({ c, keptBy: null, rule }));

    // Claims owned by profiles outside a rebuild are out of its reach: leave them where they are.
    for (const c of [...claims]) {
      if (tx.ownedOutside(c.key)) {
        claims.splice(claims.indexOf(c), 1);
        refused.push({ c, keptBy: null, rule: 'outside-rebuild' });
      }
    }

    for (;;) {
      const conflict = this.conflict(claims, tx, ws, rules);
      if (!conflict || claims.length <= 1) break;
      const victim = [...claims].reverse().find((c) => conflict.takesPart(c)) ?? (claims[claims.length - 1] as Claim);
      claims.splice(claims.indexOf(victim), 1);
      const owner = tx.recordByKey(victim.key);
      refused.push({ c: victim, keptBy: owner ? (tx.live(owner.profileId)?.id ?? null) : null, rule: conflict.rule });
    }

    const owners = new Map<string, ProfileState>();
    const via: Record<string, string> = {};
    for (const c of claims) {
      const rec = tx.recordByKey(c.key);
      const p = rec && tx.live(rec.profileId);
      if (p) {
        owners.set(p.id, p);
        via[identifierRef(c.type, c.hash)] = p.id;
      }
    }
    let survivor = [...owners.values()].sort((a, b) => a.firstSeen - b.firstSeen || (a.id < b.id ? -1 : 1))[0];
    if (!survivor) {
      const id = reuseId?.(e.messageId) ?? newId('prof');
      survivor = tx.create({ id, workspaceId: ws, traits: {}, firstSeen: at, lastSeen: at, eventCount: 0, mergedInto: null });
    }
    for (const other of owners.values()) {
      if (other.id === survivor.id) continue;
      this.merge(other, survivor, tx, rules);
      tx.merge({ workspaceId: ws, fromProfile: other.id, intoProfile: survivor.id, at, seq, messageId: e.messageId, rule: 'shared-identifier', via });
    }
    for (const c of claims) {
      if (tx.recordByKey(c.key)) continue;
      tx.setIdentity(this.record(ws, c, survivor.id, at));
      tx.note({ workspaceId: ws, seq, messageId: e.messageId, at, action: 'link', type: c.type, hash: c.hash, profileId: survivor.id, rule: owners.size === 0 ? 'new-profile' : 'event', detail: c.from });
    }
    for (const { c, keptBy, rule } of refused) {
      const detail = keptBy ? `${c.from}; stays with ${keptBy}` : c.from;
      tx.note({ workspaceId: ws, seq, messageId: e.messageId, at, action: 'drop', type: c.type, hash: c.hash, profileId: survivor.id, rule, detail });
    }
    return { profileId: survivor.id, claims, rejected };
  }

  /**
   * A returning visitor's event (most events): every identifier already known and on one live
   * profile, so there is nothing to link, merge or check. Not during a rebuild, where identifiers
   * of other profiles are out of reach.
   */
  private knownProfile(claims: readonly Claim[], tx: ProfileTx): ProfileState | undefined {
    if (claims.length === 0 || tx.rebuilding) return undefined;
    let only: ProfileState | undefined;
    for (const c of claims) {
      const rec = tx.recordByKey(c.key);
      const p = rec && tx.live(rec.profileId);
      if (!p || (only !== undefined && p.id !== only.id)) return undefined;
      only = p;
    }
    return only;
  }

  /** An event carrying more values of a type than its limit keeps the most trusted ones (first in the event). */
  private withinEventLimits(claims: Claim[], rules: IdentityRules, dropped: (c: Claim, why: string) => void): Claim[] {
    const perType = new Map<string, number>();
    return claims.filter((c) => {
      const n = (perType.get(c.type) ?? 0) + 1;
      perType.set(c.type, n);
      const limit = rules.rule(c.type)?.config.limit ?? null;
      if (limit !== null && n > limit) {
        dropped(c, `limit:${c.type}`);
        return false;
      }
      return true;
    });
  }

  /** What would be wrong with joining everything the claims point to, and who takes part in it. */
  private conflict(claims: readonly Claim[], tx: ProfileTx, ws: string, rules: IdentityRules): { rule: string; takesPart: (c: Claim) => boolean } | undefined {
    const profiles = new Set<string>();
    const owned = new Set<Claim>();
    for (const c of claims) {
      const rec = tx.recordByKey(c.key);
      const p = rec && tx.live(rec.profileId);
      if (p) {
        profiles.add(p.id);
        owned.add(c);
      }
    }
    // The common cases cannot conflict: a profile is always within its limits and barriers, and
    // the event's own identifiers were already cut to the limits (withinEventLimits).
    if (profiles.size === 0 && !this.deps.barriers.any) return undefined;
    if (profiles.size === 1 && owned.size === claims.length) return undefined;
    const keys = new Set<string>();
    for (const c of claims) keys.add(c.key);
    for (const id of profiles) for (const k of tx.identifierKeys(id)) keys.add(k);
    const counts = new Map<string, number>();
    for (const k of keys) {
      const type = k.slice(ws.length + 1, k.indexOf('\u0000', ws.length + 1));
      counts.set(type, (counts.get(type) ?? 0) + 1);
    }
    for (const [type, n] of counts) {
      const limit = rules.rule(type)?.config.limit ?? null;
      if (limit !== null && n > limit) {
        return { rule: `limit:${type}`, takesPart: (c) => owned.has(c) || c.type === type };
      }
    }
    const pair = this.deps.barriers.violation(keys);
    if (pair) {
      const ends = new Set(pair);
      return { rule: 'split-barrier', takesPart: (c) => owned.has(c) || ends.has(c.key) };
    }
    return undefined;
  }

  private merge(from: ProfileState, into: ProfileState, tx: ProfileTx, rules: IdentityRules): void {
    mergeTraits(into, from, (t) => rules.traitStrategy(t));
    into.firstSeen = Math.min(into.firstSeen, from.firstSeen);
    into.lastSeen = Math.max(into.lastSeen, from.lastSeen);
    into.eventCount += from.eventCount;
    from.mergedInto = into.id;
    for (const key of tx.identifierKeys(from.id)) {
      const rec = tx.recordByKey(key);
      if (rec) tx.setIdentity({ ...rec, profileId: into.id });
    }
  }

  private record(ws: string, c: Claim, profileId: string, at: number): IdentityRecord {
    if (!c.personal || c.value === null) return { workspaceId: ws, type: c.type, hash: c.hash, value: c.personal ? null : c.value, sealed: null, keyOwner: null, profileId, firstSeen: at };
    const sealed = this.deps.keys.encrypt(ws, profileId, c.value, sealAad(c.type, c.hash));
    return { workspaceId: ws, type: c.type, hash: c.hash, value: null, sealed, keyOwner: profileId, profileId, firstSeen: at };
  }
}

/** Binds a sealed value to its identifier, so a ciphertext copied onto another row does not open. */
export function sealAad(type: string, hash: string): string {
  return `identifier:${type}:${hash}`;
}
