/**
 * Training off the main thread: a training run on a million profiles computes for tens of
 * seconds, which on the main thread would hold ingest and the API for as long. The service
 * (model-service.ts) starts one worker per run, hands it the matrices (transferred, not copied)
 * and receives the result; the worker then ends.
 *
 * @example
 *   const result = await trainInWorker({ kind: 'kfold', X, y, n, k: 5 }, d, {});
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { trainAndChoose, type Split, type TrainOptions, type TrainResult } from './trainer.js';

interface Job { split: Split; d: number; opts: TrainOptions }

function buffersOf(split: Split): ArrayBuffer[] {
  const arrays = split.kind === 'kfold' ? [split.X, split.y] : [split.train.X, split.train.y, split.valid.X, split.valid.y];
  // A view on part of a larger buffer (or a shared one) is copied rather than transferred.
  return [...new Set(arrays.filter((a) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer).map((a) => a.buffer as ArrayBuffer))];
}

export function trainInWorker(split: Split, d: number, opts: TrainOptions = {}): Promise<TrainResult> {
  return new Promise((resolve, reject) => {
    const job: Job = { split, d, opts };
    const worker = new Worker(new URL(import.meta.url), { workerData: job, transferList: buffersOf(split) });
    let done = false;
    worker.once('message', (result: TrainResult) => { done = true; resolve(result); void worker.terminate(); });
    worker.once('error', (err) => { done = true; reject(err); });
    worker.once('exit', (code) => { if (!done) reject(new Error(`training worker exited with code ${code}`)); });
  });
}

if (!isMainThread && parentPort) {
  const { split, d, opts } = workerData as Job;
  parentPort.postMessage(trainAndChoose(split, d, opts));
}
