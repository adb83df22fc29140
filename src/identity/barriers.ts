/**
 * Split barriers: pairs of identifiers that must never again end up in one profile. A split
 * records one (the edge it removed), and resolution treats a barrier like a limit: the event's
 * lowest-priority conflicting identifier is dropped from linking. Without it, the next event
 * carrying both identifiers would merge the profiles back together.
 */
import { identityKey } from '../profiles/profile-memory.js';

export interface Barrier {
  workspaceId: string;
  a: { type: string; hash: string };
  b: { type: string; hash: string };
  at: number;
}

export class Barriers {
  private readonly pairs = new Map<string, Set<string>>();

  /** Whether any barrier exists (most workspaces never split anything). */
  get any(): boolean {
    return this.pairs.size > 0;
  }

  load(barriers: readonly Barrier[]): void {
    for (const b of barriers) this.add(b);
  }

  add(b: Barrier): void {
    const ka = identityKey(b.workspaceId, b.a.type, b.a.hash);
    const kb = identityKey(b.workspaceId, b.b.type, b.b.hash);
    this.link(ka, kb);
    this.link(kb, ka);
  }

  /** Takes back a barrier added for a rebuild whose commit failed. */
  remove(b: Barrier): void {
    const ka = identityKey(b.workspaceId, b.a.type, b.a.hash);
    const kb = identityKey(b.workspaceId, b.b.type, b.b.hash);
    this.pairs.get(ka)?.delete(kb);
    this.pairs.get(kb)?.delete(ka);
    if (this.pairs.get(ka)?.size === 0) this.pairs.delete(ka);
    if (this.pairs.get(kb)?.size === 0) this.pairs.delete(kb);
  }

  /** A pair of keys of `keys` that a barrier separates, if any. */
  violation(keys: ReadonlySet<string>): [string, string] | undefined {
    if (this.pairs.size === 0) return undefined;
    for (const k of keys) {
      const others = this.pairs.get(k);
      if (!others) continue;
      for (const o of others) if (keys.has(o)) return [k, o];
    }
    return undefined;
  }

  private link(from: string, to: string): void {
    const set = this.pairs.get(from) ?? new Set<string>();
    set.add(to);
    this.pairs.set(from, set);
  }
}
