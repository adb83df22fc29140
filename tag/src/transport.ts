/**
 * Delivery of events to the collector's `/v1/batch`: a queue sent in batches with
 * `fetch(keepalive)` (as text/plain, so the browser needs no CORS preflight), retried with
 * exponential backoff on network errors, 408, 429 and 5xx — an event keeps its `messageId`
 * through every attempt, so the collector's dedupe stores it once. While offline nothing is
 * tried; the `online` event resumes at once. When the page is hidden, what is still queued goes
 * with `sendBeacon`, and stays queued (and persisted) until a confirmed answer: a copy that
 * arrives twice is deduplicated by the server.
 *
 * @example
 *   const t = new Transport(options, storage);
 *   t.enqueue({ type: 'track', event: 'Signed Up', messageId: uuid(), anonymousId });
 *   await t.flush(); // resolves once the collector acknowledged everything queued
 */
import type { ResolvedOptions } from './options.js';
import type { DeviceStorage } from './storage.js';

export interface Message {
  messageId: string;
  [field: string]: unknown;
}

const MAX_BATCH = 20;
/** The browser refuses keepalive bodies above 64 KB in flight; bigger batches go without it. */
const KEEPALIVE_MAX = 60_000;
/** A persisted queue is capped so a long offline period cannot fill the site's storage. */
const MAX_QUEUE = 500;

export class Transport {
  private queue: Message[] = [];
  private inFlight = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private waiters: Array<() => void> = [];
  private stopped = false;
  /** After a withdrawal: deliver what is left (the notice), then stop for good. */
  private closing = false;
  private beaconed = false;

  constructor(private readonly o: ResolvedOptions, private readonly storage: DeviceStorage) {
    addEventListener('online', () => {
      this.attempts = 0;
      this.clearTimer();
      this.schedule(0);
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.beacon();
      else this.beaconed = false;
    });
    addEventListener('pagehide', () => this.beacon());
  }

  private get url(): string {
    return `${this.o.apiHost}/v1/batch`;
  }

  /** Events a previous page left unconfirmed. */
  restore(): void {
    try {
      const saved = JSON.parse(this.storage.get('queue') ?? '[]') as Message[];
      if (Array.isArray(saved) && saved.length > 0) {
        this.queue = saved.concat(this.queue).slice(-MAX_QUEUE);
        this.schedule(0);
      }
    } catch { /* a damaged entry is dropped */ }
  }

  enqueue(m: Message): void {
    if (this.stopped || this.closing) return;
    this.queue.push(m);
    if (this.queue.length > MAX_QUEUE) this.queue.shift();
    this.persist();
    this.schedule(this.queue.length >= MAX_BATCH ? 0 : this.o.flushInterval);
  }

  /** Resolves when nothing is left to deliver. */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      if (this.queue.length === 0 && !this.inFlight) return resolve();
      this.waiters.push(resolve);
      if (!this.attempts) {
        this.clearTimer();
        this.schedule(0);
      }
    });
  }

  /** Drops the queue for `last` only (e.g. the withdrawal notice), delivered before stopping. */
  close(last: Message[]): void {
    this.queue = last;
    this.closing = true;
    this.clearTimer();
    this.attempts = 0;
    if (last.length === 0) this.stop();
    else this.schedule(0);
  }

  /** Tracking again after a new grant. */
  open(): void {
    this.stopped = false;
    this.closing = false;
  }

  private stop(): void {
    this.stopped = true;
    this.queue = [];
    this.clearTimer();
    this.settleWaiters();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delay: number): void {
    if (this.stopped || this.timer !== null || this.inFlight) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.send();
    }, delay);
  }

  private persist(): void {
    this.storage.set('queue', this.queue.length ? JSON.stringify(this.queue) : null);
  }

  private settleWaiters(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  private body(batch: Message[]): string {
    return JSON.stringify({ batch, sentAt: new Date().toISOString(), writeKey: this.o.writeKey });
  }

  private async send(): Promise<void> {
    if (this.stopped || this.inFlight) return;
    if (this.queue.length === 0) {
      if (this.closing) this.stop();
      return this.settleWaiters();
    }
    if (navigator.onLine === false) return; // the `online` event resumes
    const batch = this.queue.slice(0, MAX_BATCH);
    const body = this.body(batch);
    this.inFlight = true;
    let retry = false;
    let retryAfter = 0;
    try {
      const res = await fetch(this.url, { method: 'POST', body, keepalive: body.length < KEEPALIVE_MAX, credentials: 'omit' });
      // 4xx other than 408/429 will never succeed: the events are dropped, not retried forever.
      retry = res.status === 408 || res.status === 429 || res.status >= 500;
      retryAfter = Number(res.headers.get('retry-after')) * 1000 || 0;
    } catch {
      retry = true; // network error, offline, or a CORS-less error answer
    }
    this.inFlight = false;
    if (retry) {
      this.attempts++;
      const backoff = Math.min(this.o.retryDelay * 2 ** (this.attempts - 1), this.o.retryMaxDelay);
      // Jitter spreads the retries of many visitors after an outage.
      this.schedule(Math.max(retryAfter, backoff * (0.5 + Math.random() / 2)));
      return;
    }
    this.attempts = 0;
    const sent = new Set(batch.map((m) => m.messageId));
    this.queue = this.queue.filter((m) => !sent.has(m.messageId));
    if (!this.closing) this.persist();
    this.schedule(0);
  }

  private beacon(): void {
    if (this.beaconed || this.stopped || this.queue.length === 0 || typeof navigator.sendBeacon !== 'function') return;
    this.beaconed = true;
    try {
      navigator.sendBeacon(this.url, new Blob([this.body(this.queue.slice(0, MAX_BATCH))], { type: 'text/plain' }));
    } catch { /* the persisted queue is sent by the next page */ }
  }
}
