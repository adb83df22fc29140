/**
 * The tamper-evident audit log (GDPR accountability): who did what to which resource, every read
 * of personal data, exports and rights requests.
 *
 * One hash chain per workspace; actions tied to no workspace (creating one, a refused token) go to
 * the system chain `'*'`. Each entry's hash covers all its other fields, the previous entry's hash
 * included:
 *
 *   hash = sha256(canonical JSON of { workspaceId, seq, at, actor, action, resource, detail, prevHash })
 *
 * (canonical: object keys sorted, no spaces; the first entry's prevHash is 64 zeros). Changing a
 * stored field breaks that entry's hash; removing an entry leaves a gap in `seq`; rewriting one
 * with a recomputed hash breaks its successor's `prevHash`. Removing the *last* entries leaves a
 * shorter chain that is still valid, so the head (last seq and hash of each chain) is also kept in
 * the settings, written in the same transaction as the entries: a table that ends before the head
 * was truncated.
 *
 * What a chain cannot show on its own: someone able to write to the store who recomputes every
 * entry from some point on *and* the head. Against that, copy the head that verify answers to a
 * place outside Ensemble from time to time; the chain must still hold that hash at that seq.
 *
 * Personal identifiers never go into an entry in clear. The log is kept for years and shown to
 * auditors, so it must not become a second copy of the personal data nor escape erasure of it:
 * `detail` (and `resource`) hold ids — workspace, profile, segment, source — statuses, parameter
 * names and counts, never emails, phone numbers, user ids, IP addresses or identifier values.
 * Callers are responsible for this: the log cannot tell an email from an id. An entry shows *that*
 * profile p_x was read; who p_x is stays in the profile store, under its own access rules.
 *
 * Writes are buffered, because reads of personal data come at thousands per second and must not
 * each cost a commit. `record` fixes the entry's seq and hash at once in memory, so the chain
 * order is the call order, and entries are stored in one transaction every `flushIntervalMs` or
 * `maxBatch` entries. `recordRead` goes further for API reads: identical reads (same chain,
 * actor, action, resource and detail) within one flush window become one entry whose detail
 * adds `reads` (how many, when more than one) and `lastReadAt` (epoch ms of the last); its `at`
 * is the first read's. Nothing a DPO asks is lost (who read what, how often, within 250 ms), and a
 * thousand lookups a second no longer cost a thousand hashes and rows. The window is 250 ms rather
 * than shorter because each DuckDB commit costs ~3 ms of CPU on 2 cores whatever it holds:
 * at 50 ms, the commits alone were ~34 µs of every lookup at 5,000/s; at 250 ms ~8. A chain's
 * open reads become entries before any other entry of that chain, so its order still follows
 * the calls. `recordDurable` resolves once its entry is stored: for mutations, whose 2xx
 * must mean that the audit entry is on disk. A failed write keeps its entries, in order, and
 * retries them: an entry is never dropped, since the chain in memory already counts it.
 *
 * @example
 *   const audit = await AuditLog.open(await DuckDbAuditStore.open(db), { clock });
 *   audit.record({ workspaceId: 'ws_1', actor: 'admin', action: 'GET /api/workspaces/:ws/profiles/:profileId',
 *     resource: '/api/workspaces/ws_1/profiles/p_1', detail: { status: 200, personalData: true } });
 *   await audit.recordDurable({ workspaceId: '*', actor: 'admin', action: 'POST /api/workspaces', resource: '/api/workspaces', detail: { status: 201 } });
 *   (await audit.verify('ws_1')).ok; // true
 *   await audit.close();
 */
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../platform/clock.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type AuditDetail = { [key: string]: JsonValue };

/** The chain of actions that belong to no workspace. */
export const SYSTEM_CHAIN = '*';
/** The prevHash of a chain's first entry. */
export const GENESIS_HASH = '0'.repeat(64);
/** Settings key prefix of the stored heads: `audit_head:<workspaceId>`. */
export const HEAD_SETTING_PREFIX = 'audit_head:';
/** The entry written at start-up when the table was ahead of its stored head (see `load`). */
export const HEAD_MISMATCH_ACTION = 'audit.head-mismatch';

export interface AuditEntry {
  workspaceId: string;
  /** 1, 2, 3... within the workspace's chain. */
  seq: number;
  /** Epoch milliseconds (an integer: it is hashed as written). */
  at: number;
  /** `admin`, `reader`, `anonymous` (a refused token) or `system`. */
  actor: string;
  /** What was done, e.g. `GET /api/workspaces/:ws/profiles/:profileId`. */
  action: string;
  /** What it was done to, e.g. `/api/workspaces/ws_1/profiles/p_1`. */
  resource: string;
  /** An object when written by `record`; read back as whatever JSON the store holds. */
  detail: JsonValue;
  prevHash: string;
  hash: string;
}

export interface AuditInput {
  workspaceId: string;
  actor: string;
  action: string;
  resource: string;
  /** Ids, statuses and names only: never a personal identifier in clear (see the file comment). */
  detail?: AuditDetail;
}

export interface AuditHead {
  seq: number;
  hash: string;
}

export type AuditProblemKind = 'edited' | 'deleted' | 'reordered' | 'truncated';

export interface AuditProblem {
  seq: number;
  kind: AuditProblemKind;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  /** Entries the table holds for the workspace. */
  entries: number;
  /** The table's last entry, null for an empty chain: note it elsewhere to check a later verify against. */
  head: AuditHead | null;
  /** In seq order; at most MAX_PROBLEMS of them. */
  problems: AuditProblem[];
  /** All the problems found, when more than `problems` lists. */
  problemCount: number;
}

/** One consistent view of a chain and its stored head, for verification. */
export interface AuditSnapshot {
  head: AuditHead | null;
  /** Entries with seq > afterSeq (null: from the start) in seq order. */
  page(afterSeq: number | null, limit: number): Promise<AuditEntry[]>;
}

/** Where the chains are kept. `append` must store entries and heads in one transaction. */
export interface AuditStore {
  append(entries: readonly AuditEntry[], heads: ReadonlyMap<string, AuditHead>): Promise<void>;
  /** `last`: each chain's last entry in the table; `stored`: the heads kept beside it. */
  heads(): Promise<{ last: Map<string, AuditHead>; stored: Map<string, AuditHead> }>;
  page(workspaceId: string, afterSeq: number | null, limit: number): Promise<AuditEntry[]>;
  snapshot<T>(workspaceId: string, fn: (view: AuditSnapshot) => Promise<T>): Promise<T>;
}

export interface AuditLogOptions {
  clock?: Clock;
  /** Longest wait before buffered entries are stored (default 250 ms; durable ones do not wait). */
  flushIntervalMs?: number;
  /** Buffered entries that trigger a write at once (default 500). */
  maxBatch?: number;
  /** Called when a background write fails (the entries are kept and retried). */
  onError?: (err: Error) => void;
}

export const MAX_PROBLEMS = 1000;
const VERIFY_PAGE = 5000;
const MAX_RETRY_MS = 5000;

/** JSON with object keys sorted at every level: one text per value, whatever the key order. */
export function canonicalJson(value: JsonValue): string {
  // Loops rather than map/filter/join: every API read is audited, so this runs per request.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i] as JsonValue);
    return `${out}]`;
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    let out = '{';
    for (const k of keys) {
      const v = value[k];
      // Like JSON.stringify, a key whose value is undefined is left out.
      if (v === undefined) continue;
      out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${canonicalJson(v)}`;
    }
    return `${out}}`;
  }
  // undefined (in an array) and non-finite numbers become null, as JSON.stringify writes them.
  return JSON.stringify(value) ?? 'null';
}

/** The hash an entry must carry: sha256 (hex) of the canonical JSON of every other field. */
export function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  return hashWithDetail(e, canonicalJson(e.detail));
}

/**
 * `entryHash` when the detail's canonical text is already known: the fields' canonical JSON
 * written directly, keys in sorted order (action, actor, at, detail, prevHash, resource, seq,
 * workspaceId), so the detail is not serialised twice.
 */
function hashWithDetail(e: Omit<AuditEntry, 'hash' | 'detail'>, detailText: string): string {
  const text = `{"action":${canonicalJson(e.action)},"actor":${canonicalJson(e.actor)},"at":${canonicalJson(e.at)},"detail":${detailText},`
    + `"prevHash":${canonicalJson(e.prevHash)},"resource":${canonicalJson(e.resource)},"seq":${canonicalJson(e.seq)},"workspaceId":${canonicalJson(e.workspaceId)}}`;
  return createHash('sha256').update(text).digest('hex');
}

/** Identical reads of one flush window, not yet an entry. */
interface OpenRead {
  input: AuditInput;
  detailText: string;
  at: number;
  lastAt: number;
  count: number;
}

interface Pending {
  entry: AuditEntry;
  durable: { resolve: () => void; reject: (err: Error) => void } | null;
}

export class AuditLog {
  /** Each chain's last entry, stored or still buffered. */
  private readonly chains = new Map<string, AuditHead>();
  private buffer: Pending[] = [];
  /** Reads not yet entries, by chain then by what makes two reads identical; in call order. */
  private readonly reads = new Map<string, Map<string, OpenRead>>();
  private recorded = 0;
  /** Open reads (each will be one entry), across chains. */
  private openReads = 0;
  private stored = 0;
  private writing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  /** 0 while writes succeed; else the delay before the next attempt (doubling up to MAX_RETRY_MS). */
  private retryMs = 0;
  private closed = false;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly maxBatch: number;
  private readonly onError: (err: Error) => void;

  private constructor(private readonly store: AuditStore, opts: AuditLogOptions) {
    this.clock = opts.clock ?? systemClock;
    this.intervalMs = opts.flushIntervalMs ?? 250;
    this.maxBatch = opts.maxBatch ?? 500;
    this.onError = opts.onError ?? (() => undefined);
  }

  /** Opens the log on `store`, each chain continuing where the stored one ends. */
  static async open(store: AuditStore, opts: AuditLogOptions = {}): Promise<AuditLog> {
    const log = new AuditLog(store, opts);
    await log.load();
    return log;
  }

  /**
   * Appends an entry to its workspace's chain; stored within `flushIntervalMs`. Returns it with
   * its seq and hash.
   *
   * @example
   *   audit.record({ workspaceId: 'ws_1', actor: 'reader', action: 'GET /api/workspaces/:ws/profiles/lookup',
   *     resource: '/api/workspaces/ws_1/profiles/lookup', detail: { status: 200, queryKeys: ['type', 'value'] } });
   */
  record(input: AuditInput): AuditEntry {
    return this.push(input, null).entry;
  }

  /** Like `record`, resolving once the entry is stored (rejecting if that write failed). */
  recordDurable(input: AuditInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.push(input, { resolve, reject });
    });
  }

  /**
   * Records an API read, coalesced with the identical reads of the same flush window (see the
   * file comment). The entry gets its seq and hash when the window closes, or before the next
   * other entry of its chain.
   *
   * @example
   *   audit.recordRead({ workspaceId: 'ws_1', actor: 'admin', action: 'GET /api/workspaces/:ws/profiles/lookup',
   *     resource: '/api/workspaces/ws_1/profiles/lookup', detail: { status: 200, queryKeys: ['type', 'value'] } });
   */
  recordRead(input: AuditInput): void {
    if (this.closed) throw new Error('audit log: record after close');
    const detailText = canonicalJson(input.detail ?? {});
    const at = Math.floor(this.clock.now());
    let chain = this.reads.get(input.workspaceId);
    if (!chain) {
      chain = new Map();
      this.reads.set(input.workspaceId, chain);
    }
    const key = `${input.actor}\u0000${input.action}\u0000${input.resource}\u0000${detailText}`;
    const open = chain.get(key);
    if (open) {
      open.count++;
      open.lastAt = at;
      return;
    }
    chain.set(key, { input, detailText, at, lastAt: at, count: 1 });
    this.openReads++;
    this.schedule(false);
  }

  /** Stores everything recorded before the call. */
  async flush(): Promise<void> {
    this.closeReads(null);
    const target = this.recorded;
    while (this.stored < target) await this.writeNext();
  }

  /** Stores what is buffered; recording afterwards is a programmer error. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.stored < this.recorded || this.openReads > 0) await this.flush();
    this.closed = true;
    this.clearTimer();
  }

  /** A page of a chain, oldest first: the entries after `afterSeq` (default: from the first). */
  async list(workspaceId: string, opts: { limit?: number; afterSeq?: number } = {}): Promise<AuditEntry[]> {
    await this.flush();
    return this.store.page(workspaceId, opts.afterSeq ?? null, opts.limit ?? 100);
  }

  /**
   * Re-reads a chain and its stored head from the store and checks every link.
   *
   * @example
   *   const v = await audit.verify('ws_1');
   *   if (!v.ok) for (const p of v.problems) console.log(p.seq, p.kind, p.message);
   */
  async verify(workspaceId: string): Promise<AuditVerification> {
    await this.flush();
    return this.store.snapshot(workspaceId, async (view) => {
      const verifier = new ChainVerifier();
      let after: number | null = null;
      for (;;) {
        const page = await view.page(after, VERIFY_PAGE);
        for (const e of page) verifier.add(e);
        const last = page[page.length - 1];
        if (!last || page.length < VERIFY_PAGE) break;
        after = last.seq;
      }
      return verifier.finish(view.head);
    });
  }

  /**
   * Each chain continues after the stored head when it is at or beyond the table's end: after a
   * truncation, continuing from the table would reuse the removed seqs and move the head over
   * them, erasing the evidence; continuing from the head leaves a gap that verify keeps reporting.
   * When the table is ahead of its head (entries added behind Ensemble's back, or the head
   * changed), the new seqs must follow the table's, so an entry saying so is written first:
   * otherwise the next head would cover the foreign entries.
   */
  private async load(): Promise<void> {
    const { last, stored } = await this.store.heads();
    for (const ws of new Set([...last.keys(), ...stored.keys()])) {
      const tail = last.get(ws);
      const head = stored.get(ws);
      if (head && (!tail || head.seq >= tail.seq)) {
        this.chains.set(ws, head);
      } else if (tail) {
        this.chains.set(ws, tail);
        this.record({
          workspaceId: ws, actor: 'system', action: HEAD_MISMATCH_ACTION, resource: SYSTEM_CHAIN,
          detail: { storedHeadSeq: head?.seq ?? null, lastSeq: tail.seq },
        });
      }
    }
    await this.flush();
  }

  private push(input: AuditInput, durable: Pending['durable']): Pending {
    if (this.closed) throw new Error('audit log: record after close');
    this.closeReads(input.workspaceId);
    return this.append(input, canonicalJson(input.detail ?? {}), Math.floor(this.clock.now()), durable);
  }

  /** Turns the open reads of one chain (or of all: null) into entries, in the order they were opened. */
  private closeReads(workspaceId: string | null): void {
    if (this.openReads === 0) return;
    const chains = workspaceId === null ? [...this.reads.keys()] : [workspaceId];
    for (const ws of chains) {
      const chain = this.reads.get(ws);
      if (!chain) continue;
      this.reads.delete(ws);
      for (const r of chain.values()) {
        this.openReads--;
        if (r.count === 1) {
          this.append(r.input, r.detailText, r.at, null);
          continue;
        }
        const detail: AuditDetail = { ...(r.input.detail ?? {}), reads: r.count, lastReadAt: r.lastAt };
        this.append({ ...r.input, detail }, canonicalJson(detail), r.at, null);
      }
    }
  }

  private append(input: AuditInput, detailText: string, at: number, durable: Pending['durable']): Pending {
    const prev = this.chains.get(input.workspaceId);
    const body: Omit<AuditEntry, 'hash'> = {
      workspaceId: input.workspaceId,
      seq: (prev?.seq ?? 0) + 1,
      at,
      actor: input.actor,
      action: input.action,
      resource: input.resource,
      // Round-tripped so the entry in memory is the one read back (no undefined, no NaN).
      detail: JSON.parse(detailText) as JsonValue,
      prevHash: prev?.hash ?? GENESIS_HASH,
    };
    const entry: AuditEntry = { ...body, hash: hashWithDetail(body, detailText) };
    this.chains.set(entry.workspaceId, { seq: entry.seq, hash: entry.hash });
    const pending: Pending = { entry, durable };
    this.buffer.push(pending);
    this.recorded++;
    this.schedule(durable !== null);
    return pending;
  }

  /**
   * A durable entry is written on the next turn of the loop rather than after the interval: a
   * mutation's answer waits for it, and mutations are rare enough that a commit each (shared by
   * whatever else is buffered) costs nothing. While writes fail, retries back off.
   */
  private schedule(urgent: boolean): void {
    const delay = urgent ? 0 : this.retryMs > 0 ? this.retryMs : this.buffer.length + this.openReads >= this.maxBatch ? 0 : this.intervalMs;
    const due = Date.now() + delay;
    if (this.timer && this.timerDue <= due) return;
    this.clearTimer();
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDue = Infinity;
      this.writeNext().catch((err: unknown) => this.onError(toError(err)));
    }, delay);
    // Not unref'd: a pending write keeps the process alive for the few ms until it is stored, and
    // a recordDurable caller waits for this very timer.
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
  }

  /** Writes the whole buffer, or joins the write in progress; one write at a time keeps seq order. */
  private writeNext(): Promise<void> {
    if (this.writing) return this.writing;
    this.closeReads(null);
    if (this.buffer.length === 0) return Promise.resolve();
    const batch = this.buffer;
    this.buffer = [];
    this.writing = this.write(batch).finally(() => {
      this.writing = null;
      if ((this.buffer.length > 0 || this.openReads > 0) && !this.closed) this.schedule(this.buffer.some((p) => p.durable !== null));
    });
    return this.writing;
  }

  private async write(batch: Pending[]): Promise<void> {
    const heads = new Map<string, AuditHead>();
    for (const { entry } of batch) heads.set(entry.workspaceId, { seq: entry.seq, hash: entry.hash });
    try {
      await this.store.append(batch.map((p) => p.entry), heads);
    } catch (err) {
      const error = toError(err);
      // Back in front, in order: later entries already chain onto these.
      this.buffer = batch.concat(this.buffer);
      this.retryMs = Math.min(this.retryMs > 0 ? this.retryMs * 2 : this.intervalMs, MAX_RETRY_MS);
      for (const p of batch) {
        p.durable?.reject(error);
        p.durable = null;
      }
      throw error;
    }
    this.retryMs = 0;
    this.stored += batch.length;
    for (const p of batch) p.durable?.resolve();
  }
}

/**
 * Checks a chain entry by entry, in seq order, then against its stored head. Storage-agnostic, so
 * the same rules apply whatever the store; `verify` feeds it page by page.
 */
export class ChainVerifier {
  private prev: AuditEntry | null = null;
  private prevHashOk = true;
  private count = 0;
  private readonly found: AuditProblem[] = [];
  private problemCount = 0;

  add(e: AuditEntry): void {
    this.count++;
    const prev = this.prev;
    const expected = (prev?.seq ?? 0) + 1;
    const hashOk = entryHash(e) === e.hash;
    if (!hashOk) this.problem(e.seq, 'edited', `Entry ${e.seq} does not match its hash: a field was changed after it was written.`);
    if (e.seq > expected) {
      this.problem(expected, 'deleted', e.seq === expected + 1 ? `Entry ${expected} is missing.` : `Entries ${expected} to ${e.seq - 1} are missing.`);
    } else if (e.seq < expected) {
      // Seqs are unique and read in order, so this is a first entry numbered below 1.
      this.problem(e.seq, 'edited', `Entry ${e.seq} has a seq the audit log never writes.`);
    } else if (hashOk && !this.linksTo(e.prevHash, prev)) {
      // Both entries match their own hashes, yet do not link: the predecessor was rewritten with
      // a recomputed hash, or entries were moved.
      this.problem(e.seq, 'reordered', `Entry ${e.seq} does not follow entry ${expected - 1}: that entry was rewritten with a recomputed hash, or entries were reordered or inserted.`);
    }
    if (e.action === HEAD_MISMATCH_ACTION && e.actor === 'system') {
      this.problem(e.seq, 'edited', `At a start-up the table went beyond its stored head (${JSON.stringify(e.detail)}): entries were added outside the audit log, or the head was changed.`);
    }
    this.prev = e;
    this.prevHashOk = hashOk;
  }

  finish(head: AuditHead | null): AuditVerification {
    const last = this.prev;
    if (head === null) {
      if (last) this.problem(last.seq, 'truncated', 'The chain has entries but no stored head: its end cannot be checked (the head was removed).');
    } else if (!last || head.seq > last.seq) {
      const from = (last?.seq ?? 0) + 1;
      this.problem(from, 'truncated', from === head.seq ? `Entry ${from}, the last one, is missing.` : `Entries ${from} to ${head.seq}, the last ones, are missing.`);
    } else if (head.seq < last.seq) {
      this.problem(head.seq + 1, 'edited', `Entries after the stored head (seq ${head.seq}) were not written by the audit log, or the head was changed.`);
    } else if (!this.linksTo(head.hash, last)) {
      this.problem(last.seq, 'edited', `Entry ${last.seq}, the last one, differs from the stored head: it was rewritten with a recomputed hash.`);
    }
    const problems = this.found.sort((a, b) => a.seq - b.seq);
    return {
      ok: this.problemCount === 0, entries: this.count, head: last ? { seq: last.seq, hash: last.hash } : null,
      problems, problemCount: this.problemCount,
    };
  }

  /**
   * Whether `hash` (a successor's prevHash, or the stored head) designates `prev`. Its recomputed
   * hash counts too when it failed its own check, so one edited entry is one problem, not two:
   * its content changed (stored hash still the original), or its hash field did (content intact).
   */
  private linksTo(hash: string, prev: AuditEntry | null): boolean {
    if (!prev) return hash === GENESIS_HASH;
    return hash === prev.hash || (!this.prevHashOk && hash === entryHash(prev));
  }

  private problem(seq: number, kind: AuditProblemKind, message: string): void {
    this.problemCount++;
    if (this.found.length < MAX_PROBLEMS) this.found.push({ seq, kind, message });
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
