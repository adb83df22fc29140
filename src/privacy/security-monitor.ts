/**
 * Security events (GDPR arts. 32–33): what the admin API sees that may be the start of a breach.
 * The audit hook shows the monitor every call it records; two patterns become events:
 *
 * - `auth-failure-spike`: more than `authFailureThreshold` refused tokens (401) within
 *   `authFailureWindowSeconds`, from anyone (a token guessed, or a revoked one still in use). It
 *   belongs to the system chain `*`, like the refused calls themselves.
 * - `export-volume`: more than `exportReadThreshold` successful reads of personal data (profiles,
 *   lookups, access bundles, segment member lists...) by one token in one workspace within
 *   `exportWindowSeconds`: an export at a scale nobody does by hand.
 *
 * Each is recorded once per window, not once per call: when the threshold is crossed the event is
 * written at once (with what the window held), then, for one window length, the calls that follow
 * only update its counts (`ongoing` until the window ends). An attack that lasts makes one event per
 * window. Each detection is a `security_events` row, `ensemble_security_events_total{kind}`, a
 * warning in the log and an audit entry (actor `system`, action `security.<kind>`).
 *
 * The event says how many people an export may concern (`distinctProfiles`: the distinct profiles
 * and access bundles read), as a number: it never holds their ids, so a breach record built on it
 * is not a new copy of the data. Lookups name nobody the hook can see (the identifier is not kept),
 * so they are counted apart, as at most one person each.
 *
 * Memory is bounded: a ring of the last threshold + 1 call times per tracked counter, at most
 * MAX_TRACKED_ACTORS export counters (the least recently active is dropped first), and at most
 * MAX_EPISODE_SUBJECTS distinct profiles per event (beyond it `distinctCapped` says "at least").
 *
 * @example
 *   const monitor = new SecurityMonitor({ store, audit, metrics, logger, clock, config: config.security });
 *   registerAuditHook(scope, audit, { catalog, monitor });
 *   monitor.observe({ workspaceId: '*', actor: 'anonymous', action: 'GET /api/workspaces', status: 401, personalData: false });
 *   await monitor.flush(); // counts of events still in their window are stored
 */
import type { AuditDetail, AuditInput, AuditLog, JsonValue } from './audit-log.js';
import { SYSTEM_CHAIN } from './audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { SecurityConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import { newId } from '../platform/ids.js';

export const SECURITY_EVENT_KINDS = ['auth-failure-spike', 'export-volume'] as const;
export type SecurityEventKind = (typeof SECURITY_EVENT_KINDS)[number];

export interface SecurityEvent {
  /** The workspace whose data was read, or `*` (auth-failure spikes). */
  workspaceId: string;
  id: string;
  kind: SecurityEventKind;
  detectedAt: number;
  /** Counts, thresholds and times only: never an id of a person. */
  detail: AuditDetail;
}

/** What the audit hook knows about one call, as its audit entry records it. */
export interface SecurityObservation {
  workspaceId: string;
  /** `admin`, `reader`, `anonymous`... */
  actor: string;
  /** Method and route pattern, e.g. `GET /api/workspaces/:ws/profiles/:profileId`. */
  action: string;
  status: number;
  /** The answer held personal data (the audit entry's `personalData`). */
  personalData: boolean;
  /** The one person the call was about, as the audit entry names them (a pseudonym), when it names one. */
  subject?: string;
  /** Epoch ms; default: the monitor's clock. */
  at?: number;
}

export interface SecurityEventSink {
  saveEvent(event: SecurityEvent): Promise<void>;
}

export interface SecurityMonitorDeps {
  store: SecurityEventSink;
  audit: Pick<AuditLog, 'record'>;
  metrics: Pick<Metrics, 'securityEvents'>;
  logger: Pick<Logger, 'warn' | 'error'>;
  clock: Clock;
  config: SecurityConfig;
}

export const MAX_TRACKED_ACTORS = 64;
export const MAX_EPISODE_SUBJECTS = 100_000;

/** What a personal-data read returned, for the event's breakdown. */
const READ_KINDS = ['profile', 'lookup', 'bundle', 'members', 'other'] as const;
type ReadKind = (typeof READ_KINDS)[number];

/**
 * The times of the last `capacity` calls (and, for reads, what they were): "more than
 * capacity − 1 within the window" is "the ring is full and its oldest entry is in the window".
 */
class Recent {
  private readonly times: Float64Array;
  private readonly kinds: Uint8Array;
  private readonly subjects: Array<string | undefined>;
  private head = 0;
  private size = 0;

  constructor(private readonly capacity: number, withSubjects: boolean) {
    this.times = new Float64Array(capacity);
    this.kinds = new Uint8Array(withSubjects ? capacity : 0);
    this.subjects = withSubjects ? new Array<string | undefined>(capacity) : [];
  }

  push(at: number, kind = 0, subject?: string): void {
    this.times[this.head] = at;
    if (this.kinds.length > 0) {
      this.kinds[this.head] = kind;
      this.subjects[this.head] = subject;
    }
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  overflowing(since: number): boolean {
    return this.size === this.capacity && this.oldest() >= since;
  }

  /** Once full, `head` is the oldest slot. */
  oldest(): number {
    return this.times[this.size === this.capacity ? this.head : 0] ?? 0;
  }

  /** Kinds and subjects of every entry (for reads). */
  entries(): Array<{ kind: number; subject: string | undefined }> {
    const out: Array<{ kind: number; subject: string | undefined }> = [];
    for (let i = 0; i < this.size; i++) out.push({ kind: this.kinds[i] ?? 0, subject: this.subjects[i] });
    return out;
  }
}

/** An event within its window: later calls update its counts. */
interface Episode {
  event: SecurityEvent;
  endsAt: number;
  count: number;
  lastAt: number;
  byKind: Record<ReadKind, number>;
  /** Export episodes: the distinct subjects so far. */
  subjects: Set<string> | null;
  capped: boolean;
  dirty: boolean;
}

interface Counter {
  recent: Recent;
  episode: Episode | null;
}

export class SecurityMonitor {
  private readonly auth: Counter;
  /** `<workspaceId> <actor>` → counter; Map order is least recently active first. */
  private readonly exports = new Map<string, Counter>();
  private writes: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly deps: SecurityMonitorDeps) {
    this.auth = { recent: new Recent(deps.config.authFailureThreshold + 1, false), episode: null };
  }

  /** Called by the audit hook for every call it records; never throws, never waits. */
  observe(o: SecurityObservation): void {
    if (this.closed) return;
    const at = o.at ?? this.deps.clock.now();
    if (o.status === 401) this.authFailure(at);
    else if (o.personalData && o.status < 400 && isRead(o.action)) this.personalRead(o, at);
  }

  /** Stores the current counts of every event still in (or just past) its window; resolves once written. */
  async flush(): Promise<void> {
    const now = this.deps.clock.now();
    this.settle(this.auth, now);
    if (this.auth.episode) this.save(this.auth.episode);
    for (const c of this.exports.values()) {
      this.settle(c, now);
      if (c.episode) this.save(c.episode);
    }
    await this.writes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
  }

  private authFailure(at: number): void {
    const c = this.auth;
    this.settle(c, at);
    c.recent.push(at);
    if (c.episode) return this.extend(c.episode, at, 'other');
    const windowMs = this.deps.config.authFailureWindowSeconds * 1000;
    if (!c.recent.overflowing(at - windowMs)) return;
    const count = this.deps.config.authFailureThreshold + 1;
    c.episode = this.open(SYSTEM_CHAIN, 'auth-failure-spike', at, windowMs, count, c.recent.oldest(), emptyKinds(), null, {
      threshold: this.deps.config.authFailureThreshold, windowSeconds: this.deps.config.authFailureWindowSeconds,
    });
  }

  private personalRead(o: SecurityObservation, at: number): void {
    const key = `${o.workspaceId} ${o.actor}`;
    const c = this.counter(key);
    this.settle(c, at);
    const kind = readKind(o.action);
    const subject = o.subject === undefined ? undefined : `${kind}:${o.subject}`;
    c.recent.push(at, READ_KINDS.indexOf(kind), subject);
    if (c.episode) return this.extend(c.episode, at, kind, subject);
    const windowMs = this.deps.config.exportWindowSeconds * 1000;
    if (!c.recent.overflowing(at - windowMs)) return;
    // The window's reads are the start of the export: the event counts them.
    const byKind = emptyKinds();
    const subjects = new Set<string>();
    for (const e of c.recent.entries()) {
      byKind[READ_KINDS[e.kind] ?? 'other']++;
      if (e.subject !== undefined) subjects.add(e.subject);
    }
    c.episode = this.open(o.workspaceId, 'export-volume', at, windowMs, this.deps.config.exportReadThreshold + 1, c.recent.oldest(), byKind, subjects, {
      actor: o.actor, threshold: this.deps.config.exportReadThreshold, windowSeconds: this.deps.config.exportWindowSeconds,
    });
  }

  /** The export counter of one actor in one workspace, marked most recently active. */
  private counter(key: string): Counter {
    let c = this.exports.get(key);
    if (c) {
      this.exports.delete(key);
    } else {
      if (this.exports.size >= MAX_TRACKED_ACTORS) {
        const [oldestKey, oldest] = this.exports.entries().next().value as [string, Counter];
        // Its event, if any, keeps the counts it reached.
        if (oldest.episode) this.save(oldest.episode);
        this.exports.delete(oldestKey);
      }
      c = { recent: new Recent(this.deps.config.exportReadThreshold + 1, true), episode: null };
    }
    this.exports.set(key, c);
    return c;
  }

  private open(
    workspaceId: string, kind: SecurityEventKind, at: number, windowMs: number, count: number, firstAt: number,
    byKind: Record<ReadKind, number>, subjects: Set<string> | null, fixed: AuditDetail,
  ): Episode {
    const event: SecurityEvent = { workspaceId, id: newId('sev'), kind, detectedAt: at, detail: fixed };
    const episode: Episode = { event, endsAt: at + windowMs, count, lastAt: at, byKind, subjects, capped: false, dirty: true };
    this.trimSubjects(episode);
    event.detail = detailOf(episode, firstAt, true);
    const { logger, metrics, audit } = this.deps;
    metrics.securityEvents.inc({ kind });
    // Counts and ids of Ensemble objects only: the log must not carry personal data.
    logger.warn({ securityEvent: { id: event.id, kind, workspaceId, ...countsOf(event.detail) } }, 'security event detected: assess whether it is a personal data breach');
    try {
      audit.record({
        workspaceId, actor: 'system', action: `security.${kind}`, resource: `security-event/${event.id}`,
        detail: { eventId: event.id, ...countsOf(event.detail) },
      });
    } catch (err) {
      // Only after the audit log closed (shutdown): the event row is still written.
      logger.error({ err: { name: (err as Error).name, message: (err as Error).message } }, 'security event not audited');
    }
    this.save(episode);
    return episode;
  }

  private extend(e: Episode, at: number, kind: ReadKind, subject?: string): void {
    e.count++;
    e.lastAt = at;
    e.byKind[kind]++;
    if (subject !== undefined && e.subjects && !e.subjects.has(subject)) {
      if (e.subjects.size < MAX_EPISODE_SUBJECTS) e.subjects.add(subject);
      else e.capped = true;
    }
    e.dirty = true;
  }

  /** Ends the counter's episode once its window is over: its final counts are stored. */
  private settle(c: Counter, now: number): void {
    const e = c.episode;
    if (!e || now < e.endsAt) return;
    c.episode = null;
    e.dirty = true;
    this.save(e, false);
  }

  private trimSubjects(e: Episode): void {
    if (!e.subjects || e.subjects.size <= MAX_EPISODE_SUBJECTS) return;
    e.capped = true;
    const keep = [...e.subjects].slice(0, MAX_EPISODE_SUBJECTS);
    e.subjects = new Set(keep);
  }

  /** Queues a write of the event as it stands; writes are serialised so the last state wins. */
  private save(e: Episode, ongoing = true): void {
    if (!e.dirty) return;
    e.dirty = false;
    const firstAt = typeof e.event.detail.firstAt === 'number' ? e.event.detail.firstAt : e.event.detectedAt;
    e.event.detail = detailOf(e, firstAt, ongoing);
    const snapshot: SecurityEvent = { ...e.event, detail: { ...e.event.detail } };
    this.writes = this.writes.then(() => this.deps.store.saveEvent(snapshot)).catch((err: unknown) => {
      this.deps.logger.error({ err: { name: (err as Error).name, message: (err as Error).message }, eventId: snapshot.id }, 'security event not stored');
    });
  }
}

/**
 * The observation of an audited call, from the entry the hook built: the subject is the profile
 * the route names (already pseudonymised there), or the rights request of a bundle (one person).
 */
export function observationOf(input: AuditInput, status: number): SecurityObservation {
  const detail = input.detail ?? {};
  const params = detail.params;
  let subject: string | undefined;
  if (params !== null && typeof params === 'object' && !Array.isArray(params)) {
    const named = params.profileId ?? (input.action.includes('/profiles/:id') || input.action.endsWith('/bundle') ? params.id : undefined);
    if (typeof named === 'string') subject = named;
  }
  return {
    workspaceId: input.workspaceId, actor: input.actor, action: input.action, status, personalData: detail.personalData === true,
    ...(subject === undefined ? {} : { subject }),
  };
}

function isRead(action: string): boolean {
  return action.startsWith('GET ') || action.startsWith('HEAD ');
}

function readKind(action: string): ReadKind {
  if (action.endsWith('/profiles/lookup')) return 'lookup';
  if (action.includes('/profiles/')) return 'profile';
  if (action.endsWith('/privacy/requests/:id/bundle')) return 'bundle';
  if (action.endsWith('/members')) return 'members';
  return 'other';
}

function emptyKinds(): Record<ReadKind, number> {
  return { profile: 0, lookup: 0, bundle: 0, members: 0, other: 0 };
}

function detailOf(e: Episode, firstAt: number, ongoing: boolean): AuditDetail {
  const fixed: AuditDetail = { ...e.event.detail };
  for (const k of ['count', 'reads', 'distinctProfiles', 'distinctCapped', 'byKind', 'firstAt', 'lastAt', 'ongoing']) delete fixed[k];
  const times = { firstAt, lastAt: e.lastAt, ongoing };
  if (e.event.kind === 'auth-failure-spike') return { ...fixed, count: e.count, ...times };
  return {
    ...fixed, reads: e.count, distinctProfiles: e.subjects?.size ?? 0, distinctCapped: e.capped,
    byKind: { ...e.byKind } as { [k: string]: JsonValue }, ...times,
  };
}

/** The numbers of a detail worth a log line or an audit entry. */
function countsOf(detail: AuditDetail): AuditDetail {
  const out: AuditDetail = {};
  for (const k of ['count', 'reads', 'distinctProfiles', 'threshold', 'windowSeconds', 'actor'] as const) {
    const v = detail[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
