/**
 * Journeys: a graph of steps a person walks through, one at a time, across channels. A journey
 * is versioned: editing a live one creates a new version, and people already inside finish on
 * theirs. The meaning of each step:
 *
 * - `wait`: for a duration (`for: '2d'`), or until a time of day in the profile's time zone
 *   (`until: '08:00'`, the next such time), then `next`.
 * - `wait_for`: until an event (with property filters) happens — `event`, or any of several with
 *   `events` — or a segment is entered/exited, then `next`; after `timeout` without it, `onTimeout`.
 * - `branch`: `condition` (the segment language, restricted to what is known about the person
 *   now: traits, computed traits, segment membership, consent, and/or/not) → `then` or `else`.
 * - `split`: random percentages summing to 100; a branch marked `control` receives nothing and
 *   ends there (the control group, for uplift). The draw is a hash of journey and profile: stable.
 * - `send`: a message on a message destination (email, SMS, push...) with a Liquid template,
 *   through the activation queue (idempotency key per person, journey version and step), under
 *   the workspace's marketing-pressure policy and the destination's consent.
 * - `audience`: add the person to, or remove them from, an audience a destination mirrors.
 * - `update_trait`: sets traits on the profile (through the collector, like any identify).
 * - `webhook`: forwards a `Journey Step` event to an event destination (a webhook).
 * - `exit`: leaves the journey.
 * A `goal` event at any point ends the journey for that person and counts a conversion; its
 * optional `then` names instantaneous steps run on the way out (e.g. remove the person from the
 * retargeting audience an earlier step added them to).
 *
 * @example
 *   { "name": "Cart recovery", "entry": { "kind": "segment", "segmentId": "seg_cart" },
 *     "goal": { "event": "Order Completed" }, "reentry": { "policy": "cooldown", "after": "30d" },
 *     "start": "mail", "steps": {
 *       "mail": { "kind": "send", "destinationId": "dst_mail", "template": { "subject": "…", "html": "…" }, "next": "wait" },
 *       "wait": { "kind": "wait_for", "event": { "event": "Email Opened" }, "timeout": "2d", "next": "done", "onTimeout": "sms" },
 *       "sms": { "kind": "send", "destinationId": "dst_sms", "template": { "body": "…" }, "next": "done" },
 *       "done": { "kind": "exit" } } }
 */
import { Type, type Static } from '@sinclair/typebox';
import { MessageTemplate } from './activation.js';
import { PropertyFilter } from './filter.js';
import { SegmentConditionSchema } from './segment.js';

const StepId = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' });
const Duration = Type.String({ pattern: '^[1-9][0-9]{0,5}[smhdw]$', description: 'e.g. `30m`, `2d`, `1w`.' });
const TimeOfDay = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });
const EventMatch = Type.Object({
  event: Type.String({ minLength: 1, maxLength: 200, description: 'Track event name, `$page` or `$any`.' }),
  filters: Type.Optional(Type.Array(PropertyFilter, { maxItems: 20 })),
}, { additionalProperties: false });
export type EventMatchT = Static<typeof EventMatch>;
const Goal = Type.Object({
  event: EventMatch.properties.event,
  filters: EventMatch.properties.filters,
  then: Type.Optional(Type.String({ pattern: StepId.pattern, description: 'Steps run when the goal is reached (no waits): audience removals, trait updates, webhooks.' })),
}, { additionalProperties: false });

export const JourneyEntry = Type.Union([
  Type.Object({ kind: Type.Literal('segment'), segmentId: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('event'), event: Type.String({ minLength: 1, maxLength: 200 }), filters: Type.Optional(Type.Array(PropertyFilter, { maxItems: 20 })) }, { additionalProperties: false }),
  Type.Object({
    kind: Type.Literal('schedule'), segmentId: Type.String({ minLength: 1, maxLength: 100 }), at: TimeOfDay,
    days: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { minItems: 1, maxItems: 7, uniqueItems: true, description: '0 = Sunday; every day when absent.' })),
    timeZone: Type.Optional(Type.String({ maxLength: 64, description: 'IANA zone of `at` (default: the pressure policy\'s).' })),
  }, { additionalProperties: false, description: 'Everyone in the segment at that time enters (a batch campaign).' }),
]);

export const JourneyStep = Type.Union([
  Type.Object({ kind: Type.Literal('wait'), for: Type.Optional(Duration), until: Type.Optional(TimeOfDay), next: StepId }, { additionalProperties: false }),
  Type.Object({
    kind: Type.Literal('wait_for'), event: Type.Optional(EventMatch),
    events: Type.Optional(Type.Array(EventMatch, { minItems: 1, maxItems: 10, description: 'Any of these events ends the wait.' })),
    segment: Type.Optional(Type.Object({ segmentId: Type.String({ minLength: 1, maxLength: 100 }), on: Type.Union([Type.Literal('entered'), Type.Literal('exited')]) }, { additionalProperties: false })),
    timeout: Duration, next: StepId, onTimeout: StepId,
  }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('branch'), condition: SegmentConditionSchema, then: StepId, else: StepId }, { additionalProperties: false }),
  Type.Object({
    kind: Type.Literal('split'),
    branches: Type.Array(Type.Object({ percent: Type.Integer({ minimum: 0, maximum: 100 }), next: Type.Optional(StepId), control: Type.Optional(Type.Boolean()), name: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }), { minItems: 2, maxItems: 10 }),
  }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('send'), destinationId: Type.String(), template: MessageTemplate, next: StepId }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('audience'), destinationId: Type.String(), segmentId: Type.String(), action: Type.Union([Type.Literal('add'), Type.Literal('remove')]), next: StepId }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('update_trait'), traits: Type.Record(Type.String({ minLength: 1, maxLength: 100 }), Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean(), Type.Null()])), next: StepId }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('webhook'), destinationId: Type.String(), next: StepId }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('exit') }, { additionalProperties: false }),
]);
export type JourneyStepT = Static<typeof JourneyStep>;

export const JourneyInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  entry: JourneyEntry,
  goal: Type.Optional(Goal),
  reentry: Type.Optional(Type.Union([
    Type.Object({ policy: Type.Literal('once') }, { additionalProperties: false }),
    Type.Object({ policy: Type.Literal('always') }, { additionalProperties: false }),
    Type.Object({ policy: Type.Literal('cooldown'), after: Duration }, { additionalProperties: false }),
  ], { description: 'Default: once.' })),
  /** Higher wins when the pressure policy must choose between messages. */
  priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, default: 5 })),
  start: StepId,
  steps: Type.Record(StepId, JourneyStep, { minProperties: 1, maxProperties: 100 }),
}, { additionalProperties: false });
export type JourneyInputT = Static<typeof JourneyInput>;

export const JOURNEY_STATUSES = ['active', 'paused', 'archived'] as const;
export type JourneyStatus = (typeof JOURNEY_STATUSES)[number];

export interface Journey {
  id: string;
  workspaceId: string;
  status: JourneyStatus;
  /** The version new entrants get; older versions stay for the people inside them. */
  version: number;
  versions: Record<number, JourneyInputT>;
  createdAt: number;
  updatedAt: number;
}

export const JourneyView = Type.Object({
  id: Type.String(), workspaceId: Type.String(), status: Type.String(), version: Type.Integer(),
  definition: JourneyInput, createdAt: Type.String(), updatedAt: Type.String(),
});

/** Where one person is in one journey. */
export interface JourneyState {
  workspaceId: string;
  journeyId: string;
  version: number;
  profileId: string;
  /** The step the person is at (waiting in it), or null once they left. */
  step: string | null;
  /** When the step's timer fires (wait end, wait_for timeout), or null. */
  dueAt: number | null;
  enteredAt: number;
  /** How the last run ended: null while inside. */
  outcome: 'exit' | 'goal' | 'control' | 'dropped' | null;
  endedAt: number | null;
  /** The split branch drawn (reports compare branches with the control group). */
  branch: string | null;
  entries: number;
}
