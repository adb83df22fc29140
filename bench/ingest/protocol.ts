/**
 * Types shared by the ingest bench's three processes: the orchestrator (`run.ts`), the load
 * generator child (`load.ts`) and the baseline server (`baseline-server.ts`).
 *
 * The orchestrator forks `load.js`, sends it one `LoadRequest` over IPC and gets one
 * `LoadReply` back. Keeping the generator in its own process means the server under test never
 * shares an event loop with the code that measures it.
 */

/** How a rate-limited run spreads its requests over time. */
export type Pacing = 'smooth' | 'burst';

export interface LoadConfig {
  /** Origin of the server, e.g. `http://127.0.0.1:4000`. */
  origin: string;
  /** `/v1/track` (one event per request) or `/v1/batch`. */
  path: string;
  /** 1 for `/v1/track`; the batch size for `/v1/batch`. */
  eventsPerRequest: number;
  connections: number;
  durationSec: number;
  /** Warm-up before the measured phase, same settings; 0 to skip. */
  warmupSec: number;
  /** Overall requests per second (autocannon `overallRate`); null = as fast as possible. */
  rate: number | null;
  pacing: Pacing;
  /** Sent as Basic-auth username with an empty password (Segment write-key auth). */
  writeKey: string;
  /** Per-request timeout (s). */
  timeoutSec: number;
  /** Seed for the event generator, so two runs send the same mix of events. */
  seed: number;
}

export interface LoadRequest {
  kind: 'run';
  config: LoadConfig;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** What one phase (warm-up or measured) of a load run produced. */
export interface PhaseResult {
  label: 'warmup' | 'measured';
  configuredSec: number;
  /** From the first request sent to the last response received or the deadline, if later. */
  elapsedSec: number;
  connections: number;
  targetRate: number | null;
  pacing: Pacing | null;
  /** Requests written to a socket. */
  sent: number;
  /** Responses received, any status. */
  responses: number;
  ok2xx: number;
  non2xx: number;
  statusCounts: Record<string, number>;
  /** Connection errors and timeouts, as autocannon counts them. */
  errors: number;
  timeouts: number;
  /** `sent - responses`: requests whose outcome the generator never saw (timeouts, resets). */
  unanswered: number;
  /** 2xx responses per second over `elapsedSec`. */
  reqPerSec: number;
  /** 2xx responses × events per request, per second: durably accepted events per second. */
  eventsPerSec: number;
  /** Latency of 2xx responses (ms), from the moment the request was written to the socket. */
  latencyMs: LatencySummary;
  /**
   * Smooth-paced runs only: latency of 2xx responses from the moment the request was
   * *scheduled*, so a server stall is also charged to the requests it held back (coordinated
   * omission). It also includes the generator's own lateness — see `loadgenLoopDelayMs`.
   */
  scheduledLatencyMs: LatencySummary | null;
  /** Event-loop delay of the generator during the phase (ms): how late it could act. */
  loadgenLoopDelayMs: { p50: number; p99: number; max: number };
  /** autocannon's own (integer-ms histogram) figures, for cross-checking. */
  autocannon: { p50: number; p99: number; non2xx: number; errors: number };
  /** CPU time of the generator process over the phase, as % of one core, and in seconds. */
  loadgenCpuPercent: number;
  loadgenCpuSec: number;
}

export type LoadReply =
  | { kind: 'result'; phases: PhaseResult[] }
  | { kind: 'error'; message: string };
