/**
 * Validation and normalisation of one incoming event into a `CollectedEvent`: schema check,
 * type, identity, required fields, ids as strings, the envelope's context merged in, and the
 * client clock corrected with `sentAt` (timestamp = receivedAt − (sentAt − originalTimestamp)).
 *
 * @example
 *   const out = normalise(raw, { type: 'track', envelope: {}, receivedAt: Date.now(), source });
 *   if (out.kind === 'ok') queue(out.value);
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { randomUUID } from 'node:crypto';
import { EVENT_TYPES, IncomingEventSchema, type CollectedEvent, type EventType } from '../../protocol/event.js';
import { drop, ok, type Outcome } from '../../protocol/outcome.js';
import type { Source } from '../../protocol/workspace.js';
import { isoTime } from '../../platform/iso-time.js';
import { isIncomingEvent } from './event-shape.js';

/** Only asked why an event is invalid: `isIncomingEvent` gives the same verdict faster. */
const checkEvent = TypeCompiler.Compile(IncomingEventSchema);

/** Values SDKs and CRMs send when they have no real id: they must never identify anyone. */
const BLANK_IDS = new Set(['', 'null', 'undefined', 'nil', 'none', '0', 'anonymous', 'unknown', 'n/a', '[object object]']);

export interface Envelope {
  sentAt?: unknown;
  context?: unknown;
  integrations?: unknown;
}

export interface NormaliseInput {
  /** Forced by single-event routes (`/v1/track`); read from the event in batches. */
  type: EventType | null;
  envelope: Envelope;
  receivedAt: number;
  source: Pick<Source, 'id' | 'workspaceId'>;
}

/** Body of a normalised event before the IP step adds `country`. */
export type NormalisedEvent = Omit<CollectedEvent, 'country'>;

export function normalise(raw: unknown, input: NormaliseInput): Outcome<NormalisedEvent> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return drop('ENSEMBLE_ERR_EVENT_INVALID', 'An event must be a JSON object.');
  }
  if (!isIncomingEvent(raw)) {
    const first = checkEvent.Errors(raw).First();
    return drop('ENSEMBLE_ERR_EVENT_INVALID', first ? `${first.path || '/'}: ${first.message}` : 'Invalid event.');
  }
  const e = raw;
  const type = input.type ?? (typeof e.type === 'string' ? e.type.toLowerCase() : '');
  if (!isEventType(type)) return drop('ENSEMBLE_ERR_EVENT_TYPE', `Unknown event type "${String(e.type ?? '')}"; expected one of ${EVENT_TYPES.join(', ')}.`);

  const userId = cleanId(e.userId);
  const anonymousId = cleanId(e.anonymousId);
  if (userId === null && anonymousId === null) return drop('ENSEMBLE_ERR_EVENT_NO_IDENTITY', 'The event has neither userId nor anonymousId.');
  const previousId = cleanId(e.previousId);
  const groupId = cleanId(e.groupId);
  if (type === 'track' && (typeof e.event !== 'string' || e.event.trim() === '')) return drop('ENSEMBLE_ERR_EVENT_MISSING_FIELD', 'A track event needs an `event` name.');
  if (type === 'alias' && (previousId === null || userId === null)) return drop('ENSEMBLE_ERR_EVENT_MISSING_FIELD', 'An alias event needs `previousId` and `userId`.');
  if (type === 'group' && groupId === null) return drop('ENSEMBLE_ERR_EVENT_MISSING_FIELD', 'A group event needs a `groupId`.');

  const original = parseTime(e.originalTimestamp ?? e.timestamp);
  const sentAt = parseTime(e.sentAt ?? input.envelope.sentAt);
  if (original === 'invalid' || sentAt === 'invalid') return drop('ENSEMBLE_ERR_EVENT_TIMESTAMP', 'timestamp, originalTimestamp or sentAt is not an ISO-8601 date or epoch milliseconds.');
  const originalMs = original ?? input.receivedAt;
  const timestampMs = sentAt === null ? originalMs : input.receivedAt - (sentAt - originalMs);
  if (Math.abs(timestampMs) > MAX_DATE_MS) return drop('ENSEMBLE_ERR_EVENT_TIMESTAMP', 'sentAt and timestamp are too far apart to correct the clock.');

  const envelopeContext = isObject(input.envelope.context) ? input.envelope.context : {};
  const out: NormalisedEvent = {
    type,
    messageId: cleanId(e.messageId) ?? `ens-${randomUUID()}`,
    workspaceId: input.source.workspaceId,
    sourceId: input.source.id,
    anonymousId,
    userId,
    properties: e.properties ?? {},
    traits: e.traits ?? {},
    context: { ...envelopeContext, ...(e.context ?? {}) },
    originalTimestamp: isoTime(originalMs),
    timestamp: isoTime(timestampMs),
    sentAt: sentAt === null ? null : isoTime(sentAt),
    receivedAt: isoTime(input.receivedAt),
  };
  if (previousId !== null) out.previousId = previousId;
  if (groupId !== null) out.groupId = groupId;
  if (typeof e.event === 'string') out.event = e.event;
  if (typeof e.name === 'string') out.name = e.name;
  if (typeof e.category === 'string') out.category = e.category;
  return ok(out);
}

function isEventType(t: string): t is EventType {
  return (EVENT_TYPES as readonly string[]).includes(t);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Ids as trimmed strings; numbers become strings; placeholder values become null. */
export function cleanId(v: unknown): string | null {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  return BLANK_IDS.has(s.toLowerCase()) ? null : s;
}

/** The largest epoch milliseconds a JavaScript Date can hold. */
const MAX_DATE_MS = 8.64e15;

/** null when absent; 'invalid' when present but not a date; epoch ms otherwise. */
export function parseTime(v: unknown): number | null | 'invalid' {
  if (v === undefined || v === null) return null;
  // Beyond MAX_DATE_MS there is no date to write, and toISOString would throw for the whole request.
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 && v <= MAX_DATE_MS ? v : 'invalid';
  if (typeof v !== 'string' || v.trim() === '') return 'invalid';
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? 'invalid' : ms;
}
