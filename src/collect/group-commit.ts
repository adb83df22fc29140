/**
 * Group commit: everything concurrent requests bring while one commit is running is gathered and
 * committed together by the next one, then all those requests are answered. A lone request
 * commits at once (no timer), a busy collector commits big groups: DuckDB fsyncs per commit
 * (~1.5 ms), so per-request commits would cap ingest at a few hundred requests/s.
 *
 * Sequence numbers are assigned in commit order, so the log's seq order is its commit order
 * and the processor can read "everything after my cursor" without older seqs appearing later.
 */
import { EnsembleError } from '../protocol/errors.js';
import type { Metrics } from '../platform/metrics.js';
import type { EventLog, LogRecord } from '../storage/ports.js';

export type PendingRecord = Omit<LogRecord, 'seq'>;

interface Waiter {
  records: readonly PendingRecord[];
  resolve: () => void;
  reject: (err: Error) => void;
}

export class GroupCommitLog {
  private queue: Waiter[] = [];
  private queuedEvents = 0;
  private inFlightEvents = 0;
  private running: Promise<void> | null = null;
  private readonly listeners: Array<(lastSeq: bigint) => void> = [];
  private lastCommitted: bigint;

  constructor(
    private readonly log: EventLog,
    private nextSeq: bigint,
    private readonly metrics: Metrics,
    private readonly maxGroupEvents: number,
  ) {
    this.lastCommitted = nextSeq - 1n;
  }

  /** Events accepted into memory but not yet committed. */
  get pending(): number {
    return this.queuedEvents + this.inFlightEvents;
  }

  /** The seq of the last committed record. */
  get committedSeq(): bigint {
    return this.lastCommitted;
  }

  /** Called after each commit with the last committed seq (the processor wakes on it). */
  onCommit(listener: (lastSeq: bigint) => void): void {
    this.listeners.push(listener);
  }

  /** Resolves once `records` are durably committed; rejects with STORE_UNAVAILABLE otherwise. */
  append(records: readonly PendingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      this.queuedEvents += records.length;
      this.metrics.pending.set(this.pending);
      // setImmediate lets requests already parsed in this turn of the event loop join the group.
      if (this.running === null) this.running = new Promise((done) => setImmediate(() => void this.drain().finally(done)));
    });
  }

  /** Waits until everything queued so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group: Waiter[] = [];
        let size = 0;
        while (this.queue.length > 0 && (size === 0 || size + (this.queue[0]?.records.length ?? 0) <= this.maxGroupEvents)) {
          const w = this.queue.shift() as Waiter;
          group.push(w);
          size += w.records.length;
        }
        this.queuedEvents -= size;
        await this.commit(group, size);
      }
    } finally {
      this.running = null;
    }
  }

  private async commit(group: Waiter[], size: number): Promise<void> {
    const rows: LogRecord[] = [];
    for (const w of group) for (const r of w.records) rows.push({ ...r, seq: this.nextSeq++ });
    this.inFlightEvents = size;
    const stop = this.metrics.commitSeconds.startTimer();
    try {
      await this.log.append(rows);
      stop();
      this.inFlightEvents = 0;
      this.metrics.accepted.inc(size);
      this.metrics.groupSize.observe(size);
      for (const w of group) w.resolve();
      this.lastCommitted = rows[rows.length - 1]?.seq ?? this.lastCommitted;
      for (const l of this.listeners) l(this.lastCommitted);
    } catch {
      // The log stored none of the group (append is all or nothing), so its seqs are reused:
      // the log never has gaps, which keeps its recovery check simple and strict.
      this.nextSeq = rows[0]?.seq ?? this.nextSeq;
      this.inFlightEvents = 0;
      const err = new EnsembleError('ENSEMBLE_ERR_STORE_UNAVAILABLE');
      for (const w of group) w.reject(err);
    } finally {
      this.metrics.pending.set(this.pending);
    }
  }
}
