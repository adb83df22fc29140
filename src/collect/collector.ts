/**
 * The stateful half of collection, on the thread that owns the log: back-pressure, messageId
 * dedupe, group commit, metrics. It takes events `prepare.ts` made ready and resolves only when
 * every accepted one is durably in the log; one bad event never drops its neighbours (it comes
 * back in `rejected` with its index and reason).
 *
 * @example
 *   const result = await collector.ingest({ source, events: [evt], type: null, envelope: {}, requestIp: '203.0.113.9' });
 *   // → { accepted: 1, duplicates: 0, rejected: [] }
 */
import type { EventType } from '../protocol/event.js';
import { EnsembleError } from '../protocol/errors.js';
import type { Clock } from '../platform/clock.js';
import type { CollectConfig } from '../platform/config.js';
import type { Metrics } from '../platform/metrics.js';
import { dedupeKey, type DedupeIndex } from './dedupe.js';
import type { GroupCommitLog, PendingRecord } from './group-commit.js';
import type { IpLookup } from './steps/ip.js';
import type { Envelope } from './steps/normalise.js';
import { prepareEvents, type Prepared, type PreparedRecord, type Rejection, type SourceRef } from './prepare.js';

export type { Rejection } from './prepare.js';

export interface IngestRequest {
  source: SourceRef;
  events: readonly unknown[];
  /** Forced type for single-event routes; null for batches. */
  type?: EventType | null;
  envelope?: Envelope;
  requestIp?: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
}

export interface CollectorDeps {
  config: CollectConfig;
  log: GroupCommitLog;
  dedupe: DedupeIndex;
  ip: IpLookup;
  metrics: Metrics;
  clock: Clock;
  /** Events committed to the log but not yet processed (for back-pressure). */
  logLag: () => number;
  /** The live event debugger (analytics/debugger-tap.ts): sees accepted and rejected events per source. */
  tap?: CollectTap;
}

export interface CollectTap {
  accepted(sourceId: string, records: readonly PreparedRecord[], receivedAt: number): void;
  rejected(sourceId: string, rejections: ReadonlyArray<Pick<Rejection, 'code' | 'message'>>, receivedAt: number): void;
}

export class Collector {
  private closing = false;
  /** Commits under way, by dedupe key: a retry of an event still being committed waits for it. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly deps: CollectorDeps) {}

  /** Stops accepting (answers 503) so shutdown can flush what was already accepted. */
  close(): void {
    this.closing = true;
  }

  /** Throws OVERLOADED / SHUTTING_DOWN when the collector cannot take `eventCount` more events. */
  admit(eventCount: number): void {
    const { config, log, metrics } = this.deps;
    if (this.closing) throw new EnsembleError('ENSEMBLE_ERR_SHUTTING_DOWN');
    if (log.pending + eventCount > config.maxPendingEvents || this.deps.logLag() > config.maxLogLag) {
      metrics.rejected.inc({ code: 'ENSEMBLE_ERR_OVERLOADED' }, Math.max(eventCount, 1));
      throw new EnsembleError('ENSEMBLE_ERR_OVERLOADED');
    }
  }

  /** A request of a known source refused as a whole (unreadable body, too large): the debugger shows it. */
  refused(sourceId: string, code: Rejection['code'], message: string): void {
    this.deps.tap?.rejected(sourceId, [{ code, message }], this.deps.clock.now());
  }

  /** Prepares already-parsed events on this thread, then commits them. */
  async ingest(req: IngestRequest): Promise<IngestResult> {
    const prepared = prepareEvents({
      source: req.source, events: req.events, type: req.type ?? null, envelope: req.envelope ?? {},
      requestIp: req.requestIp, receivedAt: this.deps.clock.now(),
    }, this.deps.config, this.deps.ip);
    return this.commit(prepared);
  }

  /** Dedupes and durably commits prepared events; resolves once they are in the log. */
  async commit(prepared: Prepared): Promise<IngestResult> {
    const { dedupe, metrics } = this.deps;
    const { source, rejected } = prepared;
    metrics.received.inc(prepared.received);
    for (const r of rejected) metrics.rejected.inc({ code: r.code });
    this.deps.tap?.rejected(source.id, rejected, prepared.receivedAt);
    // Counted here, on the main thread: worker threads have no registry that /metrics reads.
    if (prepared.masked) for (const [pattern, n] of Object.entries(prepared.masked)) metrics.masked.inc({ pattern }, n);
    this.admit(prepared.records.length);
    const now = prepared.receivedAt;
    const records: PendingRecord[] = [];
    const keys: string[] = [];
    const awaitedOriginals: Promise<void>[] = [];
    let duplicates = 0;
    for (const r of prepared.records) {
      const key = dedupeKey(source.workspaceId, r.messageId);
      if (dedupe.seen(key, now)) {
        duplicates++;
        // Answering 2xx for a duplicate must still mean "durably stored": wait for the original.
        const original = this.inFlight.get(key);
        if (original) awaitedOriginals.push(original);
        continue;
      }
      keys.push(key);
      records.push({ workspaceId: source.workspaceId, messageId: r.messageId, receivedAt: now, payload: r.payload });
    }
    if (duplicates > 0) metrics.duplicates.inc(duplicates);

    const committed = this.deps.log.append(records);
    for (const k of keys) this.inFlight.set(k, committed);
    try {
      await committed;
    } catch (err) {
      for (const k of keys) dedupe.forget(k);
      metrics.rejected.inc({ code: 'ENSEMBLE_ERR_STORE_UNAVAILABLE' }, records.length);
      throw err;
    } finally {
      for (const k of keys) if (this.inFlight.get(k) === committed) this.inFlight.delete(k);
    }
    this.deps.tap?.accepted(source.id, records, now);
    // If an original failed, its client is told to retry, and so is this one: both may be the same event.
    await Promise.all(awaitedOriginals);
    return { accepted: records.length, duplicates, rejected };
  }
}
