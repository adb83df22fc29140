/**
 * Why a profile is what it is: every identifier with the event and rule that linked it and the
 * merges that brought it to this profile, plus the identifiers its events carried that were
 * refused (a limit, a split barrier) and why. Built from the identity log and the merge log.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { IdentityRecord, MergeRecord, ProfileState } from '../protocol/profile.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { ProcessingStore } from '../storage/ports.js';
import type { IdentityService } from './identity-service.js';
import { identifierRef, mergeChain, parseIdentifierRef } from './merge-log.js';

const Step = Type.Object({
  seq: Type.String(), messageId: Type.String(), at: Type.String({ format: 'date-time' }), rule: Type.String(),
});
const MergeStep = Type.Intersect([Step, Type.Object({
  fromProfile: Type.String(), intoProfile: Type.String(),
  /** The identifiers of the merging event, and which profile each pointed to. */
  through: Type.Array(Type.Object({ type: Type.String(), hash: Type.String(), value: Type.Union([Type.String(), Type.Null()]), profileId: Type.String() })),
})]);

export const IdentityGraphView = Type.Object({
  profileId: Type.String(),
  mergedFrom: Type.Array(Type.String()),
  identifiers: Type.Array(Type.Object({
    type: Type.String(), hash: Type.String(), value: Type.Union([Type.String(), Type.Null()]),
    /** The event that linked it, where in the event it was, and the profile it was linked to then. */
    linked: Type.Union([Type.Intersect([Step, Type.Object({ from: Type.String(), profileId: Type.String() })]), Type.Null()]),
    /** The merges that carried it from that profile to this one, oldest first. */
    merges: Type.Array(MergeStep),
  })),
  refused: Type.Array(Type.Intersect([Step, Type.Object({ type: Type.String(), hash: Type.String(), value: Type.Union([Type.String(), Type.Null()]), from: Type.String() })])),
});
export type IdentityGraphView = Static<typeof IdentityGraphView>;

export async function explainProfile(p: ProfileState, deps: { memory: ProfileMemory; store: ProcessingStore; identity: IdentityService }, reveal: boolean): Promise<IdentityGraphView> {
  const { memory, store, identity } = deps;
  const lineage = memory.lineage(p.id);
  const { log, merges } = await store.identityHistory(p.workspaceId, lineage);
  const records = new Map<string, IdentityRecord>(memory.recordsOf(p.id).map((r) => [identifierRef(r.type, r.hash), r]));
  const shown = (type: string, hash: string): string | null => {
    const rec = records.get(identifierRef(type, hash));
    if (!rec || (!reveal && identity.rules(p.workspaceId).isPersonal(type))) return null;
    return identity.clearValue(rec);
  };
  const iso = (ms: number) => new Date(ms).toISOString();
  const mergeStep = (m: MergeRecord) => ({
    seq: m.seq.toString(), messageId: m.messageId, at: iso(m.at), rule: m.rule, fromProfile: m.fromProfile, intoProfile: m.intoProfile,
    through: Object.entries(m.via).map(([k, profileId]) => {
      const { type, hash } = parseIdentifierRef(k);
      return { type, hash, value: shown(type, hash), profileId };
    }),
  });
  return {
    profileId: p.id,
    mergedFrom: lineage.slice(1),
    identifiers: [...records.values()].map((r) => {
      const link = log.find((l) => l.action === 'link' && l.type === r.type && l.hash === r.hash);
      return {
        type: r.type, hash: r.hash, value: shown(r.type, r.hash),
        linked: link ? { seq: link.seq.toString(), messageId: link.messageId, at: iso(link.at), rule: link.rule, from: link.detail, profileId: link.profileId ?? p.id } : null,
        merges: link?.profileId ? mergeChain(merges, link.profileId, p.id).map(mergeStep) : [],
      };
    }),
    refused: log.filter((l) => l.action === 'drop').map((l) => ({
      seq: l.seq.toString(), messageId: l.messageId, at: iso(l.at), rule: l.rule, type: l.type, hash: l.hash, value: shown(l.type, l.hash), from: l.detail,
    })),
  };
}
