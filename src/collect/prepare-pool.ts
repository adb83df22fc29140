/**
 * A pool of worker threads for `prepareBody` (piscina): the main thread keeps HTTP, dedupe and
 * the log commit; the workers parse and normalise batches. Sized by `collect.prepareThreads`.
 */
import { Piscina } from 'piscina';
import { EnsembleError } from '../protocol/errors.js';
import type { PrepareFailure, Prepared } from './prepare.js';
import type { PrepareTask } from './prepare-worker.js';

/** Requests waiting for a worker beyond which new ones are refused (≤ 500 KB each). */
const MAX_QUEUED_REQUESTS = 512;

export class PreparePool {
  private readonly pool: Piscina<PrepareTask, Prepared | PrepareFailure>;

  constructor(threads: number) {
    this.pool = new Piscina({
      filename: new URL('./prepare-worker.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
    });
  }

  /** Queues a request; a full queue is overload, answered 429 like the collector's own limit. */
  run(task: PrepareTask): Promise<Prepared | PrepareFailure> {
    if (this.pool.queueSize >= MAX_QUEUED_REQUESTS) return Promise.reject(new EnsembleError('ENSEMBLE_ERR_OVERLOADED'));
    return this.pool.run(task);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
