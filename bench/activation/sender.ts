/**
 * An open-loop client for the activation bench: POSTs pre-built bodies at a fixed rate, request
 * `k` scheduled at `start + k / rate`, over keep-alive `node:http` connections, whatever the
 * answers do (a slow server gets more requests in flight, up to `maxSockets`, then they queue in
 * the agent and the delay shows in "from schedule"). Records, per request, when it was scheduled,
 * written and acknowledged (the response complete), and its status.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface PacedSend {
  origin: string;
  path: string;
  headers: Record<string, string>;
  bodies: readonly Buffer[];
  rate: number;
  maxSockets: number;
  timeoutMs: number;
}

export interface PacedResult {
  /** performance.now() ms of the phase's start; request k is scheduled at start + k * 1000 / rate. */
  start: number;
  scheduledAt: Float64Array;
  sentAt: Float64Array;
  /** NaN when there was no 2xx answer. */
  ackAt: Float64Array;
  status: Int16Array;
  errors: number;
  /** The bench process's CPU over the phase, % of one core. */
  cpuPercent: number;
}

export function sendPaced(o: PacedSend): Promise<PacedResult> {
  const n = o.bodies.length;
  const url = new URL(o.origin);
  const agent = new Agent({ keepAlive: true, maxSockets: o.maxSockets });
  const scheduledAt = new Float64Array(n);
  const sentAt = new Float64Array(n);
  const ackAt = new Float64Array(n).fill(Number.NaN);
  const status = new Int16Array(n);
  const interval = 1000 / o.rate;
  const cpu0 = process.cpuUsage();
  let errors = 0;
  let done = 0;
  let next = 0;
  const start = performance.now() + 20;

  return new Promise((resolve) => {
    const finish = (): void => {
      if (++done < n) return;
      agent.destroy();
      const cpu = process.cpuUsage(cpu0);
      const wall = Math.max(1e-3, performance.now() - start) / 1000;
      resolve({ start, scheduledAt, sentAt, ackAt, status, errors, cpuPercent: Math.round(((cpu.user + cpu.system) / 1e6 / wall) * 1000) / 10 });
    };
    const send = (k: number): void => {
      const body = o.bodies[k] as Buffer;
      let settled = false;
      const settle = (failed: boolean): void => {
        if (settled) return;
        settled = true;
        if (failed) errors++;
        finish();
      };
      scheduledAt[k] = start + k * interval;
      sentAt[k] = performance.now();
      const req = request({
        host: url.hostname, port: url.port, path: o.path, method: 'POST', agent,
        headers: { ...o.headers, 'content-type': 'application/json', 'content-length': String(body.length) },
      }, (res) => {
        res.on('data', () => undefined);
        res.on('error', () => settle(true));
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          status[k] = code;
          if (code >= 200 && code < 300) ackAt[k] = performance.now();
          settle(false);
        });
      });
      req.setTimeout(o.timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', () => settle(true));
      req.end(body);
    };
    const tick = (): void => {
      const now = performance.now();
      while (next < n && start + next * interval <= now) send(next++);
      if (next < n) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    if (n === 0) {
      resolve({ start, scheduledAt, sentAt, ackAt, status, errors, cpuPercent: 0 });
      return;
    }
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
}
