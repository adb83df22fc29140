/**
 * Personalisation benchmark (`npm run bench:personalize -- [flags]`; see bench/README.md).
 *
 * Starts the real server (`cli.js start` on a DuckDB file in a temporary directory); exposes
 * four traits through `PUT …/personalization` and creates three trait segments; loads N profiles
 * through `/v1/batch` (one identify per person: user id, anonymous id, email and 9 traits, and for
 * most of them `context.consent.categoryPreferences: {personalization: true}`) and waits until
 * the processor has caught up; starts the bare baseline (`baseline-server.js`) with the segments'
 * ids; checks both servers' answers against what each person should get; then, per round, a load
 * generator process (`load.js`, autocannon) sends `GET /v1/personalize?anonymousId=…&writeKey=…`
 * for random existing visitors at a fixed rate to the baseline, then to Ensemble. Latency is
 * reported next to the baseline's at the same rate, in the same run: the machine is shared and
 * noisy. The lookup bench's machinery is reused (../common/fixed-rate-*.ts).
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { intFlag } from '../profiles/args.js';
import { recordedServerOptions, SERVER_OPTIONS, SERVER_OPTIONS_HELP, serverOptions, type ServerOptions } from '../common/server-options.js';
import { freePort, killNow, logTail, sleep, spawned, startNode, stopProcess, waitHealthy, type ManagedProcess } from '../ingest/processes.js';
import {
  RUN_HEADER, RUN_RIGHT, adminCall, measure, postBatch, provision, request, rssMiB, runRows, waitProcessed, type RunRecord, type Server,
} from '../common/fixed-rate-run.js';
import { fmt, gitState, median, ROOT, table, writeResults } from '../profiles/output.js';
import {
  EXPOSED_TRAITS, PAGE_ORIGIN, SEGMENTS, consents, expectedAnswer, personalizePath, personalizePerson, personalizeTraits,
  type PersonalizationAnswer, type PersonalizeLoadConfig,
} from './protocol.js';

const TARGET_P99_MS = 5;
const TARGET_RATE = 5000;

const HELP = `Ensemble personalisation benchmark (GET /v1/personalize)

Usage: npm run bench:personalize -- [flags]
       node dist/bench/personalize/run.js [flags]

  --profiles <n>        profiles loaded (one identify each)                (default 100000)
  --consent-share <f>   share of them with personalization consent         (default 0.9)
  --rate <n>            requests per second, both servers                  (default 5000)
  --duration <s>        measured seconds per run                            (default 20)
  --warmup <s>          warm-up seconds before each run (discarded)         (default 3)
  --connections <n>     connections of the load generator                   (default 50)
  --rounds <n>          baseline/Ensemble pairs, alternating; medians       (default 1)
  --timeout <s>         per-request timeout                                 (default 10)
  --seed <n>            people seed                                         (default 1)
${SERVER_OPTIONS_HELP}
  -h, --help
`;

interface Options extends ServerOptions {
  profiles: number;
  consentShare: number;
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
      help: { type: 'boolean', short: 'h' }, profiles: { type: 'string' }, 'consent-share': { type: 'string' }, rate: { type: 'string' },
      duration: { type: 'string' }, warmup: { type: 'string' }, connections: { type: 'string' }, rounds: { type: 'string' },
      timeout: { type: 'string' }, seed: { type: 'string' }, ...SERVER_OPTIONS,
    },
  });
  if (values.help) return null;
  const share = values['consent-share'] === undefined ? 0.9 : Number(values['consent-share']);
  if (!(share >= 0 && share <= 1)) throw new Error(`--consent-share must be a number between 0 and 1, got "${values['consent-share']}"`);
  return {
    profiles: intFlag('profiles', values.profiles, 100_000, 100),
    consentShare: share,
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

/** The exposed traits and the segments (before the profiles: they fill as the profiles arrive). */
async function configure(origin: string, token: string, workspaceId: string): Promise<string[]> {
  const ws = `/api/workspaces/${encodeURIComponent(workspaceId)}`;
  await adminCall(origin, token, 'PUT', `${ws}/personalization`, { traits: [...EXPOSED_TRAITS] });
  const ids: string[] = [];
  for (const s of SEGMENTS) {
    const created = await adminCall<{ id?: unknown }>(origin, token, 'POST', `${ws}/segments`, { name: s.name, definition: s.definition });
    if (typeof created.id !== 'string') throw new Error(`POST …/segments: no id in ${JSON.stringify(created).slice(0, 200)}`);
    ids.push(created.id);
  }
  return ids;
}

/** One identify per person through /v1/batch, a few requests in flight; then waits for the processor. */
async function loadProfiles(origin: string, writeKey: string, opts: Options, say: (s: string) => void): Promise<{ ingestSec: number; processedSec: number; consented: number }> {
  const perRequest = 200;
  const t0 = performance.now();
  let nextPerson = 0;
  let consented = 0;
  const base = Date.UTC(2026, 0, 1);
  const worker = async (): Promise<void> => {
    while (nextPerson < opts.profiles) {
      const from = nextPerson;
      nextPerson = Math.min(opts.profiles, from + perRequest);
      const batch = [];
      for (let i = from; i < nextPerson; i++) {
        const p = personalizePerson(i, opts.seed);
        const consent = consents(i, opts.seed, opts.consentShare);
        if (consent) consented++;
        batch.push({
          type: 'identify', messageId: `pz-${opts.seed}-${i}`, userId: p.userId, anonymousId: p.anonymousIds[0],
          traits: personalizeTraits(p),
          context: {
            library: { name: 'analytics.js', version: '5.2.0' }, page: { url: `${PAGE_ORIGIN}/account` },
            ...(consent ? { consent: { categoryPreferences: { personalization: true } } } : {}),
          },
          timestamp: new Date(base + i * 1000).toISOString(),
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
  return { ingestSec: (ingested - t0) / 1000, processedSec: (performance.now() - t0) / 1000, consented };
}

/** Sample people, spread over the population (first, last, and evenly between). */
function samplePeople(profiles: number, n: number): number[] {
  const out = new Set<number>([0, profiles - 1]);
  for (let k = 1; out.size < Math.min(n, profiles); k++) out.add(Math.floor((k * profiles) / (n + 1)) % profiles);
  return [...out];
}

/**
 * Each sample person's answer must be exactly what protocol.ts says (consent, segment ids in
 * creation order, exposed traits); an unknown visitor gets `consent: false`, a wrong write key
 * 401. Ensemble gets a few seconds for segment membership to settle. Returns the body sizes.
 */
async function preflight(name: string, origin: string, writeKey: string, segmentIds: string[], opts: Options, waitMs: number): Promise<{ sizes: number[]; withConsent: number; inSegments: number }> {
  const deadline = performance.now() + waitMs;
  const people = samplePeople(opts.profiles, 60);
  for (;;) {
    const sizes: number[] = [];
    let withConsent = 0;
    let inSegments = 0;
    let problem: string | null = null;
    for (const i of people) {
      const p = personalizePerson(i, opts.seed);
      const res = await request(origin, 'GET', personalizePath(p.anonymousIds[0] as string, writeKey), { origin: PAGE_ORIGIN });
      if (res.status !== 200) throw new Error(`preflight: ${name} answered ${res.status} for person ${i}: ${res.text.slice(0, 300)}`);
      const got = JSON.parse(res.text) as PersonalizationAnswer;
      const want = expectedAnswer(i, opts.seed, opts.consentShare, segmentIds);
      if (!isDeepStrictEqual(got, want)) {
        problem = `person ${i}: ${name} answered ${res.text.slice(0, 300)}, expected ${JSON.stringify(want)}`;
        break;
      }
      sizes.push(Buffer.byteLength(res.text));
      if (got.consent) withConsent++;
      if (got.segments.length > 0) inSegments++;
    }
    if (problem === null) {
      const unknown = await request(origin, 'GET', personalizePath('00000000-0000-4000-8000-000000000000', writeKey), { origin: PAGE_ORIGIN });
      if (unknown.status !== 200 || !isDeepStrictEqual(JSON.parse(unknown.text), { consent: false, segments: [], traits: {} })) {
        throw new Error(`preflight: ${name} answered ${unknown.status} ${unknown.text.slice(0, 200)} for an unknown visitor`);
      }
      const p0 = personalizePerson(0, opts.seed);
      const bad = await request(origin, 'GET', personalizePath(p0.anonymousIds[0] as string, `${writeKey}x`), { origin: PAGE_ORIGIN });
      if (bad.status !== 401) throw new Error(`preflight: ${name} answered ${bad.status} to a wrong write key`);
      return { sizes, withConsent, inSegments };
    }
    if (performance.now() > deadline) throw new Error(`preflight: ${problem}`);
    await sleep(500);
  }
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
  const tmp = await mkdtemp(join(opts.dataDir, 'ensemble-bench-personalize-'));
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
    say(`Ensemble personalisation benchmark — Node ${process.version}; ${fmt.int(opts.profiles)} profiles (${Math.round(opts.consentShare * 100)} % consented), ${fmt.int(opts.rate)} requests/s\n`);
    const [bPort, ePort] = [await freePort(), await freePort()];
    const ensemble: Server = {
      role: 'ensemble', origin: `http://127.0.0.1:${ePort}`,
      proc: startNode('ensemble', [
        ...(opts.serverCpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.serverCpuProf}`] : []),
        ...opts.serverNodeFlags,
        cli, 'start', '--port', String(ePort), '--data', join(tmp, 'bench.duckdb')],
        { ...process.env, ENSEMBLE_ADMIN_TOKEN: token, ENSEMBLE_LOG_LEVEL: 'warn' }, join(tmp, 'ensemble.log'), ROOT),
    };
    servers.push(ensemble);
    await waitHealthy(ensemble.proc, ensemble.origin, 60_000);
    const { workspaceId, writeKey } = await provision(ensemble.origin, token);
    const segmentIds = await configure(ensemble.origin, token, workspaceId);
    say(`  exposed traits ${EXPOSED_TRAITS.join(', ')}; segments ${SEGMENTS.map((s) => s.name).join(', ')}\n`);
    say(`  loading ${fmt.int(opts.profiles)} profiles through /v1/batch…\n`);
    const load = await loadProfiles(ensemble.origin, writeKey, opts, say);
    say(`  sent in ${fmt.s(load.ingestSec)} s, processed by ${fmt.s(load.processedSec)} s; ${fmt.int(load.consented)} with personalization consent\n`);

    const baseline: Server = {
      role: 'baseline', origin: `http://127.0.0.1:${bPort}`,
      proc: startNode('baseline', [join(here, 'baseline-server.js'), '--port', String(bPort), '--people', String(opts.profiles), '--seed', String(opts.seed),
        '--consent-share', String(opts.consentShare), '--segments', segmentIds.join(',')],
        { ...process.env, BENCH_WRITE_KEY: writeKey }, join(tmp, 'baseline.log'), ROOT),
    };
    servers.push(baseline);
    await waitHealthy(baseline.proc, baseline.origin, 120_000);
    const pfB = await preflight('baseline', baseline.origin, writeKey, segmentIds, opts, 0);
    const pfE = await preflight('ensemble', ensemble.origin, writeKey, segmentIds, opts, 10_000);
    const sizes = { baseline: median(pfB.sizes), ensemble: median(pfE.sizes) };
    say(`  preflight ok (${pfE.sizes.length} people: ${pfE.withConsent} with consent, ${pfE.inSegments} in a segment): answers of ~${fmt.int(sizes.ensemble)} bytes (Ensemble) and ~${fmt.int(sizes.baseline)} bytes (baseline)\n`);
    const ensembleRss = rssMiB(ensemble.proc.pid);

    const base: Omit<PersonalizeLoadConfig, 'origin'> = {
      writeKey, people: opts.profiles, seed: opts.seed, rate: opts.rate, connections: opts.connections,
      warmupSec: opts.warmupSec, durationSec: opts.durationSec, timeoutSec: opts.timeoutSec,
    };
    const script = join(here, 'load.js');
    const runs: RunRecord[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      runs.push(await measure<PersonalizeLoadConfig>(baseline, ensemble, round, base, script, say, 'requests/s'));
      runs.push(await measure<PersonalizeLoadConfig>(ensemble, baseline, round, base, script, say, 'requests/s'));
    }
    const stops: Record<string, unknown> = {};
    for (const s of [ensemble, baseline]) stops[s.role] = await stopProcess(s.proc, s.role === 'ensemble' ? 30_000 : 5_000);

    // ---- report ----
    say(`\nResults (${opts.durationSec} s per run after ${opts.warmupSec} s warm-up; latency in ms from the write, "p99 sched" from the scheduled send time;\n` +
      `CPU = % of one core: server, load generator, the other (idle) server, rest of the machine)\n\n`);
    say(`${table(RUN_HEADER, runRows(runs, opts.rounds), RUN_RIGHT)}\n`);
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
      ` (CPU per request: Ensemble ${fmt.int((eCpu / 100 / eRate) * 1e6)} µs, baseline ${fmt.int((bCpu / 100 / bRate) * 1e6)} µs)\n`);
    const pass = eP99 <= TARGET_P99_MS && achieved >= 0.95 && opts.rate >= TARGET_RATE;
    const targetLine = `p99 ≤ ${TARGET_P99_MS} ms at ${fmt.int(TARGET_RATE)} requests/s: p99 ${fmt.ms(eP99)} ms at ${fmt.int(eRate)} of ${fmt.int(opts.rate)} req/s` +
      `${achieved < 0.95 ? ' (rate NOT reached)' : ''}${opts.rate < TARGET_RATE ? ' (below the target rate)' : ''}; baseline p99 ${fmt.ms(bP99)} ms at the same rate`;
    say(`\nTarget (informative; the bench never fails on it)\n  ${pass ? '[ PASS ]' : '[ FAIL ]'} ${targetLine}\n`);
    const notes: string[] = [];
    for (const r of runs) if (r.otherCpuPercent !== null && r.otherCpuPercent >= 25) notes.push(`${r.server} #${r.round}: the rest of the machine used ${fmt.int(r.otherCpuPercent)} % of a core meanwhile — a disturbed run; compare with another.`);
    for (const r of runs) if (r.measured.responses !== r.measured.ok2xx) notes.push(`${r.server} #${r.round}: ${fmt.int(r.measured.responses - r.measured.ok2xx)} answers were not 2xx (${JSON.stringify(r.measured.statusCounts)}).`);
    if (notes.length > 0) say(`\nNotes\n${notes.map((n) => `  ! ${n}`).join('\n')}\n`);

    const file = writeResults('personalize', startedAt, git, {
      options: { ...opts, ...recordedServerOptions(opts) },
      setup: { exposedTraits: EXPOSED_TRAITS, segments: SEGMENTS.map((s, k) => ({ id: segmentIds[k], name: s.name, definition: s.definition })) },
      load, preflight: { people: pfE.sizes.length, withConsent: pfE.withConsent, inSegments: pfE.inSegments }, responseBytes: sizes, ensembleRssMiBAfterLoad: ensembleRss, runs,
      summary: { ensemble: { p50: eP50, p99: eP99, reqPerSec: eRate, cpuPercent: eCpu }, baseline: { p50: bP50, p99: bP99, reqPerSec: bRate, cpuPercent: bCpu }, p99Ratio: eP99 / bP99, p50Ratio: eP50 / bP50 },
      target: { name: `p99 ≤ ${TARGET_P99_MS} ms at ${TARGET_RATE} requests/s`, value: targetLine, pass },
      stops, notes,
    }, opts.out);
    say(`\nWrote ${file} and personalize-latest.json\n`);
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
    process.stderr.write(`\nbench:personalize failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
