/**
 * The generic part of a fixed-rate load generator (a child process forked by a bench's
 * orchestrator, see `fixed-rate-run.ts`): it receives one config over IPC, sends pre-built
 * requests at a fixed overall rate with autocannon — a warm-up phase, then the measured one —
 * and replies with both phases. A bench's `load.ts` only builds its requests and calls
 * `serveFixedRateLoad` (the lookup and personalize benches do).
 *
 * The rate is spread evenly: autocannon's own `overallRate` sends each connection's per-second
 * quota back to back at the start of every second, so at 5,000 req/s the server would see bursts
 * and the latency measured would be the burst's. Here each connection keeps autocannon's share
 * of the rate but sends at even intervals (random phase), through autocannon 9's `Client`
 * internals (`_doRequest`, `getRequestBuffer`, `rate`, `destroy`), as the ingest bench does; if
 * they change this fails loudly. Requests are pre-built byte buffers (no per-request
 * `setupRequest`), so the generator costs little CPU on a 2-core machine.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { paceClient, type AcClient } from './paced-client.js';
import type { FixedRateLoadConfig, FixedRatePhase, FixedRateReply, FixedRateRequest } from './fixed-rate-protocol.js';
import { Samples } from './samples.js';

interface AcResult {
  errors: number;
  timeouts: number;
}

type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AcResult) => void) => EventEmitter;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** One phase: `seconds` of `requests` (cycled from a random start) at `cfg.rate`, paced evenly. */
export function runFixedRatePhase(cfg: FixedRateLoadConfig, requests: Buffer[], label: FixedRatePhase['label'], seconds: number): Promise<FixedRatePhase> {
  let sent = 0;
  let responses = 0;
  let ok2xx = 0;
  let next = Math.floor(Math.random() * requests.length);
  let firstSend = Number.POSITIVE_INFINITY;
  let lastResponse = 0;
  const statusCounts: Record<string, number> = {};
  const latency = new Samples();
  const scheduledLatency = new Samples();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const cpuStart = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();

  function setupClient(client: AcClient): void {
    const intended = paceClient(client, { start, deadline, paced: true });
    client.getRequestBuffer = () => {
      const buf = requests[next] as Buffer;
      next = (next + 1) % requests.length;
      return buf;
    };
    client.on('request', () => {
      const t = performance.now();
      if (t < firstSend) firstSend = t;
      sent++;
    });
    client.on('response', (status: number, _bytes: number, responseTime: number) => {
      const now = performance.now();
      lastResponse = now;
      responses++;
      statusCounts[String(status)] = (statusCounts[String(status)] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        ok2xx++;
        latency.add(responseTime);
        if (intended() >= 0) scheduledLatency.add(now - intended());
      }
    });
  }

  return new Promise((resolve, reject) => {
    autocannon({
      url: cfg.origin,
      connections: cfg.connections,
      duration: seconds + cfg.timeoutSec + 5,
      timeout: cfg.timeoutSec,
      method: 'GET',
      overallRate: cfg.rate,
      setupClient,
    }, (err, result) => {
      if (err !== null) return reject(err);
      loopDelay.disable();
      const cpu = process.cpuUsage(cpuStart);
      const end = Math.max(lastResponse, deadline);
      const elapsedSec = Math.max(1e-3, (end - Math.min(firstSend, end)) / 1000);
      const wall = (performance.now() - start) / 1000;
      const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
      resolve({
        label, targetRate: cfg.rate, elapsedSec: Math.round(elapsedSec * 1000) / 1000,
        sent, responses, ok2xx, statusCounts, errors: result.errors, timeouts: result.timeouts,
        reqPerSec: Math.round((ok2xx / elapsedSec) * 10) / 10,
        latencyMs: latency.summary(),
        scheduledLatencyMs: scheduledLatency.summary(),
        loadgenCpuPercent: Math.round(((cpu.user + cpu.system) / 1e6 / wall) * 1000) / 10,
        loadgenCpuSec: Math.round((cpu.user + cpu.system) / 1e3) / 1e3,
        loadgenLoopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
      });
    });
  });
}

/** The warm-up (if any) then the measured phase, marking the measured phase's edges to the parent. */
export async function runFixedRatePhases(cfg: FixedRateLoadConfig, requests: Buffer[]): Promise<FixedRatePhase[]> {
  const phases: FixedRatePhase[] = [];
  if (cfg.warmupSec > 0) phases.push(await runFixedRatePhase(cfg, requests, 'warmup', cfg.warmupSec));
  process.send?.({ kind: 'mark', label: 'measured', edge: 'start' } satisfies FixedRateReply);
  phases.push(await runFixedRatePhase(cfg, requests, 'measured', cfg.durationSec));
  process.send?.({ kind: 'mark', label: 'measured', edge: 'end' } satisfies FixedRateReply);
  return phases;
}

function reply(message: FixedRateReply): void {
  if (process.send === undefined) throw new Error('the load generator must be forked with an IPC channel');
  process.send(message, () => process.disconnect());
}

/** The body of a load generator process: one config in, its requests built, both phases out. */
export function serveFixedRateLoad<C extends FixedRateLoadConfig>(build: (cfg: C) => Buffer[]): void {
  process.once('message', (message: FixedRateRequest<C>) => {
    Promise.resolve().then(() => runFixedRatePhases(message.config, build(message.config))).then(
      (phases) => reply({ kind: 'result', phases }),
      (err: unknown) => reply({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
}
