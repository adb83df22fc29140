/**
 * From the consent an event carries to decisions per Ensemble purpose. Two signals exist:
 * - Segment's `context.consent.categoryPreferences` (`{ "Advertising": false, "C0002": true }`),
 *   whose category names depend on the CMP: each name maps to purposes (the purpose ids match
 *   themselves, and common CMP names have defaults);
 * - an IAB TCF v2 string (`context.consent.tcfString`, gathered there by the collector's consent
 *   gate): a purpose is granted when every TCF purpose mapped to it has consent.
 * When both speak of a purpose and disagree, the refusal wins.
 *
 * The mapping is per workspace (`PUT /api/workspaces/{ws}/privacy/consent-mapping`).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ConsentProof } from '../protocol/privacy.js';
import { decodeTcString } from './tcf.js';

export const ConsentMapping = Type.Object({
  /** CMP category name (matched case-insensitively) → Ensemble purposes. */
  categories: Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.Array(Type.String(), { maxItems: 64 })),
  /** Ensemble purpose → the TCF purposes (1–11) that must all have consent. */
  tcf: Type.Record(Type.String(), Type.Array(Type.Integer({ minimum: 1, maximum: 11 }), { minItems: 1, maxItems: 11 })),
}, { additionalProperties: false });
export type ConsentMappingT = Static<typeof ConsentMapping>;

/**
 * Defaults. TCF purposes (policy v4): 1 store/access information on a device, 2 limited data for
 * ads, 3 ad profiles, 4 personalised ads, 5 content profiles, 6 personalised content, 7 measure
 * ads, 8 measure content, 9 audience research, 10 develop services, 11 limited data for content.
 * Category names are those of common CMPs (OneTrust's C0001–C0004, Segment's consent manager).
 */
export const DEFAULT_CONSENT_MAPPING: ConsentMappingT = {
  categories: {
    'strictly necessary': ['necessary'], essential: ['necessary'], c0001: ['necessary'],
    performance: ['analytics'], statistics: ['analytics'], measurement: ['analytics'], c0002: ['analytics'],
    functional: ['personalization'], preferences: ['personalization'], personalisation: ['personalization'], c0003: ['personalization'],
    marketing: ['advertising'], targeting: ['advertising'], 'targeting cookies': ['advertising'], c0004: ['advertising'],
  },
  tcf: { analytics: [1, 8, 9], personalization: [1, 5, 6], advertising: [1, 2, 3, 4, 7] },
};

export interface ConsentDecision {
  purpose: string;
  granted: boolean;
  proof: ConsentProof;
  /**
   * When the person made the decision, if the event says: the TC string's LastUpdated, or
   * `context.consent.decidedAt` (ISO 8601; tag.js sends it). Null when unknown — a device may be
   * relaying a decision it stored long ago.
   */
  decidedAt: number | null;
}

/** A mapping with its category names lower-cased once. */
export class ConsentReader {
  private readonly categories = new Map<string, string[]>();

  constructor(readonly mapping: ConsentMappingT, private readonly purposes: ReadonlySet<string>) {
    for (const [name, ps] of Object.entries(mapping.categories)) this.categories.set(name.toLowerCase(), ps);
  }

  /** The decisions in an event's `context.consent` (empty when it carries none we understand). */
  decisions(consent: unknown, sourceId: string, messageId: string): ConsentDecision[] {
    if (typeof consent !== 'object' || consent === null) return [];
    const c = consent as Record<string, unknown>;
    const byPurpose = new Map<string, ConsentDecision>();
    const decide = (d: ConsentDecision): void => {
      const prior = byPurpose.get(d.purpose);
      if (!prior || (prior.granted && !d.granted)) byPurpose.set(d.purpose, d);
    };
    const textVersion = typeof c.version === 'string' ? c.version : undefined;
    const stated = typeof c.decidedAt === 'string' ? Date.parse(c.decidedAt) : NaN;
    const decidedAt = Number.isFinite(stated) ? stated : null;
    const prefs = c.categoryPreferences;
    if (typeof prefs === 'object' && prefs !== null && !Array.isArray(prefs)) {
      for (const [category, value] of Object.entries(prefs as Record<string, unknown>)) {
        if (typeof value !== 'boolean') continue;
        for (const purpose of this.purposesOf(category)) {
          decide({ purpose, granted: value, decidedAt, proof: { messageId, sourceId, category, ...(textVersion ? { textVersion } : {}) } });
        }
      }
    }
    if (typeof c.tcfString === 'string') {
      // The collector refused events with an invalid string; one stored before that check is ignored here.
      const tcf = decodeTcString(c.tcfString);
      if (tcf.ok) {
        const given = new Set(tcf.value.purposeConsents);
        for (const [purpose, needed] of Object.entries(this.mapping.tcf)) {
          if (!this.purposes.has(purpose)) continue;
          decide({
            purpose, granted: needed.every((p) => given.has(p)), decidedAt: tcf.value.lastUpdated,
            proof: { messageId, sourceId, tcString: c.tcfString, cmpId: tcf.value.cmpId, cmpVersion: tcf.value.cmpVersion, policyVersion: tcf.value.policyVersion },
          });
        }
      }
    }
    return [...byPurpose.values()];
  }

  private purposesOf(category: string): string[] {
    const lower = category.toLowerCase();
    if (this.purposes.has(lower)) return [lower];
    return (this.categories.get(lower) ?? []).filter((p) => this.purposes.has(p));
  }
}
