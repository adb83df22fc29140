/**
 * The register of processing activities (GDPR art. 30(1)), drawn from the configuration alone:
 * one processing activity per purpose, fed by the sources that declare it, with the legal basis,
 * the categories of data and of people, the recipients and transfers, the retention periods and
 * the security measures in force. Nothing here is typed in twice, so the register cannot drift
 * from what the platform really does; what only a person can say (who the controller is) comes
 * from the controller settings, and what is still missing is listed in `gaps`.
 *
 * `version` is the SHA-256 of the canonical JSON of everything but `generatedAt`: it changes
 * exactly when the configuration behind the register changes, so a DPO can tell at a glance
 * whether the copy on file is still current.
 *
 * @example
 *   const register = buildRegister({ workspace, controller, purposes, sources, retention, recipients: [], facts, generatedAt: Date.now() });
 *   register.activities.map((a) => a.legalBasis); // ['contract', 'consent', ...]
 *   renderMarkdown(register); // '# Register of processing activities — Acme\n...'
 */
import { createHash } from 'node:crypto';
import { escapeHtml } from '../platform/html.js';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  CONSENT_MODES, DATA_CATEGORIES, LEGAL_BASES, RetentionPolicy,
  type DataCategory, type Purpose, type RetentionPolicyT,
} from '../protocol/privacy.js';
import { SOURCE_KINDS, type Source } from '../protocol/workspace.js';
import { canonicalJson } from './audit-log.js';
import { ControllerView, type ControllerDetails } from './controller-settings.js';

/** EU member states and the three other EEA states (ISO 3166-1 alpha-2): transfers are to anywhere else. */
export const EEA_COUNTRIES: ReadonlySet<string> = new Set([
  'AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT',
  'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK',
  'IS', 'LI', 'NO',
]);

/** Codes people write that ISO spells otherwise: the EU's own code for Greece, and the UK. */
const COUNTRY_ALIASES: Record<string, string> = { EL: 'GR', UK: 'GB' };

export const DATA_SUBJECTS = ['website_visitors', 'app_users', 'service_users', 'customers', 'prospects', 'other_persons'] as const;
export type DataSubject = (typeof DATA_SUBJECTS)[number];
type SourceKind = Source['kind'];

/**
 * Whom a source's data is about, from what the source is. A CRM, an email tool or an imported
 * file hold customers and people who are not (yet) customers; a till only sees buyers.
 */
const SUBJECTS_BY_KIND: Record<SourceKind, readonly DataSubject[]> = {
  website: ['website_visitors'],
  mobile: ['app_users'],
  server: ['service_users'],
  crm: ['customers', 'prospects'],
  pos: ['customers'],
  email: ['customers', 'prospects'],
  file: ['customers', 'prospects'],
  other: ['other_persons'],
};

export const DATA_SUBJECT_LABELS: Record<DataSubject, string> = {
  website_visitors: 'Website visitors',
  app_users: 'Mobile app users',
  service_users: 'Users of the online services (events sent by the controller\'s servers)',
  customers: 'Customers',
  prospects: 'Prospects',
  other_persons: 'Other persons (a source of kind "other": describe them in the purpose)',
};

export const DATA_CATEGORY_LABELS: Record<DataCategory, string> = {
  identifiers: 'Identifiers (user, device and loyalty ids, email addresses, phone numbers)',
  contact: 'Contact details',
  behaviour: 'Behaviour (pages and screens viewed, actions, events)',
  device: 'Device and browser',
  location: 'Location (IP address and the country derived from it)',
  transactions: 'Transactions (orders, purchases)',
  preferences: 'Preferences (consents, settings, interests)',
};

export const LEGAL_BASIS_LABELS: Record<Purpose['legalBasis'], string> = {
  consent: 'Consent (GDPR art. 6(1)(a))',
  contract: 'Performance of a contract (GDPR art. 6(1)(b))',
  legal_obligation: 'Legal obligation (GDPR art. 6(1)(c))',
  legitimate_interest: 'Legitimate interests (GDPR art. 6(1)(f))',
};

/**
 * Where each category of data ends up, hence which retention period bounds it: events are the
 * timeline (deleted `eventsDays` after their time), profiles hold identifiers and traits (deleted
 * `inactiveProfileDays` after their last event). Behaviour, device and location stay in events.
 */
const STORES_BY_CATEGORY: Record<DataCategory, ReadonlyArray<'events' | 'profiles'>> = {
  identifiers: ['events', 'profiles'],
  contact: ['events', 'profiles'],
  behaviour: ['events'],
  device: ['events'],
  location: ['events'],
  transactions: ['events', 'profiles'],
  preferences: ['events', 'profiles'],
};

/** A body that receives data: a destination (when they exist), a processor, a partner. */
export interface Recipient {
  id: string;
  name: string;
  kind: string;
  /** The purpose it receives data for. */
  purpose: string;
  /** ISO 3166-1 alpha-2 country where it processes the data. */
  country: string;
  /** For a country outside the EEA: adequacy decision, standard contractual clauses, BCR... (art. 45–46). */
  transferSafeguard?: string | null;
}

/** What the running configuration does to protect the data; each fact becomes a measure in the register. */
export interface SecurityFacts {
  /** IPs truncated before storage (`collect.truncateIp`). */
  ipTruncation: boolean;
  /** Identifier types stored sealed and looked up by keyed hash (the workspace's `personal` types). */
  personalIdentifierTypes: readonly string[];
  /** Every admin API call goes to the hash-chained audit log. */
  auditLog: boolean;
  /** A read-only API token is configured. */
  readerToken: boolean;
  /** How long processed events stay in the intake log, as received (`processor.logRetentionSeconds`). */
  logRetentionSeconds: number;
}

export type RegisterSource = Pick<Source, 'id' | 'name' | 'kind' | 'purposes' | 'dataCategories' | 'consentMode'>;

export interface RegisterInput {
  workspace: { id: string; name: string };
  controller: ControllerDetails;
  purposes: readonly Purpose[];
  sources: readonly RegisterSource[];
  retention: RetentionPolicyT;
  recipients: readonly Recipient[];
  facts: SecurityFacts;
  /** Epoch milliseconds. */
  generatedAt: number;
}

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Category = literals(DATA_CATEGORIES);
const Subject = literals(DATA_SUBJECTS);

const SourceRef = Type.Object({ id: Type.String(), name: Type.String(), kind: literals(SOURCE_KINDS), consentMode: literals(CONSENT_MODES) });
const SourceEntry = Type.Object({
  id: Type.String(), name: Type.String(), kind: literals(SOURCE_KINDS), consentMode: literals(CONSENT_MODES),
  purposes: Type.Array(Type.String()), dataCategories: Type.Array(Category), dataSubjects: Type.Array(Subject),
});
const RecipientEntry = Type.Object({
  id: Type.String(), name: Type.String(), kind: Type.String(), purpose: Type.String(),
  /** Upper-case ISO code, or the text as given when it is not one (then listed in gaps). */
  country: Type.String(), inEea: Type.Boolean(), transferSafeguard: Nullable(Type.String()),
});
const Transfer = Type.Object({
  recipientId: Type.String(), recipientName: Type.String(), purpose: Type.String(), country: Type.String(), safeguard: Nullable(Type.String()),
});
const RetentionRule = Type.Object({
  /** `events`: days from the event; `profiles`: days without any event; `raw_ip`: full IP addresses. */
  data: literals(['events', 'profiles', 'raw_ip'] as const),
  days: Type.Integer(),
});
const CategoryRetention = Type.Object({ category: Category, rules: Type.Array(RetentionRule) });
const Activity = Type.Object({
  purposeId: Type.String(), name: Type.String(), builtIn: Type.Boolean(), legalBasis: literals(LEGAL_BASES), description: Type.String(),
  /** False when no source declares the purpose: nothing is collected for it today. */
  inUse: Type.Boolean(),
  sources: Type.Array(SourceRef), dataCategories: Type.Array(Category), dataSubjects: Type.Array(Subject),
  recipients: Type.Array(RecipientEntry), transfers: Type.Array(Transfer), retention: Type.Array(CategoryRetention),
});
const Security = Type.Object({
  ipTruncation: Type.Boolean(), personalIdentifierTypes: Type.Array(Type.String()), auditLog: Type.Boolean(), readerToken: Type.Boolean(),
  logRetentionSeconds: Type.Integer(), strictSources: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
  measures: Type.Array(Type.Object({ id: Type.String(), text: Type.String() })),
});

export const RegisterView = Type.Object({
  /** SHA-256 (hex) of the canonical JSON of every other field but generatedAt. */
  version: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  generatedAt: Type.String({ format: 'date-time' }),
  workspace: Type.Object({ id: Type.String(), name: Type.String() }),
  controller: ControllerView,
  activities: Type.Array(Activity),
  sources: Type.Array(SourceEntry),
  recipients: Type.Array(RecipientEntry),
  transfers: Type.Array(Transfer),
  retention: Type.Object({ policy: RetentionPolicy, byCategory: Type.Array(CategoryRetention) }),
  security: Security,
  /** What the register lacks or what needs a person's attention, in plain words. */
  gaps: Type.Array(Type.String()),
});
export type Register = Static<typeof RegisterView>;
type RecipientEntryT = Static<typeof RecipientEntry>;
type TransferT = Static<typeof Transfer>;
type CategoryRetentionT = Static<typeof CategoryRetention>;

/** Pure: the same input gives the same register, and the same version whatever `generatedAt`. */
export function buildRegister(input: RegisterInput): Register {
  const { purposes, retention, facts } = input;
  const known = new Set(purposes.map((p) => p.id));
  const gaps: string[] = [];
  for (const f of input.controller.missing) gaps.push(CONTROLLER_GAPS[f]);

  const sources = [...input.sources].sort(byNameThenId).map((s) => ({
    id: s.id, name: s.name, kind: s.kind, consentMode: s.consentMode, purposes: [...s.purposes],
    dataCategories: inOrder(DATA_CATEGORIES, s.dataCategories), dataSubjects: [...SUBJECTS_BY_KIND[s.kind]],
  }));
  for (const s of sources) {
    for (const p of s.purposes) if (!known.has(p)) gaps.push(`Source "${s.name}" declares the purpose "${p}", which this workspace does not define.`);
  }

  const recipients = [...input.recipients].sort(byNameThenId).map(recipientEntry);
  for (const r of recipients) {
    if (!known.has(r.purpose)) gaps.push(`Recipient "${r.name}" receives data for the purpose "${r.purpose}", which this workspace does not define.`);
    if (!/^[A-Z]{2}$/.test(r.country)) gaps.push(`Recipient "${r.name}": "${r.country}" is not an ISO 3166 country code; it is treated as outside the EEA.`);
    if (!r.inEea && r.transferSafeguard === null) {
      gaps.push(`Recipient "${r.name}" (${r.country}) is outside the EU/EEA and no transfer safeguard is recorded (adequacy decision, standard contractual clauses, binding corporate rules: GDPR art. 45–46).`);
    }
  }
  const transfers = recipients.filter((r) => !r.inEea).map(transferOf);

  const activities = orderPurposes(purposes).map((p) => {
    const feeding = sources.filter((s) => s.purposes.includes(p.id));
    const categories = inOrder(DATA_CATEGORIES, feeding.flatMap((s) => s.dataCategories));
    const own = recipients.filter((r) => r.purpose === p.id);
    return {
      purposeId: p.id, name: p.name, builtIn: p.builtIn, legalBasis: p.legalBasis, description: p.description, inUse: feeding.length > 0,
      sources: feeding.map((s) => ({ id: s.id, name: s.name, kind: s.kind, consentMode: s.consentMode })),
      dataCategories: categories, dataSubjects: inOrder(DATA_SUBJECTS, feeding.flatMap((s) => s.dataSubjects)),
      recipients: own, transfers: own.filter((r) => !r.inEea).map(transferOf), retention: categories.map((c) => retentionOf(c, retention, facts)),
    };
  });

  const strictSources = sources.filter((s) => s.consentMode === 'strict').map((s) => ({ id: s.id, name: s.name }));
  const collected = inOrder(DATA_CATEGORIES, sources.flatMap((s) => s.dataCategories));
  const body = {
    workspace: { id: input.workspace.id, name: input.workspace.name },
    controller: { ...input.controller, missing: [...input.controller.missing] },
    activities,
    sources,
    recipients,
    transfers,
    retention: { policy: { ...retention }, byCategory: collected.map((c) => retentionOf(c, retention, facts)) },
    security: {
      ipTruncation: facts.ipTruncation, personalIdentifierTypes: [...facts.personalIdentifierTypes].sort(), auditLog: facts.auditLog,
      readerToken: facts.readerToken, logRetentionSeconds: facts.logRetentionSeconds, strictSources,
      measures: securityMeasures(facts, retention, strictSources),
    },
    gaps,
  };
  const version = createHash('sha256').update(canonicalJson(body)).digest('hex');
  return { version, generatedAt: new Date(input.generatedAt).toISOString(), ...body };
}

const CONTROLLER_GAPS: Record<ControllerDetails['missing'][number], string> = {
  controllerName: 'The controller\'s name is only the workspace\'s name: enter the legal entity (PUT /api/workspaces/{ws}/privacy/controller).',
  controllerContact: 'The controller\'s contact details are not set (PUT /api/workspaces/{ws}/privacy/controller).',
};

function recipientEntry(r: Recipient): RecipientEntryT {
  const raw = r.country.trim().toUpperCase();
  const country = COUNTRY_ALIASES[raw] ?? raw;
  const safeguard = r.transferSafeguard?.trim();
  return {
    id: r.id, name: r.name, kind: r.kind, purpose: r.purpose, country, inEea: EEA_COUNTRIES.has(country),
    transferSafeguard: safeguard ? safeguard : null,
  };
}

function transferOf(r: RecipientEntryT): TransferT {
  return { recipientId: r.id, recipientName: r.name, purpose: r.purpose, country: r.country, safeguard: r.transferSafeguard };
}

function retentionOf(category: DataCategory, policy: RetentionPolicyT, facts: SecurityFacts): CategoryRetentionT {
  const rules: CategoryRetentionT['rules'] = STORES_BY_CATEGORY[category].map((store) => (
    store === 'events' ? { data: 'events' as const, days: policy.eventsDays } : { data: 'profiles' as const, days: policy.inactiveProfileDays }
  ));
  // With truncation on, a full address is never stored, so its period bounds nothing.
  if (category === 'location' && !facts.ipTruncation) rules.push({ data: 'raw_ip', days: policy.rawIpDays });
  return { category, rules };
}

/**
 * The general description of art. 30(1)(g), one sentence per measure, each stating only what
 * the code does under these facts (see privacy/key-ring.ts, platform/crypto.ts, privacy/audit-log.ts).
 */
function securityMeasures(facts: SecurityFacts, policy: RetentionPolicyT, strict: ReadonlyArray<{ name: string }>): Array<{ id: string; text: string }> {
  const out: Array<{ id: string; text: string }> = [];
  const types = [...facts.personalIdentifierTypes].sort();
  if (types.length > 0) {
    out.push({ id: 'encryption', text: `Personal identifiers (${types.join(', ')}) and the profile traits named after them are stored in the database only encrypted: each value with AES-256-GCM under a data key of its own profile, bound to its workspace, profile and type. Profile data keys are stored only wrapped (AES-256-GCM) by a per-workspace key derived with HKDF-SHA256 from the master key, which is never written to the database.` });
    out.push({ id: 'crypto_shredding', text: 'Erasing a person destroys their profile\'s data key (crypto-shredding): every copy of their encrypted values, backups included, becomes unreadable at once.' });
    out.push({ id: 'keyed_lookups', text: 'Identifiers are looked up by a keyed hash (HMAC-SHA256 under a per-workspace lookup key), and stored events carry that hash as a pseudonym in place of personal identifier values. This is pseudonymisation, not anonymisation: a holder of the master key can test a guessed value.' });
  } else {
    out.push({ id: 'encryption', text: 'No identifier type is marked personal in this workspace: identifiers are stored as received, without encryption.' });
  }
  out.push(facts.ipTruncation
    ? { id: 'ip_truncation', text: 'IP addresses are truncated (IPv4 to /24, IPv6 to /48) before anything is stored; the country is derived from the full address in memory only.' }
    : { id: 'ip_truncation', text: `IP truncation is off: full IP addresses are stored, for ${policy.rawIpDays} days.` });
  out.push({ id: 'intake_log', text: `The intake log holds events as received, personal values in clear, until they are processed and ${duration(facts.logRetentionSeconds)} old; then they are deleted.` });
  out.push({ id: 'access', text: `Every admin API call is authenticated (a bearer token or API key kept only as a SHA-256 digest, or a console session with CSRF protection; passwords hashed with scrypt) and authorised by role on the server; only the admin and DPO roles see personal identifiers in clear. ${facts.readerToken ? 'A read-only token is configured: it can only read, and sees personal identifiers masked.' : 'No read-only token is configured.'}` });
  out.push(facts.auditLog
    ? { id: 'audit_log', text: 'Every admin API call, reads of personal data included, is recorded in a tamper-evident audit log (one SHA-256 hash chain per workspace, without personal identifiers in clear), verifiable with GET /api/workspaces/{ws}/audit/verify.' }
    : { id: 'audit_log', text: 'No audit log of admin API calls is kept.' });
  out.push(strict.length > 0
    ? { id: 'strict_consent', text: `Sources in strict consent mode (${strict.map((s) => s.name).join(', ')}) keep no profile-level data of visitors without analytics consent, only anonymous daily counts.` }
    : { id: 'strict_consent', text: 'No source is in strict consent mode: events are kept under each purpose\'s legal basis.' });
  return out;
}

function duration(seconds: number): string {
  if (seconds === 0) return '0 seconds';
  if (seconds % 86_400 === 0) return plural(seconds / 86_400, 'day');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** "396 days (about 13 months)": periods are set in days, but read in months and years. */
export function days(n: number): string {
  if (n >= 365 && n % 365 === 0) return `${n} days (${plural(n / 365, 'year')})`;
  if (n >= 60) return `${n} days (about ${plural(Math.round(n / (365.25 / 12)), 'month')})`;
  return plural(n, 'day');
}

/**
 * Built-in purposes first in their given order, then custom ones by id: the order (hence the
 * version) does not depend on the order settings were stored in.
 */
function orderPurposes(purposes: readonly Purpose[]): Purpose[] {
  const rank = (p: Purpose): number => (p.builtIn ? 0 : 1);
  return [...purposes].sort((a, b) => rank(a) - rank(b) || (a.builtIn ? 0 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function byNameThenId(a: { id: string; name: string }, b: { id: string; name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The distinct values of `items`, in the vocabulary's order. */
function inOrder<T extends string>(vocabulary: readonly T[], items: readonly T[]): T[] {
  const present = new Set(items);
  return vocabulary.filter((v) => present.has(v));
}

// ---------------------------------------------------------------------------------------------
// Documents. Both formats render one outline, so the Markdown and the HTML never say different
// things. Outline text is plain; each renderer escapes every piece of it, since names and
// descriptions are typed by users.

interface Item {
  label?: string;
  /** null: a field nobody has filled in, shown as "not set". */
  value: string | null;
  note?: string;
  sub?: string[];
}

type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: Item[] }
  | { kind: 'table'; head: string[]; rows: string[][] };

const NOT_SET = 'not set';

function outline(r: Register): Block[] {
  const c = r.controller;
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: `Register of processing activities — ${r.workspace.name}` },
    { kind: 'paragraph', text: `GDPR art. 30(1). Generated ${r.generatedAt} from the configuration of workspace ${r.workspace.id}.` },
    { kind: 'paragraph', text: `Version ${r.version}: it changes whenever the configuration the register is drawn from changes.` },
  ];
  if (r.gaps.length > 0) blocks.push({ kind: 'heading', level: 2, text: 'To complete' }, { kind: 'list', items: r.gaps.map((g) => ({ value: g })) });
  blocks.push({ kind: 'heading', level: 2, text: 'Controller' }, {
    kind: 'list',
    items: [
      c.missing.includes('controllerName')
        ? { label: 'Controller', value: c.controllerName, note: `${NOT_SET}: this is the workspace's name` }
        : { label: 'Controller', value: c.controllerName },
      field('Address', c.controllerAddress),
      field('Contact', c.controllerContact),
      field('Data protection officer', c.dpoName, 'required when art. 37 applies, e.g. regular and systematic monitoring of people on a large scale, as with a CDP'),
      field('DPO contact', c.dpoContact),
      field('Representative in the EU', c.representative, 'needed only for a controller established outside the EU: art. 27'),
    ],
  });

  blocks.push({ kind: 'heading', level: 2, text: 'Processing activities' });
  r.activities.forEach((a, i) => {
    blocks.push({ kind: 'heading', level: 3, text: `${i + 1}. ${a.name}` }, {
      kind: 'list',
      items: [
        { label: 'Purpose', value: a.description || a.name },
        { label: 'Purpose id', value: `${a.purposeId} (${a.builtIn ? 'built in' : 'custom'})` },
        { label: 'Legal basis', value: LEGAL_BASIS_LABELS[a.legalBasis] },
        { label: 'Sources', value: a.inUse ? a.sources.map(sourceText).join('; ') : 'none: no source declares this purpose, nothing is collected for it' },
        { label: 'Categories of personal data', value: listOrNone(a.dataCategories.map((d) => DATA_CATEGORY_LABELS[d])) },
        { label: 'Categories of data subjects', value: listOrNone(a.dataSubjects.map((s) => DATA_SUBJECT_LABELS[s])) },
        { label: 'Recipients', value: listOrNone(a.recipients.map((x) => `${x.name} (${x.kind}, ${x.country})`)) },
        { label: 'Transfers outside the EU/EEA', value: listOrNone(a.transfers.map(transferText)) },
        { label: 'Retention', value: a.retention.length > 0 ? '' : 'nothing collected', sub: a.retention.map(retentionText) },
      ],
    });
  });

  blocks.push({ kind: 'heading', level: 2, text: 'Recipients' });
  blocks.push(r.recipients.length === 0
    ? { kind: 'paragraph', text: 'None: no data is sent to any recipient.' }
    : { kind: 'table', head: ['Recipient', 'Kind', 'Purpose', 'Country', 'In the EU/EEA'], rows: r.recipients.map((x) => [x.name, x.kind, x.purpose, x.country, x.inEea ? 'yes' : 'no']) });
  blocks.push({ kind: 'heading', level: 2, text: 'Transfers outside the EU/EEA' });
  blocks.push(r.transfers.length === 0
    ? { kind: 'paragraph', text: 'None.' }
    : { kind: 'table', head: ['Recipient', 'Purpose', 'Country', 'Safeguard'], rows: r.transfers.map((t) => [t.recipientName, t.purpose, t.country, t.safeguard ?? 'NONE RECORDED']) });

  blocks.push({ kind: 'heading', level: 2, text: 'Sources' });
  blocks.push(r.sources.length === 0
    ? { kind: 'paragraph', text: 'None: no data is collected yet.' }
    : {
      kind: 'table', head: ['Source', 'Kind', 'Consent mode', 'Purposes', 'Data categories', 'Data subjects'],
      rows: r.sources.map((s) => [s.name, s.kind, s.consentMode, s.purposes.join(', '), s.dataCategories.join(', '), s.dataSubjects.map((d) => DATA_SUBJECT_LABELS[d]).join(', ')]),
    });

  const p = r.retention.policy;
  blocks.push({ kind: 'heading', level: 2, text: 'Retention periods' }, {
    kind: 'list',
    items: [
      { label: 'Events', value: `${days(p.eventsDays)} from the event` },
      { label: 'Profiles', value: `deleted with everything about them after ${days(p.inactiveProfileDays)} without any event` },
      { label: 'Full IP addresses', value: r.security.ipTruncation ? 'not stored (truncated before storage)' : days(p.rawIpDays) },
      { label: 'Consent records of deleted profiles (proof)', value: days(p.consentProofDays) },
      { label: 'Anonymous daily counts (strict sources)', value: days(p.anonymousCountsDays) },
    ],
  });
  blocks.push({ kind: 'heading', level: 2, text: 'Security measures' }, { kind: 'list', items: r.security.measures.map((m) => ({ value: m.text })) });
  return blocks;
}

/** A controller field; its note explains an empty field, so it is shown only when empty. */
function field(label: string, value: string | null, noteWhenUnset?: string): Item {
  return value === null && noteWhenUnset ? { label, value, note: noteWhenUnset } : { label, value };
}

function sourceText(s: { name: string; kind: string; consentMode: string }): string {
  return `${s.name} (${s.kind}${s.consentMode === 'strict' ? ', strict consent mode' : ''})`;
}

function transferText(t: TransferT): string {
  return `${t.recipientName} (${t.country}): ${t.safeguard ?? 'no safeguard recorded'}`;
}

function retentionText(c: CategoryRetentionT): string {
  const rules = c.rules.map((r) => (
    r.data === 'events' ? `events ${days(r.days)} from the event`
      : r.data === 'profiles' ? `on the profile until ${days(r.days)} without any event`
        : `full IP addresses ${days(r.days)}`));
  // The short name: the full label is already in the activity's list of categories.
  return `${DATA_CATEGORY_LABELS[c.category].split(' (')[0]}: ${rules.join('; ')}`;
}

function listOrNone(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.join('; ');
}

/**
 * Markdown: every ASCII character with a meaning inline (emphasis, code, links, raw HTML, table
 * cells, entities) is backslash-escaped, and line breaks become spaces, so user text can neither
 * start a block nor inject HTML into a viewer that renders it.
 */
function md(text: string): string {
  return text.replace(/\r\n|\r|\n/g, ' ').replace(/[\\`*_[\]<>&|~]/g, '\\$&');
}

export function renderMarkdown(register: Register): string {
  const out: string[] = [];
  for (const b of outline(register)) {
    if (b.kind === 'heading') out.push(`${'#'.repeat(b.level)} ${md(b.text)}`, '');
    else if (b.kind === 'paragraph') out.push(md(b.text), '');
    else if (b.kind === 'list') {
      for (const i of b.items) {
        out.push(`- ${i.label ? `**${md(i.label)}:** ` : ''}${mdValue(i)}`.trimEnd());
        for (const s of i.sub ?? []) out.push(`  - ${md(s)}`);
      }
      out.push('');
    } else {
      out.push(`| ${b.head.map(md).join(' | ')} |`, `|${b.head.map(() => ' --- |').join('')}`);
      for (const row of b.rows) out.push(`| ${row.map(md).join(' | ')} |`);
      out.push('');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function mdValue(i: Item): string {
  if (i.value === null) return `**${NOT_SET}**${i.note ? ` (${md(i.note)})` : ''}`;
  return `${md(i.value)}${i.note ? ` (**${md(i.note)}**)` : ''}`;
}

const h = escapeHtml;

const STYLE = [
  'body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}',
  'table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}',
  '.missing{color:#a00}h3{margin-top:1.5rem}',
].join('');

export function renderHtml(register: Register): string {
  const body: string[] = [];
  for (const b of outline(register)) {
    if (b.kind === 'heading') body.push(`<h${b.level}>${h(b.text)}</h${b.level}>`);
    else if (b.kind === 'paragraph') body.push(`<p>${h(b.text)}</p>`);
    else if (b.kind === 'list') {
      body.push('<ul>');
      for (const i of b.items) {
        const sub = i.sub && i.sub.length > 0 ? `<ul>${i.sub.map((s) => `<li>${h(s)}</li>`).join('')}</ul>` : '';
        body.push(`<li>${i.label ? `<strong>${h(i.label)}:</strong> ` : ''}${htmlValue(i)}${sub}</li>`);
      }
      body.push('</ul>');
    } else {
      body.push('<table>', `<thead><tr>${b.head.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead>`, '<tbody>');
      for (const row of b.rows) body.push(`<tr>${row.map((c) => `<td>${h(c)}</td>`).join('')}</tr>`);
      body.push('</tbody>', '</table>');
    }
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${h(`Register of processing activities — ${register.workspace.name}`)}</title><style>${STYLE}</style></head>`,
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function htmlValue(i: Item): string {
  if (i.value === null) return `<strong class="missing">${NOT_SET}</strong>${i.note ? ` (${h(i.note)})` : ''}`;
  return `${h(i.value)}${i.note ? ` (<strong class="missing">${h(i.note)}</strong>)` : ''}`;
}
