/**
 * The lookup bench's load generator: a child process (forked by `run.js`) that receives one
 * `LookupRequest` over IPC, sends `GET …/profiles/lookup` requests for random existing people
 * (email, user id or anonymous id in turn) at a fixed overall rate with autocannon, and replies
 * with the warm-up and measured phases.
 *
 * The rate is spread evenly: autocannon's own `overallRate` sends each connection's per-second
 * quota back to back at the start of every second, so at 5,000 req/s the server would see bursts
 * and the latency measured would be the burst's. Here each connection keeps autocannon's share
 * of the rate but sends at even intervals (random phase), through autocannon 9's `Client`
 * internals (`_doRequest`, `getRequestBuffer`, `rate`, `destroy`), as the ingest bench does; if
 * they change this file fails loudly. Requests are pre-built byte buffers (no per-request
 * `setupRequest`), so the generator costs little CPU on a 2-core machine.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { paceClient, type AcClient } from '../common/paced-client.js';
import { random } from '../profiles/population.js';
import {
  LOOKUP_TYPES, identifierOf, lookupPath, lookupPerson,
  type LatencySummary, type LookupLoadConfig, type LookupPhase, type LookupReply, type LookupRequest,
} from './protocol.js';

interface AcResult {
  errors: number;
  timeouts: number;
}

type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AcResult) => void) => EventEmitter;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** Pre-built requests cycled through (random people, types in turn). */
const REQUEST_POOL = 65_536;

class Samples {
  private data = new Float64Array(1 << 16);
  private n = 0;

  add(v: number): void {
    if (this.n === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = v;
  }

  summary(): LatencySummary {
    if (this.n === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    const sorted = this.data.slice(0, this.n).sort();
    const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
    let sum = 0;
    for (const v of sorted) sum += v;
    const r = (v: number): number => Math.round(v * 1000) / 1000;
    return { p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), p999: r(at(0.999)), max: r(at(1)), mean: r(sum / sorted.length) };
  }
}

function buildRequests(cfg: LookupLoadConfig): Buffer[] {
  const host = new URL(cfg.origin).host;
  const rand = random(cfg.seed * 7919 + 11);
  const out: Buffer[] = [];
  for (let i = 0; i < REQUEST_POOL; i++) {
    const person = lookupPerson(Math.floor(rand() * cfg.people), cfg.seed);
    const type = LOOKUP_TYPES[i % LOOKUP_TYPES.length] as (typeof LOOKUP_TYPES)[number];
    const path = lookupPath(cfg.workspaceId, type, identifierOf(person, type));
    out.push(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${cfg.token}\r\nUser-Agent: ensemble-bench/1 (autocannon)\r\nConnection: keep-alive\r\n\r\n`));
  }
  return out;
}

function runPhase(cfg: LookupLoadConfig, requests: Buffer[], label: LookupPhase['label'], seconds: number): Promise<LookupPhase> {
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

async function run(cfg: LookupLoadConfig): Promise<LookupPhase[]> {
  const requests = buildRequests(cfg);
  const phases: LookupPhase[] = [];
  if (cfg.warmupSec > 0) phases.push(await runPhase(cfg, requests, 'warmup', cfg.warmupSec));
  process.send?.({ kind: 'mark', label: 'measured', edge: 'start' } satisfies LookupReply);
  phases.push(await runPhase(cfg, requests, 'measured', cfg.durationSec));
  process.send?.({ kind: 'mark', label: 'measured', edge: 'end' } satisfies LookupReply);
  return phases;
}

function reply(message: LookupReply): void {
  if (process.send === undefined) throw new Error('load.js must be forked with an IPC channel');
  process.send(message, () => process.disconnect());
}

process.once('message', (message: LookupRequest) => {
  run(message.config).then(
    (phases) => reply({ kind: 'result', phases }),
    (err: unknown) => reply({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
