/**
 * The collection pipeline for one request, independent of HTTP:
 * validate/normalise → IP (country, truncation) → consent gate → size → dedupe → group commit.
 * Resolves only when every accepted event is durably in the log; one bad event never drops its
 * neighbours (it is reported with its index and reason).
 *
 * @example
 *   const result = await collector.ingest({ source, events: [evt], envelope: {}, requestIp: '203.0.113.9' });
 *   // → { accepted: 1, duplicates: 0, rejected: [] }
 */
import type { EventType } from '../protocol/event.js';
import { EnsembleError, type ErrorCode } from '../protocol/errors.js';
import type { Source } from '../protocol/workspace.js';
import type { Clock } from '../platform/clock.js';
import type { CollectConfig } from '../platform/config.js';
import type { Metrics } from '../platform/metrics.js';
import type { DedupeIndex } from './dedupe.js';
import type { GroupCommitLog, PendingRecord } from './group-commit.js';
import type { ConsentGate } from './steps/consent-gate.js';
import { applyIp, type IpLookup } from './steps/ip.js';
import { normalise, type Envelope } from './steps/normalise.js';
import { toWellFormedJson } from './steps/well-formed-json.js';

export interface IngestRequest {
  source: Source;
  events: readonly unknown[];
  /** Forced type for single-event routes; null for batches. */
  type?: EventType | null;
  envelope?: Envelope;
  requestIp?: string;
}

export interface Rejection {
  index: number;
  code: ErrorCode;
  message: string;
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
  consentGate: ConsentGate;
  ip: IpLookup;
  metrics: Metrics;
  clock: Clock;
  /** Events committed to the log but not yet processed (for back-pressure). */
  logLag: () => number;
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

  /** Throws EnsembleError OVERLOADED / SHUTTING_DOWN before any work when the collector cannot take more. */
  admit(eventCount: number): void {
    const { config, log, metrics } = this.deps;
    if (this.closing) throw new EnsembleError('ENSEMBLE_ERR_SHUTTING_DOWN');
    if (log.pending + eventCount > config.maxPendingEvents || this.deps.logLag() > config.maxLogLag) {
      metrics.rejected.inc({ code: 'ENSEMBLE_ERR_OVERLOADED' }, eventCount);
      throw new EnsembleError('ENSEMBLE_ERR_OVERLOADED');
    }
  }

  async ingest(req: IngestRequest): Promise<IngestResult> {
    const { config, dedupe, metrics, clock } = this.deps;
    metrics.received.inc(req.events.length);
    this.admit(req.events.length);
    const receivedAt = clock.now();
    const rejected: Rejection[] = [];
    const records: PendingRecord[] = [];
    let duplicates = 0;
    const awaitedOriginals: Promise<void>[] = [];
    const reject = (index: number, code: ErrorCode, message: string): void => {
      rejected.push({ index, code, message });
      metrics.rejected.inc({ code });
    };

    req.events.forEach((raw, index) => {
      const n = normalise(raw, { type: req.type ?? null, envelope: req.envelope ?? {}, receivedAt, source: req.source });
      if (n.kind !== 'ok') return n.kind === 'drop' ? reject(index, n.code, n.reason) : undefined;
      const { context, country } = applyIp(n.value.context, req.requestIp, this.deps.ip, { truncate: config.truncateIp });
      const gated = this.deps.consentGate({ ...n.value, context, country });
      if (gated.kind !== 'ok') return gated.kind === 'drop' ? reject(index, gated.code, gated.reason) : undefined;
      const payload = toWellFormedJson(gated.value);
      if (Buffer.byteLength(payload) > config.maxEventBytes) return reject(index, 'ENSEMBLE_ERR_EVENT_TOO_LARGE', `The event is larger than ${config.maxEventBytes} bytes.`);
      if (dedupe.seen(req.source.workspaceId, gated.value.messageId, receivedAt)) {
        duplicates++;
        // Answering 2xx for a duplicate must still mean "durably stored": wait for the original.
        const original = this.inFlight.get(dedupeKey(req.source.workspaceId, gated.value.messageId));
        if (original) awaitedOriginals.push(original);
        return;
      }
      records.push({ workspaceId: req.source.workspaceId, messageId: gated.value.messageId, receivedAt, payload });
    });

    if (duplicates > 0) metrics.duplicates.inc(duplicates);
    const committed = this.deps.log.append(records);
    const keys = records.map((r) => dedupeKey(r.workspaceId, r.messageId));
    for (const k of keys) this.inFlight.set(k, committed);
    try {
      await committed;
    } catch (err) {
      for (const r of records) dedupe.forget(r.workspaceId, r.messageId);
      metrics.rejected.inc({ code: 'ENSEMBLE_ERR_STORE_UNAVAILABLE' }, records.length);
      throw err;
    } finally {
      for (const k of keys) if (this.inFlight.get(k) === committed) this.inFlight.delete(k);
    }
    // If an original failed, its client is told to retry, and so is this one: both may be the same event.
    await Promise.all(awaitedOriginals);
    return { accepted: records.length, duplicates, rejected };
  }
}

function dedupeKey(workspaceId: string, messageId: string): string {
  return `${workspaceId}\u0000${messageId}`;
}
