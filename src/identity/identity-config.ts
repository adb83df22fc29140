/**
 * A workspace's identity rules: which identifier types exist, how much each is trusted
 * (priority), how many one person may have (limit), how values are normalised, which values
 * never link anything, which types are personal data (stored encrypted), and how conflicting
 * trait values are resolved when profiles merge.
 *
 * @example
 *   const cfg = parseIdentityConfig({ ...DEFAULT_IDENTITY_CONFIG, defaultCountry: 'DE' });
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { getCountries, type CountryCode } from 'libphonenumber-js';
import { EnsembleError } from '../protocol/errors.js';

export const TRAIT_STRATEGIES = ['most_recent', 'first', 'max', 'min', 'sum', 'non_empty'] as const;
export type TraitStrategy = (typeof TRAIT_STRATEGIES)[number];

export const IdentifierTypeConfig = Type.Object({
  type: Type.String({ pattern: '^[a-z][a-z0-9_]{0,39}$', description: 'Name of the type, e.g. `email` or a custom `member_no`.' }),
  /** 1 is the most trusted; when a limit is hit, the lowest-priority identifier of the event is dropped. */
  priority: Type.Integer({ minimum: 1, maximum: 1000 }),
  /** Most identifiers of this type one profile may hold; null for no limit. */
  limit: Type.Union([Type.Integer({ minimum: 1, maximum: 10_000 }), Type.Null()]),
  normaliser: Type.Union([Type.Literal('email'), Type.Literal('phone'), Type.Literal('id'), Type.Literal('lowercase')]),
  /** Personal identifiers are stored encrypted and shown in clear only to callers allowed to see personal data. */
  personal: Type.Boolean(),
  /** Values (compared after normalisation, case-insensitively) that never link anything. */
  blocked: Type.Array(Type.String(), { maxItems: 1000, default: [] }),
  /** Regular expressions (JavaScript syntax, matched against the normalised value) that never link. */
  blockedPatterns: Type.Array(Type.String({ maxLength: 200 }), { maxItems: 50, default: [] }),
});
export type IdentifierTypeConfig = Static<typeof IdentifierTypeConfig>;

export const IdentityConfig = Type.Object({
  types: Type.Array(IdentifierTypeConfig, { minItems: 1, maxItems: 50 }),
  /** ISO 3166 country used to read phone numbers written without an international prefix. */
  defaultCountry: Type.String({ pattern: '^[A-Z]{2}$', default: 'FR' }),
  /** Per trait, how two values resolve when profiles merge (default most_recent). */
  traitStrategies: Type.Record(Type.String(), Type.Union(TRAIT_STRATEGIES.map((s) => Type.Literal(s))), { default: {} }),
});
export type IdentityConfig = Static<typeof IdentityConfig>;

/** Values no identifier type should ever link on: SDK placeholders and test data. */
const COMMON_BLOCKED = ['null', 'undefined', '0', 'anonymous', 'unknown', 'none', 'n/a', 'nan', 'false', 'true', '[object object]'];

export const DEFAULT_IDENTITY_CONFIG: IdentityConfig = {
  defaultCountry: 'FR',
  traitStrategies: {},
  types: [
    { type: 'user_id', priority: 1, limit: 1, normaliser: 'id', personal: false, blocked: COMMON_BLOCKED, blockedPatterns: [] },
    { type: 'crm_id', priority: 2, limit: 1, normaliser: 'id', personal: false, blocked: COMMON_BLOCKED, blockedPatterns: [] },
    { type: 'loyalty_id', priority: 3, limit: 2, normaliser: 'id', personal: true, blocked: COMMON_BLOCKED, blockedPatterns: [] },
    {
      type: 'email', priority: 4, limit: 5, normaliser: 'email', personal: true,
      blocked: [...COMMON_BLOCKED, 'test@test.com', 'test@example.com', 'noreply@example.com'],
      blockedPatterns: ['^(no-?reply|do-?not-?reply)@'],
    },
    { type: 'phone', priority: 5, limit: 3, normaliser: 'phone', personal: true, blocked: ['+10000000000'], blockedPatterns: ['^\\+\\d0{6,}$'] },
    { type: 'device_id', priority: 6, limit: 20, normaliser: 'id', personal: false, blocked: [...COMMON_BLOCKED, '00000000-0000-0000-0000-000000000000'], blockedPatterns: [] },
    { type: 'anonymous_id', priority: 7, limit: null, normaliser: 'id', personal: false, blocked: COMMON_BLOCKED, blockedPatterns: [] },
  ],
};

export interface ConfigProblem {
  path: string;
  code: string;
  message: string;
}

/** Validates and fills defaults; throws IDENTITY_CONFIG_INVALID with every problem found. */
export function parseIdentityConfig(input: unknown): IdentityConfig {
  const withDefaults = Value.Default(IdentityConfig, Value.Clone(input ?? {}));
  const problems: ConfigProblem[] = [...Value.Errors(IdentityConfig, withDefaults)].slice(0, 20)
    .map((e) => ({ path: e.path || '/', code: 'schema', message: e.message }));
  if (problems.length === 0) problems.push(...semanticProblems(withDefaults as IdentityConfig));
  if (problems.length > 0) throw new EnsembleError('ENSEMBLE_ERR_IDENTITY_CONFIG_INVALID', undefined, problems);
  return withDefaults as IdentityConfig;
}

const COUNTRIES = new Set<string>(getCountries());

function semanticProblems(cfg: IdentityConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (!COUNTRIES.has(cfg.defaultCountry)) out.push({ path: '/defaultCountry', code: 'unknown_country', message: `"${cfg.defaultCountry}" is not a country the phone library knows.` });
  const seen = new Set<string>();
  cfg.types.forEach((t, i) => {
    if (seen.has(t.type)) out.push({ path: `/types/${i}/type`, code: 'duplicate_type', message: `Type "${t.type}" is defined twice.` });
    seen.add(t.type);
    t.blockedPatterns.forEach((p, j) => {
      try {
        new RegExp(p, 'i');
      } catch {
        out.push({ path: `/types/${i}/blockedPatterns/${j}`, code: 'bad_pattern', message: 'Not a valid regular expression.' });
      }
    });
  });
  for (const required of ['anonymous_id', 'user_id']) {
    if (!seen.has(required)) out.push({ path: '/types', code: 'required_type', message: `Type "${required}" is required: events always carry it.` });
  }
  return out;
}

export function isCountry(code: string): code is CountryCode {
  return COUNTRIES.has(code);
}
