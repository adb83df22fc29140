/**
 * What the lookup bench's orchestrator (`run.ts`) and its forked load generator (`load.ts`) send
 * each other over IPC (the generic part is in ../common/fixed-rate-protocol.ts), and the people both
 * sides derive the identifiers from.
 */
import { personOf, traitsOf, type Person } from '../profiles/population.js';
import type { FixedRateLoadConfig, FixedRatePhase, FixedRateReply, FixedRateRequest, LatencySummary } from '../common/fixed-rate-protocol.js';

/** Identifier types the bench looks profiles up by, in the order requests cycle through them. */
export const LOOKUP_TYPES = ['email', 'user_id', 'anonymous_id'] as const;
export type LookupType = (typeof LOOKUP_TYPES)[number];

/** Traits each loaded profile gets (from one identify call). */
export const TRAITS_PER_PROFILE = 8;

/** Person `i` of the loaded population: one device, no phone. */
export function lookupPerson(i: number, seed: number): Person {
  return personOf(i, { seed, phoneShare: 0, multiDeviceShare: 0 });
}

export function lookupTraits(p: Person): Record<string, unknown> {
  return traitsOf(p, 0, TRAITS_PER_PROFILE);
}

/** The identifier value a lookup of `type` sends for a person (the email as the person typed it). */
export function identifierOf(p: Person, type: LookupType): string {
  return type === 'email' ? p.email : type === 'user_id' ? p.userId : (p.anonymousIds[0] as string);
}

export function lookupPath(workspaceId: string, type: LookupType, value: string): string {
  return `/api/workspaces/${encodeURIComponent(workspaceId)}/profiles/lookup?type=${type}&value=${encodeURIComponent(value)}`;
}

export interface LookupLoadConfig extends FixedRateLoadConfig {
  workspaceId: string;
  /** Sent as `Authorization: Bearer …`. */
  token: string;
  /** Requests pick people 0 … people − 1 at random. */
  people: number;
  seed: number;
}

export type { LatencySummary };
export type LookupPhase = FixedRatePhase;
export type LookupRequest = FixedRateRequest<LookupLoadConfig>;
export type LookupReply = FixedRateReply;
