/**
 * Membership latency: how long after its ingest is acknowledged an event's effect on a segment
 * is visible. A real Ensemble runs in this process (`openEnsemble` on a DuckDB file in a
 * temporary directory, as test/helpers/server.ts does); a workspace, a source and a segment are
 * made through the admin API; then one `track` per HTTP request goes to `/v1/track` at a fixed
 * rate, each from a new anonymous id, so each event makes one new profile enter the segment.
 *
 * For each event: `acked` = when its 200 arrived (the collector answers after the group commit),
 * `visible` = when `engine.onChanges` reported its profile entering (the engine's membership is
 * what `isMember`, the profile's segments and the membership writer read). Both clocks are this
 * process's `performance.now()`. Profiles are matched to anonymous ids after the run, through the
 * identity index (`identity.lookup`), so nothing is looked up while timing.
 *
 * Client and server share one event loop here: the client's work (~tens of µs per request) and
 * its timers are on the same thread as the server's; the event-loop delay is reported with the
 * figures.
 */
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { openEnsemble, type Ensemble } from '../../src/main/app.js';
import { parseConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import type { ProcessingStore } from '../../src/storage/ports.js';
import type { SegmentEngine } from '../../src/segments/engine.js';
import { DAY_MS } from './generate.js';

export interface LatencyOptions {
  rate: number;
  durationSec: number;
  warmupSec: number;
  /** People sent before the run (a few events each), so the engine and store are not empty. */
  preload: number;
  seed: number;
  dataDir: string;
  /** The processor's `idleMs` (null: the server's default), to see how much of the wait it is. */
  idleMs: number | null;
}

export interface Percentiles { p50: number; p95: number; p99: number; max: number; mean: number; min: number }

export interface LatencyResult {
  segment: unknown;
  idleMs: number;
  flushMs: number;
  preload: { people: number; events: number; seconds: number; segmentSize: number; createSeconds: number };
  sent: number;
  measured: number;
  non200: number;
  /** Acked events whose profile never showed up as entering (within the wait after the run). */
  neverVisible: number;
  /** Measured events whose profile entered before its 200 arrived. */
  visibleBeforeAck: number;
  achievedRate: number;
  /** visible − acked, ms. */
  visibleAfterAck: Percentiles;
  /** acked − sent, ms: the baseline. */
  ack: Percentiles;
  /** visible − sent, ms. */
  visibleAfterSend: Percentiles;
  /** How late requests left compared with their schedule, ms (the generator's health). */
  sendLateness: Percentiles;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** Processor batches during the measured part (and after it, until idle): how many, and their mean duration. */
  processorBatches: {
    count: number; meanMs: number; commitBatchMs: Percentiles; engineCommittedMs: Percentiles;
    /** The processor store's statements during the measured part, slowest in total first. */
    statementsMeanMs: Record<string, { count: number; meanMs: number }>;
  };
}

/**
 * Times each call of the processor store's `commitBatch` (the batch's DuckDB transaction) and of
 * the segment engine's `committed` (folding the batch), by wrapping them on their instances:
 * where a batch's time goes. The processor keeps its store in a private field; read only here.
 */
function timeBatchSteps(e: Ensemble): { commitMs: number[]; engineMs: number[]; statements: Map<string, { n: number; ms: number }> } {
  const out = { commitMs: [] as number[], engineMs: [] as number[], statements: new Map<string, { n: number; ms: number }>() };
  const store = (e.processor as unknown as { deps: { store: ProcessingStore } }).deps.store;
  // Inside commitBatch, each SQL statement by its first words (BEGIN, INSERT INTO events, COMMIT...).
  const conn = (store as unknown as { conn?: { run: (sql: string, params?: unknown) => Promise<unknown> } }).conn;
  if (conn) {
    const run = conn.run.bind(conn);
    conn.run = async (sql, params) => {
      const t = performance.now();
      try {
        return await run(sql, params);
      } finally {
        const label = sql.trim().replace(/\s+/g, ' ').split(' ').slice(0, 5).join(' ').replace(/[(,].*$/, '');
        const x = out.statements.get(label) ?? { n: 0, ms: 0 };
        x.n++;
        x.ms += performance.now() - t;
        out.statements.set(label, x);
      }
    };
  }
  const commit = store.commitBatch.bind(store);
  store.commitBatch = async (batch) => {
    const t = performance.now();
    try {
      return await commit(batch);
    } finally {
      out.commitMs.push(performance.now() - t);
    }
  };
  const engine: SegmentEngine = e.segments.engine;
  const committed = engine.committed.bind(engine);
  engine.committed = (merges, events) => {
    const t = performance.now();
    try {
      committed(merges, events);
    } finally {
      out.engineMs.push(performance.now() - t);
    }
  };
  return out;
}

/** The processor's batch-duration histogram, as count and sum of seconds. */
async function processorBatches(e: Ensemble): Promise<{ count: number; sum: number }> {
  const { values } = await e.metrics.processorBatchSeconds.get();
  const pick = (suffix: string): number => values.filter((v) => v.metricName?.endsWith(suffix)).reduce((a, v) => a + v.value, 0);
  return { count: pick('_count'), sum: pick('_sum') };
}

const TOKEN = `bench-${randomBytes(12).toString('hex')}`;

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN, min: Number.NaN };
  const s = [...values].sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least q of the values at or below it.
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1] as number, min: s[0] as number, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

interface Answer { status: number; text: string }

function send(agent: Agent, url: URL, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function json(agent: Agent, url: URL, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await send(agent, url, method, path, { authorization: `Bearer ${TOKEN}` }, body === undefined ? undefined : JSON.stringify(body));
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${res.text.slice(0, 300)}`);
  return JSON.parse(res.text) as Record<string, unknown>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function measureLatency(o: LatencyOptions, say: (s: string) => void): Promise<LatencyResult> {
  const dir = await mkdtemp(join(o.dataDir, 'ensemble-bench-segments-'));
  // The server's log lines are kept (the last ones are shown if something fails), not printed.
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); if (lines.length > 200) lines.shift(); done(); } });
  const config = parseConfig({
    port: 0, dataPath: join(dir, 'ensemble.duckdb'), adminToken: TOKEN, logLevel: 'warn', ...(o.idleMs === null ? {} : { processor: { idleMs: o.idleMs } }),
  });
  let ensemble: Ensemble | null = null;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    ensemble = await openEnsemble(config, { logger: createLogger('warn', sink) });
    const url = new URL(await ensemble.listen());
    const ws = (await json(agent, url, 'POST', '/api/workspaces', { name: 'bench' })).id as string;
    const writeKey = (await json(agent, url, 'POST', `/api/workspaces/${ws}/sources`, { name: 'web', kind: 'website' })).writeKey as string;
    const auth = { authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` };

    // Background: people with a few events in the last 20 days, some of them adds to cart.
    const tPre = performance.now();
    let preEvents = 0;
    const now = Date.now();
    for (let from = 0; from < o.preload; from += 250) {
      const batch: unknown[] = [];
      for (let i = from; i < Math.min(o.preload, from + 250); i++) {
        const anon = `pre-${o.seed}-${i}`;
        const base = now - ((i * 7919) % 20) * DAY_MS - (i % 3600) * 1000;
        batch.push({ type: 'page', anonymousId: anon, name: 'Home', properties: { path: '/' }, timestamp: new Date(base).toISOString() });
        batch.push({ type: 'track', anonymousId: anon, event: 'Product Viewed', properties: { product_id: `sku-${i % 500}`, price: 20 }, timestamp: new Date(base + 30_000).toISOString() });
        if (i % 3 === 0) batch.push({ type: 'track', anonymousId: anon, event: 'Product Added', properties: { product_id: `sku-${i % 500}`, price: 20 }, timestamp: new Date(base + 60_000).toISOString() });
      }
      preEvents += batch.length;
      const res = await send(agent, url, 'POST', '/v1/batch', auth, JSON.stringify({ batch }));
      if (res.status !== 200) throw new Error(`preload: /v1/batch answered ${res.status}: ${res.text.slice(0, 300)}`);
    }
    await ensemble.processor.idle();
    const preSec = (performance.now() - tPre) / 1000;

    const definition = { kind: 'event', event: 'Product Added', within: '30d' };
    const tSeg = performance.now();
    const created = await json(agent, url, 'POST', `/api/workspaces/${ws}/segments`, { name: 'Added to cart (30 days)', definition });
    const createSec = (performance.now() - tSeg) / 1000;
    const segmentId = created.id as string;
    say(`  server up; ${o.preload} people preloaded (${preEvents} events, ${preSec.toFixed(1)} s); segment created in ${createSec.toFixed(2)} s with ${String(created.size)} members\n`);

    // When each profile entered the segment (the first time only).
    const entered = new Map<string, number>();
    ensemble.segments.engine.onChanges((changes) => {
      const t = performance.now();
      for (const c of changes) if (c.entered && c.segmentId === segmentId && !entered.has(c.profileId)) entered.set(c.profileId, t);
    });

    const total = Math.round(o.rate * (o.warmupSec + o.durationSec));
    const warm = Math.round(o.rate * o.warmupSec);
    const run = randomBytes(4).toString('hex');
    const sentAt = new Float64Array(total);
    const scheduledAt = new Float64Array(total);
    const ackedAt = new Float64Array(total).fill(Number.NaN);
    const status = new Int32Array(total);
    const anonOf = (i: number): string => `lat-${o.seed}-${run}-${i}`;
    const pending: Array<Promise<void>> = [];
    let batches0 = await processorBatches(ensemble);
    const steps = timeBatchSteps(ensemble);
    const loop = monitorEventLoopDelay({ resolution: 1 });
    say(`  sending ${total} events at ${o.rate}/s (${o.warmupSec} s warm-up + ${o.durationSec} s measured)…\n`);
    const t0 = performance.now() + 20;
    for (let i = 0; i < total; i++) {
      if (i === warm) {
        loop.enable();
        batches0 = await processorBatches(ensemble);
        steps.commitMs.length = 0;
        steps.engineMs.length = 0;
        steps.statements.clear();
      }
      const due = t0 + (i * 1000) / o.rate;
      const wait = due - performance.now();
      if (wait > 0.5) await sleep(wait);
      scheduledAt[i] = due;
      const body = JSON.stringify({
        type: 'track', event: 'Product Added', anonymousId: anonOf(i), messageId: `${run}-${i}`,
        properties: { product_id: `sku-${i % 500}`, price: 20, currency: 'EUR' }, timestamp: new Date().toISOString(),
      });
      sentAt[i] = performance.now();
      pending.push(send(agent, url, 'POST', '/v1/track', auth, body).then((res) => {
        ackedAt[i] = performance.now();
        status[i] = res.status;
      }, () => { status[i] = -1; }));
    }
    const sendEnd = performance.now();
    await Promise.all(pending);
    loop.disable();
    await ensemble.processor.idle();
    const batches1 = await processorBatches(ensemble);

    // Wait for the processor, then a little more for the engine (it runs right after the commit).
    const deadline = performance.now() + 10_000;
    await ensemble.processor.idle();
    const profileOf = new Array<string | undefined>(total);
    for (;;) {
      let missing = 0;
      for (let i = 0; i < total; i++) {
        if (status[i] !== 200) continue;
        profileOf[i] ??= ensemble.identity.lookup(ws, 'anonymous_id', anonOf(i))?.id;
        const p = profileOf[i];
        if (p === undefined || !entered.has(p)) missing++;
      }
      if (missing === 0 || performance.now() > deadline) break;
      await sleep(50);
    }

    const afterAck: number[] = [];
    const ack: number[] = [];
    const afterSend: number[] = [];
    const lateness: number[] = [];
    let non200 = 0;
    let never = 0;
    let before = 0;
    for (let i = warm; i < total; i++) {
      lateness.push((sentAt[i] as number) - (scheduledAt[i] as number));
      if (status[i] !== 200) { non200++; continue; }
      const a = ackedAt[i] as number;
      ack.push(a - (sentAt[i] as number));
      const p = profileOf[i];
      const v = p === undefined ? undefined : entered.get(p);
      if (v === undefined) { never++; continue; }
      if (v < a) before++;
      afterAck.push(v - a);
      afterSend.push(v - (sentAt[i] as number));
    }
    const measuredSpan = (sendEnd - (sentAt[warm] ?? sendEnd)) / 1000;
    return {
      segment: definition, idleMs: config.processor.idleMs, flushMs: config.segments.flushMs,
      preload: { people: o.preload, events: preEvents, seconds: preSec, segmentSize: Number(created.size), createSeconds: createSec },
      sent: total, measured: total - warm, non200, neverVisible: never, visibleBeforeAck: before,
      achievedRate: measuredSpan > 0 ? (total - warm - 1) / measuredSpan : Number.NaN,
      visibleAfterAck: percentiles(afterAck), ack: percentiles(ack), visibleAfterSend: percentiles(afterSend), sendLateness: percentiles(lateness),
      eventLoopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
      processorBatches: {
        count: batches1.count - batches0.count, meanMs: ((batches1.sum - batches0.sum) / Math.max(1, batches1.count - batches0.count)) * 1000,
        commitBatchMs: percentiles(steps.commitMs), engineCommittedMs: percentiles(steps.engineMs),
        statementsMeanMs: Object.fromEntries([...steps.statements].sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => [k, { count: v.n, meanMs: v.ms / v.n }])),
      },
    };
  } catch (err) {
    if (lines.length > 0) process.stderr.write(`\n--- last server log lines ---\n${lines.slice(-20).join('')}\n`);
    throw err;
  } finally {
    agent.destroy();
    if (ensemble) await ensemble.close();
    await rm(dir, { recursive: true, force: true });
  }
}
