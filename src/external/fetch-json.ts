/**
 * One GET of a JSON document from an external source, defensively: a timeout over the whole
 * exchange (headers and body), a body size limit enforced while reading (a `Content-Length` over
 * it is refused before reading), and redirects followed only within the configured origin, so a
 * source can never be made to fetch another host. Statuses map to outcomes the one way
 * (activate/http-outcome.ts): 408/429/5xx and network errors are worth retrying, other 4xx not.
 *
 * @example
 *   const r = await fetchJson('https://api.example/w?q=paris', { headers: {}, timeoutMs: 10_000, maxBytes: 5 << 20 });
 *   if (r.kind === 'ok') console.log(r.body);
 */
import { outcomeOfStatus } from '../activate/http-outcome.js';

export type FetchResult =
  | { kind: 'ok'; body: unknown }
  | { kind: 'retry'; reason: string; afterMs?: number }
  | { kind: 'fail'; reason: string };

export interface FetchOptions {
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  maxBytes: number;
  /** Aborts at shutdown. */
  signal?: AbortSignal;
  now?: () => number;
  fetch?: typeof fetch;
}

const MAX_REDIRECTS = 3;

export async function fetchJson(url: string, opts: FetchOptions): Promise<FetchResult> {
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]) : AbortSignal.timeout(opts.timeoutMs);
  const origin = new URL(url).origin;
  let target = url;
  try {
    for (let hop = 0; ; hop++) {
      const res = await doFetch(target, { method: 'GET', headers: { accept: 'application/json', ...opts.headers }, redirect: 'manual', signal });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        const location = res.headers.get('location');
        if (location === null) return { kind: 'fail', reason: `http_${res.status} without a Location` };
        const next = new URL(location, target);
        if (next.origin !== origin) return { kind: 'fail', reason: `redirect to another host refused (${next.origin})` };
        if (hop >= MAX_REDIRECTS) return { kind: 'fail', reason: 'too many redirects' };
        target = next.href;
        continue;
      }
      const outcome = outcomeOfStatus(res.status, res.headers.get('retry-after'), now());
      if (outcome.kind !== 'ok') {
        await res.body?.cancel().catch(() => undefined);
        if (outcome.kind === 'retry') return { kind: 'retry', reason: outcome.reason, ...(outcome.afterMs === undefined ? {} : { afterMs: outcome.afterMs }) };
        return { kind: 'fail', reason: outcome.kind === 'drop' ? outcome.reason : `http_${res.status}` };
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (declared > opts.maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        return { kind: 'fail', reason: `body larger than ${opts.maxBytes} bytes` };
      }
      const text = await readLimited(res, opts.maxBytes);
      if (text === null) return { kind: 'fail', reason: `body larger than ${opts.maxBytes} bytes` };
      try {
        return { kind: 'ok', body: JSON.parse(text) as unknown };
      } catch {
        return { kind: 'fail', reason: 'body is not JSON' };
      }
    }
  } catch (err) {
    if (opts.signal?.aborted) return { kind: 'fail', reason: 'stopped' };
    const name = err instanceof Error ? err.name : '';
    // The reason names the kind of failure, never the URL (its query may carry an API key).
    return { kind: 'retry', reason: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network' };
  }
}

/** The body as text, or null as soon as it passes `maxBytes` (the rest is not read). */
async function readLimited(res: Response, maxBytes: number): Promise<string | null> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A URL fit for a log line: the query (which may carry an API key) replaced by `?…`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '[invalid url]';
  }
}
