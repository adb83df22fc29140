/**
 * The consent gate: where purpose/consent enforcement plugs into collection. Today it keeps the
 * consent found in the event with it: `context.consent` as sent (Segment's consent object with
 * `categoryPreferences`), and an IAB TCF v2 string found under the names SDKs and ad pixels use
 * (`context.consent.tcString`, `context.gdpr_consent`, `properties.gdpr_consent`) gathered into
 * `context.consent.tcfString`, so later stages read consent from one place. A TCF string that
 * does not decode as TCF v2 refuses the event (`ENSEMBLE_ERR_CONSENT_TCF_INVALID`): it is never
 * stored as if it were consent. What the consent means per purpose is decided by the processor,
 * with the workspace's mapping (privacy/consent-mapping.ts).
 */
import type { CollectedEvent } from '../../protocol/event.js';
import { drop, ok, type Outcome } from '../../protocol/outcome.js';
import { decodeTcString } from '../../privacy/tcf.js';

export type ConsentGate = (event: CollectedEvent) => Outcome<CollectedEvent>;

export const keepConsent: ConsentGate = (event) => {
  const consent = event.context.consent;
  const given = typeof consent === 'object' && consent !== null ? (consent as Record<string, unknown>) : null;
  const tcf = firstString(given?.tcfString, given?.tcString, event.context.gdpr_consent, event.properties.gdpr_consent);
  if (tcf !== undefined) {
    const decoded = decodeTcString(tcf);
    if (!decoded.ok) return drop('ENSEMBLE_ERR_CONSENT_TCF_INVALID', `The TCF consent string could not be decoded (${decoded.reason}); the event was not stored.`);
  }
  // Already where later stages read it: the event stays as it is (and its context can be copied).
  if (tcf === undefined || given?.tcfString === tcf) return ok(event);
  return ok({ ...event, context: { ...event.context, consent: { ...(given ?? {}), tcfString: tcf } } });
};

function firstString(...candidates: unknown[]): string | undefined {
  for (const c of candidates) if (typeof c === 'string' && c.length > 0) return c;
  return undefined;
}
