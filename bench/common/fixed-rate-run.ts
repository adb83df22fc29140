/**
 * The orchestrator's side of a fixed-rate bench (lookup, personalize): admin-API calls to set a
 * workspace up, forking the load generator (a script built on `fixed-rate-load.ts`) for one run,
 * and measuring a run — the generator's phases plus the server's, the idle server's and the
 * machine's CPU over the measured phase only (the generator marks its start and end).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { cpuSeconds, machineBusySeconds, sleep, type ManagedProcess } from '../ingest/processes.js';
import { fmt } from '../profiles/output.js';
import type { FixedRateLoadConfig, FixedRatePhase, FixedRateReply } from './fixed-rate-protocol.js';

export async function request(origin: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(origin + path, {
    method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, text: await res.text() };
}

/** An admin-API call that must succeed (2xx); returns the parsed answer. */
export async function adminCall<T = Record<string, unknown>>(origin: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(origin, method, path, { authorization: `Bearer ${token}` }, body);
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${res.text.slice(0, 400)}`);
  return (res.text === '' ? {} : JSON.parse(res.text)) as T;
}

/** A workspace and a `server` source through the admin API. */
export async function provision(origin: string, token: string): Promise<{ workspaceId: string; writeKey: string }> {
  const auth = { authorization: `Bearer ${token}` };
  const ws = await request(origin, 'POST', '/api/workspaces', auth, { name: 'bench' });
  if (ws.status >= 300) throw new Error(`POST /api/workspaces answered ${ws.status}: ${ws.text.slice(0, 300)}`);
  const workspaceId = (JSON.parse(ws.text) as { id?: unknown }).id;
  if (typeof workspaceId !== 'string') throw new Error(`POST /api/workspaces: no id in ${ws.text.slice(0, 200)}`);
  const src = await request(origin, 'POST', `/api/workspaces/${encodeURIComponent(workspaceId)}/sources`, auth, { name: 'bench', kind: 'server' });
  if (src.status >= 300) throw new Error(`POST …/sources answered ${src.status}: ${src.text.slice(0, 300)}`);
  const writeKey = (JSON.parse(src.text) as { writeKey?: unknown }).writeKey;
  if (typeof writeKey !== 'string') throw new Error(`POST …/sources: no writeKey in ${src.text.slice(0, 200)}`);
  return { workspaceId, writeKey };
}

/** POSTs a `/v1/batch`, trying again while the collector pushes back (429/503). */
export async function postBatch(origin: string, writeKey: string, batch: unknown[]): Promise<void> {
  const auth = { authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` };
  for (let attempt = 0; ; attempt++) {
    const res = await request(origin, 'POST', '/v1/batch', auth, { batch });
    if (res.status === 200) return;
    // 429/503: the collector pushes back while the processor catches up; try again shortly.
    if ((res.status !== 429 && res.status !== 503) || attempt > 100) throw new Error(`POST /v1/batch answered ${res.status}: ${res.text.slice(0, 300)}`);
    await sleep(200);
  }
}

/** Waits until `GET /healthz` reports `logLag` 0 (everything acknowledged is processed). */
export async function waitProcessed(origin: string): Promise<void> {
  for (;;) {
    const h = await request(origin, 'GET', '/healthz', {});
    if ((JSON.parse(h.text) as { logLag: number }).logLag === 0) return;
    await sleep(250);
  }
}

export interface RunRecord<P extends FixedRatePhase = FixedRatePhase> {
  server: 'baseline' | 'ensemble';
  round: number;
  warmup: P | null;
  measured: P;
  serverCpuPercent: number | null;
  /** The other server (idle meanwhile), % of one core. */
  idleServerCpuPercent: number | null;
  otherCpuPercent: number | null;
}

export function runLoad(script: string, config: FixedRateLoadConfig, onMark: (edge: 'start' | 'end') => void): Promise<FixedRatePhase[]> {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const limitMs = (config.warmupSec + config.durationSec + 2 * config.timeoutSec + 60) * 1000;
  return new Promise<FixedRatePhase[]>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`load generator gave no result within ${limitMs} ms`)); }, limitMs);
    child.on('message', (m: FixedRateReply) => {
      if (m.kind === 'mark') return onMark(m.edge);
      clearTimeout(timer);
      if (m.kind === 'error') reject(new Error(`load generator failed: ${m.message}`));
      else resolve(m.phases);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`load generator exited (${String(code)}) without a result`));
    });
    child.send({ kind: 'run', config });
  }).finally(() => {
    if (child.exitCode === null && child.signalCode === null) setTimeout(() => { if (child.exitCode === null) child.kill('SIGKILL'); }, 2000).unref();
  });
}

export type Server = { role: 'baseline' | 'ensemble'; proc: ManagedProcess; origin: string };

/**
 * One run of the load generator `script` against `server` (the other server, `idle`, waits
 * meanwhile); `unit` names what a request is in the progress line ("lookups/s").
 */
export async function measure<C extends FixedRateLoadConfig>(server: Server, idle: Server, round: number, base: Omit<C, 'origin'>, script: string, say: (s: string) => void, unit: string): Promise<RunRecord> {
  say(`  ▶ ${server.role} · ${fmt.int(base.rate)} ${unit} · ${base.connections} conns · ${base.warmupSec} s warm-up + ${base.durationSec} s\n`);
  // Server and machine CPU over the measured phase only (the generator marks its start and end).
  let cpu0: number | null = null;
  let cpu1: number | null = null;
  let idle0: number | null = null;
  let idle1: number | null = null;
  let busy0: number | null = null;
  let busy1: number | null = null;
  let t0 = 0;
  let t1 = 0;
  const phases = await runLoad(script, { ...base, origin: server.origin } as C, (edge) => {
    if (edge === 'start') [cpu0, idle0, busy0, t0] = [cpuSeconds(server.proc.pid), cpuSeconds(idle.proc.pid), machineBusySeconds(), performance.now()];
    else [cpu1, idle1, busy1, t1] = [cpuSeconds(server.proc.pid), cpuSeconds(idle.proc.pid), machineBusySeconds(), performance.now()];
  });
  const wall = Math.max(1e-3, (t1 - t0) / 1000);
  if (server.proc.hasExited()) throw new Error(`${server.proc.name} exited during the run`);
  const measured = phases.find((p) => p.label === 'measured');
  if (!measured) throw new Error('the load generator returned no measured phase');
  const warmup = phases.find((p) => p.label === 'warmup') ?? null;
  const serverCpu = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
  const genCpu = measured.loadgenCpuSec;
  const m = measured;
  say(`    ${fmt.int(m.reqPerSec)} req/s · p50 ${fmt.ms(m.latencyMs.p50)} · p99 ${fmt.ms(m.latencyMs.p99)} · max ${fmt.ms(m.latencyMs.max)} ms` +
    ` (from schedule p99 ${fmt.ms(m.scheduledLatencyMs.p99)} ms) · non-2xx ${fmt.int(m.responses - m.ok2xx)} · errors ${fmt.int(m.errors)}\n`);
  return {
    server: server.role, round, warmup, measured,
    serverCpuPercent: serverCpu === null ? null : Math.round((serverCpu / wall) * 1000) / 10,
    idleServerCpuPercent: idle0 === null || idle1 === null ? null : Math.round(((idle1 - idle0) / wall) * 1000) / 10,
    otherCpuPercent: serverCpu === null || busy0 === null || busy1 === null ? null
      : Math.max(0, Math.round(((busy1 - busy0 - serverCpu - genCpu - (idle0 === null || idle1 === null ? 0 : idle1 - idle0)) / wall) * 1000) / 10),
  };
}

/** The usual table of a fixed-rate bench's runs (one row per run). */
export function runRows(runs: readonly RunRecord[], rounds: number): string[][] {
  return runs.map((r) => {
    const m = r.measured;
    return [
      r.server + (rounds > 1 ? ` #${r.round}` : ''), fmt.int(m.targetRate), fmt.int(m.reqPerSec), fmt.ms(m.latencyMs.p50), fmt.ms(m.latencyMs.p90),
      fmt.ms(m.latencyMs.p99), fmt.ms(m.latencyMs.p999), fmt.ms(m.latencyMs.max), fmt.ms(m.scheduledLatencyMs.p99), fmt.int(m.responses - m.ok2xx + m.errors),
      r.serverCpuPercent === null ? '–' : `${fmt.int(r.serverCpuPercent)} %`, `${fmt.int(m.loadgenCpuPercent)} %`,
      r.idleServerCpuPercent === null ? '–' : `${fmt.int(r.idleServerCpuPercent)} %`, r.otherCpuPercent === null ? '–' : `${fmt.int(r.otherCpuPercent)} %`,
    ];
  });
}

export const RUN_HEADER = ['server', 'rate', 'req/s', 'p50', 'p90', 'p99', 'p99.9', 'max', 'p99 sched', 'non-2xx/err', 'srv CPU', 'gen CPU', 'idle srv CPU', 'other CPU'];
export const RUN_RIGHT = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);

/** Resident memory of a process (MiB), from /proc (Linux); null elsewhere. */
export function rssMiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}
