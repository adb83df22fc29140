/**
 * Ingest benchmark entry point (`npm run bench:ingest -- [flags]`; see bench/README.md).
 *
 * Separate processes, so nothing measured shares an event loop with the measurer: this
 * orchestrator starts the baseline server and Ensemble (`cli.js start`), provisions a workspace
 * and a source, then per scenario forks the load generator (`load.js`, autocannon) for:
 *   baseline max → Ensemble max (× --rounds, alternating) → baseline at a fixed rate →
 *   Ensemble at that rate, the fixed rate being a fraction (0.8) of Ensemble's median maximum.
 * After every run it checks `ensemble_events_accepted_total` grew by exactly 2xx × events,
 * and waits for `ensemble_log_lag_events` to reach 0 so background processing from one run
 * does not slow the next. Figures are reported as ratios to the baseline measured in the same
 * run: the machines are shared and noisy, absolute numbers alone mean little.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, availableParallelism, totalmem, loadavg, platform, release, arch } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { HELP, parseOptions, type Options } from './options.js';
import {
  cpuSeconds, freePort, killNow, logTail, machineBusySeconds, readMetrics, runLoad, sleep, spawned, startNode, stopProcess, waitHealthy,
  type ManagedProcess,
} from './processes.js';
import { PayloadFactory } from './payload.js';
import type { LoadConfig, PhaseResult } from './protocol.js';
import {
  fmt, median, renderTable, renderTargets,
  type DurabilityCheck, type RunRecord, type ScenarioName, type ScenarioRecord, type Target, type TargetCheck,
} from './report.js';

const ACCEPTED = 'ensemble_events_accepted_total';
const LAG = 'ensemble_log_lag_events';
/** Informative targets (bench/README.md). */
const TARGET_SINGLE_RATIO = 0.6;
const TARGET_BATCH_EVENTS = 100_000;
const TARGET_SUSTAINED_P99_MS = 25;
/**
 * "Other" CPU (machine busy − server − generator) above which a run is flagged as disturbed.
 * On a quiet machine it stays under ~5 % even at full load; other tenants' work shows up here.
 */
const OTHER_CPU_WARN = 25;

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '..', '..', '..');

interface Server {
  role: Target;
  proc: ManagedProcess;
  origin: string;
  /** Admin token (the SUT), sent with metric reads. */
  token: string | null;
}

interface Context {
  opts: Options;
  baseline: Server;
  sut: Server;
  writeKey: string;
  loadScript: string;
}

// ---- setup ----------------------------------------------------------------------------------

async function adminPost(origin: string, token: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(origin + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`POST ${path}: expected a JSON object, got ${text.slice(0, 200)}`);
  return parsed as Record<string, unknown>;
}

async function provision(origin: string, token: string): Promise<string> {
  const ws = await adminPost(origin, token, '/api/workspaces', { name: 'bench' });
  const wsId = ws['id'];
  if (typeof wsId !== 'string') throw new Error(`POST /api/workspaces: no string "id" in ${JSON.stringify(ws)}`);
  const src = await adminPost(origin, token, `/api/workspaces/${encodeURIComponent(wsId)}/sources`, { name: 'bench', kind: 'server' });
  const writeKey = src['writeKey'];
  if (typeof writeKey !== 'string' || writeKey === '') throw new Error(`POST …/sources: no "writeKey" in ${JSON.stringify(src)}`);
  return writeKey;
}

/** One request per endpoint before any load, so a contract mismatch fails in a second, with the server's answer. */
async function preflight(server: Server, writeKey: string, batchSize: number): Promise<void> {
  const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  for (const [path, size] of [['/v1/track', 1], ['/v1/batch', batchSize]] as const) {
    const body = new PayloadFactory({ eventsPerRequest: size, seed: 99 }).next().toString('utf8');
    const res = await fetch(server.origin + path, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`preflight: ${server.role} answered ${res.status} to POST ${path}: ${text.slice(0, 400)}`);
    }
  }
}

// ---- one run --------------------------------------------------------------------------------

async function metric(server: Server, name: string): Promise<number | null> {
  if (server.proc.hasExited()) throw new Error(`${server.proc.name} exited (${String(await server.proc.exited)})`);
  return (await readMetrics(server.origin, server.token)).get(name) ?? null;
}

/** The accepted counter after a run: exact match right away, else wait until it stops moving. */
async function settledCounter(server: Server, before: number, expected: number): Promise<number | null> {
  let last = await metric(server, ACCEPTED);
  let stable = 0;
  const until = Date.now() + 10_000;
  while (last !== null && last - before !== expected && stable < 3 && Date.now() < until) {
    await sleep(200);
    const now = await metric(server, ACCEPTED);
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/** Waits for the processor to catch up; gives up at the timeout or after 15 s without progress. */
async function drainLag(server: Server, timeoutSec: number): Promise<RunRecord['lag']> {
  const afterRun = await metric(server, LAG);
  if (afterRun === null) return { afterRun: null, drainSec: null, drained: null };
  const started = performance.now();
  let lag = afterRun;
  let best = lag;
  let progressAt = started;
  let announced = false;
  while (lag > 0 && performance.now() - started < timeoutSec * 1000 && performance.now() - progressAt < 15_000) {
    if (!announced && performance.now() - started > 1000) {
      process.stdout.write(`    waiting for the processor to drain (${LAG} = ${fmt.int(lag)})…\n`);
      announced = true;
    }
    await sleep(250);
    lag = (await metric(server, LAG)) ?? 0;
    if (lag < best) {
      best = lag;
      progressAt = performance.now();
    }
  }
  return { afterRun, drainSec: Math.round((performance.now() - started) / 100) / 10, drained: lag <= 0 };
}

async function measure(
  ctx: Context, scenario: ScenarioName, server: Server, kind: RunRecord['kind'], rate: number | null, round: number | null,
): Promise<RunRecord> {
  const { opts } = ctx;
  const single = scenario === 'single';
  const eventsPerRequest = single ? 1 : opts.batchSize;
  const maxConnections = single ? opts.singleConnections : opts.batchConnections;
  const config: LoadConfig = {
    origin: server.origin,
    path: single ? '/v1/track' : '/v1/batch',
    eventsPerRequest,
    // Fixed-rate runs get spare connections: a connection waiting on a slow response cannot
    // send its next scheduled request, so without slack the generator would slow down with
    // the server (coordinated omission) instead of holding the rate.
    connections: kind === 'sustained' ? (opts.sustainedConnections ?? 2 * maxConnections) : maxConnections,
    durationSec: opts.durationSec,
    warmupSec: opts.warmupSec,
    rate,
    pacing: opts.pacing,
    writeKey: ctx.writeKey,
    timeoutSec: opts.timeoutSec,
    seed: opts.seed,
  };
  const label = server.role === 'baseline' ? 'baseline' : opts.sut === 'ensemble' ? 'ensemble' : 'fake-sut';
  process.stdout.write(
    `  ▶ ${scenario} · ${label} · ${rate === null ? `max${opts.rounds > 1 ? ` #${round ?? 0}` : ''}` : `${fmt.int(rate)} req/s (${opts.pacing})`} · ` +
      `${config.connections} conns · ${opts.warmupSec} s warm-up + ${opts.durationSec} s\n`,
  );

  const before = await metric(server, ACCEPTED);
  const cpu0 = cpuSeconds(server.proc.pid);
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  const phases = await runLoad(ctx.loadScript, config);
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuSeconds(server.proc.pid);
  const busy1 = machineBusySeconds();

  const measured = phases.find((p) => p.label === 'measured');
  if (measured === undefined) throw new Error('load generator returned no measured phase');
  const warmup = phases.find((p) => p.label === 'warmup') ?? null;
  const all: PhaseResult[] = warmup === null ? [measured] : [warmup, measured];
  const expected = all.reduce((n, p) => n + p.ok2xx, 0) * eventsPerRequest;
  const slack = all.reduce((n, p) => n + p.unanswered, 0) * eventsPerRequest;
  if (server.proc.hasExited()) throw new Error(`${server.proc.name} exited during the run (${String(await server.proc.exited)})`);
  const after = before === null ? null : await settledCounter(server, before, expected);
  const delta = before === null || after === null ? null : after - before;
  const durability: DurabilityCheck = {
    before, after, delta, expected, slack,
    ok: delta === null ? null : delta >= expected && delta <= expected + slack,
  };
  const m = measured;
  process.stdout.write(
    `    ${fmt.int(m.reqPerSec)} req/s · ${fmt.int(m.eventsPerSec)} events/s · p50 ${fmt.ms(m.latencyMs.p50)} ms · ` +
      `p99 ${fmt.ms(m.latencyMs.p99)} ms` +
      `${m.scheduledLatencyMs === null ? '' : ` (from schedule ${fmt.ms(m.scheduledLatencyMs.p99)} ms; generator loop delay p99 ${fmt.ms(m.loadgenLoopDelayMs.p99)} ms)`}` +
      ` · non-2xx ${fmt.int(m.non2xx)} · errors ${fmt.int(m.errors)} · durable ` +
      `${durability.ok === null ? 'n/a (no counter)' : durability.ok ? 'ok' : `MISMATCH (accepted +${fmt.int(delta ?? 0)}, 2xx × events = ${fmt.int(expected)}${slack > 0 ? `, unanswered × events = ${fmt.int(slack)}` : ''})`}\n`,
  );
  const lag = server.role === 'ensemble' ? await drainLag(server, opts.drainTimeoutSec) : { afterRun: await metric(server, LAG), drainSec: null, drained: null };
  if (lag.drainSec !== null && lag.drainSec > 0) {
    process.stdout.write(`    ${LAG} was ${fmt.int(lag.afterRun ?? 0)} after the run; ${lag.drained === true ? 'drained' : 'NOT drained'} after ${lag.drainSec} s\n`);
  }
  const { writeKey: _writeKey, origin: _origin, ...recorded } = config;
  const serverCpu = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
  return {
    scenario, target: server.role, kind, round,
    config: recorded,
    warmup,
    measured,
    serverCpuPercent: serverCpu === null ? null : Math.round((serverCpu / wall) * 1000) / 10,
    otherCpuPercent: serverCpu === null || busy0 === null || busy1 === null ? null
      : Math.max(0, Math.round(((busy1 - busy0 - serverCpu - all.reduce((n, p) => n + p.loadgenCpuSec, 0)) / wall) * 1000) / 10),
    durability,
    lag,
  };
}

async function scenario(ctx: Context, name: ScenarioName): Promise<ScenarioRecord> {
  const { opts } = ctx;
  process.stdout.write(`\n${name === 'single' ? 'Single events → POST /v1/track' : `Batches of ${opts.batchSize} → POST /v1/batch`}\n`);
  const runs: RunRecord[] = [];
  const ratios: number[] = [];
  const baseEvents: number[] = [];
  const sutEvents: number[] = [];
  const sutRequests: number[] = [];
  // Alternate baseline and Ensemble so slow drifts in machine speed hit both alike.
  for (let round = 1; round <= opts.rounds; round++) {
    const baseMax = await measure(ctx, name, ctx.baseline, 'max', null, round);
    const sutMax = await measure(ctx, name, ctx.sut, 'max', null, round);
    runs.push(baseMax, sutMax);
    baseEvents.push(baseMax.measured.eventsPerSec);
    sutEvents.push(sutMax.measured.eventsPerSec);
    sutRequests.push(sutMax.measured.reqPerSec);
    if (baseMax.measured.eventsPerSec > 0) ratios.push(sutMax.measured.eventsPerSec / baseMax.measured.eventsPerSec);
  }

  const rate = Math.floor((median(sutRequests) ?? 0) * opts.sustainedFraction);
  let sustainedNote: string | null = null;
  if (opts.sustainedFraction === 0) sustainedNote = 'skipped (--sustained 0)';
  else if (rate < 1) sustainedNote = 'skipped: Ensemble sustained no throughput at all';
  else {
    // The baseline at the same absolute rate is the noise floor for the latency figures.
    runs.push(await measure(ctx, name, ctx.baseline, 'sustained', rate, null));
    runs.push(await measure(ctx, name, ctx.sut, 'sustained', rate, null));
  }
  return {
    name,
    path: name === 'single' ? '/v1/track' : '/v1/batch',
    eventsPerRequest: name === 'single' ? 1 : opts.batchSize,
    connections: name === 'single' ? opts.singleConnections : opts.batchConnections,
    runs,
    ratios,
    ratio: median(ratios),
    medianEventsPerSec: { baseline: median(baseEvents) ?? 0, ensemble: median(sutEvents) ?? 0 },
    sustainedRate: sustainedNote === null ? rate : null,
    sustainedNote,
  };
}

// ---- report ---------------------------------------------------------------------------------

function find(s: ScenarioRecord | undefined, target: Target, kind: RunRecord['kind']): RunRecord | undefined {
  return s?.runs.find((r) => r.target === target && r.kind === kind);
}

function targets(scenarios: ScenarioRecord[], opts: Options): TargetCheck[] {
  const single = scenarios.find((s) => s.name === 'single');
  const batch = scenarios.find((s) => s.name === 'batch');
  const checks: TargetCheck[] = [];
  const perRound = (sc: ScenarioRecord): string => (sc.ratios.length > 1 ? ` (median of ${sc.ratios.map((r) => fmt.ratio(r)).join(', ')})` : '');
  checks.push({
    name: `single events ≥ ${TARGET_SINGLE_RATIO * 100} % of the baseline's rate`,
    value: single?.ratio == null ? 'not run'
      : `${fmt.int(single.medianEventsPerSec.ensemble)} vs ${fmt.int(single.medianEventsPerSec.baseline)} events/s: ${fmt.int(single.ratio * 100)} %${perRound(single)}`,
    pass: single?.ratio == null ? null : single.ratio >= TARGET_SINGLE_RATIO,
  });
  const batchMismatch = batch?.runs.some((r) => r.target === 'ensemble' && r.durability.ok === false) ?? false;
  checks.push({
    name: `batches ≥ ${fmt.int(TARGET_BATCH_EVENTS)} durable events/s`,
    value: batch === undefined ? 'not run'
      : `${fmt.int(batch.medianEventsPerSec.ensemble)} events/s${opts.rounds > 1 ? ' (median)' : ''}${batchMismatch ? ' (durable count MISMATCH)' : ''}`,
    pass: batch === undefined ? null : batch.medianEventsPerSec.ensemble >= TARGET_BATCH_EVENTS && !batchMismatch,
  });
  for (const s of scenarios) {
    const e = find(s, 'ensemble', 'sustained');
    const b = find(s, 'baseline', 'sustained');
    const achieved = e === undefined ? 0 : e.measured.reqPerSec / (e.measured.targetRate ?? 1);
    checks.push({
      name: `${s.name}: p99 ≤ ${TARGET_SUSTAINED_P99_MS} ms at ${fmt.int(opts.sustainedFraction * 100)} % of max`,
      value: e === undefined ? (s.sustainedNote ?? 'not run')
        : `p99 ${fmt.ms(e.measured.latencyMs.p99)} ms` +
          `${e.measured.scheduledLatencyMs === null ? '' : ` (${fmt.ms(e.measured.scheduledLatencyMs.p99)} from schedule)`}` +
          ` at ${fmt.int(e.measured.reqPerSec)} of ${fmt.int(e.measured.targetRate ?? 0)} req/s` +
          `${achieved < 0.95 ? ' (rate NOT reached)' : ''}` +
          `${b === undefined ? '' : `; baseline at the same rate: p99 ${fmt.ms(b.measured.latencyMs.p99)} ms`}`,
      pass: e === undefined ? null : e.measured.latencyMs.p99 <= TARGET_SUSTAINED_P99_MS && achieved >= 0.95,
    });
  }
  return checks;
}

function warnings(scenarios: ScenarioRecord[], dataFs: string | null, sutLabel: string, rounds: number): string[] {
  const out: string[] = [];
  for (const s of scenarios) {
    for (const r of s.runs) {
      const name = `${s.name} · ${r.target === 'baseline' ? 'baseline' : sutLabel} · ${r.kind}${r.round !== null && rounds > 1 ? ` #${r.round}` : ''}`;
      if (r.kind === 'max' && r.measured.loadgenCpuPercent >= 90) {
        out.push(`${name}: the load generator used ${fmt.int(r.measured.loadgenCpuPercent)} % of a core — this maximum may be the generator's, not the server's.`);
      }
      if (r.otherCpuPercent !== null && r.otherCpuPercent >= OTHER_CPU_WARN) {
        out.push(`${name}: the rest of the machine used ${fmt.int(r.otherCpuPercent)} % of a core meanwhile — a disturbed run; compare with another.`);
      }
      if (r.durability.ok === false) out.push(`${name}: accepted counter grew by ${fmt.int(r.durability.delta ?? 0)}, expected ${fmt.int(r.durability.expected)}${r.durability.slack > 0 ? ` (+ up to ${fmt.int(r.durability.slack)} unanswered)` : ''}.`);
      if (r.lag.drained === false) out.push(`${name}: ${LAG} did not reach 0 (drain timeout or no progress for 15 s); later runs shared the CPU with it.`);
    }
  }
  if (dataFs === 'tmpfs' || dataFs === 'ramfs') out.push(`the DuckDB file is on ${dataFs}: fsync is free there, so durable figures are optimistic (use --data-dir on a real disk).`);
  return out;
}

/** The filesystem type holding `dir`, from /proc/mounts (Linux); null elsewhere. */
function filesystemOf(dir: string): string | null {
  try {
    const real = realpathSync(dir);
    let best: { mount: string; type: string } | null = null;
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, rawMount, type] = line.split(' ');
      if (rawMount === undefined || type === undefined) continue;
      const mount = rawMount.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
      const inside = real === mount || real.startsWith(mount.endsWith(sep) ? mount : mount + sep);
      if (inside && (best === null || mount.length > best.mount.length)) best = { mount, type };
    }
    return best?.type ?? null;
  } catch {
    return null;
  }
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

function autocannonVersion(): string | null {
  try {
    const req = createRequire(import.meta.url);
    const pkg: unknown = JSON.parse(readFileSync(req.resolve('autocannon/package.json'), 'utf8'));
    return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : null;
  } catch {
    return null;
  }
}

// ---- main -----------------------------------------------------------------------------------

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const cliPath = join(root, 'dist', 'src', 'main', 'cli.js');
  const baselineScript = join(here, 'baseline-server.js');
  const loadScript = join(here, 'load.js');
  if (opts.sut === 'ensemble' && !existsSync(cliPath)) {
    throw new Error(`${cliPath} not found: build the server first (npx tsc -p tsconfig.json), or test the harness with --sut baseline`);
  }
  const outDir = opts.outDir ?? join(root, 'bench', 'results');
  const startedAt = new Date();
  const loadStart = loadavg();
  const tmp = await mkdtemp(join(opts.dataDir, 'ensemble-bench-'));
  const dataFs = filesystemOf(tmp);
  const token = randomBytes(24).toString('hex');
  const sutLabel = opts.sut === 'ensemble' ? 'ensemble' : 'fake-sut';

  // Ctrl-C / kill: the children are ours; end them by pid and remove the temp dir.
  const onSignal = (signal: NodeJS.Signals): void => {
    const pids = [...spawned].map((p) => p.pid);
    for (const p of spawned) killNow(p);
    rmSync(tmp, { recursive: true, force: true });
    process.stderr.write(`\ninterrupted (${signal}); killed child pids ${pids.join(', ') || '(none)'}\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const servers: Server[] = [];
  try {
    const cpuList = cpus();
    process.stdout.write(
      `Ensemble ingest benchmark — ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ` +
        `load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}\n`,
    );
    if (opts.sut === 'baseline') {
      process.stdout.write('HARNESS SELF-TEST (--sut baseline): the "Ensemble" side is a second copy of the baseline.\n');
    }

    const [basePort, sutPort] = [await freePort(), await freePort()];
    const baseline: Server = {
      role: 'baseline',
      origin: `http://127.0.0.1:${basePort}`,
      token: null,
      proc: startNode('baseline', [baselineScript, '--port', String(basePort), '--mode', 'bare'], { ...process.env }, join(tmp, 'baseline.log'), root),
    };
    servers.push(baseline);
    const sutArgs = opts.sut === 'ensemble'
      ? [cliPath, 'start', '--port', String(sutPort), '--data', join(tmp, 'bench.duckdb')]
      : [baselineScript, '--port', String(sutPort), '--mode', 'fake-sut'];
    const sut: Server = {
      role: 'ensemble',
      origin: `http://127.0.0.1:${sutPort}`,
      token,
      proc: startNode(sutLabel, sutArgs, { ...process.env, ENSEMBLE_ADMIN_TOKEN: token }, join(tmp, `${sutLabel}.log`), root),
    };
    servers.push(sut);
    const [baseReadyMs, sutReadyMs] = await Promise.all([
      waitHealthy(baseline.proc, baseline.origin, opts.startTimeoutSec * 1000),
      waitHealthy(sut.proc, sut.origin, opts.startTimeoutSec * 1000),
    ]);
    process.stdout.write(`baseline pid ${baseline.proc.pid} ready in ${baseReadyMs} ms; ${sutLabel} pid ${sut.proc.pid} ready in ${sutReadyMs} ms (data in ${tmp}, ${dataFs ?? 'unknown fs'})\n`);

    const writeKey = await provision(sut.origin, token);
    await preflight(baseline, writeKey, opts.batchSize);
    await preflight(sut, writeKey, opts.batchSize);
    await drainLag(sut, opts.drainTimeoutSec);

    const ctx: Context = { opts, baseline, sut, writeKey, loadScript };
    const scenarios: ScenarioRecord[] = [];
    for (const name of opts.scenarios) scenarios.push(await scenario(ctx, name));

    const stops: Record<string, { exit: number | string; graceful: boolean }> = {};
    for (const s of [sut, baseline]) stops[s.role] = await stopProcess(s.proc, s.role === 'ensemble' ? 30_000 : 5_000);

    const checks = targets(scenarios, opts);
    const notes = warnings(scenarios, dataFs, sutLabel, opts.rounds);
    const sutStop = stops['ensemble'];
    if (sutStop !== undefined && (sutStop.exit !== 0 || !sutStop.graceful)) {
      notes.push(`${sutLabel} did not stop cleanly on SIGTERM (exit ${String(sutStop.exit)}${sutStop.graceful ? '' : ', killed after 30 s'}).`);
    }

    process.stdout.write(
      `\nResults (${opts.durationSec} s per run after ${opts.warmupSec} s warm-up; latency of 2xx responses from the write,\n` +
        `"p99 sched" from the scheduled send time in fixed-rate runs; CPU = % of one core: server, load generator,\n` +
        `and everything else on the machine meanwhile — high "other" means a disturbed run)\n\n`,
    );
    process.stdout.write(`${renderTable(scenarios, sutLabel, opts.rounds)}\n\n`);
    for (const s of scenarios) {
      process.stdout.write(`${s.name}: ${sutLabel}/baseline events/s = ${fmt.ratio(s.ratio)}${s.ratios.length > 1 ? ` (median of ${s.ratios.map((r) => fmt.ratio(r)).join(', ')})` : ''}` +
        `${s.sustainedRate === null ? `; sustained: ${s.sustainedNote ?? 'skipped'}` : `; sustained rate = ${fmt.int(opts.sustainedFraction * 100)} % of ${sutLabel} max = ${fmt.int(s.sustainedRate)} req/s (${opts.pacing} pacing)`}\n`);
    }
    process.stdout.write(`\nTargets (informative; the bench never fails on them)\n${renderTargets(checks)}\n`);
    if (notes.length > 0) process.stdout.write(`\nNotes\n${notes.map((n) => `  ! ${n}`).join('\n')}\n`);

    const finishedAt = new Date();
    const record = {
      bench: 'ingest',
      schemaVersion: 1,
      selfTest: opts.sut === 'baseline',
      sut: opts.sut,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      options: { ...opts, help: undefined },
      machine: {
        cpus: cpuList.length,
        cpuModel: cpuList[0]?.model.trim() ?? null,
        availableParallelism: availableParallelism(),
        totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        platform: platform(), release: release(), arch: arch(),
        node: process.version,
        autocannon: autocannonVersion(),
        loadavgStart: loadStart,
        loadavgEnd: loadavg(),
        dataFilesystem: dataFs,
      },
      gitCommit: gitCommit(),
      servers: { baseline: { readyMs: baseReadyMs, stop: stops['baseline'] ?? null }, ensemble: { readyMs: sutReadyMs, stop: sutStop ?? null } },
      scenarios,
      targets: checks,
      notes,
    };
    mkdirSync(outDir, { recursive: true });
    const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
    // A self-test must never pass for the real thing: own file name, and ingest-latest.json untouched.
    const file = join(outDir, opts.sut === 'baseline' ? `ingest-selftest-${stamp}.json` : `ingest-${stamp}.json`);
    const json = `${JSON.stringify(record, null, 2)}\n`;
    writeFileSync(file, json);
    if (opts.sut === 'ensemble') writeFileSync(join(outDir, 'ingest-latest.json'), json);
    process.stdout.write(`\nWrote ${file}${opts.sut === 'ensemble' ? ` and ${join(outDir, 'ingest-latest.json')}` : ''}\n`);
    // Targets never fail the bench; a durable-count mismatch (events lost or double-counted) does.
    return scenarios.some((s) => s.runs.some((r) => r.durability.ok === false)) ? 2 : 0;
  } catch (err) {
    for (const s of servers) {
      const tail = logTail(s.proc, 40);
      if (tail.trim() !== '') process.stderr.write(`\n--- last lines of the ${s.proc.name} log ---\n${tail}\n`);
    }
    throw err;
  } finally {
    for (const s of servers) if (!s.proc.hasExited()) await stopProcess(s.proc, 5_000);
    for (const p of spawned) killNow(p);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`\nbench:ingest failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
