/**
 * Profile lookup benchmark (`npm run bench:lookup -- [flags]`; see bench/README.md).
 *
 * Starts the real server (`cli.js start` on a DuckDB file in a temporary directory) and the
 * bare baseline (`baseline-server.js`), each in its own process; loads N profiles into Ensemble
 * through `/v1/batch` (one identify per person: user id, anonymous id, email and 8 traits) and
 * waits until the processor has caught up; then, per round, a load generator process
 * (`load.js`, autocannon) sends `GET /api/workspaces/:ws/profiles/lookup?type=…&value=…` for
 * random existing people — by email, user id and anonymous id in turn — at a fixed rate to the
 * baseline, then to Ensemble. Latency is reported next to the baseline's at the same rate, in
 * the same run: the machine is shared and noisy.
 */
import { intFlag } from '../profiles/args.js';
import { recordedServerOptions, SERVER_OPTIONS, SERVER_OPTIONS_HELP, serverOptions, type ServerOptions } from '../common/server-options.js';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { freePort, killNow, logTail, spawned, startNode, stopProcess, waitHealthy, type ManagedProcess } from '../ingest/processes.js';
import {
  RUN_HEADER, RUN_RIGHT, measure, postBatch, provision, request, rssMiB, runRows, waitProcessed, type RunRecord,
} from '../common/fixed-rate-run.js';
import { fmt, gitState, median, ROOT, table, writeResults } from '../profiles/output.js';
import {
  LOOKUP_TYPES, identifierOf, lookupPath, lookupPerson, lookupTraits,
  type LookupLoadConfig,
} from './protocol.js';

const TARGET_P99_MS = 5;
const TARGET_RATE = 5000;

const HELP = `Ensemble profile lookup benchmark

Usage: npm run bench:lookup -- [flags]
       node dist/bench/lookup/run.js [flags]

  --profiles <n>      profiles loaded (one identify each)              (default 100000)
  --full              1,000,000 profiles (the server gets an 8 GB heap)
  --rate <n>          lookups per second, both servers                 (default 5000)
  --duration <s>      measured seconds per run                          (default 20)
  --warmup <s>        warm-up seconds before each run (discarded)       (default 3)
  --connections <n>   connections of the load generator                 (default 50)
  --rounds <n>        baseline/Ensemble pairs, alternating; medians     (default 1)
  --timeout <s>       per-request timeout                               (default 10)
  --seed <n>          people seed                                       (default 1)
${SERVER_OPTIONS_HELP}
  -h, --help
`;

interface Options extends ServerOptions {
  profiles: number;
  full: boolean;
  rate: number;
  durationSec: number;
  warmupSec: number;
  connections: number;
  rounds: number;
  timeoutSec: number;
  seed: number;
}

function parse(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' }, full: { type: 'boolean' }, profiles: { type: 'string' }, rate: { type: 'string' },
      duration: { type: 'string' }, warmup: { type: 'string' }, connections: { type: 'string' }, rounds: { type: 'string' },
      timeout: { type: 'string' }, seed: { type: 'string' }, ...SERVER_OPTIONS,
    },
  });
  if (values.help) return null;
  const full = values.full ?? false;
  return {
    full,
    profiles: intFlag('profiles', values.profiles, full ? 1_000_000 : 100_000, 100),
    rate: intFlag('rate', values.rate, TARGET_RATE, 1),
    durationSec: intFlag('duration', values.duration, 20, 1),
    warmupSec: intFlag('warmup', values.warmup, 3, 0),
    connections: intFlag('connections', values.connections, 50, 1),
    rounds: intFlag('rounds', values.rounds, 1, 1),
    timeoutSec: intFlag('timeout', values.timeout, 10, 1),
    seed: intFlag('seed', values.seed, 1, 0),
    ...serverOptions(values),
  };
}

// ---- setup ------------------------------------------------------------------------------------

/** One identify per person through /v1/batch, a few requests in flight; then waits for the processor. */
async function loadProfiles(origin: string, writeKey: string, opts: Options, say: (s: string) => void): Promise<{ ingestSec: number; processedSec: number }> {
  const perRequest = 200;
  const t0 = performance.now();
  let nextPerson = 0;
  const base = Date.UTC(2026, 0, 1);
  const worker = async (): Promise<void> => {
    while (nextPerson < opts.profiles) {
      const from = nextPerson;
      nextPerson = Math.min(opts.profiles, from + perRequest);
      const batch = [];
      for (let i = from; i < nextPerson; i++) {
        const p = lookupPerson(i, opts.seed);
        batch.push({
          type: 'identify', messageId: `lk-${opts.seed}-${i}`, userId: p.userId, anonymousId: p.anonymousIds[0],
          traits: lookupTraits(p), context: { library: { name: 'analytics-node', version: '6.2.0' } }, timestamp: new Date(base + i * 1000).toISOString(),
        });
      }
      await postBatch(origin, writeKey, batch);
    }
  };
  let lastReport = performance.now();
  const progress = setInterval(() => {
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      say(`    … ${fmt.int(nextPerson)} sent\n`);
    }
  }, 1000);
  try {
    await Promise.all(Array.from({ length: 4 }, worker));
  } finally {
    clearInterval(progress);
  }
  const ingested = performance.now();
  await waitProcessed(origin);
  return { ingestSec: (ingested - t0) / 1000, processedSec: (performance.now() - t0) / 1000 };
}

/** A lookup of each type on a server: must answer 200 with the person's identifiers; returns the body sizes. */
async function preflight(name: string, origin: string, workspaceId: string, token: string, opts: Options): Promise<number[]> {
  const sizes: number[] = [];
  for (const i of [0, Math.floor(opts.profiles / 2), opts.profiles - 1]) {
    const p = lookupPerson(i, opts.seed);
    for (const type of LOOKUP_TYPES) {
      const res = await request(origin, 'GET', lookupPath(workspaceId, type, identifierOf(p, type)), { authorization: `Bearer ${token}` });
      if (res.status !== 200) throw new Error(`preflight: ${name} answered ${res.status} to a lookup by ${type}: ${res.text.slice(0, 300)}`);
      const body = JSON.parse(res.text) as { identifiers?: Array<{ type: string; value: string | null }> };
      if (!body.identifiers?.some((x) => x.type === 'user_id' && x.value === p.userId)) throw new Error(`preflight: ${name} found another profile for person ${i} by ${type}: ${res.text.slice(0, 300)}`);
      sizes.push(Buffer.byteLength(res.text));
    }
  }
  const missing = await request(origin, 'GET', lookupPath(workspaceId, 'email', 'nobody@nowhere.example'), { authorization: `Bearer ${token}` });
  if (missing.status !== 404) throw new Error(`preflight: ${name} answered ${missing.status} to a lookup of an unknown email`);
  return sizes;
}

// ---- main -------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const opts = parse(process.argv.slice(2));
  if (!opts) {
    process.stdout.write(HELP);
    return 0;
  }
  const say = (s: string) => process.stdout.write(s);
  const here = fileURLToPath(new URL('.', import.meta.url));
  const cli = join(ROOT, 'dist', 'src', 'main', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} not found: build first (npm run build)`);
  const startedAt = new Date();
  const git = gitState();
  const tmp = await mkdtemp(join(opts.dataDir, 'ensemble-bench-lookup-'));
  const token = randomBytes(24).toString('hex');
  const onSignal = (signal: NodeJS.Signals): void => {
    for (const p of spawned) killNow(p);
    void rm(tmp, { recursive: true, force: true }).finally(() => {
      process.stderr.write(`\ninterrupted (${signal})\n`);
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const servers: Array<{ role: 'baseline' | 'ensemble'; proc: ManagedProcess; origin: string }> = [];
  try {
    say(`Ensemble profile lookup benchmark — Node ${process.version}; ${fmt.int(opts.profiles)} profiles, ${fmt.int(opts.rate)} lookups/s\n`);
    const [bPort, ePort] = [await freePort(), await freePort()];
    const ensemble = {
      role: 'ensemble' as const, origin: `http://127.0.0.1:${ePort}`,
      proc: startNode('ensemble', [
        ...(opts.full ? ['--max-old-space-size=8192'] : []),
        ...(opts.serverCpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.serverCpuProf}`] : []),
        ...opts.serverNodeFlags,
        cli, 'start', '--port', String(ePort), '--data', join(tmp, 'bench.duckdb')],
        { ...process.env, ENSEMBLE_ADMIN_TOKEN: token, ENSEMBLE_LOG_LEVEL: 'warn' }, join(tmp, 'ensemble.log'), ROOT),
    };
    servers.push(ensemble);
    await waitHealthy(ensemble.proc, ensemble.origin, 60_000);
    const { workspaceId, writeKey } = await provision(ensemble.origin, token);
    say(`  loading ${fmt.int(opts.profiles)} profiles through /v1/batch…\n`);
    const load = await loadProfiles(ensemble.origin, writeKey, opts, say);
    say(`  sent in ${fmt.s(load.ingestSec)} s, processed by ${fmt.s(load.processedSec)} s\n`);

    const baseline = {
      role: 'baseline' as const, origin: `http://127.0.0.1:${bPort}`,
      proc: startNode('baseline', [join(here, 'baseline-server.js'), '--port', String(bPort), '--people', String(opts.profiles), '--seed', String(opts.seed)],
        { ...process.env, BENCH_TOKEN: token }, join(tmp, 'baseline.log'), ROOT),
    };
    servers.push(baseline);
    await waitHealthy(baseline.proc, baseline.origin, 120_000);
    const sizes = {
      baseline: median(await preflight('baseline', baseline.origin, workspaceId, token, opts)),
      ensemble: median(await preflight('ensemble', ensemble.origin, workspaceId, token, opts)),
    };
    say(`  preflight ok: answers of ~${fmt.int(sizes.ensemble)} bytes (Ensemble) and ~${fmt.int(sizes.baseline)} bytes (baseline)\n`);
    const ensembleRss = rssMiB(ensemble.proc.pid);

    const base: Omit<LookupLoadConfig, 'origin'> = {
      workspaceId, token, people: opts.profiles, seed: opts.seed, rate: opts.rate, connections: opts.connections,
      warmupSec: opts.warmupSec, durationSec: opts.durationSec, timeoutSec: opts.timeoutSec,
    };
    const script = join(here, 'load.js');
    const runs: RunRecord[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      runs.push(await measure<LookupLoadConfig>(baseline, ensemble, round, base, script, say, 'lookups/s'));
      runs.push(await measure<LookupLoadConfig>(ensemble, baseline, round, base, script, say, 'lookups/s'));
    }
    const stops: Record<string, unknown> = {};
    for (const s of [ensemble, baseline]) stops[s.role] = await stopProcess(s.proc, s.role === 'ensemble' ? 30_000 : 5_000);

    // ---- report ----
    const rows = runRows(runs, opts.rounds);
    say(`\nResults (${opts.durationSec} s per run after ${opts.warmupSec} s warm-up; latency in ms from the write, "p99 sched" from the scheduled send time;\n` +
      `CPU = % of one core: server, load generator, the other (idle) server, rest of the machine)\n\n`);
    say(`${table(RUN_HEADER, rows, RUN_RIGHT)}\n`);
    const pick = (role: string, f: (r: RunRecord) => number) => median(runs.filter((r) => r.server === role).map(f));
    const eP99 = pick('ensemble', (r) => r.measured.latencyMs.p99);
    const bP99 = pick('baseline', (r) => r.measured.latencyMs.p99);
    const eP50 = pick('ensemble', (r) => r.measured.latencyMs.p50);
    const bP50 = pick('baseline', (r) => r.measured.latencyMs.p50);
    const eRate = pick('ensemble', (r) => r.measured.reqPerSec);
    const bRate = pick('baseline', (r) => r.measured.reqPerSec);
    const eCpu = pick('ensemble', (r) => r.serverCpuPercent ?? Number.NaN);
    const bCpu = pick('baseline', (r) => r.serverCpuPercent ?? Number.NaN);
    const achieved = eRate / opts.rate;
    say(`\nEnsemble ÷ baseline: p50 ${fmt.ratio(eP50 / bP50)} · p99 ${fmt.ratio(eP99 / bP99)} · achieved rate ${fmt.ratio(eRate / bRate)} · server CPU ${fmt.ratio(eCpu / bCpu)}` +
      ` (CPU per lookup: Ensemble ${fmt.int((eCpu / 100 / eRate) * 1e6)} µs, baseline ${fmt.int((bCpu / 100 / bRate) * 1e6)} µs)\n`);
    const pass = eP99 <= TARGET_P99_MS && achieved >= 0.95 && opts.rate >= TARGET_RATE;
    const targetLine = `p99 ≤ ${TARGET_P99_MS} ms at ${fmt.int(TARGET_RATE)} lookups/s: p99 ${fmt.ms(eP99)} ms at ${fmt.int(eRate)} of ${fmt.int(opts.rate)} req/s` +
      `${achieved < 0.95 ? ' (rate NOT reached)' : ''}${opts.rate < TARGET_RATE ? ' (below the target rate)' : ''}; baseline p99 ${fmt.ms(bP99)} ms at the same rate`;
    say(`\nTarget (informative; the bench never fails on it)\n  ${pass ? '[ PASS ]' : '[ FAIL ]'} ${targetLine}\n`);
    const notes: string[] = [];
    for (const r of runs) if (r.otherCpuPercent !== null && r.otherCpuPercent >= 25) notes.push(`${r.server} #${r.round}: the rest of the machine used ${fmt.int(r.otherCpuPercent)} % of a core meanwhile — a disturbed run; compare with another.`);
    for (const r of runs) if (r.measured.responses !== r.measured.ok2xx) notes.push(`${r.server} #${r.round}: ${fmt.int(r.measured.responses - r.measured.ok2xx)} answers were not 2xx (${JSON.stringify(r.measured.statusCounts)}).`);
    if (notes.length > 0) say(`\nNotes\n${notes.map((n) => `  ! ${n}`).join('\n')}\n`);

    const file = writeResults('lookup', startedAt, git, {
      options: { ...opts, ...recordedServerOptions(opts) }, load, responseBytes: sizes, ensembleRssMiBAfterLoad: ensembleRss, runs,
      summary: { ensemble: { p50: eP50, p99: eP99, reqPerSec: eRate, cpuPercent: eCpu }, baseline: { p50: bP50, p99: bP99, reqPerSec: bRate, cpuPercent: bCpu }, p99Ratio: eP99 / bP99, p50Ratio: eP50 / bP50 },
      target: { name: `p99 ≤ ${TARGET_P99_MS} ms at ${TARGET_RATE} lookups/s`, value: targetLine, pass },
      stops, notes,
    }, opts.out);
    say(`\nWrote ${file} and lookup-latest.json\n`);
    return 0;
  } catch (err) {
    for (const s of servers) {
      const tail = logTail(s.proc, 30);
      if (tail.trim() !== '') process.stderr.write(`\n--- last lines of the ${s.proc.name} log ---\n${tail}\n`);
    }
    throw err;
  } finally {
    for (const s of servers) if (!s.proc.hasExited()) await stopProcess(s.proc, 5_000);
    for (const p of spawned) killNow(p);
    if (opts.keepLog !== null) await cp(join(tmp, 'ensemble.log'), join(opts.keepLog, 'ensemble.log')).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`\nbench:lookup failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
