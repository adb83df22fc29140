/**
 * Background import jobs: a file already stored under the data folder is streamed row by row,
 * mapped (mapping.ts), and committed to the durable log in chunks through the collector, like
 * live events, so identity, consent, segments and triggers see them the same way.
 *
 * - Duplicates: each row's messageId is (unless mapped) a digest of source + row; the ledger
 *   (import_ledger) remembers every imported digest, so re-importing a file adds nothing, even
 *   after the collector's dedupe window.
 * - Back-pressure: a chunk waits while the collector answers OVERLOADED (log lag or pending
 *   events above their bounds), so an import never runs ahead of the processor unboundedly and
 *   memory stays flat whatever the file size.
 * - Restart: progress (rows done) is recorded with each chunk's digests in one transaction; a
 *   job found `running` at start resumes from there. A chunk committed to the log but not yet
 *   recorded is sent again and deduped by messageId (dedupe index rebuilt from the log).
 *
 * @example
 *   const jobs = new ImportJobs({ store, collector, catalog, identity, memory, clock, log });
 *   const job = await jobs.submit({ workspaceId, sourceId, file, spec: { format: 'csv', mapping } });
 */
import { createHash } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { EnsembleError } from '../../protocol/errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/logger.js';
import type { Collector } from '../collector.js';
import type { SourceRef } from '../prepare.js';
import type { ImportJob, ImportStore, RowError } from '../../storage/duckdb/import-store.js';
import { mapRow, parseMapping, type Mapping } from './mapping.js';
import { readRows, type Encoding, type Format } from './row-readers.js';

export interface JobSpec {
  format: Format;
  mapping: Mapping;
  delimiter?: string;
  encoding?: Encoding;
}

export interface ImportJobDeps {
  store: ImportStore;
  collector: Collector;
  source: (workspaceId: string, sourceId: string) => SourceRef;
  /** sha256(normalised email) → how to name the profile that has it (third-party attributes). */
  hashedEmails: (workspaceId: string) => Map<string, { userId: string } | { anonymousId: string }>;
  clock: Clock;
  log: Logger;
  chunkRows?: number;
  /** Events committed to the log and not yet processed. */
  lag: () => number;
  /** A job waits while the lag is above this, so it stays close behind the processor (default 20,000). */
  maxAhead?: number;
}

/** Row errors kept per job; the total count is always exact. */
export const MAX_ERRORS = 1_000;

export class ImportJobs {
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(private readonly deps: ImportJobDeps) {}

  async submit(input: { workspaceId: string; sourceId: string; file: string; spec: JobSpec; id?: string }): Promise<ImportJob> {
    const now = this.deps.clock.now();
    const job: ImportJob = {
      workspaceId: input.workspaceId, id: input.id ?? `imp_${randomUUID().replace(/-/g, '').slice(0, 20)}`, sourceId: input.sourceId,
      spec: input.spec as unknown as Record<string, unknown>, file: input.file, status: 'queued',
      progress: { rowsDone: 0, accepted: 0, duplicates: 0, rejected: 0 }, errors: [], failure: null, createdAt: now, updatedAt: now,
    };
    await this.deps.store.saveJob(job);
    this.start(job);
    return job;
  }

  /** Picks up jobs a stopped server left unfinished. */
  async resume(): Promise<void> {
    for (const job of await this.deps.store.unfinished()) this.start(job);
  }

  /** Resolves when the job has finished (done or failed). */
  async finished(workspaceId: string, id: string): Promise<void> {
    await this.running.get(`${workspaceId}/${id}`);
  }

  /** Stops after the chunk under way; the job stays `running` and resumes at the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.running.values()]);
  }

  private start(job: ImportJob): void {
    const key = `${job.workspaceId}/${job.id}`;
    if (this.running.has(key) || this.stopping) return;
    const p = this.run(job).catch(async (err: unknown) => {
      if (this.stopping) return;
      job.status = 'failed';
      job.failure = err instanceof Error ? err.message.slice(0, 300) : 'failed';
      job.updatedAt = this.deps.clock.now();
      this.deps.log.warn({ job: job.id, err: job.failure }, 'import job failed');
      await this.deps.store.recordChunk(job, []).catch(() => undefined);
    }).then(async () => {
      // The uploaded copy is personal data kept only to run (or resume) the job: gone once it ends.
      if (job.status === 'done' || job.status === 'failed') await rm(job.file, { force: true });
    }).finally(() => this.running.delete(key));
    this.running.set(key, p);
  }

  private async run(job: ImportJob): Promise<void> {
    const spec = job.spec as unknown as JobSpec;
    const mapping = parseMapping(spec.mapping);
    const source = this.deps.source(job.workspaceId, job.sourceId);
    const hashed = mapping.kind === 'third_party' ? this.deps.hashedEmails(job.workspaceId) : null;
    job.status = 'running';
    const CHUNK = this.deps.chunkRows ?? 2_000;
    let events: Array<Record<string, unknown>> = [];
    let lines: number[] = [];
    let rowsInChunk = 0;
    const flush = async () => {
      await this.commitChunk(job, source, events, lines);
      job.progress.rowsDone += rowsInChunk;
      events = [];
      lines = [];
      rowsInChunk = 0;
    };
    const rows = readRows({ format: spec.format, file: job.file, delimiter: spec.delimiter, encoding: spec.encoding, skip: job.progress.rowsDone },
      (f, o, l) => this.deps.store.parquetRows(f, o, l));
    for await (const item of rows) {
      if (this.stopping) return;
      if (!('row' in item)) {
        this.error(job, { line: item.line, column: null, reason: item.reason });
        continue;
      }
      rowsInChunk++;
      const r = mapRow(mapping, item.row);
      if (!r.ok) {
        this.error(job, { line: item.line, column: r.column, reason: r.reason });
      } else {
        const event = r.event;
        if (hashed) {
          const who = hashed.get(String(event.hashedEmail));
          delete event.hashedEmail;
          if (!who) {
            this.error(job, { line: item.line, column: mapping.hashedEmail ?? null, reason: 'no profile has this hashed email.' });
          } else {
            Object.assign(event, who);
          }
          if (who) events.push(event), lines.push(item.line);
        } else {
          events.push(event);
          lines.push(item.line);
        }
      }
      if (rowsInChunk >= CHUNK) await flush();
    }
    await flush();
    job.status = 'done';
    job.updatedAt = this.deps.clock.now();
    await this.deps.store.recordChunk(job, []);
  }

  private error(job: ImportJob, e: RowError): void {
    job.progress.rejected++;
    if (job.errors.length < MAX_ERRORS) job.errors.push(e);
  }

  private async commitChunk(job: ImportJob, source: SourceRef, events: Array<Record<string, unknown>>, lines: number[]): Promise<void> {
    const digests = events.map((e) => rowDigest(job.sourceId, e));
    events.forEach((e, i) => { if (e.messageId === undefined) e.messageId = `imp-${digests[i]}`; });
    const fresh = await this.deps.store.unseen(job.workspaceId, job.sourceId, digests);
    const todo = events.filter((_e, i) => fresh.has(digests[i] ?? ''));
    const todoLines = lines.filter((_l, i) => fresh.has(digests[i] ?? ''));
    job.progress.duplicates += events.length - todo.length;
    if (todo.length > 0) {
      // Stay close behind the processor: bounded log lag, and live traffic keeps its headroom.
      while (this.deps.lag() > (this.deps.maxAhead ?? 20_000) && !this.stopping) await new Promise((r) => setTimeout(r, 20));
      const result = await this.admitted(() => this.deps.collector.ingest({ source, events: todo, type: null, envelope: {} }));
      job.progress.accepted += result.accepted;
      job.progress.duplicates += result.duplicates;
      for (const rej of result.rejected) this.error(job, { line: todoLines[rej.index] ?? 0, column: null, reason: `${rej.code}: ${rej.message}` });
    }
    job.updatedAt = this.deps.clock.now();
    await this.deps.store.recordChunk(job, [...fresh]);
  }

  /** Retries while the collector is overloaded: the import waits for the processor to catch up. */
  private async admitted<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof EnsembleError) || err.code !== 'ENSEMBLE_ERR_OVERLOADED' || this.stopping) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

/** A digest of the row's mapped event, per source: no personal data in clear in the ledger. */
export function rowDigest(sourceId: string, event: Record<string, unknown>): string {
  return createHash('sha256').update(sourceId).update('\u0000').update(JSON.stringify(event)).digest('base64url').slice(0, 32);
}

/** sha256 hex of a normalised email, as third parties key their data. */
export function hashEmail(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
}
