/**
 * The event model: what Segment-spec SDKs send, and what Ensemble stores after collection.
 *
 * Incoming events are validated with `IncomingEventSchema` (TypeBox, compiled once). Collection
 * turns each valid one into a `CollectedEvent` (server fields added, clock corrected, IP handled)
 * which is what the durable log holds. The processor turns it into a `ProcessedEvent` (profile
 * attached, enrichment columns filled), one row of the event store.
 */
import { Type, type Static } from '@sinclair/typebox';

export const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Browser short paths used by analytics.js (`/v1/t`, `/v1/p`, ...). */
export const SHORT_PATHS: Readonly<Record<string, EventType | 'batch'>> = {
  t: 'track', i: 'identify', p: 'page', s: 'screen', g: 'group', a: 'alias', b: 'batch',
};

const Json = Type.Record(Type.String(), Type.Unknown());
/** Ids are strings in the spec, but real SDKs and CRMs send numbers; both are accepted. */
const Id = Type.Union([Type.String({ minLength: 1, maxLength: 512 }), Type.Number()]);
const Timestamp = Type.Union([Type.String({ maxLength: 64 }), Type.Number()]);

export const IncomingEventSchema = Type.Object(
  {
    type: Type.Optional(Type.String()),
    messageId: Type.Optional(Id),
    anonymousId: Type.Optional(Type.Union([Id, Type.Null()])),
    userId: Type.Optional(Type.Union([Id, Type.Null()])),
    previousId: Type.Optional(Id),
    groupId: Type.Optional(Id),
    event: Type.Optional(Type.String({ maxLength: 512 })),
    name: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Null()])),
    category: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Null()])),
    properties: Type.Optional(Type.Union([Json, Type.Null()])),
    traits: Type.Optional(Type.Union([Json, Type.Null()])),
    context: Type.Optional(Type.Union([Json, Type.Null()])),
    integrations: Type.Optional(Type.Union([Json, Type.Null()])),
    timestamp: Type.Optional(Type.Union([Timestamp, Type.Null()])),
    originalTimestamp: Type.Optional(Type.Union([Timestamp, Type.Null()])),
    sentAt: Type.Optional(Type.Union([Timestamp, Type.Null()])),
    writeKey: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type IncomingEvent = Static<typeof IncomingEventSchema>;

/** What the durable log holds for one accepted event. Times are ISO-8601 UTC strings. */
export interface CollectedEvent {
  type: EventType;
  messageId: string;
  workspaceId: string;
  sourceId: string;
  anonymousId: string | null;
  userId: string | null;
  /** alias: the id being linked to `userId`. */
  previousId?: string;
  groupId?: string;
  event?: string;
  name?: string;
  category?: string;
  properties: Record<string, unknown>;
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
  /** Client clock, as sent. */
  originalTimestamp: string;
  /** Best estimate of when it happened: receivedAt − (sentAt − originalTimestamp) when sentAt is known. */
  timestamp: string;
  sentAt: string | null;
  receivedAt: string;
  /** Country from the full IP, looked up before the IP is truncated (ISO 3166-1 alpha-2). */
  country: string | null;
}

/**
 * A collected event once the processor has enriched it and attached it to a profile. The event
 * itself stays the log's JSON text (`payload`): the store extracts its columns natively instead
 * of the processor re-serialising every event.
 */
export interface ProcessedEvent {
  seq: bigint;
  profileId: string;
  enrichment: Enrichment;
  payload: string;
}

/** Columns derived from the event by the processor's enrichment step. */
export interface Enrichment {
  browser: string | null;
  browserVersion: string | null;
  os: string | null;
  deviceType: string | null;
  /** 'search' | 'social' | 'email' | 'paid' | 'referral' | 'direct' */
  channel: string | null;
  referrerHost: string | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  utmTerm: string | null;
  utmContent: string | null;
  url: string | null;
  path: string | null;
  revenue: number | null;
  price: number | null;
  currency: string | null;
}
