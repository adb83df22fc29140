/**
 * Purposes of processing, their legal bases, and consent: the vocabulary every privacy rule
 * speaks. A purpose is why data is processed (GDPR art. 5(1)(b)); consent is recorded per
 * profile and purpose, with proof, as an immutable history.
 */
import { Type, type Static } from '@sinclair/typebox';

export const LEGAL_BASES = ['consent', 'legitimate_interest', 'contract', 'legal_obligation'] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

export interface Purpose {
  id: string;
  name: string;
  legalBasis: LegalBasis;
  description: string;
  /** Built in (may be described differently, not removed). */
  builtIn: boolean;
}

/** The purposes every workspace starts with. */
export const DEFAULT_PURPOSES: readonly Purpose[] = [
  { id: 'necessary', name: 'Strictly necessary', legalBasis: 'contract', description: 'Operating the service the person asked for: security, fraud prevention, the basket.', builtIn: true },
  { id: 'analytics', name: 'Audience measurement', legalBasis: 'consent', description: 'Measuring visits and behaviour to understand and improve the site and apps.', builtIn: true },
  { id: 'personalization', name: 'Personalisation', legalBasis: 'consent', description: 'Adapting content and offers on the site and apps to the person.', builtIn: true },
  { id: 'advertising', name: 'Advertising', legalBasis: 'consent', description: 'Targeting and measuring advertising on third-party platforms.', builtIn: true },
  { id: 'email_marketing', name: 'Email marketing', legalBasis: 'consent', description: 'Sending marketing emails.', builtIn: true },
  { id: 'sms_marketing', name: 'SMS marketing', legalBasis: 'consent', description: 'Sending marketing text messages.', builtIn: true },
  { id: 'push_marketing', name: 'Push marketing', legalBasis: 'consent', description: 'Sending marketing push notifications (mobile and web).', builtIn: true },
];

/** Kinds of personal data a source collects (for the register of processing). */
export const DATA_CATEGORIES = ['identifiers', 'contact', 'behaviour', 'device', 'location', 'transactions', 'preferences'] as const;
export type DataCategory = (typeof DATA_CATEGORIES)[number];

/**
 * `standard`: events are kept under the purposes' legal bases. `strict`: a visitor without
 * `analytics` consent leaves no profile-level data, only anonymous daily counts.
 */
export const CONSENT_MODES = ['standard', 'strict'] as const;
export type ConsentMode = (typeof CONSENT_MODES)[number];

export const CONSENT_STATUSES = ['granted', 'denied', 'withdrawn'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** Where a consent decision came from and what proves it. */
export interface ConsentProof {
  /** The event that carried it (events), or the API call's reference (API). */
  messageId?: string;
  sourceId?: string;
  /** IAB TCF: the string as received, its CMP and policy version. */
  tcString?: string;
  cmpId?: number;
  cmpVersion?: number;
  policyVersion?: number;
  /** The version of the consent text the person saw, when the CMP or caller says. */
  textVersion?: string;
  /** The CMP category (e.g. `C0004`, `Advertising`) the decision was read from. */
  category?: string;
}

/** One consent decision; never changed once recorded. */
export interface ConsentRecord {
  id: string;
  workspaceId: string;
  profileId: string;
  purpose: string;
  status: ConsentStatus;
  /** When the person decided (event time, or the time the API was told). */
  at: number;
  /** When Ensemble recorded it. */
  recordedAt: number;
  /** `event:<sourceId>`, `tcf:<sourceId>` or `api`. */
  source: string;
  /** The log seq of the event that carried it (null for API records). */
  seq: bigint | null;
  proof: ConsentProof;
}

export const PurposeView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  legalBasis: Type.Union(LEGAL_BASES.map((b) => Type.Literal(b))),
  description: Type.String(),
  builtIn: Type.Boolean(),
});

export const PurposeInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  legalBasis: Type.Union(LEGAL_BASES.map((b) => Type.Literal(b))),
  description: Type.String({ maxLength: 2000 }),
}, { additionalProperties: false });
export type PurposeInputT = Static<typeof PurposeInput>;

/** A purpose id: lower-case words joined by `_`, so it reads the same in SQL, JSON and URLs. */
export const PURPOSE_ID = '^[a-z][a-z0-9_]{0,63}$';

export const ConsentRecordView = Type.Object({
  id: Type.String(),
  purpose: Type.String(),
  status: Type.Union(CONSENT_STATUSES.map((s) => Type.Literal(s))),
  at: Type.String({ format: 'date-time' }),
  recordedAt: Type.String({ format: 'date-time' }),
  source: Type.String(),
  proof: Type.Record(Type.String(), Type.Unknown()),
});

export const ConsentsView = Type.Object({
  profileId: Type.String(),
  /** The decision in force per purpose (the latest by decision time); purposes never decided are absent. */
  current: Type.Record(Type.String(), ConsentRecordView),
  history: Type.Array(ConsentRecordView),
});

export const ConsentsInput = Type.Object({
  consents: Type.Array(Type.Object({
    purpose: Type.String({ pattern: PURPOSE_ID }),
    status: Type.Union(CONSENT_STATUSES.map((s) => Type.Literal(s))),
  }, { additionalProperties: false }), { minItems: 1, maxItems: 64 }),
  /** When the person decided (ISO 8601); default now. Not in the future. */
  at: Type.Optional(Type.String({ minLength: 10, maxLength: 40 })),
  /** A reference to what proves it (form id, call-centre ticket...). */
  reference: Type.Optional(Type.String({ maxLength: 500 })),
  textVersion: Type.Optional(Type.String({ maxLength: 200 })),
  tcString: Type.Optional(Type.String({ maxLength: 10_000 })),
}, { additionalProperties: false });
export type ConsentsInputT = Static<typeof ConsentsInput>;

/** How long each category of data is kept, in days (GDPR art. 5(1)(e)); applied by the daily retention job. */
export const RetentionPolicy = Type.Object({
  /** Events (the timeline), from their time. Default 13 months, the CNIL's figure for audience measurement. */
  eventsDays: Type.Integer({ minimum: 1, maximum: 36_500 }),
  /** Full IP addresses, kept only when truncation is off. */
  rawIpDays: Type.Integer({ minimum: 1, maximum: 36_500 }),
  /** Profiles with no event for this long are deleted with everything about them. */
  inactiveProfileDays: Type.Integer({ minimum: 1, maximum: 36_500 }),
  /** Consent records of profiles that no longer exist: kept as proof for the legal period. */
  consentProofDays: Type.Integer({ minimum: 1, maximum: 36_500 }),
  /** Anonymous daily counts of strict sources. */
  anonymousCountsDays: Type.Integer({ minimum: 1, maximum: 36_500 }),
}, { additionalProperties: false });
export type RetentionPolicyT = Static<typeof RetentionPolicy>;

export const DEFAULT_RETENTION: RetentionPolicyT = {
  eventsDays: 396, rawIpDays: 30, inactiveProfileDays: 3 * 365, consentProofDays: 5 * 365, anonymousCountsDays: 3 * 365,
};

/** Special categories of personal data (GDPR art. 9) a trait or event property can be tagged with. */
export const SENSITIVE_CATEGORIES = [
  'health', 'religion', 'political_opinion', 'sexual_orientation', 'ethnic_origin', 'biometric', 'genetic', 'union_membership', 'criminal_record',
] as const;
export type SensitiveCategory = (typeof SENSITIVE_CATEGORIES)[number];

const Category = Type.Union(SENSITIVE_CATEGORIES.map((c) => Type.Literal(c)));
/** Which traits and event properties (dot paths, e.g. `product.category`) hold special-category data. */
export const SensitiveData = Type.Object({
  traits: Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Category),
  properties: Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Category),
}, { additionalProperties: false });
export type SensitiveDataT = Static<typeof SensitiveData>;

/** The purpose whose consent is the explicit consent art. 9(2)(a) asks for a category. */
export function explicitPurpose(category: string): string {
  return `explicit_${category}`;
}
