/**
 * Personalisation from memory: what a website may know about its visitor to adapt a page —
 * the segments they are in and the traits the workspace chose to expose — and only with the
 * visitor's `personalization` consent. Read by the browser, so it never exposes personal
 * identifiers (emails, phones...) nor segments reading special-category data.
 *
 * @example
 *   await settings.set(ws, { traits: ['plan', 'loyaltyTier'] });
 *   personalize(deps, ws, { anonymousId: 'a-1' })  // → { segments: ['seg_vip'], traits: { plan: 'pro' }, consent: true }
 */
import { Type, type Static } from '@sinclair/typebox';
import { EnsembleError } from '../protocol/errors.js';
import { checkValue } from '../platform/check-value.js';
import type { ConfigStore } from '../storage/ports.js';

const SETTING = 'personalization';

export const PersonalizationInput = Type.Object({
  /** Trait keys returned to the browser (never a personal identifier type). */
  traits: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100, uniqueItems: true }),
}, { additionalProperties: false });
export type PersonalizationInputT = Static<typeof PersonalizationInput>;

export const PersonalizationAnswer = Type.Object({
  /** False when the visitor is unknown or has not consented: nothing else is said then. */
  consent: Type.Boolean(),
  segments: Type.Array(Type.String()),
  traits: Type.Record(Type.String(), Type.Unknown()),
});
export type PersonalizationAnswerT = Static<typeof PersonalizationAnswer>;

export class PersonalizationSettings {
  private readonly byWs = new Map<string, PersonalizationInputT>();

  constructor(private readonly store: ConfigStore, private readonly personal: (workspaceId: string, trait: string) => boolean) {}

  async load(): Promise<void> {
    for (const [ws, json] of await this.store.workspaceSettings(SETTING)) this.byWs.set(ws, JSON.parse(json) as PersonalizationInputT);
  }

  get(workspaceId: string): PersonalizationInputT {
    return this.byWs.get(workspaceId) ?? { traits: [] };
  }

  async set(workspaceId: string, input: unknown): Promise<PersonalizationInputT> {
    checkValue(PersonalizationInput, input, 'ENSEMBLE_ERR_VALIDATION');
    const v = input;
    const personal = v.traits.filter((t) => this.personal(workspaceId, t));
    if (personal.length > 0) {
      throw new EnsembleError('ENSEMBLE_ERR_VALIDATION', `"${personal[0]}" is a personal identifier: it is never sent to browsers.`, { personal });
    }
    await this.store.setWorkspaceSetting(workspaceId, SETTING, JSON.stringify(v));
    this.byWs.set(workspaceId, v);
    return v;
  }
}

export interface PersonalizeDeps {
  settings: PersonalizationSettings;
  /** The live profile of a visitor by identifier, undefined when unknown (or the value is blocked). */
  profileOf(workspaceId: string, type: 'anonymous_id' | 'user_id', value: string): { id: string; traits: Record<string, unknown> } | undefined;
  permitted(workspaceId: string, profileId: string, purpose: string): boolean;
  /** Segments the profile is in that may be shown to a browser (none reading special categories). */
  segmentsOf(workspaceId: string, profileId: string): string[];
}

const NOTHING: PersonalizationAnswerT = { consent: false, segments: [], traits: {} };

export function personalize(deps: PersonalizeDeps, workspaceId: string, who: { anonymousId?: string; userId?: string }): PersonalizationAnswerT {
  const p = (who.userId ? deps.profileOf(workspaceId, 'user_id', who.userId) : undefined)
    ?? (who.anonymousId ? deps.profileOf(workspaceId, 'anonymous_id', who.anonymousId) : undefined);
  if (!p || !deps.permitted(workspaceId, p.id, 'personalization')) return NOTHING;
  const traits: Record<string, unknown> = {};
  for (const k of deps.settings.get(workspaceId).traits) if (p.traits[k] !== undefined) traits[k] = p.traits[k];
  return { consent: true, segments: deps.segmentsOf(workspaceId, p.id), traits };
}
