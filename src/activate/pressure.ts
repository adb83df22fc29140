/**
 * Marketing pressure: how many messages a person may receive, and when. A workspace has one
 * pressure policy; it is applied to every message send (email, SMS, push, direct mail) of every
 * journey and trigger, just before the send, so that many well-meant campaigns added together
 * never flood one person, and nobody is woken up by a promotion at night.
 *
 * A policy has:
 * - `caps`: at most `max` messages of a channel (or of every channel: `all`) within a sliding
 *   window `within` (a duration such as `7d`, `12h`, `30m`, as segments write them). The window
 *   at an instant `t` counts the messages with `at > t - within` and no upper bound, exactly like
 *   segment windows: a message sent exactly `within` ago no longer counts, and a message the
 *   caller dated after `t` (scheduled ahead) already counts.
 * - `quietHours`: a local time range `from`–`to` (`HH:MM`, `from` included, `to` excluded) in the
 *   person's time zone during which nothing is sent; it may wrap midnight (`21:00`–`08:00`).
 *   Local times come from `Intl`, so daylight-saving changes are followed: the quiet period ends
 *   at the first instant the local clock reads `to` (if `to` is skipped by a spring-forward
 *   change, at the instant the clock jumps past it).
 * - `defaultTimeZone`: the zone of people whose profile has none (or an unknown one).
 * - `displace`: a more important message may take the place of a less important one still
 *   waiting for its turn (a message already sent cannot be unsent, so it is never displaced).
 *
 * `decide` is pure: it reads the policy, the instant, the channel and priority of the message and
 * the person's recent messages, and says `send`, `defer` (until an instant at which the send is
 * allowed) or `suppress` (a cap would hold the message longer than `maxDeferMs`: it is dropped
 * rather than delivered stale). Rule names (`cap:email:2/7d`, `quiet_hours:21:00-08:00`) are
 * stable: they label metrics and the reasons shown to operators.
 *
 * @example
 *   const policy: PressurePolicyT = {
 *     caps: [{ channel: 'email', max: 2, within: '7d' }, { channel: 'all', max: 3, within: '7d' }],
 *     quietHours: { from: '21:00', to: '08:00' }, defaultTimeZone: 'Europe/Paris',
 *   };
 *   // At 22:30 in Paris, an SMS waits for the morning:
 *   decide({ policy, channel: 'sms', now: Date.parse('2026-01-15T21:30:00Z'), priority: 0, history: [], timeZone: 'Europe/Paris' });
 *   // { kind: 'defer', until: Date.parse('2026-01-16T07:00:00Z'), rule: 'quiet_hours:21:00-08:00' }
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { durationMs } from '../protocol/segment.js';
import type { DefinitionProblem } from '../protocol/filter.js';

export const CHANNELS = ['email', 'sms', 'push', 'mail'] as const;
/** The channels pressure applies to. `mail` is direct (postal) mail. */
export type Channel = (typeof CHANNELS)[number];
export const CAP_CHANNELS = [...CHANNELS, 'all'] as const;
/** A cap's channel: one channel, or `all` (every message counts, whatever its channel). */
export type CapChannel = (typeof CAP_CHANNELS)[number];

export const DEFAULT_TIME_ZONE = 'Europe/Paris';
/** How long a cap may hold a message back before it is suppressed instead (decide's `maxDeferMs`). */
export const DEFAULT_MAX_DEFER_MS = 24 * 3_600_000;
/** The most caps a policy may have. */
export const MAX_CAPS = 20;
/** The most messages a cap may allow per window. */
export const MAX_CAP_MESSAGES = 10_000;

const HH_MM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;
/** The durations segments accept (protocol/segment.ts); `durationMs` also bounds them to 10 years. */
const DURATION_PATTERN = '^[1-9][0-9]{0,5}[smhdw]$';

const LocalTime = Type.String({ pattern: HH_MM.source, description: 'A local wall-clock time, `HH:MM` from 00:00 to 23:59.' });

export const PressureCap = Type.Object({
  channel: Type.Union(CAP_CHANNELS.map((c) => Type.Literal(c)), { description: 'The channel counted and capped; `all` counts every channel.' }),
  max: Type.Integer({ minimum: 0, maximum: MAX_CAP_MESSAGES, description: 'At most this many messages in any window; 0 forbids the channel.' }),
  within: Type.String({ pattern: DURATION_PATTERN, description: 'The sliding window: a number and a unit among s, m, h, d, w (e.g. `7d`); at most 10 years.' }),
}, { additionalProperties: false });
export type PressureCapT = Static<typeof PressureCap>;

export const QuietHours = Type.Object({
  from: LocalTime,
  to: Type.String({ pattern: HH_MM.source, description: 'Excluded; before `from` when the range wraps midnight (21:00 to 08:00).' }),
}, { additionalProperties: false, description: "No message is sent from `from` (included) to `to` (excluded), in the person's local time." });
export type QuietHoursT = Static<typeof QuietHours>;

export const PressurePolicy = Type.Object({
  caps: Type.Array(PressureCap, { maxItems: MAX_CAPS, default: [] }),
  quietHours: Type.Optional(QuietHours),
  defaultTimeZone: Type.String({ minLength: 1, maxLength: 100, default: DEFAULT_TIME_ZONE, description: 'IANA time zone of people whose profile has no (valid) time zone.' }),
  displace: Type.Optional(Type.Boolean({ description: 'A message may take the place of a less important one when a cap is full.' })),
}, { additionalProperties: false });
export type PressurePolicyT = Static<typeof PressurePolicy>;

/** No caps, no quiet hours: every message is sent at once. */
export const DEFAULT_PRESSURE_POLICY: PressurePolicyT = Object.freeze({ caps: [], defaultTimeZone: DEFAULT_TIME_ZONE });

/** `email` → `email`, ...; null for connectors that send no message to a person (webhook, ad platforms). */
export function channelOf(connectorId: string): Channel | null {
  switch (connectorId) {
    case 'email': return 'email';
    case 'twilio-sms': return 'sms';
    case 'web-push':
    case 'fcm': return 'push';
    case 'direct-mail': return 'mail';
    default: return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Validation

/**
 * Every problem of a policy (after defaults: `caps` and `defaultTimeZone` may be omitted), each
 * with a JSON pointer into it. Specific codes first where the value is known to be wrong
 * (`invalid_time`, `empty_quiet_hours`, `unknown_time_zone`, `invalid_duration`, `invalid_max`,
 * `unknown_channel`, `duplicate_cap`), then what the schema alone says (`schema`) about other
 * places. An empty list means valid.
 */
export function pressurePolicyProblems(input: unknown): DefinitionProblem[] {
  if (!isRecord(input)) return [{ path: '/', code: 'schema', message: 'A pressure policy is an object.' }];
  const policy = Value.Default(PressurePolicy, Value.Clone(input)) as Record<string, unknown>;
  const out: DefinitionProblem[] = [];
  const add = (path: string, code: string, message: string): void => { out.push({ path, code, message }); };

  const caps = policy.caps;
  if (Array.isArray(caps)) {
    const seen = new Map<string, number>();
    caps.forEach((cap: unknown, i) => {
      if (!isRecord(cap)) return;
      const at = `/caps/${i}`;
      const channelOk = typeof cap.channel === 'string' && (CAP_CHANNELS as readonly string[]).includes(cap.channel);
      if (!channelOk) add(`${at}/channel`, 'unknown_channel', `channel is one of ${CAP_CHANNELS.join(', ')}.`);
      const max = cap.max;
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > MAX_CAP_MESSAGES) {
        add(`${at}/max`, 'invalid_max', `max is a whole number from 0 to ${MAX_CAP_MESSAGES}.`);
      }
      const ms = typeof cap.within === 'string' ? durationMs(cap.within) : null;
      if (ms === null) {
        add(`${at}/within`, 'invalid_duration', `${JSON.stringify(cap.within)} is not a duration: a number from 1 and a unit among s, m, h, d, w (e.g. 7d), at most 10 years.`);
      }
      if (channelOk && ms !== null) {
        const key = `${cap.channel as string}|${ms}`;
        const first = seen.get(key);
        if (first !== undefined) {
          add(at, 'duplicate_cap', `Cap ${i} repeats cap ${first}: the same channel "${cap.channel as string}" and the same window. Keep the stricter one.`);
        } else seen.set(key, i);
      }
    });
  }

  const quiet = policy.quietHours;
  if (isRecord(quiet)) {
    const from = localMinute(quiet.from);
    const to = localMinute(quiet.to);
    const timeMessage = (v: unknown): string => `${JSON.stringify(v)} is not a local time: expected HH:MM from 00:00 to 23:59 (e.g. 21:00).`;
    if (from === null) add('/quietHours/from', 'invalid_time', timeMessage(quiet.from));
    if (to === null) add('/quietHours/to', 'invalid_time', timeMessage(quiet.to));
    if (from !== null && from === to) add('/quietHours', 'empty_quiet_hours', '`from` and `to` are equal: give a range (it may wrap midnight, e.g. 21:00 to 08:00), or no quiet hours.');
  }

  const zone = policy.defaultTimeZone;
  if (typeof zone !== 'string' || !isTimeZone(zone)) {
    add('/defaultTimeZone', 'unknown_time_zone', `${JSON.stringify(zone)} is not an IANA time zone (e.g. Europe/Paris, America/New_York).`);
  }

  // A value already reported is not reported again by the schema; a whole-cap or whole-range problem hides nothing.
  const fields = out.filter((p) => p.code !== 'duplicate_cap' && p.code !== 'empty_quiet_hours').map((p) => p.path);
  const covered = (path: string): boolean => fields.some((f) => path === f || path.startsWith(`${f}/`));
  const schema = new Set<string>();
  for (const e of Value.Errors(PressurePolicy, policy)) {
    const path = e.path || '/';
    if (covered(e.path) || schema.has(path)) continue;
    schema.add(path);
    add(path, 'schema', e.message);
    if (schema.size >= 20) break;
  }
  return out;
}

/** The policy with its defaults filled, or every problem of it. */
export function readPressurePolicy(input: unknown): { ok: true; policy: PressurePolicyT } | { ok: false; problems: DefinitionProblem[] } {
  const problems = pressurePolicyProblems(input);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, policy: Value.Default(PressurePolicy, Value.Clone(input)) as PressurePolicyT };
}

// ---------------------------------------------------------------------------------------------
// Decision

/** A message sent to the person, or one waiting (deferred) for its turn at `at`. */
export interface SentMessage {
  at: number;
  channel: Channel;
  priority: number;
  /** The caller's id of the message, named when it is displaced. */
  key: string;
  /** Not sent yet: deferred to `at`. Only a waiting message can be displaced. */
  waiting?: boolean;
}

export interface PressureInput {
  /** A valid policy (see `pressurePolicyProblems`): `decide` throws on an unreadable cap or quiet hours. */
  policy: PressurePolicyT;
  channel: Channel;
  /** Epoch milliseconds. */
  now: number;
  /** The person's IANA time zone; the policy's `defaultTimeZone` when absent or unknown (then UTC if that is unknown too). */
  timeZone?: string | null;
  /** Higher is more important; only `displace` reads it. */
  priority: number;
  /** The person's messages, sent or waiting, in any order; only those within the cap windows matter. */
  history: ReadonlyArray<SentMessage>;
  /** A cap that holds the message longer than this suppresses it (default 24 h). Quiet hours always defer. */
  maxDeferMs?: number;
}

/**
 * `send`: now. `defer`: decide again at `until` (> now), when the rule that blocks the send has
 * lifted. `suppress`: do not send it; `rule` names the cap. `displaced` (send and defer, with
 * `policy.displace`): the keys of waiting messages this one took the place of, which the caller
 * gives up.
 */
export type PressureDecision =
  | { kind: 'send'; displaced?: string[] }
  | { kind: 'defer'; until: number; rule: string; displaced?: string[] }
  | { kind: 'suppress'; rule: string };

/** Rounds of "quiet hours, then caps" before `decide` settles; three suffice, as caps only free up as time passes. */
const MAX_ROUNDS = 8;

/**
 * Whether a message may be sent now, later, or not at all.
 *
 * Quiet hours first: in them, the earliest possible send is their end in the person's local
 * time. Caps are then evaluated as of that instant, counting sent and waiting messages alike (a
 * waiting message keeps the turn it was given); a full cap moves it to when enough counted
 * messages have left the window (`max - 1` remain), unless that is later than
 * `now + maxDeferMs` (or never, with `max: 0`), which suppresses the message. The two are
 * re-applied until neither moves the instant (a cap may free up inside the next quiet hours).
 * Deciding again at `until` with the same history sends; `until` is the earliest instant at
 * which every rule allows the send. `rule` names the constraint that set `until` last.
 *
 * Displacement (`policy.displace`): waiting messages strictly less important than this one
 * yield. This one is decided as if they were not there; then each of them, most important first
 * (then earliest, then smallest key), keeps its turn only if it would still be sent at its `at`;
 * the others are `displaced`. Quiet hours are never displaced, nor are sent messages.
 *
 * @example
 *   const policy: PressurePolicyT = { caps: [{ channel: 'email', max: 2, within: '7d' }], defaultTimeZone: 'Europe/Paris', displace: true };
 *   const now = Date.parse('2026-01-15T10:00:00Z');
 *   const history = [
 *     { at: now - 6 * DAY, channel: 'email', priority: 5, key: 'm1' },
 *     { at: now - DAY, channel: 'email', priority: 5, key: 'm2' },
 *     { at: now + DAY, channel: 'email', priority: 1, key: 'digest', waiting: true },
 *   ] as const;
 *   decide({ policy, channel: 'email', now, priority: 1, history });
 *   // { kind: 'suppress', rule: 'cap:email:2/7d' }: behind the digest, room comes in 6 days only
 *   decide({ policy, channel: 'email', now, priority: 9, history });
 *   // { kind: 'defer', until: now + DAY, rule: 'cap:email:2/7d', displaced: ['digest'] }: m1 leaves the window then
 *   decide({ policy, channel: 'sms', now, priority: 0, history });
 *   // { kind: 'send' }: the cap is on email only
 */
export function decide(input: PressureInput): PressureDecision {
  const yielding = input.policy.displace === true ? input.history.filter((m) => m.waiting === true && m.priority < input.priority) : [];
  if (yielding.length === 0) return place(input);
  const kept = input.history.filter((m) => !yielding.includes(m));
  const decision = place({ ...input, history: kept });
  if (decision.kind === 'suppress') return decision;
  kept.push({ at: decision.kind === 'defer' ? decision.until : input.now, channel: input.channel, priority: input.priority, key: '', waiting: true });
  const displaced: string[] = [];
  const order = [...yielding].sort((a, b) => b.priority - a.priority || a.at - b.at || compareKeys(a.key, b.key));
  for (const w of order) {
    const still = place({ policy: input.policy, channel: w.channel, now: w.at, timeZone: input.timeZone ?? null, priority: w.priority, history: kept, maxDeferMs: 0 });
    if (still.kind === 'send') kept.push(w);
    else displaced.push(w.key);
  }
  return displaced.length === 0 ? decision : { ...decision, displaced };
}

/** `decide` without displacement: every message in the history keeps its place. */
function place(input: PressureInput): Exclude<PressureDecision, { displaced: string[] }> {
  const { policy, channel, now, history } = input;
  const maxDeferMs = input.maxDeferMs ?? DEFAULT_MAX_DEFER_MS;
  const zone = [input.timeZone, policy.defaultTimeZone].find((z): z is string => typeof z === 'string' && isTimeZone(z)) ?? 'UTC';
  const quiet = policy.quietHours === undefined ? null : quietRange(policy.quietHours);
  const caps = policy.caps.filter((c) => c.channel === 'all' || c.channel === channel).map(readCap);

  let t = now;
  let rule = '';
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let moved = false;
    if (quiet !== null) {
      const end = quietEnd(t, zone, quiet);
      if (end !== null) {
        t = end;
        rule = quiet.rule;
        moved = true;
      }
    }
    const full = caps.map((cap) => ({ cap, counted: countedAt(cap, history, t) })).filter((f) => f.counted.length >= f.cap.max);
    if (full.length > 0) {
      let latest = t;
      let latestRule = rule;
      for (const { cap, counted } of full) {
        const freeAt = freedAt(cap, counted);
        if (!Number.isFinite(freeAt) || freeAt > now + maxDeferMs) return { kind: 'suppress', rule: cap.rule };
        if (freeAt > latest) {
          latest = freeAt;
          latestRule = cap.rule;
        }
      }
      t = latest;
      rule = latestRule;
      moved = true;
    }
    if (!moved) return t > now ? { kind: 'defer', until: t, rule } : { kind: 'send' };
  }
  return { kind: 'defer', until: t, rule };
}

interface Cap {
  channel: CapChannel;
  max: number;
  ms: number;
  rule: string;
}

function readCap(c: PressureCapT): Cap {
  const ms = durationMs(c.within);
  if (ms === null) throw new Error(`pressure policy: cap window "${c.within}" is not a duration`);
  return { channel: c.channel, max: c.max, ms, rule: `cap:${c.channel}:${c.max}/${c.within}` };
}

/** The messages a cap counts at `t`, oldest first (ties by key, so the order does not depend on the history's). */
function countedAt(cap: Cap, history: ReadonlyArray<SentMessage>, t: number): SentMessage[] {
  return history
    .filter((m) => (cap.channel === 'all' || m.channel === cap.channel) && m.at > t - cap.ms)
    .sort((a, b) => a.at - b.at || compareKeys(a.key, b.key));
}

/** When the cap has room again: when all but `max - 1` of the counted messages have left the window (never with `max: 0`). */
function freedAt(cap: Cap, counted: readonly SentMessage[]): number {
  const leaving = counted[counted.length - cap.max];
  return cap.max === 0 || leaving === undefined ? Infinity : leaving.at + cap.ms;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Local time

interface QuietRange {
  from: number;
  to: number;
  rule: string;
}

function quietRange(q: QuietHoursT): QuietRange {
  const from = localMinute(q.from);
  const to = localMinute(q.to);
  if (from === null || to === null) throw new Error(`pressure policy: quiet hours "${q.from}"-"${q.to}" are not HH:MM times`);
  return { from, to, rule: `quiet_hours:${q.from}-${q.to}` };
}

/** `21:30` → 1290; null when not HH:MM. */
function localMinute(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const m = HH_MM.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

function inQuiet(minute: number, q: QuietRange): boolean {
  return q.from < q.to ? minute >= q.from && minute < q.to : minute >= q.from || minute < q.to;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The end of the quiet period `t` lies in (the first instant after `t` the local clock reads `to`), or null when `t` is not in one. */
function quietEnd(t: number, zone: string, q: QuietRange): number | null {
  const w = wallOf(t, zone);
  const minute = w.hour * 60 + w.minute;
  if (!inQuiet(minute, q)) return null;
  // The local day on which the clock next reads `to`: today, unless the range wraps and it is evening.
  const startDay = q.from > q.to && minute >= q.from ? 1 : 0;
  for (let d = startDay; d <= startDay + 2; d++) {
    const end = instantsOfWall(Date.UTC(w.year, w.month - 1, w.day + d) + q.to * MINUTE, zone).find((i) => i > t);
    if (end !== undefined) return end;
  }
  return t + MINUTE; // unreachable for real zones: try again a minute later
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

const zones = new Map<string, boolean>();

/** Whether `Intl` knows the zone (IANA names, case-insensitively; `UTC`). */
export function isTimeZone(zone: string): boolean {
  let known = zones.get(zone);
  if (known === undefined) {
    try {
      formatter(zone);
      known = true;
    } catch {
      known = false;
    }
    if (zones.size < 1000) zones.set(zone, known);
  }
  return known;
}

/** The local wall-clock time at instant `t` in `zone`. */
function wallOf(t: number, zone: string): Wall {
  const w: Wall = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of formatter(zone).formatToParts(t)) {
    if (p.type === 'year' || p.type === 'month' || p.type === 'day' || p.type === 'hour' || p.type === 'minute' || p.type === 'second') w[p.type] = Number(p.value);
  }
  return w;
}

/** The wall-clock time of `t` written as if it were UTC (so `wallMs - t` is the zone's offset). */
function wallMs(t: number, zone: string): number {
  const w = wallOf(t, zone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/**
 * The instants at which the local clock reads `local` (a wall time written as UTC), earliest
 * first: one; two in a fall-back overlap; in a spring-forward gap, the instant the clock jumps
 * past it. Assumes at most one offset change within a day of it, as in every real zone.
 */
function instantsOfWall(local: number, zone: string): number[] {
  const offsets = [...new Set([local - DAY, local, local + DAY].map((t) => wallMs(t, zone) - t))];
  const found = [...new Set(offsets.map((o) => local - o))].filter((t) => wallMs(t, zone) === local).sort((a, b) => a - b);
  if (found.length > 0) return found;
  // A gap: the clock reads less than `local` at lo and more at hi; find the first second it reads `local` or more.
  let lo = local - Math.max(...offsets);
  let hi = local - Math.min(...offsets);
  if (wallMs(lo, zone) >= local || wallMs(hi, zone) < local) return [];
  lo = Math.floor(lo / 1000);
  hi = Math.ceil(hi / 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallMs(mid * 1000, zone) >= local) hi = mid;
    else lo = mid;
  }
  return [hi * 1000];
}
