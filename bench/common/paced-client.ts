/**
 * Open-loop pacing for autocannon connections, shared by the load generators: each connection
 * sends on its own schedule (one slot every 1/rate s, starting at a random offset), and a late
 * request still counts its latency from its slot, so a slow server cannot hide its queueing
 * (coordinated omission). autocannon's per-second quota is switched off: it bunches requests.
 */
import type { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

/** The parts of autocannon 9's Client this relies on (internals: checked at run time). */
export interface AcClient extends EventEmitter {
  /** Requests per second for this connection; its share of `overallRate`. 0 = unlimited. */
  rate: number;
  destroyed: boolean;
  destroy(): void;
  _doRequest: (...args: unknown[]) => void;
  /** The bytes written for the next request. */
  getRequestBuffer: () => Buffer;
}

/**
 * Paces `client` until `deadline` (performance.now() ms). With `paced` false it sends as fast as
 * responses come. Returns the intended send time of the request in flight (-1 when unpaced).
 */
export function paceClient(client: AcClient, opts: { start: number; deadline: number; paced: boolean }): () => number {
  const original = client._doRequest;
  if (typeof original !== 'function' || typeof client.destroy !== 'function' || typeof client.getRequestBuffer !== 'function' || typeof client.rate !== 'number') {
    throw new Error('autocannon internals changed (Client._doRequest/getRequestBuffer/destroy/rate); this bench needs autocannon 9');
  }
  const perConnectionRate = client.rate;
  // Read by autocannon after setupClient returns: disables its quota and its coordinated-omission
  // correction, which assumes that quota.
  if (opts.paced) client.rate = 0;
  const interval = opts.paced && perConnectionRate > 0 ? 1000 / perConnectionRate : 0;
  let nextSlot = opts.start + Math.random() * interval;
  let scheduled: NodeJS.Timeout | null = null;
  let intended = 0;

  client._doRequest = function doRequest(this: AcClient, ...args: unknown[]): void {
    if (this.destroyed || scheduled !== null) return;
    const now = performance.now();
    if (now >= opts.deadline) {
      // Stop sending; the response to the last request has arrived (pipelining is 1).
      this.destroy();
      return;
    }
    if (interval === 0) {
      intended = -1;
      original.apply(this, args);
      return;
    }
    const slot = nextSlot;
    nextSlot += interval;
    if (slot >= opts.deadline) {
      this.destroy();
      return;
    }
    if (slot <= now) {
      // Behind schedule: send now; the latency still counts from the slot.
      intended = slot;
      original.apply(this, args);
      return;
    }
    scheduled = setTimeout(() => {
      scheduled = null;
      if (this.destroyed) return;
      // libuv timers can fire up to ~1 ms early; never count from a time in the future.
      intended = Math.min(slot, performance.now());
      original.apply(this, args);
    }, slot - now);
  };
  // A scheduled send must not outlive the connection.
  client.on('done', () => {
    if (scheduled !== null) clearTimeout(scheduled);
    scheduled = null;
  });
  return () => intended;
}
