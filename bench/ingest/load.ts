/**
 * The ingest bench's load generator: a child process (forked by `run.js`) that receives one
 * `LoadRequest` over IPC, drives autocannon against the target, and replies with one
 * `LoadReply`. It runs in its own process so the server under test has its own event loop.
 *
 * Two things autocannon does not do on its own are added through its `setupClient` hook:
 *
 * - **Clean stop.** autocannon ends a duration run by destroying connections with requests in
 *   flight; the server may still commit those events, so "accepted = 2xx × events" could not be
 *   checked exactly. Here each connection stops *sending* at the deadline and closes after its
 *   last response, so every request sent has a known outcome.
 * - **Smooth pacing.** autocannon's `overallRate` gives each connection a per-second quota that
 *   it sends back to back at the start of every second, then idles: at 80 % of the maximum rate
 *   the server is saturated for ~0.8 s of each second, and the latency measured is the
 *   saturated latency. With `pacing: 'smooth'` each connection sends its share of
 *   `overallRate` (as autocannon distributes it) at even intervals with a random phase. Latency
 *   is recorded twice: from the write (what the server took) and from the scheduled send time
 *   (a stall is charged to every request it held back, but so is the generator's own lateness,
 *   hence the generator's event-loop delay is reported too). `pacing: 'burst'` keeps
 *   autocannon's own limiter, for comparison.
 *
 * - **Cheap unique requests.** Each request is a copy of a pre-built one (head + body) with new
 *   `messageId`s written in place (`Client.getRequestBuffer`), instead of autocannon's
 *   `setupRequest`, which rebuilds headers and body every time. On 2 cores the generator
 *   competes with the server for CPU, so its cost per request matters.
 *
 * All three rely on autocannon 9's `Client` internals (`_doRequest`, `getRequestBuffer`, `rate`,
 * `destroy`); if they change, this file fails loudly instead of measuring something else.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { paceClient, type AcClient } from '../common/paced-client.js';
import { PayloadFactory } from './payload.js';
import type { LatencySummary, LoadConfig, LoadReply, LoadRequest, PhaseResult } from './protocol.js';

// ---- the slice of autocannon's API this file uses (it ships no types) ----------------------

interface AcOptions {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  method: 'POST';
  headers: Record<string, string>;
  body: Buffer;
  overallRate?: number;
  setupClient: (client: AcClient) => void;
}

/** autocannon's per-connection client (lib/httpClient.js). */
interface AcHistogram {
  p50: number;
  p99: number;
}

interface AcResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  latency: AcHistogram;
}

interface AcInstance extends EventEmitter {
  stop(): void;
}

type Autocannon = (opts: AcOptions, cb: (err: Error | null, result: AcResult) => void) => AcInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// ---- measurement ---------------------------------------------------------------------------

/** Growable list of latencies (ms); percentiles by sorting, exact to the microsecond. */
class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;

  add(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }

  summary(): LatencySummary {
    if (this.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
    const sorted = this.data.slice(0, this.length).sort();
    const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
    let sum = 0;
    for (const v of sorted) sum += v;
    const round = (v: number): number => Math.round(v * 1000) / 1000;
    return { p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(at(1)), mean: round(sum / sorted.length) };
  }
}

interface Counters {
  sent: number;
  responses: number;
  ok2xx: number;
  statusCounts: Record<string, number>;
  firstSend: number;
  lastResponse: number;
  latency: Samples;
  scheduled: Samples;
}

function runPhase(cfg: LoadConfig, requests: PayloadFactory, label: PhaseResult['label'], seconds: number): Promise<PhaseResult> {
  const smooth = cfg.rate !== null && cfg.pacing === 'smooth';
  const c: Counters = {
    sent: 0, responses: 0, ok2xx: 0, statusCounts: {}, firstSend: Number.POSITIVE_INFINITY, lastResponse: 0,
    latency: new Samples(), scheduled: new Samples(),
  };
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const cpuStart = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();

  function setupClient(client: AcClient): void {
    const intended = paceClient(client, { start, deadline, paced: smooth });
    // Every request is a fresh copy of a pre-built one with new messageIds: measured ~30 % less
    // generator CPU than autocannon's setupRequest, which rebuilds headers and body each time.
    client.getRequestBuffer = () => requests.next();

    client.on('request', () => {
      const written = performance.now();
      if (written < c.firstSend) c.firstSend = written;
      c.sent++;
    });
    client.on('response', (statusCode: number, _bytes: number, responseTime: number) => {
      const now = performance.now();
      c.lastResponse = now;
      c.responses++;
      const key = String(statusCode);
      c.statusCounts[key] = (c.statusCounts[key] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) {
        c.ok2xx++;
        c.latency.add(responseTime);
        if (intended() >= 0) c.scheduled.add(now - intended());
      }
    });
  }

  const options: AcOptions = {
    url: cfg.origin + cfg.path,
    connections: cfg.connections,
    // Backstop only: connections close themselves at the deadline, after their last response.
    duration: seconds + cfg.timeoutSec + 5,
    timeout: cfg.timeoutSec,
    method: 'POST',
    // What autocannon would send; every request actually written comes from getRequestBuffer.
    headers: requestHeaders(cfg),
    body: Buffer.from('{}'),
    setupClient,
  };
  if (cfg.rate !== null) options.overallRate = cfg.rate;

  return new Promise((resolve, reject) => {
    autocannon(options, (err, result) => {
      if (err !== null) return reject(err);
      const cpu = process.cpuUsage(cpuStart);
      loopDelay.disable();
      const ns = (v: number): number => Math.round(v / 1e4) / 100;
      // The window ends at the deadline or the last response, whichever is later: a run that
      // idles before the deadline (burst pacing) still took the whole time.
      const end = Math.max(c.lastResponse, deadline);
      const elapsedSec = Math.max(1e-3, (end - Math.min(c.firstSend, end)) / 1000);
      const wall = (performance.now() - start) / 1000;
      resolve({
        label,
        configuredSec: seconds,
        elapsedSec: Math.round(elapsedSec * 1000) / 1000,
        connections: cfg.connections,
        targetRate: cfg.rate,
        pacing: cfg.rate === null ? null : cfg.pacing,
        sent: c.sent,
        responses: c.responses,
        ok2xx: c.ok2xx,
        non2xx: c.responses - c.ok2xx,
        statusCounts: c.statusCounts,
        errors: result.errors,
        timeouts: result.timeouts,
        unanswered: c.sent - c.responses,
        reqPerSec: Math.round((c.ok2xx / elapsedSec) * 10) / 10,
        eventsPerSec: Math.round((c.ok2xx * cfg.eventsPerRequest) / elapsedSec),
        latencyMs: c.latency.summary(),
        scheduledLatencyMs: smooth ? c.scheduled.summary() : null,
        loadgenLoopDelayMs: { p50: ns(loopDelay.percentile(50)), p99: ns(loopDelay.percentile(99)), max: ns(loopDelay.max) },
        autocannon: { p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors },
        loadgenCpuPercent: Math.round(((cpu.user + cpu.system) / 1e6 / wall) * 1000) / 10,
        loadgenCpuSec: Math.round((cpu.user + cpu.system) / 1e3) / 1e3,
      });
    });
  });
}

function requestHeaders(cfg: LoadConfig): Record<string, string> {
  return {
    'content-type': 'application/json',
    authorization: `Basic ${Buffer.from(`${cfg.writeKey}:`).toString('base64')}`,
    'user-agent': 'ensemble-bench/1 (autocannon)',
  };
}

async function run(cfg: LoadConfig): Promise<PhaseResult[]> {
  const host = new URL(cfg.origin).host;
  const headers = Object.entries(requestHeaders(cfg)).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const requests = new PayloadFactory({
    eventsPerRequest: cfg.eventsPerRequest,
    seed: cfg.seed,
    httpHead: (length) => `POST ${cfg.path} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n${headers}Content-Length: ${length}\r\n\r\n`,
  });
  const phases: PhaseResult[] = [];
  if (cfg.warmupSec > 0) phases.push(await runPhase(cfg, requests, 'warmup', cfg.warmupSec));
  phases.push(await runPhase(cfg, requests, 'measured', cfg.durationSec));
  return phases;
}

function reply(message: LoadReply): void {
  if (process.send === undefined) throw new Error('load.js must be forked with an IPC channel');
  process.send(message, () => process.disconnect());
}

process.once('message', (message: LoadRequest) => {
  run(message.config).then(
    (phases) => reply({ kind: 'result', phases }),
    (err: unknown) => reply({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
