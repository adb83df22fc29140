/**
 * One pull of one external source: every URL it needs (one per key when the URL holds `{key}`),
 * each fetched with retries — exponential backoff with jitter on network errors, timeouts, 408,
 * 429 and 5xx, at least as long as the server's Retry-After — then mapped. What comes back is
 * the whole set the source should hold afterwards: fresh values where a fetch succeeded, the
 * previous values everywhere else. A failed pull never wipes what was held.
 *
 * @example
 *   const r = await pullSource(def, previous, { fetchOne: (url) => fetchJson(url, {...}), retries: 3, ... });
 *   r.outcome   // 'ok' | 'partial' | 'failed'
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { retryDelay } from '../activate/backoff.js';
import type { ExternalMappingT, PullOutcome } from '../protocol/external.js';
import type { FetchResult } from './fetch-json.js';
import { applyMapping } from './mapping.js';
import { KEY_PLACEHOLDER } from './validate.js';

export interface HeldValue {
  fields: ReadonlyMap<string, unknown>;
  fetchedAt: number;
}

export interface PullDefinition {
  url: string;
  keys?: readonly string[] | undefined;
  mapping: ExternalMappingT;
}

export interface PullOptions {
  fetchOne(url: string): Promise<FetchResult>;
  retries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Keys fetched at the same time (per-key URLs). */
  concurrency: number;
  now(): number;
  random(): number;
  signal: AbortSignal;
}

export interface PullReport {
  outcome: PullOutcome;
  /** What the source holds after this pull (normalised keys). */
  values: Map<string, HeldValue>;
  skipped: number;
  errors: { key?: string; error: string }[];
  /** The longest Retry-After a server asked for beyond what a pull waits: the next pull comes no sooner. */
  notBefore: number | null;
}

interface Target {
  url: string;
  key?: string;
}

export function targetsOf(def: PullDefinition): Target[] {
  if (!def.url.includes(KEY_PLACEHOLDER)) return [{ url: def.url }];
  return (def.keys ?? []).map((key) => ({ key, url: def.url.split(KEY_PLACEHOLDER).join(encodeURIComponent(key.trim())) }));
}

export async function pullSource(def: PullDefinition, previous: ReadonlyMap<string, HeldValue>, opts: PullOptions): Promise<PullReport> {
  const targets = targetsOf(def);
  const perKey = def.url.includes(KEY_PLACEHOLDER);
  const fresh = new Map<string, HeldValue>();
  const errors: PullReport['errors'] = [];
  let skipped = 0;
  let succeeded = 0;
  let notBefore: number | null = null;

  const one = async (t: Target): Promise<void> => {
    const r = await fetchWithRetries(t.url, opts);
    if (opts.signal.aborted) return;
    if (r.kind !== 'ok') {
      errors.push({ ...(t.key === undefined ? {} : { key: t.key }), error: r.reason });
      if (r.kind === 'fail' && r.notBefore !== undefined) notBefore = Math.max(notBefore ?? 0, r.notBefore);
      return;
    }
    const mapped = applyMapping(r.body, def.mapping, t.key);
    skipped += mapped.skipped;
    const error = mapped.error ?? (mapped.values.size === 0 && (perKey || mapped.items > 0) ? 'no item holds a key and a mapped field' : null);
    if (error !== null) {
      errors.push({ ...(t.key === undefined ? {} : { key: t.key }), error: `mapping: ${error}` });
      return;
    }
    succeeded++;
    const at = opts.now();
    for (const [key, fields] of mapped.values) {
      if (fresh.has(key)) { skipped++; continue; }
      fresh.set(key, { fields, fetchedAt: at });
    }
  };

  // A small pool: per-key URLs are fetched `concurrency` at a time, in order.
  let next = 0;
  const worker = async () => {
    while (next < targets.length && !opts.signal.aborted) await one(targets[next++] as Target);
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, targets.length) }, worker));

  const outcome: PullOutcome = succeeded === targets.length && errors.length === 0 ? 'ok' : succeeded > 0 ? 'partial' : 'failed';
  if (outcome === 'failed') return { outcome, values: new Map(previous), skipped, errors, notBefore };
  if (outcome === 'partial') {
    // What a failed fetch would have refreshed keeps its previous values.
    for (const [key, held] of previous) if (!fresh.has(key)) fresh.set(key, held);
  }
  return { outcome, values: fresh, skipped, errors, notBefore };
}

type FinalResult = { kind: 'ok'; body: unknown } | { kind: 'fail'; reason: string; notBefore?: number };

/** Fetches until an answer that is not worth retrying, or the attempts are spent. */
async function fetchWithRetries(url: string, opts: PullOptions): Promise<FinalResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await opts.fetchOne(url);
    if (r.kind !== 'retry') return r;
    if (r.afterMs !== undefined && r.afterMs > opts.retryMaxMs) {
      // The server asks for more patience than a pull has: give up now, and come back when it said.
      return { kind: 'fail', reason: `${r.reason}: asked to retry after ${Math.ceil(r.afterMs / 1000)} s`, notBefore: opts.now() + r.afterMs };
    }
    if (attempt > opts.retries) return { kind: 'fail', reason: `${r.reason} (${attempt} attempts)` };
    const delay = retryDelay(attempt, { baseMs: opts.retryBaseMs, maxMs: opts.retryMaxMs }, opts.random, r.afterMs);
    try {
      await sleep(delay, undefined, { signal: opts.signal });
    } catch {
      return { kind: 'fail', reason: 'stopped' };
    }
  }
}

