/**
 * Destinations (configured connectors), real-time triggers and what the delivery engine reports,
 * as the admin API speaks them. A destination's secrets are write-only: views show `"••••"`.
 *
 * @example
 *   POST /api/workspaces/{ws}/destinations
 *   { "type": "meta", "name": "Retargeting", "config": { "adAccountId": "123", "accessToken": "…" },
 *     "segments": ["seg_cart"] }
 *
 *   POST /api/workspaces/{ws}/triggers
 *   { "name": "Buyers leave retargeting", "when": { "kind": "event", "event": "Order Completed" },
 *     "then": { "destinationId": "dst_…", "action": "remove", "segmentId": "seg_cart" } }
 */
import { Type, type Static } from '@sinclair/typebox';
import { PropertyFilter } from './filter.js';
import { PURPOSE_ID } from './privacy.js';

/** Shown instead of a secret's value. */
export const SECRET_MASK = '••••';

export const EventForwarding = Type.Object({
  /** Which events: by type and (for `track`) name, with property filters; all when empty. */
  types: Type.Optional(Type.Array(Type.Union(['track', 'page', 'screen', 'identify', 'group', 'alias'].map((t) => Type.Literal(t))), { maxItems: 6, uniqueItems: true })),
  names: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100, uniqueItems: true })),
  filters: Type.Optional(Type.Array(PropertyFilter, { maxItems: 20 })),
  /**
   * Output field → dotted path into the event (`properties.revenue`, `context.page.url`,
   * `event`, `timestamp`); the whole event when absent.
   */
  mapping: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.String({ minLength: 1, maxLength: 300 }))),
}, { additionalProperties: false });
export type EventForwardingT = Static<typeof EventForwarding>;

/** Message fields rendered with Liquid for each person (`{{ traits.firstName }}`). */
const TemplateField = Type.String({ maxLength: 200_000 });
export const MessageTemplate = Type.Object({
  subject: Type.Optional(TemplateField), html: Type.Optional(TemplateField), text: Type.Optional(TemplateField),
  body: Type.Optional(TemplateField), title: Type.Optional(TemplateField), url: Type.Optional(TemplateField),
}, { additionalProperties: false, minProperties: 1 });
export type MessageTemplateT = Static<typeof MessageTemplate>;

const DestinationFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  config: Type.Record(Type.String(), Type.Unknown(), { description: "Validated by the connector's `configSchema` (GET /api/destination-types)." }),
  purpose: Type.Optional(Type.String({ pattern: PURPOSE_ID, description: "Overrides the connector's purpose (e.g. a webhook used for personalisation)." })),
  segments: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 200, uniqueItems: true, description: 'Segments mirrored as audiences (audience connectors).' })),
  events: Type.Optional(EventForwarding),
  ratePerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000 })),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
  enabled: Type.Optional(Type.Boolean()),
  /** Where the recipient processes the data, for the register of processing (default: the connector's platform). */
  country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
  /** For a country outside the EEA: the art. 45–46 basis (adequacy decision, SCCs...). */
  transferSafeguard: Type.Optional(Type.String({ maxLength: 500 })),
};

export const DestinationInput = Type.Object({ type: Type.String({ minLength: 1, maxLength: 60 }), ...DestinationFields }, { additionalProperties: false });
export type DestinationInputT = Static<typeof DestinationInput>;
export const DestinationUpdate = Type.Object(DestinationFields, { additionalProperties: false });
export type DestinationUpdateT = Static<typeof DestinationUpdate>;

export interface Destination {
  id: string;
  workspaceId: string;
  type: string;
  name: string;
  /** With secrets in clear (memory only; sealed in the store). */
  config: Record<string, unknown>;
  purpose: string;
  segments: string[];
  events?: EventForwardingT;
  ratePerSecond: number;
  maxAttempts: number;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  recipient: { country: string; transferSafeguard: string | null };
}

export const DestinationView = Type.Object({
  id: Type.String(), workspaceId: Type.String(), type: Type.String(), name: Type.String(),
  config: Type.Record(Type.String(), Type.Unknown()), purpose: Type.String(), segments: Type.Array(Type.String()),
  events: Type.Optional(EventForwarding), ratePerSecond: Type.Number(), maxAttempts: Type.Integer(), enabled: Type.Boolean(),
  recipient: Type.Object({ country: Type.String(), transferSafeguard: Type.Union([Type.String(), Type.Null()]) }),
  createdAt: Type.String(), updatedAt: Type.String(),
});

export const TriggerWhen = Type.Union([
  Type.Object({ kind: Type.Literal('event'), event: Type.String({ minLength: 1, maxLength: 200, description: 'Track event name, `$page` or `$any`.' }), filters: Type.Optional(Type.Array(PropertyFilter, { maxItems: 20 })) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('segment'), segmentId: Type.String({ minLength: 1, maxLength: 100 }), on: Type.Union([Type.Literal('entered'), Type.Literal('exited')]) }, { additionalProperties: false }),
]);
export const TriggerThen = Type.Union([
  Type.Object({ action: Type.Union([Type.Literal('add'), Type.Literal('remove')]), destinationId: Type.String(), segmentId: Type.String({ description: 'The audience (mirrored segment) to add to or remove from.' }) }, { additionalProperties: false }),
  Type.Object({ action: Type.Literal('send'), destinationId: Type.String(), template: MessageTemplate }, { additionalProperties: false }),
  Type.Object({ action: Type.Literal('forward'), destinationId: Type.String() }, { additionalProperties: false }),
]);
export const TriggerInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  when: TriggerWhen,
  then: TriggerThen,
  enabled: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type TriggerInputT = Static<typeof TriggerInput>;
export type TriggerWhenT = Static<typeof TriggerWhen>;
export type TriggerThenT = Static<typeof TriggerThen>;

export interface Trigger extends TriggerInputT {
  id: string;
  workspaceId: string;
  enabled: boolean;
  createdAt: number;
}

export const TriggerView = Type.Object({
  id: Type.String(), workspaceId: Type.String(), name: Type.String(), when: TriggerWhen, then: TriggerThen, enabled: Type.Boolean(), createdAt: Type.String(),
});

export const DeadLetterView = Type.Object({
  key: Type.String(), kind: Type.String(), action: Type.Optional(Type.String()), profileId: Type.String(),
  segmentId: Type.Optional(Type.String()), attempts: Type.Integer(), error: Type.String(), createdAt: Type.String(), failedAt: Type.String(),
});

export const DeadLetterReplay = Type.Object({
  keys: Type.Optional(Type.Array(Type.String(), { maxItems: 10_000, description: 'Which dead letters to replay; all when absent.' })),
}, { additionalProperties: false });

export const DestinationStatsView = Type.Object({
  delivered: Type.Integer(), retried: Type.Integer(), dead: Type.Integer(), pending: Type.Integer(),
  dropped: Type.Record(Type.String(), Type.Integer(), { description: 'By reason, e.g. `consent:advertising`, `http_400`.' }),
  latencyMs: Type.Object({ p50: Type.Union([Type.Number(), Type.Null()]), p99: Type.Union([Type.Number(), Type.Null()]) }, { description: 'From the change to the delivery, over the last 1,000 deliveries.' }),
  audience: Type.Record(Type.String(), Type.Integer(), { description: 'Members the platform holds (or will once pending deliveries land), by segment.' }),
});
