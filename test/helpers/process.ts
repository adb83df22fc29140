/** Runs the real `ensemble` CLI in a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN } from './server.js';

export const CLI = fileURLToPath(new URL('../../src/main/cli.js', import.meta.url));

const started = new Set<ChildProcess>();

/** Kills every server this test file started and is still running (for `after` hooks: a failed or timed-out test must not leave one behind). */
export function killStarted(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `ensemble start` and resolves once it prints its address (and, with `waitFor`, that text too). */
export async function startProcess(args: string[], env: Record<string, string> = {}, waitFor?: RegExp): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', ...args], {
    env: { ...process.env, ENSEMBLE_ADMIN_TOKEN: ADMIN_TOKEN, ENSEMBLE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let err = '';
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(err);
      if (m && (!waitFor || waitFor.test(err))) resolve(m[1] as string);
    };
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); check(); });
    void exited.then(({ code }) => reject(new Error(`ensemble exited (${code}) before it was ready:\n${err}`)));
  });
  return { child, url, stderr: () => err, stdout: () => out, exited };
}

/** Polls /healthz until the processor has consumed everything in the log. */
export async function waitProcessed(url: string): Promise<void> {
  for (;;) {
    const h = (await (await fetch(`${url}/healthz`)).json()) as { logLag: number };
    if (h.logLag === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
