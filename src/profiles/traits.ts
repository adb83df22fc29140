/**
 * Profile traits from `identify` calls: per trait, the write with the latest event time wins,
 * whatever order events arrive in (ties: the greater messageId, so replays agree). Each trait
 * keeps where it came from (source, event, time) for access requests.
 *
 * @example
 *   applyTraits(profile, { plan: 'gold' }, Date.parse('2026-01-02'), 'src_1', 'msg-9');
 */
import type { ProfileState } from '../protocol/profile.js';

/** Traits never stored on a profile because they are not traits but identifiers or transport. */
const NOT_TRAITS = new Set(['id', 'userId', 'anonymousId']);

export function applyTraits(profile: ProfileState, traits: Record<string, unknown>, at: number, sourceId: string, messageId: string): void {
  for (const [key, value] of Object.entries(traits)) {
    if (NOT_TRAITS.has(key) || value === undefined) continue;
    const current = profile.traits[key];
    if (current && (current.at > at || (current.at === at && current.messageId >= messageId))) continue;
    profile.traits[key] = { value, at, sourceId, messageId };
  }
}

/** Plain `{ trait: value }` view of a profile's traits. */
export function traitValues(profile: ProfileState): Record<string, unknown> {
  return Object.fromEntries(Object.entries(profile.traits).map(([k, t]) => [k, t.value]));
}
