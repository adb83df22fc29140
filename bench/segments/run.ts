/**
 * Segmentation benchmark (`npm run bench:segments -- [flags]`; see bench/README.md).
 *
 * 1. Generates a shop's data straight into a DuckDB file opened with the project's
 *    `Database.open` (the real schema): profiles and 90 days of events (generate.ts).
 * 2. Batch SQL: the typical rule compiled by `compileSegment`, next to a hand-written minimal
 *    query answering the same question (the baseline, same run, same answer checked); 50 varied
 *    segments one after another; the preview (`DuckDbSegmentStore.count`).
 * 3. Incremental state: a `SegmentEngine` over the profiles in memory, filled with the 50
 *    segments as `SegmentService.fill` does; heap held by it (full GCs around), per million
 *    profiles, with `stateSize()`; every segment's member count compared with its SQL count at
 *    the same instant.
 * 4. Latency: a real server in this process, events one per request to `/v1/track` at a fixed
 *    rate; time from each 200 to the engine announcing the profile's entry (latency.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DuckDBValue } from '@duckdb/node-api';
import type { StoredSegment } from '../../src/protocol/segment.js';
import type { SegmentEngine } from '../../src/segments/engine.js';
import { compileSegment } from '../../src/segments/sql/compile.js';
import { all, Database } from '../../src/storage/duckdb/database.js';
import { DuckDbSegmentStore } from '../../src/storage/duckdb/segment-store.js';
import { intFlag } from '../profiles/args.js';
import { fmt, gitState, hasGc, median, settledMemory, table, writeResults } from '../profiles/output.js';
import { baselineNoMergeSql, baselineSql, fiftySegments, TYPICAL, type BenchSegment } from './definitions.js';
import { fill, loadProfiles, newEngine, factsOf, type FillTiming } from './engine-fill.js';
import { generate, SEED_LIMIT, WS, type GenerateResult } from './generate.js';
import { measureLatency, type LatencyResult } from './latency.js';

const TARGET = { typicalSec: 1, fiftySec: 20, previewSec: 1, latencyP99Ms: 100 };
const PARTS = ['sql', 'engine', 'latency'] as const;
type Part = (typeof PARTS)[number];

const HELP = `Ensemble segmentation benchmark

Usage: npm run bench:segments -- [flags]
       node --expose-gc --max-old-space-size=16384 dist/bench/segments/run.js [flags]

  --profiles <n>          profiles generated                             (default 1000000)
  --events <n>            events generated (90 days)                     (default 10000000)
  --quick                 smoke run: 20,000 profiles, 200,000 events, 5-s latency run
  --rounds <n>            timed runs of the typical rule and preview, after one warm-up (default 5)
  --seed <n>              data seed (below ${SEED_LIMIT})                        (default 1)
  --parts <list>          which of sql,engine,latency to run (generation always runs for sql/engine)
  --latency-rate <n>      events per second, one per /v1/track request   (default 200)
  --latency-duration <s>  measured seconds                               (default 20; --quick 5)
  --latency-warmup <s>    seconds sent first and not measured            (default 2)
  --latency-preload <n>   people (2–3 events each) sent before the run   (default 10000; --quick 2000)
  --latency-idle-ms <n>   the processor's idleMs for the latency server  (default: the server's default)
  --data-dir <dir>        parent of the temporary directories            (default os.tmpdir())
  --out <dir>             results directory                        (default bench/results)
  -h, --help
`;

interface Options {
  profiles: number;
  events: number;
  quick: boolean;
  rounds: number;
  seed: number;
  parts: Part[];
  latencyRate: number;
  latencyDurationSec: number;
  latencyWarmupSec: number;
  latencyPreload: number;
  latencyIdleMs: number | null;
  dataDir: string;
  out: string | null;
}

function parse(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' }, quick: { type: 'boolean' }, profiles: { type: 'string' }, events: { type: 'string' },
      rounds: { type: 'string' }, seed: { type: 'string' }, parts: { type: 'string' }, 'latency-rate': { type: 'string' },
      'latency-duration': { type: 'string' }, 'latency-warmup': { type: 'string' }, 'latency-preload': { type: 'string' },
      'latency-idle-ms': { type: 'string' }, 'data-dir': { type: 'string' }, out: { type: 'string' },
    },
  });
  if (values.help) return null;
  const quick = values.quick ?? false;
  const parts = (values.parts ?? PARTS.join(',')).split(',').map((p) => p.trim()).filter((p) => p !== '');
  for (const p of parts) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--parts: unknown part "${p}" (sql, engine, latency)`);
  const seed = intFlag('seed', values.seed, 1, 0);
  if (seed >= SEED_LIMIT) throw new Error(`--seed must be below ${SEED_LIMIT}`);
  return {
    quick,
    profiles: intFlag('profiles', values.profiles, quick ? 20_000 : 1_000_000, 100),
    events: intFlag('events', values.events, quick ? 200_000 : 10_000_000, 1000),
    rounds: intFlag('rounds', values.rounds, 5, 1),
    seed,
    parts: parts as Part[],
    latencyRate: intFlag('latency-rate', values['latency-rate'], 200, 1),
    latencyDurationSec: intFlag('latency-duration', values['latency-duration'], quick ? 5 : 20, 1),
    latencyWarmupSec: intFlag('latency-warmup', values['latency-warmup'], 2, 0),
    latencyPreload: intFlag('latency-preload', values['latency-preload'], quick ? 2000 : 10_000, 0),
    latencyIdleMs: values['latency-idle-ms'] === undefined ? null : intFlag('latency-idle-ms', values['latency-idle-ms'], 50, 1),
    dataDir: values['data-dir'] ?? tmpdir(),
    out: values.out ?? null,
  };
}

// ---- SQL -------------------------------------------------------------------------------------

interface SqlResult {
  typical: { compiledSec: number[]; baselineSec: number[]; baselineNoMergeSec: number[]; warmupSec: { compiled: number; baseline: number; baselineNoMerge: number };
    members: number; baselineMembers: number; baselineNoMergeMembers: number; sameMembers: boolean; sqlChars: number };
  preview: { seconds: number[]; count: number; sample: number };
  fifty: Array<{ id: string; name: string; family: string; seconds: number; members: number }>;
  fiftyTotalSec: number;
}

async function timedQuery(store: DuckDbSegmentStore, q: { sql: string; params: DuckDBValue[] }): Promise<{ sec: number; ids: string[] }> {
  const t = performance.now();
  const ids = await store.query(q.sql, q.params);
  return { sec: (performance.now() - t) / 1000, ids };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

async function runSql(store: DuckDbSegmentStore, segments: readonly BenchSegment[], now: number, rounds: number, say: (s: string) => void): Promise<SqlResult> {
  const byId = new Map(segments.map((s) => [s.id, s.definition]));
  const ctx = { workspaceId: WS, now, segment: (id: string) => byId.get(id), computedTrait: () => undefined };
  const compiled = compileSegment(TYPICAL, ctx);
  const base = baselineSql(now);
  const floor = baselineNoMergeSql(now);

  // One warm-up of each (DuckDB reads the columns from disk the first time), then alternating rounds.
  const w1 = await timedQuery(store, compiled);
  const w2 = await timedQuery(store, base);
  const w3 = await timedQuery(store, floor);
  const sameMembers = sameSet(w1.ids, w2.ids);
  const c: number[] = [];
  const b: number[] = [];
  const f: number[] = [];
  for (let r = 0; r < rounds; r++) {
    c.push((await timedQuery(store, compiled)).sec);
    b.push((await timedQuery(store, base)).sec);
    f.push((await timedQuery(store, floor)).sec);
  }
  say(`  typical rule: compiled ${fmt.s(median(c))} s, baseline ${fmt.s(median(b))} s (medians of ${rounds}); ${fmt.int(w1.ids.length)} members` +
    `${sameMembers ? ', same members' : ` — MISMATCH: the baseline has ${fmt.int(w2.ids.length)}`}\n`);

  const p: number[] = [];
  let preview = { count: 0, sample: [] as string[] };
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    preview = await store.count(compiled.sql, compiled.params, 20);
    p.push((performance.now() - t) / 1000);
  }
  if (preview.count !== w1.ids.length) say(`  ! preview counted ${preview.count}, the query returned ${w1.ids.length}\n`);
  say(`  preview: ${fmt.s(median(p))} s (count ${fmt.int(preview.count)} + ${preview.sample.length} ids)\n`);

  const fifty: SqlResult['fifty'] = [];
  const t0 = performance.now();
  for (const s of segments) {
    const r = await timedQuery(store, compileSegment(s.definition, ctx));
    fifty.push({ id: s.id, name: s.name, family: s.family, seconds: r.sec, members: r.ids.length });
  }
  const total = (performance.now() - t0) / 1000;
  say(`  ${segments.length} segments one after another: ${fmt.s(total)} s (slowest: ${[...fifty].sort((x, y) => y.seconds - x.seconds).slice(0, 3).map((x) => `${x.id} ${fmt.s(x.seconds)} s`).join(', ')})\n`);
  return {
    typical: {
      compiledSec: c, baselineSec: b, baselineNoMergeSec: f, warmupSec: { compiled: w1.sec, baseline: w2.sec, baselineNoMerge: w3.sec },
      members: w1.ids.length, baselineMembers: w2.ids.length, baselineNoMergeMembers: w3.ids.length, sameMembers, sqlChars: compiled.sql.length,
    },
    preview: { seconds: p, count: preview.count, sample: preview.sample.length },
    fifty, fiftyTotalSec: total,
  };
}

// ---- engine ----------------------------------------------------------------------------------

interface FamilyDrop { family: string; segments: number; heapBytes: number; stateProfiles: number; timestamps: number; sequenceEvents: number; timers: number; members: number }

interface EngineResult {
  liveProfiles: number;
  profileMapBytes: number;
  fill: FillTiming & { filter: unknown };
  engineHeapBytes: number;
  bytesPerMillionProfiles: number;
  stateSize: ReturnType<SegmentEngine['stateSize']>;
  members: number;
  checks: Array<{ id: string; name: string; sql: number; engine: number }>;
  mismatches: Array<{ id: string; name: string; sql: number; engine: number; missing: string[]; extra: string[]; explain: unknown }>;
  breakdown: FamilyDrop[];
  /** Heap freed with the engine once every segment was removed: the timers' heap entries, which only a later `schedule` compacts. */
  afterRemovalBytes: number;
  rssMiB: number;
}

function memberTotal(engine: SegmentEngine, segments: readonly BenchSegment[]): number {
  let n = 0;
  for (const s of segments) n += engine.members(WS, s.id)?.size ?? 0;
  return n;
}

async function runEngine(db: Database, store: DuckDbSegmentStore, segments: readonly BenchSegment[], sql: SqlResult | null, now: number, say: (s: string) => void): Promise<EngineResult> {
  const conn = await db.connect();
  const upTo = BigInt((await all(conn, 'SELECT coalesce(max(seq), 0) AS s FROM events'))[0]?.s as bigint);
  const m0 = settledMemory();
  const profiles = await loadProfiles(conn);
  const m1 = settledMemory();
  let liveProfiles = 0;
  for (const p of profiles.values()) if (p.mergedInto === null) liveProfiles++;
  say(`  ${fmt.int(profiles.size)} profiles in memory: ${fmt.bytes(m1.heapUsed - m0.heapUsed)} of heap\n`);

  let engine: SegmentEngine | null = newEngine(profiles, now);
  const live = factsOf(profiles).live;
  const stored: StoredSegment[] = segments.map((s) => ({ id: s.id, workspaceId: WS, name: s.name, definition: s.definition, createdAt: now, updatedAt: now }));
  const timing = await fill(engine, store, stored, upTo, now, (id) => live(id) ?? id);
  const m2 = settledMemory();
  const engineHeap = m2.heapUsed - m1.heapUsed;
  const stateSize = engine.stateSize();
  const members = memberTotal(engine, segments);
  say(`  filled ${segments.length} segments in ${fmt.s(timing.totalSec)} s (${fmt.int(timing.rows)} events: read ${fmt.s(timing.streamSec)} s, fold ${fmt.s(timing.foldSec)} s, finish ${fmt.s(timing.finishSec)} s)\n`);
  say(`  engine heap ${big(engineHeap)} = ${fmt.int(engineHeap / liveProfiles)} B per live profile; stateSize ${JSON.stringify(stateSize)}; ${fmt.int(members)} memberships\n`);

  // Members in memory against the SQL at the same instant.
  const checks: EngineResult['checks'] = [];
  const mismatches: EngineResult['mismatches'] = [];
  const byId = new Map(segments.map((s) => [s.id, s.definition]));
  const sqlIds = (def: BenchSegment['definition']): Promise<string[]> => {
    const q = compileSegment(def, { workspaceId: WS, now, segment: (id) => byId.get(id), computedTrait: () => undefined });
    return store.query(q.sql, q.params);
  };
  for (const s of segments) {
    const mine = engine.members(WS, s.id)?.size ?? 0;
    // The SQL part's counts when it ran (same data, same instant); else the query now.
    let ids: string[] | null = null;
    let sqlN = sql?.fifty.find((x) => x.id === s.id)?.members;
    if (sqlN === undefined) {
      ids = await sqlIds(s.definition);
      sqlN = ids.length;
    }
    checks.push({ id: s.id, name: s.name, sql: sqlN, engine: mine });
    if (sqlN === mine) continue;
    // A difference is a bug in one of the two: keep which profiles, and why the engine decided so.
    ids ??= await sqlIds(s.definition);
    const inSql = new Set(ids);
    const inEngine = engine.members(WS, s.id) ?? new Set<string>();
    const missing = ids.filter((p) => !inEngine.has(p));
    const extra = [...inEngine].filter((p) => !inSql.has(p));
    const example = missing[0] ?? extra[0];
    mismatches.push({
      id: s.id, name: s.name, sql: sqlN, engine: mine, missing: missing.slice(0, 5), extra: extra.slice(0, 5),
      explain: example === undefined ? null : { profileId: example, explanation: engine.explain(WS, s.id, example) },
    });
    say(`  ! ${s.id} ${s.name}: SQL ${fmt.int(sqlN)}, engine ${fmt.int(mine)} (${missing.length} only in SQL, ${extra.length} only in memory)\n`);
  }
  if (mismatches.length === 0) say(`  every segment: engine members = SQL members count at the same instant\n`);

  // Where the heap goes: remove the segments family by family and measure each drop.
  const breakdown: FamilyDrop[] = [];
  const order: Array<BenchSegment['family']> = ['combined', 'sequence', 'consent', 'windowed count', 'all-time count', 'trait only'];
  let before = settledMemory();
  for (const family of order) {
    const mine = segments.filter((s) => s.family === family);
    if (mine.length === 0) continue;
    const s0 = engine.stateSize();
    const mem0 = memberTotal(engine, mine);
    for (const s of mine) engine.remove(WS, s.id);
    const s1 = engine.stateSize();
    const after = settledMemory();
    breakdown.push({
      family, segments: mine.length, heapBytes: before.heapUsed - after.heapUsed, stateProfiles: s0.profiles - s1.profiles,
      timestamps: s0.timestamps - s1.timestamps, sequenceEvents: s0.sequenceEvents - s1.sequenceEvents, timers: s0.timers - s1.timers, members: mem0,
    });
    before = after;
  }
  engine.stop();
  engine = null;
  const m3 = settledMemory();
  const afterRemoval = before.heapUsed - m3.heapUsed;
  const rss = Math.round(m2.rss / 2 ** 20);
  profiles.clear();
  conn.closeSync();
  return {
    liveProfiles, profileMapBytes: m1.heapUsed - m0.heapUsed, fill: timing, engineHeapBytes: engineHeap,
    bytesPerMillionProfiles: (engineHeap / liveProfiles) * 1e6, stateSize, members, checks, mismatches, breakdown, afterRemovalBytes: afterRemoval, rssMiB: rss,
  };
}

// ---- main ------------------------------------------------------------------------------------

/** null: not measured at the target's scale, so neither met nor missed. */
const verdict = (pass: boolean | null): string => (pass === null ? '[ n/a  ]' : pass ? '[ PASS ]' : '[ FAIL ]');

/** Bytes, with GiB past one (the shared `fmt.bytes` stops at MiB). */
function big(n: number): string {
  return Math.abs(n) >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : fmt.bytes(n);
}

async function main(): Promise<number> {
  const opts = parse(process.argv.slice(2));
  if (!opts) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!hasGc()) throw new Error('run node with --expose-gc (npm run bench:segments does): heap figures need full collections');
  const say = (s: string) => process.stdout.write(s);
  const startedAt = new Date();
  const git = gitState();
  // One instant for the data, the SQL and the engine: the data ends here, and both sides evaluate here.
  const now = Math.floor(Date.now() / 1000) * 1000;
  say(`Ensemble segmentation benchmark — Node ${process.version}; ${fmt.int(opts.profiles)} profiles, ${fmt.int(opts.events)} events; parts ${opts.parts.join(', ')}\n`);
  const segments = fiftySegments(now);

  let gen: GenerateResult | null = null;
  let sql: SqlResult | null = null;
  let eng: EngineResult | null = null;
  let lat: LatencyResult | null = null;
  const tmp = await mkdtemp(join(opts.dataDir, 'ensemble-bench-segments-'));
  const onSignal = (signal: NodeJS.Signals): void => {
    void rm(tmp, { recursive: true, force: true }).finally(() => {
      process.stderr.write(`\ninterrupted (${signal})\n`);
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (opts.parts.includes('sql') || opts.parts.includes('engine')) {
      say(`\n1. Generating the data (set-based SQL into a DuckDB file)…\n`);
      const db = await Database.open(join(tmp, 'bench.duckdb'));
      try {
        const conn = await db.connect();
        gen = await generate(conn, { profiles: opts.profiles, events: opts.events, seed: opts.seed, now }, say);
        conn.closeSync();
        say(`  ${fmt.int(gen.counts.profiles)} profiles (${fmt.int(gen.counts.mergedProfiles)} merged, ${fmt.int(gen.counts.profilesWithoutEvents)} without events), ${fmt.int(gen.counts.events)} events` +
          ` (${Object.entries(gen.counts.byEvent).map(([k, v]) => `${k} ${fmt.int(v)}`).join(', ')}); file ${gen.fileBytes === null ? '?' : fmt.bytes(gen.fileBytes)}\n`);
        const store = await DuckDbSegmentStore.open(db);
        if (opts.parts.includes('sql')) {
          say(`\n2. Batch SQL (compileSegment) against the hand-written baseline…\n`);
          sql = await runSql(store, segments, now, opts.rounds, say);
        }
        if (opts.parts.includes('engine')) {
          say(`\n3. Incremental engine: fill the ${segments.length} segments, heap, members against SQL…\n`);
          eng = await runEngine(db, store, segments, sql, now, say);
        }
      } finally {
        await db.close();
      }
      await rm(tmp, { recursive: true, force: true });
    }
    if (opts.parts.includes('latency')) {
      say(`\n4. Latency: event acknowledged → membership visible (real server in this process)…\n`);
      lat = await measureLatency({
        rate: opts.latencyRate, durationSec: opts.latencyDurationSec, warmupSec: opts.latencyWarmupSec, preload: opts.latencyPreload, seed: opts.seed, dataDir: opts.dataDir, idleMs: opts.latencyIdleMs,
      }, say);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }

  // ---- report ----
  const rows: string[][] = [];
  const targets: Array<{ name: string; value: string; pass: boolean | null }> = [];
  const full = opts.profiles >= 1_000_000 && opts.events >= 10_000_000;
  const scale = full ? '' : ` (at ${fmt.int(opts.profiles)} profiles / ${fmt.int(opts.events)} events, not the target's 1M / 10M)`;
  if (sql) {
    const c = median(sql.typical.compiledSec);
    const b = median(sql.typical.baselineSec);
    const f = median(sql.typical.baselineNoMergeSec);
    const p = median(sql.preview.seconds);
    rows.push(['typical rule, SQL (median)', `${fmt.s(c)} s`, `${fmt.s(b)} s`, fmt.ratio(c / b), `${fmt.int(sql.typical.members)} members${sql.typical.sameMembers ? ', same as baseline' : ', DIFFERENT from baseline'}`]);
    rows.push(['  baseline without merge mapping', '', `${fmt.s(f)} s`, fmt.ratio(c / f), `${fmt.int(sql.typical.baselineNoMergeMembers)} members (merged profiles' events lost)`]);
    rows.push(['preview: count + 20 ids (median)', `${fmt.s(p)} s`, `${fmt.s(b)} s`, fmt.ratio(p / b), `count ${fmt.int(sql.preview.count)}`]);
    rows.push([`${segments.length} segments, one after another`, `${fmt.s(sql.fiftyTotalSec)} s`, '', '', `${fmt.s(sql.fiftyTotalSec / segments.length)} s each on average`]);
    targets.push({ name: `typical rule ≤ ${TARGET.typicalSec} s`, value: `${fmt.s(c)} s (baseline ${fmt.s(b)} s)${scale}`, pass: !full ? null : c <= TARGET.typicalSec });
    targets.push({ name: `${segments.length} segments ≤ ${TARGET.fiftySec} s`, value: `${fmt.s(sql.fiftyTotalSec)} s${scale}`, pass: !full ? null : sql.fiftyTotalSec <= TARGET.fiftySec });
    targets.push({ name: `preview ≤ ${TARGET.previewSec} s`, value: `${fmt.s(p)} s${scale}`, pass: !full ? null : p <= TARGET.previewSec });
  }
  if (eng) {
    rows.push([`engine fill, ${segments.length} segments`, `${fmt.s(eng.fill.totalSec)} s`, '', '', `${fmt.int(eng.fill.rows)} events read, folded into each segment`]);
    rows.push(['segment state, heap', big(eng.engineHeapBytes), '', '', `${big(eng.bytesPerMillionProfiles)} per million profiles (${fmt.int(eng.engineHeapBytes / eng.liveProfiles)} B/profile); profiles map ${fmt.bytes(eng.profileMapBytes)}`]);
    rows.push(['engine = SQL member counts', eng.mismatches.length === 0 ? 'all equal' : `${eng.mismatches.length} differ`, '', '', eng.mismatches.map((m) => `${m.id} SQL ${m.sql} / engine ${m.engine}`).join('; ')]);
  }
  if (lat) {
    const v = lat.visibleAfterAck;
    rows.push(['visible − acked p50 / p95 / p99 / max', `${fmt.ms(v.p50)} / ${fmt.ms(v.p95)} / ${fmt.ms(v.p99)} / ${fmt.ms(v.max)} ms`, `ack p50 ${fmt.ms(lat.ack.p50)} / p99 ${fmt.ms(lat.ack.p99)} ms`, fmt.ratio(v.p99 / lat.ack.p99),
      `${fmt.int(lat.measured)} events at ${fmt.int(lat.achievedRate)}/s; ${lat.visibleBeforeAck} visible before their 200; processor idleMs ${lat.idleMs}, ${fmt.int(lat.processorBatches.count)} batches of ${fmt.ms(lat.processorBatches.meanMs)} ms on average (DuckDB commitBatch ${fmt.ms(lat.processorBatches.commitBatchMs.mean)} ms, engine.committed ${fmt.ms(lat.processorBatches.engineCommittedMs.mean)} ms)`]);
    targets.push({ name: `effect visible ≤ ${TARGET.latencyP99Ms} ms p99 after the ack`, value: `p99 ${fmt.ms(v.p99)} ms at ${fmt.int(lat.achievedRate)} events/s (ack p99 ${fmt.ms(lat.ack.p99)} ms)`, pass: v.p99 <= TARGET.latencyP99Ms && lat.neverVisible === 0 && lat.non200 === 0 });
  }
  say(`\nResults\n\n${table(['measure', 'Ensemble', 'baseline', 'ratio', 'notes'], rows, new Set([1, 2, 3]))}\n`);
  if (sql) {
    say(`\nSegments (SQL seconds, members${eng ? ', engine members' : ''})\n\n`);
    say(`${table(['id', 'family', 'name', 'SQL s', 'members', ...(eng ? ['engine'] : [])], sql.fifty.map((s) => [s.id, s.family, s.name, fmt.s(s.seconds), fmt.int(s.members),
      ...(eng ? [String(eng.checks.find((c) => c.id === s.id)?.engine ?? '–')] : [])]), new Set([3, 4, 5]))}\n`);
  }
  if (eng) {
    say(`\nSegment state by family (heap freed by removing them; per million live profiles)\n\n`);
    say(`${table(['family', 'segments', 'heap', 'per 1M profiles', 'state entries', 'timestamps', 'seq. events', 'timers', 'members'], eng.breakdown.map((d) => [
      d.family, String(d.segments), big(d.heapBytes), big((d.heapBytes / eng.liveProfiles) * 1e6), fmt.int(d.stateProfiles), fmt.int(d.timestamps), fmt.int(d.sequenceEvents), fmt.int(d.timers), fmt.int(d.members),
    ]), new Set([1, 2, 3, 4, 5, 6, 7, 8]))}\n  left after removing every segment, freed with the engine: ${fmt.bytes(eng.afterRemovalBytes)}\n`);
  }
  if (targets.length > 0) say(`\nTargets (informative; the bench never fails on them)\n${targets.map((t) => `  ${verdict(t.pass)} ${t.name}: ${t.value}`).join('\n')}\n`);
  if (eng) say(`  [ INFO ] segment state: ${big(eng.bytesPerMillionProfiles)} of heap per million profiles for ${segments.length} segments (stateSize ${JSON.stringify(eng.stateSize)})\n`);
  if (lat) say(`  note: when the processor is idle it waits idleMs (${lat.idleMs} ms) for more events before a partial batch, which bounds that part of the wait\n`);

  const file = writeResults('segments', startedAt, git, {
    options: { ...opts, dataDir: opts.dataDir === tmpdir() ? 'os.tmpdir()' : 'custom', out: opts.out === null ? null : 'custom' },
    now: new Date(now).toISOString(), generate: gen, sql, engine: eng, latency: lat, segments: segments.map((s) => ({ id: s.id, name: s.name, family: s.family, definition: s.definition })),
    targets,
  }, opts.out);
  say(`\nWrote ${file} and segments-latest.json\n`);
  const mismatch = (eng?.mismatches.length ?? 0) > 0 || (sql !== null && !sql.typical.sameMembers);
  return mismatch ? 2 : 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`\nbench:segments failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
