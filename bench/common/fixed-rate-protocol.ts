/**
 * What a fixed-rate bench's orchestrator and its forked load generator (`fixed-rate-load.ts`)
 * send each other over IPC: the generic part of the configuration, the figures of one phase, and
 * the replies. A bench extends the configuration with what its requests need (the lookup and
 * personalize benches do).
 */

export interface FixedRateLoadConfig {
  origin: string;
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

export interface FixedRatePhase {
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

export type FixedRateRequest<C extends FixedRateLoadConfig = FixedRateLoadConfig> = { kind: 'run'; config: C };
export type FixedRateReply =
  | { kind: 'result'; phases: FixedRatePhase[] }
  | { kind: 'error'; message: string }
  /** Sent as a phase starts and ends, so the orchestrator measures server CPU over that phase only. */
  | { kind: 'mark'; label: FixedRatePhase['label']; edge: 'start' | 'end' };
