/**
 * The suppression list: keyed hashes of an erased person's identifiers, so the events their
 * devices keep sending do not bring them back as a new profile. An event carrying any of them
 * is dropped, unless it carries a consent grant decided after the erasure was asked for
 * (privacy/consent-step.ts): a person who comes back and consents again is welcome, and their
 * identifiers leave the list. Each entry remembers since when it holds (`since`, ms), because a
 * device relays the decision it stored long ago on every event: that old grant is no new consent.
 *
 * The hashes are under a key of their own (KeyRing.suppressionHash), not the lookup key, so
 * nothing left after an erasure equals the hashes the identity tables held.
 */
import { rawClaims, PREVIOUS_ID } from '../identity/claims.js';
import type { IdentityRules } from '../identity/normalise.js';
import type { KeyRing } from './key-ring.js';
import type { CollectedEvent } from '../protocol/event.js';

export interface SuppressionEntry {
  type: string;
  hash: string;
}

/** An entry in force: suppressed since the erasure request was received. */
export type ActiveSuppression = SuppressionEntry & { since: number };

export class Suppressions {
  /** Per workspace: `type NUL hash` → since (ms). */
  private readonly byWs = new Map<string, Map<string, number>>();

  constructor(private readonly keys: KeyRing, private readonly rules: (workspaceId: string) => IdentityRules) {}

  add(workspaceId: string, entries: Iterable<SuppressionEntry>, since: number): void {
    let set = this.byWs.get(workspaceId);
    if (!set) {
      set = new Map();
      this.byWs.set(workspaceId, set);
    }
    for (const e of entries) set.set(`${e.type}\u0000${e.hash}`, since);
  }

  remove(workspaceId: string, entries: Iterable<SuppressionEntry>): void {
    const set = this.byWs.get(workspaceId);
    if (set) for (const e of entries) set.delete(`${e.type}\u0000${e.hash}`);
  }

  /** The suppression entry of a clear identifier value (normalised as the workspace rules say), or null when it cannot be one. */
  entryOf(workspaceId: string, type: string, value: unknown): SuppressionEntry | null {
    const n = this.rules(workspaceId).normalise(type, value);
    return n.ok ? { type, hash: this.keys.suppressionHash(workspaceId, type, n.value) } : null;
  }

  /** The suppressed identifiers an event carries (none, quickly, in a workspace without suppressions). */
  matches(e: CollectedEvent): ActiveSuppression[] {
    const set = this.byWs.get(e.workspaceId);
    if (!set || set.size === 0) return [];
    const out: ActiveSuppression[] = [];
    for (const c of rawClaims(e, this.rules(e.workspaceId))) {
      if (c.type === PREVIOUS_ID) continue;
      const entry = this.entryOf(e.workspaceId, c.type, c.raw);
      const since = entry === null ? undefined : set.get(`${entry.type}\u0000${entry.hash}`);
      if (entry !== null && since !== undefined) out.push({ ...entry, since });
    }
    return out;
  }
}
