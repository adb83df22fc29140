/**
 * The live event debugger's tap on the collector: what each source's requests just brought,
 * accepted (message id, type, event name, time) or rejected (the error code and message), for
 * the console's Sources page.
 *
 * Purpose: let whoever sets up a source see that its events arrive and why some are refused.
 * Data: no payload is kept; accepted entries hold the message id, type and event name, rejected
 * ones the catalogue code and the message, with anything shaped like an e-mail address or a long
 * number masked; never logged. Retention: memory only, at most the last 100 per source, and
 * only while the debugger is watched: the tap arms for a source when someone opens its stream or
 * its recent list, and disarms 30 minutes after the last of them (a restart empties it). While
 * nobody watches, a request costs one Map lookup. Consent: it shows technical facts about
 * requests, not profiles. Erasure: no profile id or identifier is kept, so there is nothing to
 * erase; entries age out within the 100.
 *
 * Rejections are also counted per source and UTC day for the Home page (`rejectedToday`),
 * always: a counter per source, touched only when an event is refused.
 *
 * @example
 *   const tap = new DebuggerTap(() => Date.now());
 *   const stop = tap.subscribe('src_1', (e) => console.log(e.status));
 *   tap.accepted('src_1', [{ messageId: 'm1', payload: '{"type":"track","event":"Signed Up"}' }], Date.now()); // logs "accepted"
 *   stop();
 */
import type { PreparedRecord, Rejection } from '../collect/prepare.js';

export type TapEntry =
  | { status: 'accepted'; messageId: string; type: string; event: string | null; receivedAt: string }
  | { status: 'rejected'; code: string; message: string; receivedAt: string };

export const RECENT_MAX = 100;
const ARM_MS = 30 * 60_000;
const DAY = 86_400_000;

interface Watched {
  recent: TapEntry[];
  listeners: Set<(e: TapEntry) => void>;
  armedUntil: number;
}

/** Masks what could be a personal value inside an error message (an address, a phone or card number). */
export function maskMessage(text: string): string {
  return text
    .slice(0, 300)
    .replace(/[^\s"'<>()]+@[^\s"'<>()]+/g, '•••@•••')
    .replace(/\+?\d[\d\s.-]{5,}\d/g, '•••');
}

export class DebuggerTap {
  private readonly watched = new Map<string, Watched>();
  private readonly rejections = new Map<string, { day: number; count: number }>();
  private readonly ends = new Set<() => void>();

  constructor(private readonly now: () => number) {}

  /** Arms the tap for a source (a recent-list read or a stream) and answers what it holds, oldest first. */
  watch(sourceId: string): TapEntry[] {
    const w = this.entry(sourceId);
    w.armedUntil = Math.max(w.armedUntil, this.now() + ARM_MS);
    return [...w.recent];
  }

  /** Streams entries of a source as they come; call the answer to stop (the tap stays armed 30 min more). */
  subscribe(sourceId: string, fn: (e: TapEntry) => void, end: () => void = () => undefined): () => void {
    const w = this.entry(sourceId);
    this.watch(sourceId);
    w.listeners.add(fn);
    this.ends.add(end);
    return () => {
      w.listeners.delete(fn);
      this.ends.delete(end);
      this.watch(sourceId);
    };
  }

  /** Ends every open stream (shutdown: a stream never ends by itself, and the server waits for open requests). */
  close(): void {
    for (const end of [...this.ends]) end();
    this.ends.clear();
  }

  accepted(sourceId: string, records: readonly PreparedRecord[], receivedAt: number): void {
    const w = this.armed(sourceId);
    if (!w) return;
    const at = new Date(receivedAt).toISOString();
    for (const r of records) {
      let type = 'unknown';
      let event: string | null = null;
      try {
        const e = JSON.parse(r.payload) as { type?: unknown; event?: unknown; name?: unknown };
        if (typeof e.type === 'string') type = e.type;
        const name = typeof e.event === 'string' ? e.event : typeof e.name === 'string' ? e.name : null;
        event = name === null ? null : name.slice(0, 200);
      } catch { /* a stored payload is JSON; keep the entry anyway */ }
      this.push(w, { status: 'accepted', messageId: r.messageId.slice(0, 200), type, event, receivedAt: at });
    }
  }

  rejected(sourceId: string, rejections: ReadonlyArray<Pick<Rejection, 'code' | 'message'>>, receivedAt: number): void {
    if (rejections.length === 0) return;
    const day = Math.floor(receivedAt / DAY);
    const c = this.rejections.get(sourceId);
    if (c && c.day === day) c.count += rejections.length;
    else this.rejections.set(sourceId, { day, count: rejections.length });
    const w = this.armed(sourceId);
    if (!w) return;
    const at = new Date(receivedAt).toISOString();
    for (const r of rejections) this.push(w, { status: 'rejected', code: r.code, message: maskMessage(r.message), receivedAt: at });
  }

  /** Events of the source refused today (UTC) since this process started. */
  rejectedToday(sourceId: string): number {
    const c = this.rejections.get(sourceId);
    return c && c.day === Math.floor(this.now() / DAY) ? c.count : 0;
  }

  private armed(sourceId: string): Watched | undefined {
    const w = this.watched.get(sourceId);
    if (!w) return undefined;
    if (w.listeners.size === 0 && w.armedUntil < this.now()) {
      this.watched.delete(sourceId);
      return undefined;
    }
    return w;
  }

  private entry(sourceId: string): Watched {
    let w = this.watched.get(sourceId);
    if (!w) {
      w = { recent: [], listeners: new Set(), armedUntil: 0 };
      this.watched.set(sourceId, w);
    }
    return w;
  }

  private push(w: Watched, e: TapEntry): void {
    w.recent.push(e);
    if (w.recent.length > RECENT_MAX) w.recent.splice(0, w.recent.length - RECENT_MAX);
    for (const fn of w.listeners) {
      try {
        fn(e);
      } catch { /* one broken stream must not stop the others or the collector */ }
    }
  }
}
