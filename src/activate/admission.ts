/**
 * Whether a delivery may leave at all — decided by the engine, never by a connector, just
 * before each send (consent can change while an item waits):
 * - a profile whose processing is restricted receives nothing, except removals;
 * - an addition, a forwarded event or a message needs the destination's purpose: consent in
 *   force when the purpose rests on consent, no objection when it rests on another basis;
 * - a segment reading special-category data never reaches an advertising destination, and
 *   reaches others only once a DPO approved it.
 * Removals always pass: taking someone out of an audience is what withdrawal asks for.
 *
 * @example
 *   admit({ kind: 'audience', action: 'add', profileId, segmentId }, manifest, 'advertising', facts)
 *   // → { kind: 'drop', reason: 'consent:advertising' } without consent
 */
import type { DeliveryKind, DeliveryOutcome } from '../protocol/destination.js';

export interface AdmissionFacts {
  /** The purpose may serve this profile now (consent or another legal basis, no objection). */
  permitted(profileId: string, purpose: string): boolean;
  restricted(profileId: string): boolean;
  /** The segment's special-category status; undefined for a segment that no longer exists. */
  segment(segmentId: string): { sensitive: boolean; approved: boolean } | undefined;
}

export interface AdmissionItem {
  kind: DeliveryKind;
  action?: 'add' | 'remove';
  profileId: string;
  segmentId?: string;
}

/** Null when the item may be sent; otherwise the drop that records why not. */
export function admit(item: AdmissionItem, manifest: { advertising: boolean }, purpose: string, facts: AdmissionFacts): DeliveryOutcome | null {
  if (item.kind === 'audience' && item.action === 'remove') return null;
  if (facts.restricted(item.profileId)) return { kind: 'drop', reason: 'restricted' };
  if (!facts.permitted(item.profileId, purpose)) return { kind: 'drop', reason: `consent:${purpose}` };
  if (item.segmentId !== undefined) {
    const s = facts.segment(item.segmentId);
    if (!s) return { kind: 'drop', reason: 'segment_deleted' };
    if (s.sensitive && manifest.advertising) return { kind: 'drop', reason: 'sensitive_segment' };
    if (s.sensitive && !s.approved) return { kind: 'drop', reason: 'sensitive_unapproved' };
  }
  return null;
}
