/**
 * Identity benchmark (`npm run bench:identity -- [flags]`; see bench/README.md).
 *
 * One synthetic shop stream (anonymous browsing, logins with user id + email, some phones,
 * people on several devices) is resolved four ways in one process, in this order:
 *
 *   union-find #1 → engine, resolve only → union-find #2 → engine, resolve + persist →
 *   union-find #3 → (full rebuild through the real app)
 *
 * - **union-find**: the baseline (union-find.ts), median of its three runs;
 * - **resolve only**: `IdentityService`'s engine through a `ProfileTx` per batch of 5,000 events,
 *   as the processor does (resolve, touch the profile, apply, register new keys) — no storage;
 * - **resolve + persist**: the same from a fresh state, plus `identity.encode` of the changed
 *   profiles and `DuckDbProcessingStore.commitBatch` of each batch (profiles, identities, identity
 *   log, merges, new keys, cursor; no event rows) on a DuckDB file in a temporary directory;
 * - **rebuild**: the stream is ingested into a real Ensemble (`openEnsemble`, `collector.ingest`,
 *   processor), then `ProfileRebuilder.rebuild` replays every stored event of the workspace.
 *
 * An edge is one link an event asserts between two of its identifiers: k identifiers → k − 1.
 */
import { intFlag } from '../profiles/args.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { IdentityService } from '../../src/identity/identity-service.js';
import { KeyRing } from '../../src/privacy/key-ring.js';
import { ProfileMemory } from '../../src/profiles/profile-memory.js';
import { ProfileTx } from '../../src/profiles/profile-tx.js';
import { touch } from '../../src/processor/processor.js';
import { Database } from '../../src/storage/duckdb/database.js';
import { DuckDbProcessingStore } from '../../src/storage/duckdb/processing-store.js';
import { openEnsemble } from '../../src/main/app.js';
import { parseConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import type { CollectedEvent } from '../../src/protocol/event.js';
import type { ProcessingStore } from '../../src/storage/ports.js';
import { memoryConfigStore } from '../../src/storage/memory/config-store.js';
import { edgesOf, generateStream, toCollected, type IncomingEvent, type Stream } from '../profiles/population.js';
import { fmt, gitState, hasGc, median, settledMemory, table, writeResults } from '../profiles/output.js';
import { runUnionFind, type UnionFindResult } from './union-find.js';

const WS = 'ws_bench';
const SOURCE = 'src_bench';
const TARGET_EDGES_PER_SEC = 100_000;
const TARGET_REBUILD_EDGES = 10_000_000;
const TARGET_REBUILD_SEC = 60;

const HELP = `Ensemble identity benchmark

Usage: npm run bench:identity -- [flags]
       node --expose-gc --max-old-space-size=8192 dist/bench/identity/run.js [flags]

  --events <n>          events in the resolved stream                 (default 200000)
  --batch <n>           events per ProfileTx / commitBatch            (default 5000)
  --rebuild-events <n>  events stored, then replayed by the rebuild   (default 200000; 0 skips)
  --full                1,000,000 events for both parts (unless given; ~6 GB of heap)
  --seed <n>            stream seed                                   (default 1)
  --data-dir <dir>      parent of the temporary DuckDB directories   (default os.tmpdir())
  --out <dir>           results directory                     (default bench/results)
  -h, --help
`;

interface Options {
  events: number;
  batch: number;
  rebuildEvents: number;
  full: boolean;
  seed: number;
  dataDir: string;
  out: string | null;
}

function parse(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' }, full: { type: 'boolean' },
      events: { type: 'string' }, batch: { type: 'string' }, 'rebuild-events': { type: 'string' },
      seed: { type: 'string' }, 'data-dir': { type: 'string' }, out: { type: 'string' },
    },
  });
  if (values.help) return null;
  const full = values.full ?? false;
  return {
    full,
    events: intFlag('events', values.events, full ? 1_000_000 : 200_000, 1000),
    batch: intFlag('batch', values.batch, 5000, 1),
    rebuildEvents: intFlag('rebuild-events', values['rebuild-events'], full ? 1_000_000 : 200_000, 0),
    seed: intFlag('seed', values.seed, 1, 0),
    dataDir: values['data-dir'] ?? tmpdir(),
    out: values.out ?? null,
  };
}

// ---- the engine, as the processor drives it ---------------------------------------------------

/**
 * Times every statement a DuckDB processing store runs, by kind ("insert profiles", "commit"…),
 * by wrapping its (private) connection's `run` in place: a breakdown of commitBatch/commitRebuild.
 */
function timeStatements(store: object): Record<string, number> {
  const conn = (store as { conn?: { run: (sql: string, ...rest: unknown[]) => Promise<unknown> } }).conn;
  const totals: Record<string, number> = {};
  if (!conn || typeof conn.run !== 'function') return totals;
  const run = conn.run.bind(conn);
  conn.run = async (sql: string, ...rest: unknown[]) => {
    const s = performance.now();
    try {
      return await run(sql, ...rest);
    } finally {
      const label = statementKind(sql);
      totals[label] = (totals[label] ?? 0) + (performance.now() - s) / 1000;
    }
  };
  return totals;
}

function statementKind(sql: string): string {
  const t = sql.trim().replace(/\s+/g, ' ');
  const m = /^(INSERT(?: OR \w+)? INTO|UPDATE|DELETE FROM) (\w+)/i.exec(t);
  if (m) return `${(m[1] as string).split(' ')[0]?.toLowerCase()} ${m[2]}`;
  return (t.split(' ')[0] ?? '?').toLowerCase();
}

function statementSummary(totals: Record<string, number>): string {
  return Object.entries(totals).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmt.s(v)} s`).join(' · ');
}

interface EngineRun {
  seconds: number;
  /** Seconds per step, summed over batches. */
  steps: { resolve: number; encode: number; commit: number; apply: number };
  batches: number;
  /** Slowest batch, ms. */
  maxBatchMs: number;
  /** Seconds per kind of SQL statement inside commitBatch (persisting runs only). */
  statements: Record<string, number>;
  profiles: number;
  liveProfiles: number;
  identifiers: number;
  merges: number;
  logEntries: number;
  keys: number;
}

async function runEngine(events: readonly CollectedEvent[], batch: number, store: DuckDbProcessingStore | null): Promise<EngineRun> {
  const memory = new ProfileMemory();
  const keys = new KeyRing(randomBytes(32));
  const identity = new IdentityService(memoryConfigStore(), keys, memory);
  const strategyOf = identity.strategyOf(WS);
  const steps = { resolve: 0, encode: 0, commit: 0, apply: 0 };
  let merges = 0;
  let logEntries = 0;
  let newKeys = 0;
  let maxBatchMs = 0;
  let seq = 0n;
  const statements = store ? timeStatements(store) : {};
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += batch) {
    const b0 = performance.now();
    const tx = new ProfileTx(memory);
    const end = Math.min(events.length, i + batch);
    for (let j = i; j < end; j++) {
      const e = events[j] as CollectedEvent;
      seq++;
      const at = Date.parse(e.timestamp);
      const { profileId } = identity.resolver.resolve(e, at, tx, seq);
      const profile = tx.profile(profileId);
      if (profile) touch(profile, e, at, strategyOf);
    }
    const changes = tx.changes();
    const b1 = performance.now();
    steps.resolve += b1 - b0;
    let b3 = b1;
    if (store) {
      const profiles = changes.profiles.map((p) => identity.encode(p));
      const b2 = performance.now();
      steps.encode += b2 - b1;
      await store.commitBatch({ cursor: seq, events: [], ...changes, profiles, keys: identity.newKeys() });
      b3 = performance.now();
      steps.commit += b3 - b2;
    }
    const keys = identity.newKeys().length;
    tx.apply();
    identity.committed(changes.merges, []);
    const b4 = performance.now();
    steps.apply += b4 - b3;
    maxBatchMs = Math.max(maxBatchMs, b4 - b0);
    merges += changes.merges.length;
    logEntries += changes.identityLog.length;
    newKeys += keys;
  }
  const seconds = (performance.now() - t0) / 1000;
  let live = 0;
  for (const p of memory.profiles.values()) if (p.mergedInto === null) live++;
  return {
    seconds,
    steps: { resolve: steps.resolve / 1000, encode: steps.encode / 1000, commit: steps.commit / 1000, apply: steps.apply / 1000 },
    batches: Math.ceil(events.length / batch), maxBatchMs, statements,
    profiles: memory.profiles.size, liveProfiles: live, identifiers: memory.identities.size, merges, logEntries, keys: newKeys,
  };
}

// ---- full rebuild through the real app --------------------------------------------------------

interface RebuildRun {
  events: number;
  edges: number;
  loadSeconds: number;
  processSeconds: number;
  seconds: number;
  /** Inside the rebuild: reading the events, committing the result (the rest is JavaScript replay). */
  readSeconds: number;
  commitSeconds: number;
  replaySeconds: number;
  /** Seconds per kind of SQL statement inside the rebuild's commit. */
  statements: Record<string, number>;
  profilesBefore: number;
  liveBefore: number;
  liveAfter: number;
  identifiersBefore: number;
  identifiersAfter: number;
  heapUsedAfterMiB: number;
  rssAfterMiB: number;
}

async function runRebuild(stream: IncomingEvent[], dataDir: string, say: (s: string) => void): Promise<RebuildRun> {
  const dir = mkdtempSync(join(dataDir, 'ensemble-bench-rebuild-'));
  const quiet = new Writable({ write(_c, _e, done) { done(); } });
  const config = parseConfig({
    port: 0, dataPath: join(dir, 'rebuild.duckdb'), adminToken: randomBytes(24).toString('hex'),
    masterKey: randomBytes(32).toString('base64url'), logLevel: 'warn',
  });
  const ensemble = await openEnsemble(config, { logger: createLogger('warn', quiet) });
  try {
    const ws = await ensemble.catalog.createWorkspace('bench');
    const source = await ensemble.catalog.createSource(ws.id, { name: 'bench', kind: 'server' });
    const ref = { id: source.id, workspaceId: ws.id };
    say(`  storing ${fmt.int(stream.length)} events through the collector and the processor…\n`);
    const t0 = performance.now();
    const chunk = 1000;
    // A few requests' worth in flight at once, as a busy collector would have.
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < stream.length; i += chunk) {
      inFlight.push(ensemble.collector.ingest({ source: ref, events: stream.slice(i, i + chunk) }).then((r) => {
        if (r.accepted !== Math.min(chunk, stream.length - i)) throw new Error(`the collector accepted ${r.accepted} events of ${chunk}: ${JSON.stringify(r.rejected.slice(0, 3))}`);
      }));
      if (inFlight.length >= 8) await inFlight.shift();
    }
    await Promise.all(inFlight);
    const loaded = performance.now();
    await ensemble.processor.idle();
    const processed = performance.now();
    const profileIds = [...ensemble.memory.profiles.values()].filter((p) => p.workspaceId === ws.id).map((p) => p.id);
    const count = () => {
      let live = 0;
      for (const p of ensemble.memory.profiles.values()) if (p.workspaceId === ws.id && p.mergedInto === null) live++;
      return live;
    };
    const liveBefore = count();
    const identifiersBefore = ensemble.memory.identities.size;
    say(`  stored in ${fmt.s((loaded - t0) / 1000)} s, processed in ${fmt.s((processed - t0) / 1000)} s: ${fmt.int(profileIds.length)} profiles (${fmt.int(liveBefore)} live); rebuilding all of them…\n`);

    // Time the store calls inside the rebuild (the rebuilder's store is private: wrapped in place).
    const store = (ensemble.rebuilder as unknown as { deps: { store: ProcessingStore } }).deps.store;
    let readMs = 0;
    let commitMs = 0;
    const replayEvents = store.replayEvents.bind(store);
    const commitRebuild = store.commitRebuild.bind(store);
    store.replayEvents = async (...args) => { const s = performance.now(); try { return await replayEvents(...args); } finally { readMs += performance.now() - s; } };
    store.commitRebuild = async (...args) => { const s = performance.now(); try { return await commitRebuild(...args); } finally { commitMs += performance.now() - s; } };
    const statements = timeStatements(store);
    settledMemory();
    const r0 = performance.now();
    await ensemble.processor.exclusive(() => ensemble.rebuilder.rebuild(ws.id, profileIds, []));
    const seconds = (performance.now() - r0) / 1000;
    const mem = process.memoryUsage();
    return {
      events: stream.length,
      edges: stream.reduce((n, e) => n + edgesOf(e), 0),
      loadSeconds: (loaded - t0) / 1000,
      processSeconds: (processed - t0) / 1000,
      seconds,
      readSeconds: readMs / 1000,
      commitSeconds: commitMs / 1000,
      replaySeconds: seconds - (readMs + commitMs) / 1000,
      statements,
      profilesBefore: profileIds.length,
      liveBefore,
      liveAfter: count(),
      identifiersBefore,
      identifiersAfter: ensemble.memory.identities.size,
      heapUsedAfterMiB: Math.round(mem.heapUsed / 2 ** 20),
      rssAfterMiB: Math.round(mem.rss / 2 ** 20),
    };
  } finally {
    await ensemble.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- main -----------------------------------------------------------------------------------

function describe(s: Stream, edges: number, identifiers: number): string {
  return `${fmt.int(s.events.length)} events (${Object.entries(s.byType).map(([t, n]) => `${fmt.int(n)} ${t}`).join(', ')}) from ${fmt.int(s.people)} people ` +
    `(${fmt.int(s.identified)} log in, ${fmt.int(s.multiDevice)} on 2–3 devices, ${fmt.int(s.withPhone)} identify with a phone): ` +
    `${fmt.int(identifiers)} identifier occurrences, ${fmt.int(edges)} edges`;
}

async function main(): Promise<number> {
  const opts = parse(process.argv.slice(2));
  if (!opts) {
    process.stdout.write(HELP);
    return 0;
  }
  const startedAt = new Date();
  const git = gitState();
  const say = (s: string) => process.stdout.write(s);
  if (!hasGc()) say('(run node with --expose-gc for steadier figures: phases start from a collected heap)\n');
  say(`Ensemble identity benchmark — Node ${process.version}\n`);

  const stream = generateStream({ events: opts.events, seed: opts.seed });
  const events = stream.events.map((e) => toCollected(e, WS, SOURCE));
  const edges = stream.events.reduce((n, e) => n + edgesOf(e), 0);
  const occurrences = edges + events.length;
  say(`Stream: ${describe(stream, edges, occurrences)}\n`);

  // Warm-up on a throwaway state: the processor is long-running, its code is optimised.
  await runEngine(events.slice(0, Math.min(events.length, 20_000)), opts.batch, null);
  runUnionFind(events);

  const uf: UnionFindResult[] = [];
  const gcNow = () => settledMemory();
  gcNow();
  uf.push(runUnionFind(events));
  gcNow();
  say('  resolve only…\n');
  const resolveOnly = await runEngine(events, opts.batch, null);
  gcNow();
  uf.push(runUnionFind(events));
  const dir = mkdtempSync(join(opts.dataDir, 'ensemble-bench-identity-'));
  let persisted: EngineRun;
  try {
    const db = await Database.open(join(dir, 'identity.duckdb'), { checkpointThreshold: parseConfig({}).storage.checkpointThreshold });
    try {
      const store = await DuckDbProcessingStore.open(db);
      gcNow();
      say('  resolve + persist…\n');
      persisted = await runEngine(events, opts.batch, store);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  gcNow();
  uf.push(runUnionFind(events));

  const ufSeconds = median(uf.map((u) => u.seconds));
  const ufRate = edges / ufSeconds;
  const resolveRate = edges / resolveOnly.seconds;
  const persistRate = edges / persisted.seconds;
  const components = uf[0]?.components ?? 0;

  let rebuild: RebuildRun | null = null;
  let rebuildStream: Stream | null = null;
  if (opts.rebuildEvents > 0) {
    rebuildStream = opts.rebuildEvents === opts.events ? stream : generateStream({ events: opts.rebuildEvents, seed: opts.seed });
    const rEdges = rebuildStream.events.reduce((n, e) => n + edgesOf(e), 0);
    say(`Rebuild stream: ${describe(rebuildStream, rEdges, rEdges + rebuildStream.events.length)}\n`);
    gcNow();
    rebuild = await runRebuild(rebuildStream.events, opts.dataDir, say);
  }

  // ---- report ----
  const rows: string[][] = [];
  const row = (name: string, seconds: number, extra: string) => rows.push([
    name, fmt.s(seconds), fmt.int(edges / seconds), fmt.int(occurrences / seconds), fmt.int(events.length / seconds), fmt.ratio((edges / seconds) / ufRate), extra,
  ]);
  row(`union-find (median of ${uf.length})`, ufSeconds, `${fmt.int(components)} sets; runs ${uf.map((u) => fmt.s(u.seconds)).join(' / ')} s`);
  row('engine: resolve only', resolveOnly.seconds, `${fmt.int(resolveOnly.liveProfiles)} live profiles, ${fmt.int(resolveOnly.merges)} merges`);
  const p = persisted.steps;
  row(`engine: resolve + persist (×${fmt.int(opts.batch)})`, persisted.seconds,
    `resolve ${fmt.s(p.resolve)} s · encode ${fmt.s(p.encode)} s · commitBatch ${fmt.s(p.commit)} s · apply ${fmt.s(p.apply)} s; slowest batch ${fmt.int(persisted.maxBatchMs)} ms`);
  say(`\nResults (${fmt.int(edges)} edges, ${fmt.int(occurrences)} identifier occurrences, ${fmt.int(events.length)} events; ratio = edges/s ÷ union-find edges/s)\n\n`);
  say(`${table(['run', 'seconds', 'edges/s', 'identifiers/s', 'events/s', 'ratio', 'notes'], rows, new Set([1, 2, 3, 4, 5]))}\n`);
  const sameResult = resolveOnly.liveProfiles === components && persisted.liveProfiles === components;
  say(`\ncommitBatch statements: ${statementSummary(persisted.statements)}\n`);
  say(`\nCheck: live profiles (resolve only ${fmt.int(resolveOnly.liveProfiles)}, persisted ${fmt.int(persisted.liveProfiles)}) ${sameResult ? '=' : '≠'} union-find sets (${fmt.int(components)})` +
    `${sameResult ? ': both found the same people' : ' — MISMATCH'}\n`);

  let rebuildProjection: number | null = null;
  if (rebuild) {
    const rate = rebuild.edges / rebuild.seconds;
    rebuildProjection = TARGET_REBUILD_EDGES / rate;
    say(`\nFull rebuild (ProfileRebuilder.rebuild of every profile of the workspace)\n\n`);
    say(`${table(['events', 'edges', 'profiles', 'rebuild s', 'read s', 'replay s', 'commit s', 'edges/s', 'events/s', `10M edges (extrapolated)`], [[
      fmt.int(rebuild.events), fmt.int(rebuild.edges), fmt.int(rebuild.profilesBefore), fmt.s(rebuild.seconds), fmt.s(rebuild.readSeconds),
      fmt.s(rebuild.replaySeconds), fmt.s(rebuild.commitSeconds), fmt.int(rate), fmt.int(rebuild.events / rebuild.seconds), `${fmt.s(rebuildProjection)} s`,
    ]], new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))}\n`);
    say(`  SQL during the rebuild (the select is the read): ${statementSummary(rebuild.statements)}\n`);
    say(`  (stored through the collector in ${fmt.s(rebuild.loadSeconds)} s, processed by ${fmt.s(rebuild.processSeconds)} s; live profiles ${fmt.int(rebuild.liveBefore)} before, ${fmt.int(rebuild.liveAfter)} after; ` +
      `identifiers ${fmt.int(rebuild.identifiersBefore)} → ${fmt.int(rebuild.identifiersAfter)}; heap after ${fmt.int(rebuild.heapUsedAfterMiB)} MiB, RSS ${fmt.int(rebuild.rssAfterMiB)} MiB)\n`);
  }

  const targets = [
    { name: `resolve + persist ≥ ${fmt.int(TARGET_EDGES_PER_SEC)} edges/s`, value: `${fmt.int(persistRate)} edges/s (resolve only ${fmt.int(resolveRate)})`, pass: persistRate >= TARGET_EDGES_PER_SEC },
    { name: 'ratio to the union-find', value: `resolve only ${fmt.ratio(resolveRate / ufRate)}, with persistence ${fmt.ratio(persistRate / ufRate)} (union-find ${fmt.int(ufRate)} edges/s)`, pass: null },
    rebuild
      ? { name: `full rebuild of ${fmt.int(TARGET_REBUILD_EDGES)} edges ≤ ${TARGET_REBUILD_SEC} s`, value: `${fmt.s(rebuildProjection ?? 0)} s extrapolated from ${fmt.int(rebuild.edges)} edges in ${fmt.s(rebuild.seconds)} s`, pass: (rebuildProjection ?? Infinity) <= TARGET_REBUILD_SEC }
      : { name: 'full rebuild', value: 'skipped (--rebuild-events 0)', pass: null },
  ];
  say(`\nTargets (informative; the bench never fails on them)\n${targets.map((t) => `  ${t.pass === null ? '[ info ]' : t.pass ? '[ PASS ]' : '[ FAIL ]'} ${t.name}: ${t.value}`).join('\n')}\n`);

  const file = writeResults('identity', startedAt, git, {
    options: { ...opts, dataDir: opts.dataDir === tmpdir() ? 'os.tmpdir()' : 'custom', out: opts.out === null ? null : 'custom' },
    edgeDefinition: 'an event with k usable identifiers asserts k − 1 edges (what a union-find does with k − 1 unions)',
    stream: { events: events.length, edges, identifierOccurrences: occurrences, people: stream.people, identified: stream.identified, multiDevice: stream.multiDevice, withPhone: stream.withPhone, byType: stream.byType },
    unionFind: { runs: uf, medianSeconds: ufSeconds, edgesPerSec: Math.round(ufRate) },
    resolveOnly: { ...resolveOnly, edgesPerSec: Math.round(resolveRate), eventsPerSec: Math.round(events.length / resolveOnly.seconds), ratio: resolveRate / ufRate },
    resolvePersist: { ...persisted, edgesPerSec: Math.round(persistRate), eventsPerSec: Math.round(events.length / persisted.seconds), ratio: persistRate / ufRate },
    sameComponents: sameResult,
    rebuild: rebuild && { ...rebuild, edgesPerSec: Math.round(rebuild.edges / rebuild.seconds), projected10MEdgesSec: rebuildProjection, stream: rebuildStream && { people: rebuildStream.people, byType: rebuildStream.byType } },
    targets,
    gcExposed: hasGc(),
  }, opts.out);
  say(`\nWrote ${file} and identity-latest.json\n`);
  return sameResult ? 0 : 2;
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`\nbench:identity failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
