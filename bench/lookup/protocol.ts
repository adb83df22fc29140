/**
 * What the lookup bench's orchestrator (`run.ts`) and its forked load generator (`load.ts`) send
 * each other over IPC, and the people both sides derive the identifiers from.
 */
import { personOf, traitsOf, type Person } from '../profiles/population.js';

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

export interface LookupLoadConfig {
  origin: string;
  workspaceId: string;
  /** Sent as `Authorization: Bearer …`. */
  token: string;
  /** Requests pick people 0 … people − 1 at random. */
  people: number;
  seed: number;
  /** Overall requests per second, spread evenly over the connections. */
  rate: number;
  connections: number;
  warmupSec: number;
  durationSec: number;
  timeoutSec: number;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface LookupPhase {
  label: 'warmup' | 'measured';
  targetRate: number;
  elapsedSec: number;
  sent: number;
  responses: number;
  ok2xx: number;
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  reqPerSec: number;
  /** From the moment the request was written. */
  latencyMs: LatencySummary;
  /** From the moment the request was scheduled (a stall is charged to every request it delayed). */
  scheduledLatencyMs: LatencySummary;
  loadgenCpuPercent: number;
  loadgenCpuSec: number;
  loadgenLoopDelayMs: { p50: number; p99: number; max: number };
}

export type LookupRequest = { kind: 'run'; config: LookupLoadConfig };
export type LookupReply =
  | { kind: 'result'; phases: LookupPhase[] }
  | { kind: 'error'; message: string }
  /** Sent as a phase starts and ends, so the orchestrator measures server CPU over that phase only. */
  | { kind: 'mark'; label: LookupPhase['label']; edge: 'start' | 'end' };
