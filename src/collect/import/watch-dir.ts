/**
 * Scheduled imports from a watched folder: every `watchIntervalMs`, a file `x.csv` (or
 * `.ndjson`, `.parquet`) with a sibling `x.mapping.json` naming its source and mapping becomes
 * an import job; when the job ends, the file and its mapping move to `done/` or `failed/` with
 * `x.report.json` (the job's counts and row errors). A file still being written is left alone
 * until its size stops changing between two looks. Jobs are durable, so a restart does not
 * import a file twice (and the ledger would refuse its rows anyway).
 *
 * @example
 *   const w = new WatchDir({ dir: '/srv/imports', intervalMs: 5000, jobs, store, catalog, log });
 *   w.start();
 */
import { existsSync, mkdirSync } from 'node:fs';
import { readdir, readFile, rename, stat, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../platform/logger.js';
import type { Catalog } from '../../api/catalog.js';
import type { ImportStore } from '../../storage/duckdb/import-store.js';
import type { ImportJobs, JobSpec } from './import-jobs.js';
import { parseMapping } from './mapping.js';
import { formatOf } from '../../main/cli-import.js';

export interface WatchDirDeps {
  dir: string;
  intervalMs: number;
  jobs: ImportJobs;
  store: ImportStore;
  catalog: Catalog;
  log: Logger;
  /** Where a copy of each picked-up file is kept for its job (the data folder). */
  uploadDir: string;
}

const DATA = /^(.+)\.(csv|tsv|txt|ndjson|jsonl|parquet)$/i;

export class WatchDir {
  private timer: NodeJS.Timeout | null = null;
  private readonly sizes = new Map<string, number>();
  private busy: Promise<void> = Promise.resolve();
  private readonly active = new Set<string>();

  constructor(private readonly deps: WatchDirDeps) {}

  start(): void {
    for (const d of ['done', 'failed']) mkdirSync(join(this.deps.dir, d), { recursive: true });
    this.timer = setInterval(() => { this.busy = this.busy.then(() => this.scan()).catch((err: Error) => this.deps.log.warn({ err: err.message }, 'import folder scan failed')); }, this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.busy;
  }

  /** One look at the folder (also called by tests). */
  async scan(): Promise<void> {
    const { dir } = this.deps;
    for (const name of await readdir(dir)) {
      const m = DATA.exec(name);
      if (!m || this.active.has(name)) continue;
      const file = join(dir, name);
      const mappingFile = join(dir, `${m[1]}.mapping.json`);
      if (!existsSync(mappingFile)) continue;
      const size = (await stat(file)).size;
      if (this.sizes.get(name) !== size) { this.sizes.set(name, size); continue; }
      this.sizes.delete(name);
      this.active.add(name);
      void this.importOne(name, m[1] ?? name, file, mappingFile).finally(() => this.active.delete(name));
    }
  }

  private async importOne(name: string, stem: string, file: string, mappingFile: string): Promise<void> {
    const { dir } = this.deps;
    const finish = async (outcome: 'done' | 'failed', report: unknown) => {
      // The report is written last: whoever sees it sees the file and its mapping moved too.
      await rename(file, join(dir, outcome, name));
      await rename(mappingFile, join(dir, outcome, `${stem}.mapping.json`));
      await writeFile(join(dir, outcome, `${stem}.report.json`), JSON.stringify(report, null, 2));
    };
    try {
      const spec = JSON.parse(await readFile(mappingFile, 'utf8')) as { source?: string; workspace?: string; format?: JobSpec['format']; delimiter?: string; encoding?: JobSpec['encoding']; mapping?: unknown };
      const sourceId = String(spec.source ?? '');
      const source = this.deps.catalog.sources.get(sourceId);
      if (!source || (spec.workspace && spec.workspace !== source.workspaceId)) throw new Error(`unknown source "${sourceId}"`);
      const mapping = parseMapping(spec.mapping);
      // The job reads its own copy under the data folder: the watched file moves away when done.
      mkdirSync(this.deps.uploadDir, { recursive: true });
      const copy = join(this.deps.uploadDir, `watch-${Date.now()}-${name}`);
      await copyFile(file, copy);
      const job = await this.deps.jobs.submit({ workspaceId: source.workspaceId, sourceId, file: copy,
        spec: { format: spec.format ?? (formatOf(name) as JobSpec['format']), mapping, ...(spec.delimiter ? { delimiter: spec.delimiter } : {}), encoding: spec.encoding ?? 'utf-8' } });
      await this.deps.jobs.finished(source.workspaceId, job.id);
      const done = await this.deps.store.job(source.workspaceId, job.id);
      // Stopped by a shutdown: the file stays for the next start (its rows are in the ledger).
      if (done?.status === 'done' || done?.status === 'failed') await finish(done.status, done);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.deps.log.warn({ file: name, err: reason.slice(0, 200) }, 'watched import failed');
      await finish('failed', { status: 'failed', failure: reason.slice(0, 500) }).catch(() => undefined);
    }
  }
}
