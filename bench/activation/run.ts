/**
 * Activation latency benchmark (`npm run bench:activation -- [flags]`; see bench/README.md):
 * from the ingest acknowledgement to the outbound request, ≤ 1 s p99.
 *
 * Starts the real server (`cli.js start` on a DuckDB file in a temporary directory) and, in this
 * process, a webhook receiver (receiver.ts) on 127.0.0.1. Configures, over the admin API:
 * (a) a webhook destination forwarding `Order Completed` events with the mapping
 * `{mid: 'messageId'}`; (b) a segment "viewed a product", a second webhook destination mirroring
 * it as an audience, and a trigger "on `Order Completed`, remove the person from that audience".
 * Every person first views a product (preload), so the receiver gets their addition; then, per
 * rate, each person sends one `Order Completed` through `POST /v1/track` (unique messageId) at a
 * fixed rate: the forwarded event (event path) and the person's removal (trigger path) are timed
 * from the moment the client had the 200, to the moment the receiver had the request. Baseline,
 * same run, same rate, same bodies: the client POSTs each body directly to the receiver (the
 * floor of one local HTTP hop).
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { intFlag } from '../profiles/args.js';
import { recordedServerOptions, SERVER_OPTIONS, SERVER_OPTIONS_HELP, serverOptions, type ServerOptions } from '../common/server-options.js';
import { personOf, type Person } from '../profiles/population.js';
import { cpuSeconds, freePort, killNow, logTail, machineBusySeconds, sleep, spawned, startNode, stopProcess, waitHealthy, type ManagedProcess } from '../ingest/processes.js';
import { adminCall, postBatch, provision, waitProcessed } from '../common/fixed-rate-run.js';
import { Samples, percentileOf } from '../common/samples.js';
import { fmt, gitState, ROOT, table, writeResults } from '../profiles/output.js';
import { startReceiver, type PathArrivals, type Receiver } from './receiver.js';
import { sendPaced, type PacedResult } from './sender.js';

const TARGET_P99_MS = 1000;
const EVENT = 'Order Completed';

const HELP = `Ensemble activation latency benchmark (ingest acknowledgement → outbound webhook request)

Usage: npm run bench:activation -- [flags]
       node dist/bench/activation/run.js [flags]

  --rates <list>            events per second, one phase each, in order         (default 100,1000)
  --duration <s>            measured seconds per phase                           (default 15)
  --warmup <s>              seconds sent first in each phase, not measured       (default 2)
  --delivery-timeout <s>    an event not at the receiver this long after its ack
                            counts as not delivered                              (default 10)
  --sockets <n>             client connections at most (open loop: requests wait
                            for a free one beyond that)                         (default 64)
  --destination-rate <n>    webhook requests per second for both destinations
                                                       (default: the connector's own, 20)
  --seed <n>                people seed                                          (default 1)
${SERVER_OPTIONS_HELP}
  -h, --help
`;

interface Options extends ServerOptions {
  rates: number[];
  durationSec: number;
  warmupSec: number;
  deliveryTimeoutSec: number;
  sockets: number;
  destinationRate: number | null;
  seed: number;
}

function parse(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' }, rates: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' },
      'delivery-timeout': { type: 'string' }, sockets: { type: 'string' }, 'destination-rate': { type: 'string' }, seed: { type: 'string' },
      ...SERVER_OPTIONS,
    },
  });
  if (values.help) return null;
  const rates = (values.rates ?? '100,1000').split(',').map((r) => intFlag('rates', r.trim(), 0, 1));
  return {
    rates,
    durationSec: intFlag('duration', values.duration, 15, 1),
    warmupSec: intFlag('warmup', values.warmup, 2, 0),
    deliveryTimeoutSec: intFlag('delivery-timeout', values['delivery-timeout'], 10, 1),
    sockets: intFlag('sockets', values.sockets, 64, 1),
    destinationRate: values['destination-rate'] === undefined ? null : intFlag('destination-rate', values['destination-rate'], 20, 1),
    seed: intFlag('seed', values.seed, 1, 0),
    ...serverOptions(values),
  };
}

// ---- people and bodies ------------------------------------------------------------------------

interface Phase {
  rate: number;
  /** Events sent (warm-up included): one per person. */
  count: number;
  /** Events before this index are the warm-up (not measured). */
  measuredFrom: number;
  firstPerson: number;
}

function person(i: number, seed: number): Person {
  return personOf(i, { seed, phoneShare: 0, multiDeviceShare: 0 });
}

const CONTEXT = { library: { name: 'analytics-node', version: '6.2.0' }, locale: 'fr-FR' };
const SKUS = ['sku-1042', 'sku-2210', 'sku-3307', 'sku-4415', 'sku-5521'];

/** The `Product Viewed` that puts a person in the segment (and so in the audience). */
function viewOf(p: Person, tag: string, at: number): Record<string, unknown> {
  return {
    type: 'track', event: 'Product Viewed', messageId: `av-${tag}-${p.index}`, userId: p.userId, anonymousId: p.anonymousIds[0],
    properties: { product_id: SKUS[p.index % SKUS.length], price: 19 + (p.index % 80), currency: 'EUR' }, context: CONTEXT, timestamp: new Date(at).toISOString(),
  };
}

/** The `Order Completed` a person sends once, as a server library sends it to `/v1/track`. */
function orderOf(p: Person, messageId: string, at: number): Buffer {
  const sku = SKUS[p.index % SKUS.length] as string;
  const price = 19 + (p.index % 80);
  return Buffer.from(JSON.stringify({
    type: 'track', event: EVENT, messageId, userId: p.userId, anonymousId: p.anonymousIds[0],
    properties: { order_id: `ord-${p.index}`, revenue: price, currency: 'EUR', products: [{ product_id: sku, price, quantity: 1 }] },
    context: CONTEXT, timestamp: new Date(at).toISOString(),
  }));
}

function messageIdOf(tag: string, phase: number, k: number): string {
  return `ao-${tag}-${phase}-${k}`;
}

// ---- setup ------------------------------------------------------------------------------------

interface Setup {
  workspaceId: string;
  writeKey: string;
  segmentId: string;
  forwardId: string;
  audienceId: string;
  triggerId: string;
}

async function configure(origin: string, token: string, receiverUrl: string, secret: string, opts: Options): Promise<Setup> {
  const { workspaceId, writeKey } = await provision(origin, token);
  const ws = `/api/workspaces/${encodeURIComponent(workspaceId)}`;
  const rate = opts.destinationRate === null ? {} : { ratePerSecond: opts.destinationRate };
  const seg = await adminCall<{ id: string }>(origin, token, 'POST', `${ws}/segments`, { name: 'Product viewers', purposes: ['necessary'], definition: { kind: 'event', event: 'Product Viewed' } });
  const audience = await adminCall<{ id: string }>(origin, token, 'POST', `${ws}/destinations`, {
    type: 'webhook', name: 'Retargeting audience', purpose: 'necessary', segments: [seg.id], ...rate, config: { url: `${receiverUrl}/audience`, secret },
  });
  const trigger = await adminCall<{ id: string }>(origin, token, 'POST', `${ws}/triggers`, {
    name: 'Buyers leave retargeting', when: { kind: 'event', event: EVENT }, then: { action: 'remove', destinationId: audience.id, segmentId: seg.id },
  });
  const forward = await adminCall<{ id: string }>(origin, token, 'POST', `${ws}/destinations`, {
    type: 'webhook', name: 'Orders feed', purpose: 'necessary', ...rate, config: { url: `${receiverUrl}/events`, secret },
    events: { names: [EVENT], mapping: { mid: 'messageId' } },
  });
  return { workspaceId, writeKey, segmentId: seg.id, forwardId: forward.id, audienceId: audience.id, triggerId: trigger.id };
}

interface DestinationStats {
  delivered: number;
  retried: number;
  dead: number;
  pending: number;
  dropped: Record<string, number>;
  latencyMs: { p50: number | null; p99: number | null };
}

function statsOf(origin: string, token: string, s: Setup, id: string): Promise<DestinationStats> {
  return adminCall<DestinationStats>(origin, token, 'GET', `/api/workspaces/${encodeURIComponent(s.workspaceId)}/destinations/${id}/stats`);
}

async function waitUntil(done: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (performance.now() > end) return false;
    await sleep(pollMs);
  }
}

/** Every person views a product; waits until the receiver has each one's addition to the audience. */
async function preload(origin: string, s: Setup, people: number, opts: Options, tag: string, r: Receiver, say: (t: string) => void): Promise<Record<string, number | boolean>> {
  const t0 = performance.now();
  const base = Date.now() - 3_600_000;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < people) {
      const from = next;
      next = Math.min(people, from + 200);
      const batch = [];
      for (let i = from; i < next; i++) batch.push(viewOf(person(i, opts.seed), tag, base + i));
      await postBatch(origin, s.writeKey, batch);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const sent = performance.now();
  await waitProcessed(origin);
  const processed = performance.now();
  const limitMs = 60_000 + people * 5;
  let last = performance.now();
  let lastSize = 0;
  const complete = await waitUntil(() => {
    if (r.adds.at.size !== lastSize) {
      lastSize = r.adds.at.size;
      if (performance.now() - last > 5000) say(`    … ${fmt.int(lastSize)} additions received\n`);
      last = performance.now();
    }
    return r.adds.at.size >= people;
  }, limitMs, 100);
  if (!complete) throw new Error(`preload: the receiver got ${r.adds.at.size} of ${people} audience additions within ${limitMs / 1000} s`);
  return {
    people, sentSec: round((sent - t0) / 1000), processedSec: round((processed - t0) / 1000), additionsReceivedSec: round((performance.now() - t0) / 1000),
    additionsPerSec: Math.round(people / ((performance.now() - processed) / 1000 || 1e-3)),
  };
}

/** One person's `Order Completed`: both paths must deliver it before anything is measured. */
async function preflight(origin: string, s: Setup, p: Person, tag: string, r: Receiver): Promise<{ eventMs: number; triggerMs: number }> {
  const mid = `ap-${tag}-${p.index}`;
  const body = orderOf(p, mid, Date.now());
  const res = await sendPaced({ origin, path: '/v1/track', headers: { authorization: basic(s.writeKey) }, bodies: [body], rate: 1, maxSockets: 1, timeoutMs: 10_000 });
  const ack = res.ackAt[0] as number;
  if (Number.isNaN(ack)) throw new Error(`preflight: POST /v1/track answered ${res.status[0]}`);
  const ok = await waitUntil(() => r.events.at.has(mid) && r.removals.at.has(p.userId), 20_000);
  if (!ok) {
    throw new Error(`preflight: after 20 s the receiver has ${r.events.at.has(mid) ? '' : 'no '}forwarded event and ${r.removals.at.has(p.userId) ? 'a' : 'no'} removal ` +
      `(unexpected items: ${r.problems.unexpected}, bad signatures: ${r.problems.badSignatures})`);
  }
  return { eventMs: round((r.events.at.get(mid) as number) - ack), triggerMs: round((r.removals.at.get(p.userId) as number) - ack) };
}

function basic(writeKey: string): string {
  return `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
}

// ---- measuring --------------------------------------------------------------------------------

interface PathFigures {
  /** Measured events (after the warm-up) acknowledged by the server. */
  events: number;
  delivered: number;
  /** Not at the receiver within the delivery timeout of the ack (missing or late). */
  notDelivered: number;
  late: number;
  missing: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** Latency = arrival − from(k), over the measured events acknowledged; missing and late counted. */
function figures(phase: Phase, keyOf: (k: number) => string, arrivals: PathArrivals, from: (k: number) => number, timeoutMs: number): PathFigures {
  const s = new Samples();
  let events = 0;
  let late = 0;
  let missing = 0;
  for (let k = phase.measuredFrom; k < phase.count; k++) {
    const t0 = from(k);
    if (Number.isNaN(t0)) continue;
    events++;
    const at = arrivals.at.get(keyOf(k));
    if (at === undefined) { missing++; continue; }
    const d = at - t0;
    if (d > timeoutMs) late++;
    s.add(d);
  }
  const sorted = s.sorted();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    events, delivered: events - missing - late, notDelivered: missing + late, late, missing,
    p50: round(percentileOf(sorted, 0.5)), p95: round(percentileOf(sorted, 0.95)), p99: round(percentileOf(sorted, 0.99)),
    max: round(percentileOf(sorted, 1)), mean: round(sorted.length === 0 ? 0 : sum / sorted.length),
  };
}

function spread(res: PacedResult, phase: Phase, a: (k: number) => number, b: (k: number) => number): { p50: number; p99: number; max: number } {
  const s = new Samples();
  for (let k = phase.measuredFrom; k < phase.count; k++) {
    const d = b(k) - a(k);
    if (!Number.isNaN(d)) s.add(d);
  }
  const sorted = s.sorted();
  return { p50: round(percentileOf(sorted, 0.5)), p99: round(percentileOf(sorted, 0.99)), max: round(percentileOf(sorted, 1)) };
}

/**
 * Per second of the phase (by the event's scheduled send time), the median and the maximum of
 * arrival − ack on a path: flat when the pipeline keeps up, rising when a backlog builds.
 */
function bySecond(res: PacedResult, phase: Phase, keyOf: (k: number) => string, arrivals: PathArrivals): Array<{ second: number; p50: number; max: number; missing: number }> {
  const per = phase.rate;
  const out: Array<{ second: number; p50: number; max: number; missing: number }> = [];
  for (let from = 0, second = 0; from < phase.count; from += per, second++) {
    const v: number[] = [];
    let missing = 0;
    for (let k = from; k < Math.min(phase.count, from + per); k++) {
      const ack = res.ackAt[k] as number;
      if (Number.isNaN(ack)) continue;
      const at = arrivals.at.get(keyOf(k));
      if (at === undefined) missing++;
      else v.push(at - ack);
    }
    v.sort((a, b) => a - b);
    out.push({ second, p50: round(percentileOf(v, 0.5)), max: round(percentileOf(v, 1)), missing });
  }
  return out;
}

/** Samples `GET /healthz` (memory only: it does not touch the activation store) every `everyMs`. */
function sampleLogLag(origin: string, everyMs: number): { stop(): Promise<Array<{ t: number; logLag: number }>> } {
  const samples: Array<{ t: number; logLag: number }> = [];
  const t0 = performance.now();
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const h = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(5000) });
        const body = (await h.json()) as { logLag: number };
        samples.push({ t: round((performance.now() - t0) / 1000), logLag: body.logLag });
      } catch {
        // a missed sample
      }
      await sleep(everyMs);
    }
  })();
  return { stop: async () => { running = false; await done; return samples; } };
}

interface CpuWindow {
  serverPercent: number | null;
  benchPercent: number;
  otherPercent: number | null;
}

function cpuWindow(pid: number): () => CpuWindow {
  const s0 = cpuSeconds(pid);
  const m0 = machineBusySeconds();
  const b0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const wall = Math.max(1e-3, (performance.now() - t0) / 1000);
    const s1 = cpuSeconds(pid);
    const m1 = machineBusySeconds();
    const b = process.cpuUsage(b0);
    const bench = (b.user + b.system) / 1e6;
    const server = s0 === null || s1 === null ? null : s1 - s0;
    return {
      serverPercent: server === null ? null : Math.round((server / wall) * 1000) / 10,
      benchPercent: Math.round((bench / wall) * 1000) / 10,
      otherPercent: server === null || m0 === null || m1 === null ? null : Math.max(0, Math.round(((m1 - m0 - server - bench) / wall) * 1000) / 10),
    };
  };
}

interface PhaseRecord {
  rate: number;
  events: number;
  measuredEvents: number;
  baseline: {
    /** Arrival at the receiver − the moment the client wrote the request. */
    arrival: PathFigures;
    /** The client's round trip (write → 200). */
    roundTripMs: { p50: number; p99: number; max: number };
    achievedRate: number;
    errors: number;
    cpu: CpuWindow;
  };
  ensemble: {
    ackFromWriteMs: { p50: number; p99: number; max: number };
    ackFromScheduleMs: { p50: number; p99: number; max: number };
    achievedRate: number;
    nonOk: number;
    errors: number;
    event: PathFigures;
    trigger: PathFigures;
    /** How long after the last ack the bench waited for the last arrivals. */
    drainSec: number;
    cpu: CpuWindow;
    benchLoopDelayMs: { p50: number; p99: number; max: number };
    destinations: { forward: { before: DestinationStats; after: DestinationStats }; audience: { before: DestinationStats; after: DestinationStats } };
    duplicates: { event: number; trigger: number };
    /** Events acknowledged but not yet processed (GET /healthz every 250 ms during the phase and its drain). */
    logLag: { max: number; mean: number; samples: Array<{ t: number; logLag: number }> };
    /** arrival − ack per second of the phase (warm-up included), to tell a steady delay from a growing backlog. */
    bySecond: { event: ReturnType<typeof bySecond>; trigger: ReturnType<typeof bySecond> };
  };
  ratios: { eventP99: number; triggerP99: number };
  pass: boolean;
}

function achieved(res: PacedResult, phase: Phase): number {
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let ok = 0;
  for (let k = phase.measuredFrom; k < phase.count; k++) {
    const a = res.ackAt[k] as number;
    if (Number.isNaN(a)) continue;
    ok++;
    first = Math.min(first, res.sentAt[k] as number);
    last = Math.max(last, a);
  }
  return ok < 2 ? 0 : Math.round((ok / ((last - first) / 1000)) * 10) / 10;
}

async function runPhase(j: number, phase: Phase, ctx: { origin: string; token: string; s: Setup; r: Receiver; server: ManagedProcess; tag: string; opts: Options }, say: (t: string) => void): Promise<PhaseRecord> {
  const { origin, token, s, r, server, tag, opts } = ctx;
  const timeoutMs = opts.deliveryTimeoutSec * 1000;
  const people = Array.from({ length: phase.count }, (_, k) => person(phase.firstPerson + k, opts.seed));
  const now = Date.now();
  const bodies = people.map((p, k) => orderOf(p, messageIdOf(tag, j, k), now + (k * 1000) / phase.rate));
  const mid = (k: number) => messageIdOf(tag, j, k);
  const user = (k: number) => (people[k] as Person).userId;
  const secs = phase.count / phase.rate;

  say(`  ▶ ${fmt.int(phase.rate)} events/s · ${fmt.s(secs)} s (${opts.warmupSec} s warm-up) · ${fmt.int(phase.count)} events\n`);
  // Baseline: the same bodies straight to the receiver.
  const bCpu = cpuWindow(server.pid);
  const b = await sendPaced({ origin: r.url, path: '/direct', headers: {}, bodies, rate: phase.rate, maxSockets: opts.sockets, timeoutMs: opts.deliveryTimeoutSec * 1000 });
  await waitUntil(() => r.direct.at.size >= phase.count * (j + 1), 2000);
  const baseline = {
    arrival: figures(phase, mid, r.direct, (k) => b.sentAt[k] as number, timeoutMs),
    roundTripMs: spread(b, phase, (k) => b.sentAt[k] as number, (k) => b.ackAt[k] as number),
    achievedRate: achieved(b, phase), errors: b.errors, cpu: bCpu(),
  };
  say(`    baseline (direct POST)  arrival − write p50 ${fmt.ms(baseline.arrival.p50)} · p99 ${fmt.ms(baseline.arrival.p99)} · max ${fmt.ms(baseline.arrival.max)} ms\n`);
  await sleep(1000);

  // Ensemble.
  const before = { forward: await statsOf(origin, token, s, s.forwardId), audience: await statsOf(origin, token, s, s.audienceId) };
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const eCpu = cpuWindow(server.pid);
  const lagSampler = sampleLogLag(origin, 250);
  const e = await sendPaced({ origin, path: '/v1/track', headers: { authorization: basic(s.writeKey) }, bodies, rate: phase.rate, maxSockets: opts.sockets, timeoutMs: 30_000 });
  let lastAck = 0;
  const expected: number[] = [];
  for (let k = 0; k < phase.count; k++) {
    const a = e.ackAt[k] as number;
    if (Number.isNaN(a)) continue;
    lastAck = Math.max(lastAck, a);
    expected.push(k);
  }
  const allIn = () => expected.every((k) => r.events.at.has(mid(k)) && r.removals.at.has(user(k)));
  await waitUntil(allIn, Math.max(0, lastAck + timeoutMs - performance.now()), 50);
  const drainSec = round(Math.max(0, performance.now() - lastAck) / 1000);
  const cpu = eCpu();
  const lags = await lagSampler.stop();
  loop.disable();
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  const event = figures(phase, mid, r.events, (k) => e.ackAt[k] as number, timeoutMs);
  const trigger = figures(phase, user, r.removals, (k) => e.ackAt[k] as number, timeoutMs);
  const after = { forward: await statsOf(origin, token, s, s.forwardId), audience: await statsOf(origin, token, s, s.audienceId) };
  let nonOk = 0;
  for (let k = 0; k < phase.count; k++) if (Number.isNaN(e.ackAt[k] as number) && e.status[k] !== 0) nonOk++;
  const ensemble = {
    ackFromWriteMs: spread(e, phase, (k) => e.sentAt[k] as number, (k) => e.ackAt[k] as number),
    ackFromScheduleMs: spread(e, phase, (k) => e.scheduledAt[k] as number, (k) => e.ackAt[k] as number),
    achievedRate: achieved(e, phase), nonOk, errors: e.errors, event, trigger, drainSec, cpu,
    benchLoopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
    destinations: { forward: { before: before.forward, after: after.forward }, audience: { before: before.audience, after: after.audience } },
    duplicates: { event: r.events.duplicates, trigger: r.removals.duplicates },
    logLag: { max: lags.reduce((m, x) => Math.max(m, x.logLag), 0), mean: Math.round(lags.reduce((a, x) => a + x.logLag, 0) / Math.max(1, lags.length)), samples: lags },
    bySecond: { event: bySecond(e, phase, mid, r.events), trigger: bySecond(e, phase, user, r.removals) },
  };
  const ratios = { eventP99: event.p99 / baseline.arrival.p99, triggerP99: trigger.p99 / baseline.arrival.p99 };
  const pass = event.p99 <= TARGET_P99_MS && trigger.p99 <= TARGET_P99_MS && event.notDelivered === 0 && trigger.notDelivered === 0 && event.events > 0;
  say(`    event forwarding        ack → arrival p50 ${fmt.ms(event.p50)} · p99 ${fmt.ms(event.p99)} · max ${fmt.ms(event.max)} ms · not delivered ${fmt.int(event.notDelivered)}\n`);
  say(`    trigger → removal       ack → arrival p50 ${fmt.ms(trigger.p50)} · p99 ${fmt.ms(trigger.p99)} · max ${fmt.ms(trigger.max)} ms · not delivered ${fmt.int(trigger.notDelivered)}\n`);
  say(`    ingest ack p99 ${fmt.ms(ensemble.ackFromWriteMs.p99)} ms · unprocessed events (logLag) max ${fmt.int(ensemble.logLag.max)}, mean ${fmt.int(ensemble.logLag.mean)}` +
    ` · server CPU ${cpu.serverPercent === null ? '–' : `${fmt.int(cpu.serverPercent)} %`}\n`);
  say(`    event path p50 by second: ${ensemble.bySecond.event.map((x) => fmt.int(x.p50)).join(' ')} ms\n`);
  return { rate: phase.rate, events: phase.count, measuredEvents: phase.count - phase.measuredFrom, baseline, ensemble, ratios, pass };
}

/** Between phases: nothing left to process or to deliver. */
async function quiet(origin: string, token: string, s: Setup): Promise<boolean> {
  await waitProcessed(origin);
  return waitUntil(async () => {
    const [f, a] = [await statsOf(origin, token, s, s.forwardId), await statsOf(origin, token, s, s.audienceId)];
    return f.pending === 0 && a.pending === 0;
  }, 60_000, 250);
}

// ---- main -------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const opts = parse(process.argv.slice(2));
  if (!opts) {
    process.stdout.write(HELP);
    return 0;
  }
  const say = (t: string) => process.stdout.write(t);
  // The server built with this bench (dist/ by the npm script, or any --outDir it was compiled to).
  const cli = fileURLToPath(new URL('../../src/main/cli.js', import.meta.url));
  if (!existsSync(cli)) throw new Error(`${cli} not found: build first (npm run build)`);
  const startedAt = new Date();
  const git = gitState();
  const tmp = await mkdtemp(join(opts.dataDir, 'ensemble-bench-activation-'));
  const token = randomBytes(24).toString('hex');
  const secret = `whsec-${randomBytes(16).toString('hex')}`;
  const tag = randomBytes(4).toString('hex');
  const onSignal = (signal: NodeJS.Signals): void => {
    for (const p of spawned) killNow(p);
    void rm(tmp, { recursive: true, force: true }).finally(() => {
      process.stderr.write(`\ninterrupted (${signal})\n`);
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const phases: Phase[] = [];
  let nextPerson = 0;
  for (const rate of opts.rates) {
    const count = Math.round(rate * (opts.warmupSec + opts.durationSec));
    phases.push({ rate, count, measuredFrom: Math.round(rate * opts.warmupSec), firstPerson: nextPerson });
    nextPerson += count;
  }
  const preflightPerson = nextPerson;
  const people = nextPerson + 1;

  let server: ManagedProcess | null = null;
  let receiver: Receiver | null = null;
  try {
    say(`Ensemble activation latency benchmark — Node ${process.version}; ${opts.rates.map((r) => fmt.int(r)).join(' and ')} events/s, ${opts.warmupSec} + ${opts.durationSec} s each\n`);
    receiver = await startReceiver(secret);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    server = startNode('ensemble', [
      ...(opts.serverCpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.serverCpuProf}`] : []),
      ...opts.serverNodeFlags,
      cli, 'start', '--port', String(port), '--data', join(tmp, 'bench.duckdb')],
      { ...process.env, ENSEMBLE_ADMIN_TOKEN: token, ENSEMBLE_LOG_LEVEL: 'warn' }, join(tmp, 'ensemble.log'), ROOT);
    await waitHealthy(server, origin, 60_000);
    const s = await configure(origin, token, receiver.url, secret, opts);
    say(`  configured: segment "Product viewers", webhook "Retargeting audience" mirroring it, trigger on ${EVENT} → remove; webhook "Orders feed" forwarding ${EVENT}\n`);
    say(`  preloading ${fmt.int(people)} people (one Product Viewed each) and waiting for their audience additions…\n`);
    const pre = await preload(origin, s, people, opts, tag, receiver, say);
    say(`  processed by ${fmt.s(pre.processedSec as number)} s, all additions received by ${fmt.s(pre.additionsReceivedSec as number)} s\n`);
    const pf = await preflight(origin, s, person(preflightPerson, opts.seed), tag, receiver);
    say(`  preflight ok: one ${EVENT} forwarded after ${fmt.ms(pf.eventMs)} ms, its removal after ${fmt.ms(pf.triggerMs)} ms\n`);
    if (!(await quiet(origin, token, s))) throw new Error('deliveries still pending 60 s after the preload');

    const records: PhaseRecord[] = [];
    for (let j = 0; j < phases.length; j++) {
      records.push(await runPhase(j, phases[j] as Phase, { origin, token, s, r: receiver, server, tag, opts }, say));
      if (server.hasExited()) throw new Error('the server exited during the run');
      if (j < phases.length - 1 && !(await quiet(origin, token, s))) say('  ! deliveries still pending 60 s after the phase\n');
    }
    const stop = await stopProcess(server, 30_000);

    // ---- report ----
    say(`\nResults (latency in ms: Ensemble from the client's 200 on /v1/track to the webhook request's arrival at the receiver; ` +
      `baseline from writing the same body to the receiver to its arrival; "not deliv." = not there within ${opts.deliveryTimeoutSec} s of the ack)\n\n`);
    const rows: string[][] = [];
    for (const rec of records) {
      const line = (what: string, f: PathFigures, ratio: number | null) => [fmt.int(rec.rate), what, fmt.int(f.events), fmt.int(f.notDelivered),
        fmt.ms(f.p50), fmt.ms(f.p95), fmt.ms(f.p99), fmt.ms(f.max), ratio === null ? '' : fmt.ratio(ratio)];
      rows.push(line('baseline: direct POST', rec.baseline.arrival, null));
      rows.push(line('event forwarding', rec.ensemble.event, rec.ratios.eventP99));
      rows.push(line('trigger → removal', rec.ensemble.trigger, rec.ratios.triggerP99));
    }
    say(`${table(['rate', 'path', 'events', 'not deliv.', 'p50', 'p95', 'p99', 'max', 'p99 ÷ baseline'], rows, new Set([0, 2, 3, 4, 5, 6, 7, 8]))}\n`);
    const side = records.map((rec) => [fmt.int(rec.rate), fmt.int(rec.ensemble.achievedRate), fmt.ms(rec.ensemble.ackFromWriteMs.p50), fmt.ms(rec.ensemble.ackFromWriteMs.p99),
      fmt.ms(rec.ensemble.ackFromScheduleMs.p99), fmt.int(rec.ensemble.nonOk + rec.ensemble.errors), fmt.int(rec.ensemble.logLag.max), fmt.s(rec.ensemble.drainSec),
      rec.ensemble.cpu.serverPercent === null ? '–' : `${fmt.int(rec.ensemble.cpu.serverPercent)} %`, `${fmt.int(rec.ensemble.cpu.benchPercent)} %`,
      rec.ensemble.cpu.otherPercent === null ? '–' : `${fmt.int(rec.ensemble.cpu.otherPercent)} %`, fmt.ms(rec.ensemble.benchLoopDelayMs.p99)]);
    say(`\nIngest side (ms) and CPU (% of one core over the phase and its drain: server, this bench process — client and receiver —, rest of the machine)\n\n`);
    say(`${table(['rate', 'acked/s', 'ack p50', 'ack p99', 'ack p99 sched', 'non-200/err', 'logLag max', 'drain s', 'srv CPU', 'bench CPU', 'other CPU', 'bench loop p99'], side, new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))}\n`);

    say(`\nTarget (informative; the bench never fails on it): ack → outbound request ≤ ${fmt.int(TARGET_P99_MS)} ms p99, every event delivered\n`);
    for (const rec of records) {
      say(`  ${rec.pass ? '[ PASS ]' : '[ FAIL ]'} ${fmt.int(rec.rate)} events/s: event forwarding p99 ${fmt.ms(rec.ensemble.event.p99)} ms, trigger p99 ${fmt.ms(rec.ensemble.trigger.p99)} ms` +
        ` (${fmt.int(rec.ensemble.event.notDelivered + rec.ensemble.trigger.notDelivered)} not delivered); baseline p99 ${fmt.ms(rec.baseline.arrival.p99)} ms\n`);
    }
    const notes: string[] = [];
    for (const rec of records) {
      if (rec.ensemble.cpu.otherPercent !== null && rec.ensemble.cpu.otherPercent >= 25) notes.push(`${fmt.int(rec.rate)} events/s: the rest of the machine used ${fmt.int(rec.ensemble.cpu.otherPercent)} % of a core meanwhile — a disturbed run.`);
      if (rec.ensemble.achievedRate < rec.rate * 0.95) notes.push(`${fmt.int(rec.rate)} events/s: only ${fmt.int(rec.ensemble.achievedRate)} acknowledged per second — the rate was NOT held.`);
      if (rec.ensemble.nonOk + rec.ensemble.errors > 0) notes.push(`${fmt.int(rec.rate)} events/s: ${fmt.int(rec.ensemble.nonOk)} non-200 answers and ${fmt.int(rec.ensemble.errors)} errors on /v1/track.`);
      const d = rec.ensemble.destinations;
      for (const [name, x] of [['Orders feed', d.forward], ['Retargeting audience', d.audience]] as const) {
        const retried = x.after.retried - x.before.retried;
        const dropped = Object.values(x.after.dropped).reduce((a, v) => a + v, 0) - Object.values(x.before.dropped).reduce((a, v) => a + v, 0);
        if (retried > 0 || dropped > 0 || x.after.dead > x.before.dead) notes.push(`${fmt.int(rec.rate)} events/s, ${name}: ${retried} retried, ${dropped} dropped, ${x.after.dead - x.before.dead} dead letters.`);
      }
    }
    if (receiver.problems.badSignatures > 0) notes.push(`${receiver.problems.badSignatures} webhook requests had a signature that did not verify.`);
    if (receiver.problems.unexpected > 0) notes.push(`${receiver.problems.unexpected} items the receiver did not expect.`);
    if (receiver.events.duplicates + receiver.removals.duplicates > 0) notes.push(`duplicates at the receiver: ${receiver.events.duplicates} forwarded events, ${receiver.removals.duplicates} removals.`);
    if (notes.length > 0) say(`\nNotes\n${notes.map((n) => `  ! ${n}`).join('\n')}\n`);

    const file = writeResults('activation', startedAt, git, {
      options: { ...opts, ...recordedServerOptions(opts) },
      setup: {
        segment: { kind: 'event', event: 'Product Viewed' }, trigger: { when: { kind: 'event', event: EVENT }, then: 'remove from the audience' },
        forwarding: { names: [EVENT], mapping: { mid: 'messageId' } }, purpose: 'necessary', destinationRate: opts.destinationRate ?? 'connector default',
      },
      preload: pre, preflight: pf, phases: records,
      receiver: { problems: receiver.problems, requests: { events: receiver.events.requests, audience: receiver.adds.requests, direct: receiver.direct.requests } },
      target: { name: `ack → outbound request ≤ ${TARGET_P99_MS} ms p99`, byRate: records.map((rec) => ({ rate: rec.rate, pass: rec.pass, eventP99: rec.ensemble.event.p99, triggerP99: rec.ensemble.trigger.p99 })) },
      stop, notes,
    }, opts.out);
    say(`\nWrote ${file} and activation-latest.json\n`);
    return 0;
  } catch (err) {
    if (server !== null) {
      const tail = logTail(server, 30);
      if (tail.trim() !== '') process.stderr.write(`\n--- last lines of the ${server.name} log ---\n${tail}\n`);
    }
    throw err;
  } finally {
    if (server !== null && !server.hasExited()) await stopProcess(server, 5_000);
    for (const p of spawned) killNow(p);
    await receiver?.close();
    if (opts.keepLog !== null) await cp(join(tmp, 'ensemble.log'), join(opts.keepLog, 'ensemble.log')).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`\nbench:activation failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
