/**
 * Pulls every enabled external source every `everySeconds`: first at creation, and at start-up
 * when what is held is older than the period. A timer checks every `tickMs` which sources are
 * due by the injected clock (so tests move the clock rather than wait). One pull per source at a
 * time (a "pull now" during a scheduled pull gets that pull's result), at most `concurrency`
 * sources at once. A successful pull is stored (values and status in one transaction) before
 * memory changes and listeners hear which keys changed; a failed one keeps the previous values
 * and records its error. Stopping aborts the fetches in flight and waits for their pulls, which
 * then write nothing: no store query starts once `stop()` was called.
 *
 * @example
 *   const scheduler = new PullScheduler({ definitions, values, store, settings, clock, logger });
 *   await scheduler.load();
 *   scheduler.start();
 *   await scheduler.pull('ws_1', 'weather');   // { outcome: 'ok', itemCount: 2, ... }
 *   await scheduler.stop();
 */
import type { Logger } from '../platform/logger.js';
import type { Clock } from '../platform/clock.js';
import type { ExternalConfig } from '../platform/config.js';
import type { PullOutcome } from '../protocol/external.js';
import type { DuckDbExternalStore, ExternalStatus, ExternalValueRow } from '../storage/duckdb/external-store.js';
import { EMPTY_STATUS, type ExternalDefinitions, type ExternalSource } from './external-sources.js';
import type { ExternalValues } from './external-values.js';
import { fetchJson, redactUrl } from './fetch-json.js';
import { pullSource, type HeldValue } from './pull.js';

export interface PullResult {
  outcome: PullOutcome;
  itemCount: number;
  changed: number;
  skipped: number;
  errors: { key?: string; error: string }[];
  durationMs: number;
}

export interface SchedulerDeps {
  definitions: ExternalDefinitions;
  values: ExternalValues;
  store: DuckDbExternalStore;
  settings: ExternalConfig;
  clock: Clock;
  logger: Logger;
  random?: () => number;
  fetch?: typeof fetch;
}

interface SourceState {
  status: ExternalStatus;
  held: Map<string, HeldValue>;
  nextPullAt: number;
  running: Promise<PullResult> | null;
  abort: AbortController | null;
}

const slot = (workspaceId: string, id: string) => `${workspaceId}\u0000${id}`;
const MAX_ERROR_TEXT = 1000;

export class PullScheduler {
  private readonly states = new Map<string, SourceState>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly deps: SchedulerDeps) {}

  /** Definitions and held values from the store; due times from the stored status. */
  async load(): Promise<void> {
    const { definitions, values, store, clock } = this.deps;
    const loaded = await definitions.load();
    const rows = await store.values();
    const held = new Map<string, Map<string, HeldValue>>();
    for (const r of rows) {
      const id = slot(r.workspaceId, r.sourceId);
      const source = held.get(id) ?? new Map<string, HeldValue>();
      held.set(id, source);
      const v = source.get(r.key) ?? { fields: new Map<string, unknown>(), fetchedAt: r.fetchedAt };
      (v.fields as Map<string, unknown>).set(r.field, r.value);
      source.set(r.key, v);
    }
    const now = clock.now();
    for (const { source, status } of loaded) {
      const h = held.get(slot(source.workspaceId, source.id)) ?? new Map<string, HeldValue>();
      values.defineFields(source.workspaceId, source.id, Object.keys(source.mapping.fields));
      values.replace(source.workspaceId, source.id, fieldsOf(h), false);
      // Values older than the period (or none yet) are pulled at once; fresh ones when they age.
      const due = status.lastSuccessAt === null ? now : status.lastSuccessAt + source.everySeconds * 1000;
      const nextPullAt = due <= now ? now : due;
      this.states.set(slot(source.workspaceId, source.id), { status, held: h, nextPullAt, running: null, abort: null });
    }
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.tick(), this.deps.settings.tickMs);
    this.timer.unref();
    this.tick();
  }

  /** Aborts the fetches in flight and waits for their pulls to end; nothing is written after. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const s of this.states.values()) s.abort?.abort();
    for (const w of this.waiting.splice(0)) w();
    await this.idle();
  }

  /** Resolves when no pull is running (tests; shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.states.values()].map((s) => s.running).filter((p): p is Promise<PullResult> => p !== null);
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  status(workspaceId: string, id: string): ExternalStatus & { itemCount: number; nextPullAt: number | null } {
    const s = this.states.get(slot(workspaceId, id));
    const source = this.deps.definitions.find(workspaceId, id);
    return { ...(s?.status ?? EMPTY_STATUS), itemCount: s?.held.size ?? 0, nextPullAt: s && source?.enabled ? s.nextPullAt : null };
  }

  /** What a source holds: normalised key → fields, with when each key was fetched. */
  held(workspaceId: string, id: string): ReadonlyMap<string, HeldValue> {
    return this.states.get(slot(workspaceId, id))?.held ?? new Map();
  }

  /** A new or changed definition: pulled at once. */
  changed(source: ExternalSource): void {
    const id = slot(source.workspaceId, source.id);
    const s = this.states.get(id);
    this.deps.values.defineFields(source.workspaceId, source.id, Object.keys(source.mapping.fields));
    if (s) s.nextPullAt = this.deps.clock.now();
    else this.states.set(id, { status: EMPTY_STATUS, held: new Map(), nextPullAt: this.deps.clock.now(), running: null, abort: null });
    this.tick();
  }

  /** Before a delete: the pull in flight is aborted and awaited, so it cannot write after. */
  async forget(workspaceId: string, id: string): Promise<void> {
    const s = this.states.get(slot(workspaceId, id));
    if (!s) return;
    s.nextPullAt = Number.POSITIVE_INFINITY;
    s.abort?.abort();
    await s.running?.catch(() => undefined);
  }

  /** The delete failed: the source is scheduled again. */
  resume(workspaceId: string, id: string): void {
    const s = this.states.get(slot(workspaceId, id));
    if (s) s.nextPullAt = this.deps.clock.now();
  }

  /** After the delete is stored: memory forgets, listeners hear every key it held. */
  removed(workspaceId: string, id: string): void {
    this.states.delete(slot(workspaceId, id));
    this.deps.values.remove(workspaceId, id);
  }

  /** Pulls now (or joins the pull running) and answers its result. */
  pull(workspaceId: string, id: string): Promise<PullResult> {
    const source = this.deps.definitions.get(workspaceId, id);
    const s = this.states.get(slot(workspaceId, id));
    if (!s) throw new Error('an external source without scheduler state');
    if (s.running) return s.running;
    const abort = new AbortController();
    s.abort = abort;
    const run = this.run(source, s, abort.signal).finally(() => {
      s.running = null;
      s.abort = null;
    });
    s.running = run;
    return run;
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    for (const source of this.deps.definitions.list()) {
      const s = this.states.get(slot(source.workspaceId, source.id));
      if (!s || !source.enabled || s.running || now < s.nextPullAt) continue;
      this.pull(source.workspaceId, source.id).catch((err: unknown) => {
        this.deps.logger.error({ workspaceId: source.workspaceId, externalSourceId: source.id, err: err instanceof Error ? err.message : String(err) }, 'external pull failed unexpectedly');
      });
    }
  }

  private async run(source: ExternalSource, s: SourceState, signal: AbortSignal): Promise<PullResult> {
    await this.acquire();
    try {
      return await this.pullOnce(source, s, signal);
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  /** At most `concurrency` sources are pulled at once. */
  private async acquire(): Promise<void> {
    while (this.active >= this.deps.settings.concurrency && !this.stopped) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
  }

  private async pullOnce(source: ExternalSource, s: SourceState, signal: AbortSignal): Promise<PullResult> {
    const { settings, clock, logger, store, values } = this.deps;
    const startedAt = clock.now();
    const started = performance.now();
    s.nextPullAt = startedAt + source.everySeconds * 1000;
    const report = await pullSource(source, s.held, {
      fetchOne: (url) => fetchJson(url, { headers: source.headers, timeoutMs: settings.timeoutMs, maxBytes: settings.maxBodyBytes, signal, now: () => clock.now(), ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}) }),
      retries: settings.retries, retryBaseMs: settings.retryBaseMs, retryMaxMs: settings.retryMaxMs, concurrency: settings.keyConcurrency,
      now: () => clock.now(), random: this.deps.random ?? Math.random, signal,
    });
    if (report.notBefore !== null) s.nextPullAt = Math.max(s.nextPullAt, report.notBefore);
    const durationMs = Math.round(performance.now() - started);
    const errorText = report.errors.length === 0 ? null : report.errors.map((e) => (e.key === undefined ? e.error : `${e.key}: ${e.error}`)).join('; ').slice(0, MAX_ERROR_TEXT);
    // Stopped or deleted meanwhile: nothing is written, nothing changes.
    if (this.stopped || signal.aborted) return { outcome: 'failed', itemCount: s.held.size, changed: 0, skipped: report.skipped, errors: [{ error: 'stopped' }], durationMs };
    const success = report.outcome !== 'failed';
    const status: ExternalStatus = {
      lastPullAt: startedAt, lastSuccessAt: success ? clock.now() : s.status.lastSuccessAt, lastOutcome: report.outcome, lastError: errorText,
    };
    let changed = 0;
    if (success) {
      const rows: ExternalValueRow[] = [];
      for (const [key, v] of report.values) {
        for (const [field, value] of v.fields) rows.push({ workspaceId: source.workspaceId, sourceId: source.id, key, field, value, fetchedAt: v.fetchedAt });
      }
      await store.replaceValues(source.workspaceId, source.id, rows, status);
      s.held = report.values;
      s.status = status;
      changed = values.replace(source.workspaceId, source.id, fieldsOf(report.values)).size;
    } else {
      await store.saveStatus(source.workspaceId, source.id, status);
      s.status = status;
    }
    // The URL is logged without its query: it may carry an API key.
    const log = { workspaceId: source.workspaceId, externalSourceId: source.id, url: redactUrl(source.url), outcome: report.outcome, items: s.held.size, changed, skipped: report.skipped, durationMs };
    if (success && report.errors.length === 0) logger.info(log, 'external source pulled');
    else logger.warn({ ...log, errors: report.errors.slice(0, 20) }, 'external source pull failed; previous values kept');
    return { outcome: report.outcome, itemCount: s.held.size, changed, skipped: report.skipped, errors: report.errors, durationMs };
  }
}

function fieldsOf(held: ReadonlyMap<string, HeldValue>): Map<string, ReadonlyMap<string, unknown>> {
  return new Map([...held].map(([k, v]) => [k, v.fields]));
}
