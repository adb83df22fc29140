/**
 * Profile traits from `identify` calls and from merges, resolved per trait by the workspace's
 * strategy (identity-config.ts): `most_recent` (default: the write with the latest event time
 * wins whatever order events arrive in; ties go to the greater messageId so replays agree),
 * `first`, `max`, `min`, `sum` (on merge: the two values add up; a write replaces), and
 * `non_empty` (an empty write never erases a value). Each trait keeps where it came from
 * (source, event, time) for access requests.
 *
 * @example
 *   applyTraits(profile, { plan: 'gold' }, Date.parse('2026-01-02'), 'src_1', 'msg-9', () => 'most_recent');
 */
import type { ProfileState, TraitValue } from '../protocol/profile.js';
import type { TraitStrategy } from '../identity/identity-config.js';
import { getOwn, setOwn } from '../platform/own-property.js';

/** Traits never stored on a profile because they are not traits but identifiers or transport. */
const NOT_TRAITS = new Set(['id', 'userId', 'anonymousId']);

export type StrategyOf = (trait: string) => TraitStrategy;

export function applyTraits(profile: ProfileState, traits: Record<string, unknown>, at: number, sourceId: string, messageId: string, strategyOf: StrategyOf): void {
  for (const [key, value] of Object.entries(traits)) {
    if (NOT_TRAITS.has(key) || value === undefined) continue;
    const next = resolve(strategyOf(key), getOwn(profile.traits, key), { value, at, sourceId, messageId }, false);
    if (next) setOwn(profile.traits, key, next);
  }
}

/** Folds `from`'s traits into `into`'s (a merge). */
export function mergeTraits(into: ProfileState, from: ProfileState, strategyOf: StrategyOf): void {
  for (const [key, t] of Object.entries(from.traits)) {
    const next = resolve(strategyOf(key), getOwn(into.traits, key), t, true);
    if (next) setOwn(into.traits, key, next);
  }
}

/** The trait value after `incoming` meets `current`, or undefined to keep `current`. */
function resolve(strategy: TraitStrategy, current: TraitValue | undefined, incoming: TraitValue, merging: boolean): TraitValue | undefined {
  if (strategy === 'non_empty' && isEmpty(incoming.value)) return undefined;
  if (!current) return incoming;
  const later = incoming.at > current.at || (incoming.at === current.at && incoming.messageId > current.messageId);
  const numbers = typeof incoming.value === 'number' && typeof current.value === 'number';
  switch (strategy) {
    case 'first':
      return later ? undefined : incoming;
    case 'max':
      if (numbers) return (incoming.value as number) > (current.value as number) ? incoming : undefined;
      return later ? incoming : undefined;
    case 'min':
      if (numbers) return (incoming.value as number) < (current.value as number) ? incoming : undefined;
      return later ? incoming : undefined;
    case 'sum':
      if (merging && numbers) {
        const newest = later ? incoming : current;
        return { ...newest, value: (incoming.value as number) + (current.value as number) };
      }
      return later ? incoming : undefined;
    case 'non_empty':
      return later || isEmpty(current.value) ? incoming : undefined;
    case 'most_recent':
      return later ? incoming : undefined;
  }
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}

/** Plain `{ trait: value }` view of a profile's traits. */
export function traitValues(profile: ProfileState): Record<string, unknown> {
  return Object.fromEntries(Object.entries(profile.traits).map(([k, t]) => [k, t.value]));
}
