/**
 * Reading the merge log: how a merge names the identifiers that pointed to each side (`via`,
 * keyed `type:hash`), and the chain of merges that carried a profile into its survivor. Split
 * and explain both walk it; the engine writes it.
 */
import type { MergeRecord } from '../protocol/profile.js';

/** The key of an identifier in `MergeRecord.via` (hashes are base64url: no colon). */
export function identifierRef(type: string, hash: string): string {
  return `${type}:${hash}`;
}

export function parseIdentifierRef(ref: string): { type: string; hash: string } {
  const i = ref.indexOf(':');
  return { type: ref.slice(0, i), hash: ref.slice(i + 1) };
}

/** The merges that carried profile `from` into `to`, oldest first (stops where the log does). */
export function mergeChain(merges: readonly MergeRecord[], from: string, to: string): MergeRecord[] {
  const out: MergeRecord[] = [];
  for (let current = from, hops = 0; current !== to && hops < 64; hops++) {
    const m = merges.find((mm) => mm.fromProfile === current);
    if (!m) break;
    out.push(m);
    current = m.intoProfile;
  }
  return out;
}
