/** Destinations as the admin API speaks them (src/protocol/activation.ts is the source of truth). */
import type { JsonSchema } from './schema-form';

export interface DestinationType {
  id: string;
  name: string;
  description: string;
  kinds: Array<'audience' | 'event' | 'message'>;
  purpose: string;
  advertising: boolean;
  identifiers: string[];
  batchSize: number;
  ratePerSecond: number;
  secrets: string[];
  configSchema: JsonSchema;
}

export interface EventForwarding { types?: string[]; names?: string[]; filters?: unknown[]; mapping?: Record<string, string> }

export interface DestinationView {
  id: string;
  workspaceId: string;
  type: string;
  name: string;
  config: Record<string, unknown>;
  purpose: string;
  segments: string[];
  events?: EventForwarding;
  ratePerSecond: number;
  maxAttempts: number;
  enabled: boolean;
  recipient: { country: string; transferSafeguard: string | null };
  createdAt: string;
  updatedAt: string;
}

export interface DestinationStats {
  delivered: number;
  retried: number;
  dead: number;
  pending: number;
  dropped: Record<string, number>;
  latencyMs: { p50: number | null; p99: number | null };
  audience: Record<string, number>;
}

export interface DeadLetter {
  key: string;
  kind: string;
  action?: string;
  profileId: string;
  segmentId?: string;
  attempts: number;
  error: string;
  createdAt: string;
  failedAt: string;
}

export type Outcome = { kind: 'ok'; detail?: string } | { kind: 'retry'; reason: string; afterMs?: number } | { kind: 'drop'; reason: string } | { kind: 'dead'; error: string };
