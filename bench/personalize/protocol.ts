/**
 * What the personalize bench's orchestrator (`run.ts`), its baseline (`baseline-server.ts`) and
 * its load generator (`load.ts`) share: the people (the lookup bench's, plus a loyalty tier), who
 * consented to personalisation, the traits exposed, the segments and the answer each person should
 * get — all derived from the seed and the person's index, so the processes agree without sharing
 * a file.
 */
import type { FixedRateLoadConfig } from '../common/fixed-rate-protocol.js';
import { mix, type Person } from '../profiles/population.js';
import { lookupPerson, lookupTraits } from '../lookup/protocol.js';

export { lookupPerson as personalizePerson };

const TIERS = ['bronze', 'silver', 'gold'] as const;

/** The identify traits of a person: the lookup bench's 8 (email, names, plan, city…) and `tier`. */
export function personalizeTraits(p: Person): Record<string, unknown> {
  return { ...lookupTraits(p), tier: TIERS[mix(p.index, 43) % TIERS.length] };
}

/** The traits `PUT …/personalization` exposes to browsers (none is a personal identifier). */
export const EXPOSED_TRAITS = ['plan', 'tier', 'city', 'language'] as const;

/** Whether person `i` consented to personalisation (`share` of the people, spread by a hash). */
export function consents(i: number, seed: number, share: number): boolean {
  return mix(seed, i, 47) / 4294967296 < share;
}

/** The segments created, in creation order, each with the same rule as a predicate over traits. */
export const SEGMENTS: ReadonlyArray<{ name: string; definition: unknown; member: (t: Record<string, unknown>) => boolean }> = [
  { name: 'Pro plan', definition: { kind: 'trait', trait: 'plan', op: 'eq', value: 'pro' }, member: (t) => t.plan === 'pro' },
  { name: 'Gold tier', definition: { kind: 'trait', trait: 'tier', op: 'eq', value: 'gold' }, member: (t) => t.tier === 'gold' },
  {
    name: 'Premium',
    definition: { kind: 'and', of: [{ kind: 'trait', trait: 'plan', op: 'in', value: ['pro', 'business'] }, { kind: 'trait', trait: 'tier', op: 'neq', value: 'bronze' }] },
    member: (t) => (t.plan === 'pro' || t.plan === 'business') && t.tier !== 'bronze',
  },
];

export interface PersonalizationAnswer {
  consent: boolean;
  segments: string[];
  traits: Record<string, unknown>;
}

/** What `GET /v1/personalize` must answer for person `i`, given the segments' ids in creation order. */
export function expectedAnswer(i: number, seed: number, consentShare: number, segmentIds: readonly string[]): PersonalizationAnswer {
  if (!consents(i, seed, consentShare)) return { consent: false, segments: [], traits: {} };
  const t = personalizeTraits(lookupPerson(i, seed));
  const traits: Record<string, unknown> = {};
  for (const k of EXPOSED_TRAITS) if (t[k] !== undefined) traits[k] = t[k];
  return { consent: true, segments: SEGMENTS.flatMap((s, k) => (s.member(t) ? [segmentIds[k] as string] : [])), traits };
}

/** The page's origin in every request (a browser sends one: the answer is readable cross-site). */
export const PAGE_ORIGIN = 'https://shop.example';

export function personalizePath(anonymousId: string, writeKey: string): string {
  return `/v1/personalize?anonymousId=${encodeURIComponent(anonymousId)}&writeKey=${encodeURIComponent(writeKey)}`;
}

export interface PersonalizeLoadConfig extends FixedRateLoadConfig {
  writeKey: string;
  /** Requests pick people 0 … people − 1 at random. */
  people: number;
  seed: number;
}
