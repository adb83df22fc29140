/**
 * Where an event's identifiers come from. Every place a Segment-compatible client may put one:
 * `userId`, `anonymousId`, alias' `previousId`, identify `traits.<type>` (e.g. `traits.email`),
 * `context.traits.<type>` on any event, `context.device.id`, and `context.externalIds`
 * (`[{ id, type, collection, encoding }]`). A trait or external id counts only when its name is a
 * configured identifier type, so a workspace adds `loyalty_id` and it is picked up everywhere.
 */
import type { CollectedEvent } from '../protocol/event.js';
import type { IdentityRules } from './normalise.js';

export interface RawClaim {
  type: string;
  raw: unknown;
  /** Where in the event it was found (shown by explain). */
  from: string;
}

/** `previousId` is a user id when one is known under that value, else an anonymous id: see engine. */
export const PREVIOUS_ID = 'previous_id';

export function rawClaims(e: CollectedEvent, rules: IdentityRules): RawClaim[] {
  const out: RawClaim[] = [];
  if (e.userId) out.push({ type: 'user_id', raw: e.userId, from: 'userId' });
  if (e.anonymousId) out.push({ type: 'anonymous_id', raw: e.anonymousId, from: 'anonymousId' });
  if (e.type === 'alias' && e.previousId) out.push({ type: PREVIOUS_ID, raw: e.previousId, from: 'previousId' });
  const contextTraits = asRecord(e.context.traits);
  for (const type of rules.byType.keys()) {
    if (type === 'user_id' || type === 'anonymous_id') continue;
    // Group traits describe a company, not the person: only identify carries personal traits.
    if (e.type === 'identify' && e.traits[type] !== undefined) out.push({ type, raw: e.traits[type], from: `traits.${type}` });
    if (contextTraits?.[type] !== undefined) out.push({ type, raw: contextTraits[type], from: `context.traits.${type}` });
  }
  const device = asRecord(e.context.device);
  if (device?.id !== undefined && rules.byType.has('device_id')) out.push({ type: 'device_id', raw: device.id, from: 'context.device.id' });
  const external = e.context.externalIds;
  if (Array.isArray(external)) {
    external.slice(0, 50).forEach((x, i) => {
      const rec = asRecord(x);
      if (rec && typeof rec.type === 'string' && rules.byType.has(rec.type)) out.push({ type: rec.type, raw: rec.id, from: `context.externalIds[${i}]` });
    });
  }
  return out;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
