/**
 * Personal data breach records (GDPR art. 33): what happened, to which data and roughly how many
 * people, what is being done, and the deadline. The supervisory authority must be notified within
 * 72 hours of the controller becoming aware (`awareAt`), so `notifyBy = awareAt + 72 h`; an open
 * breach past it is `overdue`, and a late notification must give the reasons for the delay.
 *
 * Status: `open` → `notified` (with `notifiedAt`) → `closed`, or `open` → `closed` directly when the
 * breach is unlikely to result in a risk to people: art. 33(5) still asks for it to be documented,
 * so closing without notifying needs a note saying why. Details may be completed after notifying
 * (art. 33(4): information in phases). Every change is in the record's history (what changed and
 * when, not the old text), and every call in the audit log.
 *
 * A breach may be built on security events (security-monitor.ts): when the numbers of people or
 * records are not given, they are estimated from those events, and marked as estimates.
 *
 * @example
 *   const breaches = new BreachService({ store, monitor, now: () => clock.now() });
 *   const b = await breaches.create('ws_1', { nature: 'Export with a leaked admin token', categories: ['contact'], measures: 'Token rotated.', securityEventIds: ['sev_1'] });
 *   breachView(b, clock.now()).hoursLeft; // 72
 *   await breaches.update('ws_1', b.id, { notifiedAt: '2026-06-02T09:00:00Z' });
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { EnsembleError } from '../protocol/errors.js';
import { DATA_CATEGORIES, type DataCategory } from '../protocol/privacy.js';
import { newId } from '../platform/ids.js';
import { DATA_SUBJECTS, type DataSubject } from './register.js';
import type { SecurityEvent, SecurityMonitor } from './security-monitor.js';
import { SYSTEM_CHAIN } from './audit-log.js';

export const BREACH_STATUSES = ['open', 'notified', 'closed'] as const;
export type BreachStatus = (typeof BREACH_STATUSES)[number];

/** Art. 33(1): "not later than 72 hours after having become aware of it". */
export const NOTIFY_WITHIN_MS = 72 * 3_600_000;
/** Times sent by a client may run a little ahead of ours without being "in the future". */
const CLOCK_SKEW_MS = 60_000;

export interface BreachTrailEntry {
  at: number;
  status: BreachStatus;
  note: string;
  /** The fields a change set (their names, not their values). */
  changed: string[];
}

export interface Breach {
  workspaceId: string;
  id: string;
  status: BreachStatus;
  /** When the first sign appeared: the earliest linked security event, else `awareAt`. */
  detectedAt: number;
  /** When the controller became aware: the 72 hours run from here. */
  awareAt: number;
  notifyBy: number;
  nature: string;
  categories: DataCategory[];
  dataSubjects: DataSubject[];
  approxPeople: number | null;
  peopleEstimated: boolean;
  approxRecords: number | null;
  recordsEstimated: boolean;
  /** Art. 33(3)(c); null until someone describes them. */
  consequences: string | null;
  measures: string;
  /** Art. 34: whether people must be told; null while not assessed. */
  highRisk: boolean | null;
  delayReason: string | null;
  securityEventIds: string[];
  notifiedAt: number | null;
  closedAt: number | null;
  history: BreachTrailEntry[];
}

const time = (description: string) => Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}', maxLength: 40, description: `${description} ISO 8601 date and time, e.g. \`2026-06-01T14:30:00Z\`.` });
const Categories = Type.Array(Type.Union(DATA_CATEGORIES.map((c) => Type.Literal(c))), { minItems: 1, maxItems: 16, uniqueItems: true });
const Subjects = Type.Array(Type.Union(DATA_SUBJECTS.map((s) => Type.Literal(s))), { maxItems: 16, uniqueItems: true });
const Count = Type.Integer({ minimum: 0, maximum: 10_000_000_000 });
const text = (max: number, description: string) => Type.String({ minLength: 1, maxLength: max, description });

export const BreachInput = Type.Object({
  nature: text(5000, 'What happened (art. 33(3)(a)): how data was exposed, lost or altered. No personal data, please.'),
  awareAt: Type.Optional(time('When the controller became aware of the breach (default: now); the 72 hours run from it.')),
  categories: Categories,
  dataSubjects: Type.Optional(Subjects),
  approxPeople: Type.Optional(Count),
  approxRecords: Type.Optional(Count),
  consequences: Type.Optional(text(5000, 'The likely consequences for the people concerned (art. 33(3)(c)).')),
  measures: text(5000, 'Measures taken or proposed, including to mitigate the effects (art. 33(3)(d)).'),
  highRisk: Type.Optional(Type.Boolean({ description: 'Likely to result in a high risk to people: they must be told too (art. 34).' })),
  securityEventIds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100, uniqueItems: true })),
  note: Type.Optional(Type.String({ maxLength: 2000 })),
}, { additionalProperties: false });
export type BreachInputT = Static<typeof BreachInput>;

export const BreachPatch = Type.Object({
  nature: Type.Optional(text(5000, 'What happened.')),
  categories: Type.Optional(Categories),
  dataSubjects: Type.Optional(Subjects),
  approxPeople: Type.Optional(Count),
  approxRecords: Type.Optional(Count),
  consequences: Type.Optional(text(5000, 'The likely consequences.')),
  measures: Type.Optional(text(5000, 'Measures taken or proposed.')),
  highRisk: Type.Optional(Type.Boolean()),
  delayReason: Type.Optional(text(5000, 'Why the notification came after the 72 hours (art. 33(1)).')),
  notifiedAt: Type.Optional(time('When the supervisory authority was notified: the breach becomes `notified`.')),
  status: Type.Optional(Type.Union([Type.Literal('notified'), Type.Literal('closed')], { description: '`notified` (notifiedAt defaults to now) or `closed` (final).' })),
  note: Type.Optional(Type.String({ maxLength: 2000, description: 'For the history; required to close a breach that was never notified (why it need not be).' })),
}, { additionalProperties: false, minProperties: 1 });
export type BreachPatchT = Static<typeof BreachPatch>;

const Iso = Type.String({ format: 'date-time' });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const BreachView = Type.Object({
  id: Type.String(),
  status: Type.Union(BREACH_STATUSES.map((s) => Type.Literal(s))),
  detectedAt: Iso,
  awareAt: Iso,
  notifyBy: Iso,
  hoursLeft: Type.Union([Type.Number(), Type.Null()], { description: 'Hours until notifyBy while open (negative once overdue); null once notified or closed.' }),
  overdue: Type.Boolean({ description: 'Open and past notifyBy.' }),
  notifiedAt: Nullable(Iso),
  notifiedLate: Type.Boolean(),
  closedAt: Nullable(Iso),
  nature: Type.String(),
  categories: Type.Array(Type.String()),
  dataSubjects: Type.Array(Type.String()),
  approxPeople: Nullable(Type.Integer()),
  peopleEstimated: Type.Boolean({ description: 'approxPeople was estimated from the linked security events.' }),
  approxRecords: Nullable(Type.Integer()),
  recordsEstimated: Type.Boolean(),
  consequences: Nullable(Type.String()),
  measures: Type.String(),
  highRisk: Nullable(Type.Boolean()),
  delayReason: Nullable(Type.String()),
  securityEventIds: Type.Array(Type.String()),
  history: Type.Array(Type.Object({ at: Iso, status: Type.String(), note: Type.String(), changed: Type.Array(Type.String()) })),
  notification: Type.String({ description: 'Where to get the draft notification to the supervisory authority.' }),
});
export type BreachViewT = Static<typeof BreachView>;

export const SecurityEventView = Type.Object({
  id: Type.String(),
  workspaceId: Type.String({ description: 'The workspace, or `*` for events of the whole server (auth-failure spikes).' }),
  kind: Type.String({ description: '`auth-failure-spike` or `export-volume`.' }),
  detectedAt: Iso,
  detail: Type.Record(Type.String(), Type.Unknown(), { description: 'Counts, thresholds and times (epoch ms): never an id of a person.' }),
});

export function breachView(b: Breach, now: number): BreachViewT {
  const iso = (ms: number) => new Date(ms).toISOString();
  const open = b.status === 'open';
  return {
    id: b.id, status: b.status, detectedAt: iso(b.detectedAt), awareAt: iso(b.awareAt), notifyBy: iso(b.notifyBy),
    hoursLeft: open ? Math.round((b.notifyBy - now) / 360_000) / 10 : null,
    overdue: open && now > b.notifyBy,
    notifiedAt: b.notifiedAt === null ? null : iso(b.notifiedAt), notifiedLate: b.notifiedAt !== null && b.notifiedAt > b.notifyBy,
    closedAt: b.closedAt === null ? null : iso(b.closedAt),
    nature: b.nature, categories: b.categories, dataSubjects: b.dataSubjects,
    approxPeople: b.approxPeople, peopleEstimated: b.peopleEstimated, approxRecords: b.approxRecords, recordsEstimated: b.recordsEstimated,
    consequences: b.consequences, measures: b.measures, highRisk: b.highRisk, delayReason: b.delayReason, securityEventIds: b.securityEventIds,
    history: b.history.map((h) => ({ at: iso(h.at), status: h.status, note: h.note, changed: h.changed })),
    notification: `/api/workspaces/${encodeURIComponent(b.workspaceId)}/privacy/breaches/${encodeURIComponent(b.id)}/notification`,
  };
}

export function securityEventView(e: SecurityEvent): Static<typeof SecurityEventView> {
  return { id: e.id, workspaceId: e.workspaceId, kind: e.kind, detectedAt: new Date(e.detectedAt).toISOString(), detail: e.detail };
}

/** What the linked security events say about the scale, for the notification's art. 33(3)(a). */
export interface Estimate {
  /** Distinct profiles and bundles read, plus lookups (each at most one person); null without export events. */
  people: number | null;
  /** Personal-data answers read; null without export events. */
  records: number | null;
  /** Some event stopped counting distinct profiles: `people` is a floor. */
  atLeast: boolean;
  /** Segment member lists read: their members are not in `people`. */
  memberLists: number;
  /** Export events the figures come from. */
  from: string[];
}

export function estimateFromEvents(events: readonly SecurityEvent[]): Estimate {
  const out: Estimate = { people: null, records: null, atLeast: false, memberLists: 0, from: [] };
  for (const e of events) {
    if (e.kind !== 'export-volume') continue;
    const d = e.detail;
    const byKind = d.byKind !== null && typeof d.byKind === 'object' && !Array.isArray(d.byKind) ? d.byKind : {};
    out.people = (out.people ?? 0) + num(d.distinctProfiles) + num(byKind.lookup);
    out.records = (out.records ?? 0) + num(d.reads);
    out.memberLists += num(byKind.members);
    if (d.distinctCapped === true) out.atLeast = true;
    out.from.push(e.id);
  }
  return out;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}

export interface BreachStore {
  saveBreach(b: Breach): Promise<void>;
  getBreach(workspaceId: string, id: string): Promise<Breach | undefined>;
  listBreaches(workspaceId: string, limit: number): Promise<Breach[]>;
  events(workspaceId: string, limit: number): Promise<SecurityEvent[]>;
  eventsByIds(workspaceIds: readonly string[], ids: readonly string[]): Promise<SecurityEvent[]>;
}

export interface BreachServiceDeps {
  store: BreachStore;
  /** Flushed before events are read, so counts of events still in their window are current. */
  monitor: Pick<SecurityMonitor, 'flush'>;
  now(): number;
}

export class BreachService {
  constructor(private readonly deps: BreachServiceDeps) {}

  async get(workspaceId: string, id: string): Promise<Breach> {
    const b = await this.deps.store.getBreach(workspaceId, id);
    if (!b) throw new EnsembleError('ENSEMBLE_ERR_BREACH_NOT_FOUND');
    return b;
  }

  list(workspaceId: string, limit: number): Promise<Breach[]> {
    return this.deps.store.listBreaches(workspaceId, limit);
  }

  /** The workspace's security events, newest first; `*` gives those of the whole server. */
  async securityEvents(workspaceId: string, limit: number): Promise<SecurityEvent[]> {
    await this.deps.monitor.flush();
    return this.deps.store.events(workspaceId, limit);
  }

  /** The security events a breach is built on (of its workspace or of the whole server). */
  async linkedEvents(b: Pick<Breach, 'workspaceId' | 'securityEventIds'>): Promise<SecurityEvent[]> {
    if (b.securityEventIds.length === 0) return [];
    await this.deps.monitor.flush();
    return this.deps.store.eventsByIds([b.workspaceId, SYSTEM_CHAIN], b.securityEventIds);
  }

  async create(workspaceId: string, input: BreachInputT): Promise<Breach> {
    const now = this.deps.now();
    const awareAt = input.awareAt === undefined ? now : pastTime(input.awareAt, now, 'awareAt');
    const ids = input.securityEventIds ?? [];
    const events = await this.linkedEvents({ workspaceId, securityEventIds: ids });
    const unknown = ids.filter((id) => !events.some((e) => e.id === id));
    if (unknown.length > 0) throw new EnsembleError('ENSEMBLE_ERR_SECURITY_EVENT_NOT_FOUND', undefined, { unknown });
    const estimate = estimateFromEvents(events);
    const people = input.approxPeople ?? estimate.people;
    const records = input.approxRecords ?? estimate.records;
    const b: Breach = {
      workspaceId, id: newId('brc'), status: 'open',
      detectedAt: Math.min(awareAt, ...events.map((e) => e.detectedAt)), awareAt, notifyBy: awareAt + NOTIFY_WITHIN_MS,
      nature: input.nature.trim(), categories: input.categories, dataSubjects: input.dataSubjects ?? [],
      approxPeople: people, peopleEstimated: input.approxPeople === undefined && people !== null,
      approxRecords: records, recordsEstimated: input.approxRecords === undefined && records !== null,
      consequences: input.consequences?.trim() || null, measures: input.measures.trim(), highRisk: input.highRisk ?? null, delayReason: null,
      securityEventIds: ids, notifiedAt: null, closedAt: null,
      history: [{ at: now, status: 'open', note: input.note ?? '', changed: [] }],
    };
    await this.deps.store.saveBreach(b);
    return b;
  }

  /** Completes the details, records the notification, or closes the breach (see the file comment). */
  async update(workspaceId: string, id: string, patch: BreachPatchT): Promise<Breach> {
    const now = this.deps.now();
    const b = { ...(await this.get(workspaceId, id)) };
    if (b.status === 'closed') throw new EnsembleError('ENSEMBLE_ERR_BREACH_STATUS', 'This breach is closed: its record is final.');
    const changed: string[] = [];
    const set = <K extends keyof Breach>(key: K, value: Breach[K]) => {
      b[key] = value;
      changed.push(key);
    };
    if (patch.nature !== undefined) set('nature', patch.nature.trim());
    if (patch.categories !== undefined) set('categories', patch.categories);
    if (patch.dataSubjects !== undefined) set('dataSubjects', patch.dataSubjects);
    if (patch.approxPeople !== undefined) {
      set('approxPeople', patch.approxPeople);
      b.peopleEstimated = false;
    }
    if (patch.approxRecords !== undefined) {
      set('approxRecords', patch.approxRecords);
      b.recordsEstimated = false;
    }
    if (patch.consequences !== undefined) set('consequences', patch.consequences.trim());
    if (patch.measures !== undefined) set('measures', patch.measures.trim());
    if (patch.highRisk !== undefined) set('highRisk', patch.highRisk);
    if (patch.delayReason !== undefined) set('delayReason', patch.delayReason.trim());

    let status: BreachStatus = b.status;
    if (patch.notifiedAt !== undefined || patch.status === 'notified') {
      if (b.status !== 'open') throw new EnsembleError('ENSEMBLE_ERR_BREACH_STATUS', 'This breach was already notified: complete its details instead.');
      const at = patch.notifiedAt === undefined ? now : pastTime(patch.notifiedAt, now, 'notifiedAt');
      if (at < b.awareAt) throw new EnsembleError('ENSEMBLE_ERR_BREACH_INVALID', 'notifiedAt is before awareAt.', [{ path: '/notifiedAt', message: 'before awareAt' }]);
      set('notifiedAt', at);
      status = 'notified';
    }
    if (patch.status === 'closed') {
      if (status === 'open' && !patch.note?.trim()) {
        throw new EnsembleError('ENSEMBLE_ERR_BREACH_INVALID', 'Closing a breach that was not notified needs a note saying why it need not be (art. 33(5)).', [{ path: '/note', message: 'required' }]);
      }
      set('closedAt', now);
      status = 'closed';
    }
    if (changed.length === 0 && patch.note === undefined) throw new EnsembleError('ENSEMBLE_ERR_BREACH_INVALID', 'Nothing to change.');
    b.status = status;
    b.history = [...b.history, { at: now, status, note: patch.note ?? '', changed }];
    await this.deps.store.saveBreach(b);
    return b;
  }
}

/** A time sent by a client that must not lie in the future. */
function pastTime(text: string, now: number, field: string): number {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new EnsembleError('ENSEMBLE_ERR_BREACH_INVALID', `${field} is not a valid date.`, [{ path: `/${field}`, message: 'not a date' }]);
  if (ms > now + CLOCK_SKEW_MS) throw new EnsembleError('ENSEMBLE_ERR_BREACH_INVALID', `${field} is in the future.`, [{ path: `/${field}`, message: 'in the future' }]);
  return Math.floor(ms);
}
