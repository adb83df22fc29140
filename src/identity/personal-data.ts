/**
 * Keeps personal identifiers out of the stores in clear:
 * - profile traits named after a personal identifier type (`email`, `phone`, `loyalty_id`...) are
 *   sealed with the profile's data key when the profile is written, and opened when it is loaded;
 * - stored events carry a pseudonym (pseudonym.ts) in place of such a value, wherever the event
 *   had it (`traits`, `context.traits`, `context.externalIds`).
 * Once a profile's key is destroyed (erasure), its sealed values read as null everywhere.
 */
import type { CollectedEvent } from '../protocol/event.js';
import type { ProfileState, TraitValue } from '../protocol/profile.js';
import type { StoredProfile } from '../storage/ports.js';
import type { KeyRing } from '../privacy/key-ring.js';
import type { IdentityRules } from './normalise.js';
import { parsePseudonym, pseudonym } from './pseudonym.js';

const SEALED = '$sealed';

function traitAad(profileId: string, trait: string): string {
  return `trait:${profileId}:${trait}`;
}

/**
 * A profile is written again each time one of its events is processed; its sealed traits rarely
 * change. A trait value object is replaced on every write, so it keys its seal (per profile: a
 * merge moves the object to another profile, whose key and AAD differ).
 */
const sealedOf = new WeakMap<TraitValue, { profileId: string; token: string }>();

export function encodeProfile(p: ProfileState, rules: IdentityRules, keys: KeyRing): StoredProfile {
  let traits: Record<string, TraitValue> = p.traits;
  for (const [k, t] of Object.entries(p.traits)) {
    if (!rules.isPersonal(k) || t.value === null || t.value === undefined) continue;
    if (traits === p.traits) traits = { ...p.traits };
    let sealed = sealedOf.get(t);
    if (sealed?.profileId !== p.id) {
      sealed = { profileId: p.id, token: keys.encrypt(p.workspaceId, p.id, JSON.stringify(t.value), traitAad(p.id, k)) };
      sealedOf.set(t, sealed);
    }
    traits[k] = { ...t, value: { [SEALED]: sealed.token } };
  }
  const { traits: _omit, ...rest } = p;
  return { ...rest, traitsJson: JSON.stringify(traits) };
}

export function decodeProfile(s: StoredProfile, keys: KeyRing): ProfileState {
  const traits = JSON.parse(s.traitsJson) as Record<string, TraitValue>;
  for (const [k, t] of Object.entries(traits)) {
    const v = t.value;
    if (v === null || typeof v !== 'object' || !(SEALED in v)) continue;
    const clear = keys.decrypt(s.workspaceId, s.id, String((v as Record<string, unknown>)[SEALED]), traitAad(s.id, k));
    t.value = clear === null ? null : (JSON.parse(clear) as unknown);
  }
  const { traitsJson: _omit, ...rest } = s;
  return { ...rest, traits };
}

/**
 * The event with every personal identifier value replaced by its pseudonym, or undefined when
 * it carries none (the common case: the payload is then stored as received, without re-serialising).
 */
export function pseudonymiseEvent(e: CollectedEvent, rules: IdentityRules, keys: KeyRing): CollectedEvent | undefined {
  let changed = false;
  const swap = (type: string, raw: unknown): unknown => {
    if (raw === null || raw === undefined || (typeof raw === 'string' && parsePseudonym(raw))) return raw;
    const n = rules.normalise(type, raw);
    changed = true;
    return pseudonym(type, keys.lookupHash(e.workspaceId, type, n.ok ? n.value : String(raw)));
  };
  const swapTraits = (traits: unknown): unknown => {
    if (traits === null || typeof traits !== 'object' || Array.isArray(traits)) return traits;
    let out = traits as Record<string, unknown>;
    for (const [k, v] of Object.entries(out)) {
      if (!rules.isPersonal(k) || v === undefined) continue;
      if (out === traits) out = { ...out };
      out[k] = swap(k, v);
    }
    return out;
  };
  const traits = e.type === 'identify' ? (swapTraits(e.traits) as Record<string, unknown>) : e.traits;
  const context: Record<string, unknown> = { ...e.context };
  if (context.traits !== undefined) context.traits = swapTraits(context.traits);
  if (Array.isArray(context.externalIds)) {
    context.externalIds = context.externalIds.map((x: unknown) => {
      if (x === null || typeof x !== 'object') return x;
      const rec = x as Record<string, unknown>;
      return typeof rec.type === 'string' && rules.isPersonal(rec.type) ? { ...rec, id: swap(rec.type, rec.id) } : rec;
    });
  }
  return changed ? { ...e, traits, context } : undefined;
}
