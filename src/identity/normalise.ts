/**
 * Identifier normalisation and blocking, compiled once per workspace configuration. The same
 * person must produce the same value from every channel (" Ann@Example.COM" and
 * "ann@example.com"; "06 12 34 56 78" and "+33612345678"), and placeholders such as "null",
 * "0" or a test address must never link two people together.
 *
 * @example
 *   const rules = compileRules(DEFAULT_IDENTITY_CONFIG);
 *   rules.normalise('phone', '06 12 34 56 78'); // { ok: true, value: '+33612345678' }
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { IdentifierTypeConfig, IdentityConfig, TraitStrategy } from './identity-config.js';

export type Normalised = { ok: true; value: string } | { ok: false; reason: 'blocked' | 'invalid' | 'unknown_type' };

/** Deliberately permissive (RFC 5322 allows far more); what matters is one "@" and a dotted domain. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_ID_LENGTH = 256;

export interface TypeRule {
  readonly config: IdentifierTypeConfig;
  /** Position in priority order (0 = most trusted), ties broken by declaration order. */
  readonly rank: number;
  readonly blocked: ReadonlySet<string>;
  readonly patterns: readonly RegExp[];
}

export class IdentityRules {
  readonly byType = new Map<string, TypeRule>();

  constructor(readonly config: IdentityConfig) {
    const ordered = config.types.map((t, i) => ({ t, i })).sort((a, b) => a.t.priority - b.t.priority || a.i - b.i);
    ordered.forEach(({ t }, rank) => {
      this.byType.set(t.type, {
        config: t, rank,
        blocked: new Set(t.blocked.map((b) => b.trim().toLowerCase())),
        patterns: t.blockedPatterns.map((p) => new RegExp(p, 'i')),
      });
    });
  }

  rule(type: string): TypeRule | undefined {
    return this.byType.get(type);
  }

  isPersonal(type: string): boolean {
    return this.byType.get(type)?.config.personal ?? false;
  }

  traitStrategy(trait: string): TraitStrategy {
    return this.config.traitStrategies[trait] ?? 'most_recent';
  }

  /** The canonical form of `raw` for `type`, or why it cannot be used as an identifier. */
  normalise(type: string, raw: unknown): Normalised {
    const rule = this.byType.get(type);
    if (!rule) return { ok: false, reason: 'unknown_type' };
    if (typeof raw === 'number' && Number.isFinite(raw)) raw = String(raw);
    if (typeof raw !== 'string') return { ok: false, reason: 'invalid' };
    const value = normaliseWith(rule.config.normaliser, raw, this.config.defaultCountry);
    if (value === null) return { ok: false, reason: raw.trim() === '' ? 'blocked' : 'invalid' };
    const lower = value.toLowerCase();
    if (lower === '' || rule.blocked.has(lower) || rule.patterns.some((p) => p.test(value))) return { ok: false, reason: 'blocked' };
    return { ok: true, value };
  }
}

function normaliseWith(kind: IdentifierTypeConfig['normaliser'], raw: string, defaultCountry: string): string | null {
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed.length > MAX_ID_LENGTH) return null;
  switch (kind) {
    case 'email': {
      const email = trimmed.toLowerCase();
      return EMAIL.test(email) ? email : null;
    }
    case 'phone': {
      // `max` metadata validates the number plan, not only the length: fewer false links.
      const phone = parsePhoneNumberFromString(trimmed, { defaultCountry: defaultCountry as never, extract: false });
      return phone?.isValid() ? phone.number : null;
    }
    case 'lowercase':
      return trimmed.toLowerCase();
    case 'id':
      return trimmed;
  }
}
