/**
 * The consent gate: where purpose/consent enforcement plugs into collection. Today it keeps the
 * consent found in the event with it: `context.consent` as sent (Segment's consent object with
 * `categoryPreferences`), and an IAB TCF v2 string found under the names SDKs and ad pixels use
 * (`context.consent.tcString`, `context.gdpr_consent`, `properties.gdpr_consent`) gathered into
 * `context.consent.tcfString`, so later stages read consent from one place.
 */
import type { CollectedEvent } from '../../protocol/event.js';
import { ok, type Outcome } from '../../protocol/outcome.js';

export type ConsentGate = (event: CollectedEvent) => Outcome<CollectedEvent>;

const TCF_LOCATIONS: ReadonlyArray<(e: CollectedEvent) => unknown> = [
  (e) => (e.context.consent as Record<string, unknown> | undefined)?.tcfString,
  (e) => (e.context.consent as Record<string, unknown> | undefined)?.tcString,
  (e) => e.context.gdpr_consent,
  (e) => e.properties.gdpr_consent,
];

export const keepConsent: ConsentGate = (event) => {
  const tcf = TCF_LOCATIONS.map((read) => read(event)).find((v): v is string => typeof v === 'string' && v.length > 0);
  if (tcf === undefined) return ok(event);
  const consent = typeof event.context.consent === 'object' && event.context.consent !== null ? event.context.consent : {};
  return ok({ ...event, context: { ...event.context, consent: { ...consent, tcfString: tcf } } });
};
