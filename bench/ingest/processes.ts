/**
 * Process plumbing for the ingest bench: start a server and wait until it is healthy, stop it
 * gracefully (SIGTERM, then SIGKILL by pid if it hangs), fork the load generator, read
 * Prometheus metrics and a process's CPU time.
 *
 * Every child is registered in `spawned` so the orchestrator can kill exactly the processes it
 * started — by pid, never by name — whatever goes wrong.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { LoadConfig, LoadReply, PhaseResult } from './protocol.js';

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  logPath: string | null;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  hasExited: () => boolean;
}

/** Every process this bench started and has not yet seen exit. */
export const spawned = new Set<ManagedProcess>();

function manage(name: string, child: ChildProcess, logPath: string | null): ManagedProcess {
  if (child.pid === undefined) throw new Error(`${name}: failed to start`);
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      spawned.delete(managed);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', () => {
      done = true;
      spawned.delete(managed);
      resolve('spawn-error');
    });
  });
  const managed: ManagedProcess = { name, child, pid: child.pid, logPath, exited, hasExited: () => done };
  spawned.add(managed);
  return managed;
}

/** A port that was free a moment ago (the OS picks it; small race, fine for a bench). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * Starts `node <args>` with stdout/stderr going to `logPath` (a file, not a pipe: a chatty
 * server must never block on a pipe nobody reads, and the log is shown if it fails).
 */
export function startNode(name: string, args: string[], env: NodeJS.ProcessEnv, logPath: string, cwd: string): ManagedProcess {
  const fd = openSync(logPath, 'a');
  try {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', fd, fd] });
    return manage(name, child, logPath);
  } finally {
    closeSync(fd);
  }
}

export async function waitHealthy(p: ManagedProcess, origin: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (p.hasExited()) throw new Error(`${p.name} exited before it was healthy (exit ${String(await p.exited)})`);
    try {
      const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${p.name} not healthy at ${origin}/healthz after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL — both to this pid only. */
export async function stopProcess(p: ManagedProcess, graceMs: number): Promise<{ exit: number | string; graceful: boolean }> {
  if (p.hasExited()) return { exit: await p.exited, graceful: true };
  process.kill(p.pid, 'SIGTERM');
  const timer = sleep(graceMs).then(() => 'timeout' as const);
  const outcome = await Promise.race([p.exited, timer]);
  if (outcome !== 'timeout') return { exit: outcome, graceful: true };
  killNow(p);
  return { exit: await p.exited, graceful: false };
}

export function killNow(p: ManagedProcess): void {
  if (p.hasExited()) return;
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function logTail(p: ManagedProcess, lines: number): string {
  if (p.logPath === null) return '';
  try {
    return readFileSync(p.logPath, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Forks the load generator, hands it one config, and returns its phases. */
export async function runLoad(script: string, config: LoadConfig): Promise<PhaseResult[]> {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const p = manage('load generator', child, null);
  const limitMs = (config.warmupSec + config.durationSec + 2 * config.timeoutSec + 30) * 1000;
  try {
    const reply = await new Promise<LoadReply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load generator gave no result within ${limitMs} ms`)), limitMs);
      child.once('message', (m: LoadReply) => {
        clearTimeout(timer);
        resolve(m);
      });
      void p.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`load generator exited (${String(code)}) without a result`));
      });
      child.send({ kind: 'run', config });
    });
    if (reply.kind === 'error') throw new Error(`load generator failed: ${reply.message}`);
    return reply.phases;
  } finally {
    // It exits by itself once the reply is sent; give it a moment, then make sure.
    await Promise.race([p.exited, sleep(2000)]);
    killNow(p);
  }
}

/** Samples of a Prometheus text exposition, by metric name (unlabelled series only). */
export async function readMetrics(origin: string, bearer: string | null): Promise<Map<string, number>> {
  // The admin token is sent in case the server guards /metrics; an open endpoint ignores it.
  const headers: Record<string, string> = bearer === null ? {} : { authorization: `Bearer ${bearer}` };
  const res = await fetch(`${origin}/metrics`, { headers, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${origin}/metrics answered ${res.status}: ${text.slice(0, 200)}`);
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{\})?\s+(\S+)/.exec(line);
    if (m?.[1] !== undefined && m[3] !== undefined) out.set(m[1], Number(m[3]));
  }
  return out;
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux; USER_HZ is 100 on
 * every Linux architecture we run on). null elsewhere.
 */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it are space-separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / 100 : null;
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine, all cores, from /proc/stat (Linux); null elsewhere. */
export function machineBusySeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal …: busy = all but idle and iowait.
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    if (v.length < 8 || v.some((x) => !Number.isFinite(x))) return null;
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - (v[3] ?? 0) - (v[4] ?? 0)) / 100;
  } catch {
    return null;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
